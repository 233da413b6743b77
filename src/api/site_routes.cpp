#include "api/site_routes.hpp"

#include "smart/site_view.hpp"
#include "util/url.hpp"

namespace genx::api {

using nlohmann::json;

namespace {

HttpResponse answer(int status, const json& body) { return HttpResponse{status, "application/json", body.dump()}; }
HttpResponse error(int status, const std::string& message) { return answer(status, json{{"error", message}}); }

// The site as of one moment (one read transaction), so its sums add up.
smart::SiteState read_state(smart::SiteStore& store, const smart::SiteSettings& site) {
  if (auto state = store.site_state(site.id)) return *state;
  return smart::SiteState{site, {}, {}, {}};
}

std::optional<HttpResponse> parse_body(std::string_view body, json& out) {
  out = nullptr;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  out = json::parse(body, nullptr, false);
  if (out.is_discarded()) return error(400, "body: not valid JSON");
  return std::nullopt;
}

}  // namespace

std::optional<HttpResponse> handle_sites(std::string_view method, std::string_view path, std::string_view body,
                                         smart::SiteStore* store, double volts) {
  constexpr std::string_view kSites = "/api/sites";
  constexpr std::string_view kChargers = "/api/chargers/";
  constexpr std::string_view kProfiles = "/charging-profiles";
  const bool read = method == "GET" || method == "HEAD";
  if (path.starts_with(kChargers) && path.ends_with(kProfiles) && path.size() > kChargers.size() + kProfiles.size()) {
    const std::string id = util::url_decode(path.substr(kChargers.size(), path.size() - kChargers.size() - kProfiles.size()));
    if (id.find('/') != std::string::npos) return std::nullopt;
    if (!read) return error(405, "method not allowed: use GET");
    if (store == nullptr) return error(503, "charging profiles are not available in this process");
    return answer(200, store->charging_profiles(id, 200));
  }
  constexpr std::string_view kTagPriorities = "/api/tag-priorities";
  if (path == kTagPriorities || path.starts_with("/api/tag-priorities/")) {
    if (store == nullptr) return error(503, "tag priorities are not available in this process");
    if (path == kTagPriorities) {
      if (!read) return error(405, "method not allowed: use GET (PUT /api/tag-priorities/{idTag} sets one)");
      json list = json::array();
      for (const auto& t : store->tag_priorities()) {
        list.push_back(json{{"idTag", t.id_tag}, {"priority", t.priority}, {"updatedAt", t.updated_at}});
      }
      return answer(200, list);
    }
    const std::string id_tag = util::url_decode(path.substr(kTagPriorities.size() + 1));
    if (method == "PUT") {
      json parsed;
      if (auto bad = parse_body(body, parsed)) return bad;
      auto priority = smart::parse_tag_priority(id_tag, parsed);
      if (auto* problem = std::get_if<std::string>(&priority)) return error(400, *problem);
      store->put_tag_priority(id_tag, std::get<int>(priority));
      return answer(200, json{{"idTag", id_tag}, {"priority", std::get<int>(priority)}});
    }
    if (method == "DELETE") {
      if (!store->delete_tag_priority(id_tag)) return error(404, "no priority for id tag " + id_tag);
      return answer(200, json{{"deleted", id_tag}});
    }
    return error(405, "method not allowed: use PUT or DELETE");
  }
  if (path != kSites && path != "/api/sites/" && !path.starts_with("/api/sites/")) return std::nullopt;
  if (store == nullptr) return error(503, "sites are not available in this process");
  if (path == kSites || path == "/api/sites/") {
    if (!read) return error(405, "method not allowed: use GET (PUT /api/sites/{siteId} creates a site)");
    json sites = json::array();
    for (const auto& site : store->list_sites()) sites.push_back(smart::site_document(read_state(*store, site), volts));
    return answer(200, sites);
  }
  std::string_view rest = path.substr(kSites.size() + 1);
  const auto slash = rest.find('/');
  const std::string site_id = util::url_decode(rest.substr(0, slash));
  if (slash == std::string_view::npos) {
    if (read) {
      auto site = store->find_site(site_id);
      if (!site) return error(404, "no site " + site_id);
      return answer(200, smart::site_document(read_state(*store, *site), volts));
    }
    if (method == "PUT") {
      json parsed;
      if (auto bad = parse_body(body, parsed)) return bad;
      auto settings = smart::parse_site(site_id, parsed, volts);
      if (auto* problem = std::get_if<std::string>(&settings)) return error(400, *problem);
      const bool existed = store->find_site(site_id).has_value();
      store->put_site(std::get<smart::SiteSettings>(settings));
      return answer(existed ? 200 : 201, smart::site_document(read_state(*store, *store->find_site(site_id)), volts));
    }
    if (method == "DELETE") {
      if (!store->delete_site(site_id)) return error(404, "no site " + site_id);
      return answer(200, json{{"deleted", site_id}});
    }
    return error(405, "method not allowed: use GET, PUT or DELETE");
  }
  constexpr std::string_view kMember = "chargers/";
  std::string_view tail = rest.substr(slash + 1);
  if (!tail.starts_with(kMember) || tail.size() == kMember.size() ||
      tail.find('/', kMember.size()) != std::string_view::npos) {
    return error(404, "not found");
  }
  const std::string charge_point_id = util::url_decode(tail.substr(kMember.size()));
  auto site = store->find_site(site_id);
  if (method == "PUT") {
    if (!site) return error(404, "no site " + site_id + " (create it with PUT /api/sites/" + site_id + ")");
    json parsed;
    if (auto bad = parse_body(body, parsed)) return bad;
    auto member = smart::parse_member(charge_point_id, parsed);
    if (auto* problem = std::get_if<std::string>(&member)) return error(400, *problem);
    store->put_site_member(site_id, std::get<smart::SiteMember>(member));
    return answer(200, smart::site_document(read_state(*store, *site), volts));
  }
  if (method == "DELETE") {
    if (!site) return error(404, "no site " + site_id);
    if (!store->delete_site_member(site_id, charge_point_id)) {
      return error(404, "charger " + charge_point_id + " is not in site " + site_id);
    }
    return answer(200, smart::site_document(read_state(*store, *site), volts));
  }
  return error(405, "method not allowed: use PUT or DELETE");
}

}  // namespace genx::api
