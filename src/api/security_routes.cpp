#include "api/security_routes.hpp"

#include <spdlog/spdlog.h>

#include "security/password_hash.hpp"

namespace genx::api {
namespace {

using nlohmann::json;

HttpResponse answer(int status, const json& body) { return HttpResponse{status, "application/json", body.dump()}; }
HttpResponse problem(int status, std::string_view message) { return answer(status, json{{"error", message}}); }

json summary_of(security::CredentialStore& store, const std::string& id) {
  if (auto s = store.charger_security_summary(id)) return *s;
  return json{{"chargePointId", id}, {"securityProfile", 0}, {"passwordSet", false}, {"updatedAt", nullptr}};
}

}  // namespace

std::optional<std::string_view> security_route_id(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/chargers/";
  constexpr std::string_view kSuffix = "/security";
  if (path.size() <= kPrefix.size() + kSuffix.size() || path.substr(0, kPrefix.size()) != kPrefix ||
      path.substr(path.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  std::string_view id = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  if (id.find('/') != std::string_view::npos) return std::nullopt;
  return id;
}

HttpResponse handle_charger_security(std::string_view method, const std::string& id, std::string_view body,
                                     security::CredentialStore* store) {
  if (store == nullptr) return problem(503, "charger security is not available in this api");
  if (id.empty() || id.size() > 48) return problem(400, "invalid charge point id");
  try {
    if (method == "GET" || method == "HEAD") return answer(200, summary_of(*store, id));
    if (method != "PUT") return problem(405, "method not allowed: use GET or PUT");
    json request = json::parse(body, nullptr, false);
    if (request.is_discarded() || !request.is_object()) return problem(400, "body: expected a JSON object");
    for (const auto& [key, value] : request.items()) {
      if (key != "profile" && key != "password") {
        return problem(400, "body: unknown field \"" + key + "\" (expected profile and/or password)");
      }
    }
    if (!request.contains("profile") && !request.contains("password")) {
      return problem(400, "body: give profile (0-3) and/or password");
    }
    std::optional<int> profile;
    if (request.contains("profile")) {
      const json& p = request["profile"];
      if (!p.is_number_integer() || p.get<long long>() < 0 || p.get<long long>() > 3) {
        return problem(400, "profile: expected 0, 1, 2 or 3");
      }
      profile = p.get<int>();
    }
    std::optional<std::string> hash;
    if (request.contains("password")) {
      const json& p = request["password"];
      if (!p.is_string()) return problem(400, "password: expected a string");
      if (auto why = security::password_problem(p.get_ref<const std::string&>())) return problem(400, "password: " + *why);
      hash = security::hash_password(p.get_ref<const std::string&>());
    }
    store->set_charger_security(id, profile, hash);
    json result = summary_of(*store, id);
    spdlog::info("charger {}: security set to profile {}{}", id, result.value("securityProfile", 0),
                 hash ? ", new password" : "");
    const int effective = result.value("securityProfile", 0);
    if ((effective == 1 || effective == 2) && !result.value("passwordSet", false)) {
      result["warning"] = "no password is set: the charger cannot connect until one is";
    }
    return answer(200, result);
  } catch (const std::invalid_argument& e) {
    return problem(400, e.what());
  }
}

}  // namespace genx::api
