// The firmware routes of the api (docs/firmware.md):
//   GET  /api/chargers/{id}/firmware            the charger's firmware status, request, history
//   GET  /api/firmware/campaigns                campaigns, newest first (counts, no targets)
//   POST /api/firmware/campaigns                create a campaign (the workers roll it out)
//   GET  /api/firmware/campaigns/{id}           one campaign with every target
//   POST /api/firmware/campaigns/{id}/retry     failed targets back to Pending ({chargePointIds?})
//   POST /api/firmware/campaigns/{id}/cancel    Pending targets Cancelled, nothing more sent
// and what an answered passthrough UpdateFirmware / SignedUpdateFirmware teaches.
// Runs on the api's one I/O thread, like the rest of ApiHandler.
#include <charconv>
#include <chrono>

#include <spdlog/spdlog.h>

#include "api/api_server.hpp"
#include "csms/firmware.hpp"
#include "messages/timestamp.hpp"
#include "util/url.hpp"

namespace genx::api {

using nlohmann::json;

namespace {

HttpResponse respond_json(int status, const json& body) { return HttpResponse{status, "application/json", body.dump()}; }
HttpResponse respond_error(int status, std::string_view message) { return respond_json(status, json{{"error", message}}); }

std::string now_text() {
  return messages::format_timestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::optional<std::int64_t> to_id(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1) return std::nullopt;
  return v;
}

std::optional<HttpResponse> parse_body(std::string_view body, json& out) {
  out = json::object();
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  out = json::parse(body, nullptr, false);
  if (out.is_discarded()) return respond_error(400, "body: not valid JSON");
  if (!out.is_object()) return respond_error(400, "body: expected a JSON object");
  return std::nullopt;
}

}  // namespace

void ApiHandler::record_firmware_effect(const messages::CommandRequest& request, const json& response) {
  if (firmware_store_ == nullptr) return;
  auto effect = csms::firmware_request(request.action, request.payload, response);
  if (!effect) return;
  try {
    firmware_store_->record_firmware_request(request.device_id, *effect, now_text());
  } catch (const std::exception& e) {
    spdlog::error("api: {} of {} answered but the firmware request was not recorded: {}", request.action,
                  request.device_id, e.what());
  }
}

std::optional<HttpResponse> ApiHandler::firmware_route(std::string_view method, std::string_view path,
                                                       const std::map<std::string, std::string>& params,
                                                       std::string_view body) {
  constexpr std::string_view kCharger = "/api/chargers/";
  constexpr std::string_view kTail = "/firmware";
  constexpr std::string_view kCampaigns = "/api/firmware/campaigns";
  const bool read = method == "GET" || method == "HEAD";
  if (path.starts_with(kCharger) && path.ends_with(kTail) && path.size() > kCharger.size() + kTail.size()) {
    const std::string id = util::url_decode(path.substr(kCharger.size(), path.size() - kCharger.size() - kTail.size()));
    if (id.find('/') != std::string::npos) return std::nullopt;
    if (!read) return respond_error(405, "method not allowed: use GET");
    if (firmware_store_ == nullptr) return respond_error(503, "firmware management is not available in this process");
    int limit = 100;
    if (auto it = params.find("limit"); it != params.end()) {
      const auto v = to_id(it->second);
      if (!v || *v > 1000) return respond_error(400, "limit: expected 1..1000");
      limit = static_cast<int>(*v);
    }
    if (auto doc = firmware_store_->firmware_document(id, limit)) return respond_json(200, *doc);
    return respond_error(404, "no charger " + id);
  }
  if (path != kCampaigns && path != "/api/firmware/campaigns/" && !path.starts_with("/api/firmware/campaigns/")) {
    return std::nullopt;
  }
  if (firmware_store_ == nullptr) return respond_error(503, "firmware management is not available in this process");
  const auto answer = [this](const std::variant<json, csms::FirmwareRefusal>& result, int ok_status,
                             const char* what) -> HttpResponse {
    if (const auto* refusal = std::get_if<csms::FirmwareRefusal>(&result)) {
      return respond_error(refusal->status, refusal->message);
    }
    const json& campaign = std::get<json>(result);
    spdlog::info("api: firmware campaign {} {} ({} target(s))", campaign.value("id", 0), what,
                 campaign.value("total", 0));
    publish_event(csms::firmware_campaign_event(campaign, "", ""));
    return respond_json(ok_status, campaign);
  };
  if (path == kCampaigns || path == "/api/firmware/campaigns/") {
    if (read) {
      int limit = 100;
      if (auto it = params.find("limit"); it != params.end()) {
        const auto v = to_id(it->second);
        if (!v || *v > 1000) return respond_error(400, "limit: expected 1..1000");
        limit = static_cast<int>(*v);
      }
      return respond_json(200, firmware_store_->list_campaigns(limit));
    }
    if (method != "POST") return respond_error(405, "method not allowed: use GET or POST");
    json parsed;
    if (auto bad = parse_body(body, parsed)) return bad;
    auto request = csms::parse_firmware_campaign(parsed);
    if (const auto* problem = std::get_if<std::string>(&request)) return respond_error(400, *problem);
    return answer(firmware_store_->create_campaign(std::get<csms::FirmwareCampaignRequest>(request), now_text()), 200,
                  "created");
  }
  std::string_view rest = path.substr(kCampaigns.size() + 1);
  const auto slash = rest.find('/');
  const auto id = to_id(rest.substr(0, slash));
  if (!id) return respond_error(400, "campaign id must be a positive integer");
  if (slash == std::string_view::npos) {
    if (!read) return respond_error(405, "method not allowed: use GET");
    if (auto campaign = firmware_store_->campaign(*id)) return respond_json(200, *campaign);
    return respond_error(404, "no firmware campaign " + std::to_string(*id));
  }
  const std::string_view action = rest.substr(slash + 1);
  if (action != "retry" && action != "cancel") return respond_error(404, "not found");
  if (method != "POST") return respond_error(405, "method not allowed: use POST");
  json parsed;
  if (auto bad = parse_body(body, parsed)) return bad;
  if (action == "cancel") {
    if (!parsed.empty()) return respond_error(400, "body: cancel takes no fields");
    return answer(firmware_store_->cancel_campaign(*id, now_text()), 200, "cancelled");
  }
  std::vector<std::string> only;
  for (const auto& [key, value] : parsed.items()) {
    if (key != "chargePointIds") return respond_error(400, "unknown field " + key + " (expected chargePointIds)");
    if (!value.is_array()) return respond_error(400, "chargePointIds: expected an array of charge point ids");
    for (const auto& v : value) {
      if (!v.is_string() || v.get<std::string>().empty()) {
        return respond_error(400, "chargePointIds: every entry must be a charge point id");
      }
      only.push_back(v.get<std::string>());
    }
  }
  return answer(firmware_store_->retry_campaign(*id, only, now_text()), 200, "retried");
}

}  // namespace genx::api
