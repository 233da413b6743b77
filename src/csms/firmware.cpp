#include "csms/firmware.hpp"

#include <algorithm>
#include <set>

#include "csms/commands.hpp"
#include "csms/envelope.hpp"

namespace genx::csms {

using nlohmann::json;

namespace {

constexpr std::string_view kInProgress[] = {"Sent", "Downloading", "Downloaded", "Installing"};
constexpr std::string_view kFailed[] = {"DownloadFailed", "InstallationFailed", "Rejected", "Offline", "Timeout"};

template <typename List>
bool in(const List& list, std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

std::optional<std::string> text_field(const json& body, const char* name, std::size_t max, std::string& error) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string() || it->get<std::string>().empty() || it->get<std::string>().size() > max) {
    error = std::string(name) + ": expected a text of 1 to " + std::to_string(max) + " characters";
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<std::int64_t> int_field(const json& body, const char* name, std::int64_t min, std::int64_t max,
                                      std::string& error) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < min || it->get<std::int64_t>() > max) {
    error = std::string(name) + ": expected an integer " + std::to_string(min) + ".." + std::to_string(max);
    return std::nullopt;
  }
  return it->get<std::int64_t>();
}

std::optional<std::string> date_field(const json& body, const char* name, std::string& error) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    error = std::string(name) + ": expected an ISO 8601 date-time";
    return std::nullopt;
  }
  auto canonical = normalize_timestamp(it->get<std::string>());
  if (!canonical) error = std::string(name) + ": \"" + it->get<std::string>() + "\" is not an ISO 8601 date-time";
  return canonical;
}

}  // namespace

bool firmware_target_in_progress(std::string_view status) { return in(kInProgress, status); }
bool firmware_target_failed(std::string_view status) { return in(kFailed, status); }

std::optional<std::string> firmware_target_step(std::string_view s) {
  if (s == "Downloading" || s == "DownloadScheduled" || s == "DownloadPaused") return "Downloading";
  if (s == "Downloaded" || s == "SignatureVerified" || s == "InstallScheduled") return "Downloaded";
  if (s == "Installing" || s == "InstallRebooting") return "Installing";
  if (s == "Installed") return "Installed";
  if (s == "DownloadFailed" || s == "InvalidSignature") return "DownloadFailed";
  if (s == "InstallationFailed" || s == "InstallVerificationFailed") return "InstallationFailed";
  return std::nullopt;
}

std::variant<FirmwareCampaignRequest, std::string> parse_firmware_campaign(const json& body) {
  if (!body.is_object()) return std::string("body: expected a JSON object {location, chargePointIds | model, ...}");
  static const std::set<std::string> kKnown = {
      "name",          "location",       "retrieveDate", "retries",       "retryInterval",
      "installDate",   "maxConcurrent",  "timeoutSeconds", "chargePointIds", "model",
      "signed",        "signingCertificate", "signature"};
  for (const auto& [key, value] : body.items()) {
    if (!kKnown.count(key)) {
      return "unknown field " + key +
             " (expected name, location, retrieveDate, retries, retryInterval, installDate, maxConcurrent, "
             "timeoutSeconds, chargePointIds, model, signed, signingCertificate, signature)";
    }
  }
  FirmwareCampaignRequest r;
  std::string error;
  auto location = text_field(body, "location", 512, error);
  if (!error.empty()) return error;
  if (!location) return std::string("location: required (the firmware's URL)");
  r.location = *location;
  r.name = text_field(body, "name", 100, error).value_or("firmware " + r.location);
  if (!error.empty()) return error;
  r.retrieve_date = date_field(body, "retrieveDate", error);
  if (!error.empty()) return error;
  r.install_date = date_field(body, "installDate", error);
  if (!error.empty()) return error;
  r.retries = int_field(body, "retries", 0, 1000, error);
  if (!error.empty()) return error;
  r.retry_interval = int_field(body, "retryInterval", 0, 86400, error);
  if (!error.empty()) return error;
  r.max_concurrent = int_field(body, "maxConcurrent", 1, 10000, error).value_or(1);
  if (!error.empty()) return error;
  r.timeout_s = int_field(body, "timeoutSeconds", 10, 30 * 86400, error).value_or(3600);
  if (!error.empty()) return error;
  if (auto it = body.find("signed"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return std::string("signed: expected true or false");
    r.is_signed = it->get<bool>();
  }
  r.signing_certificate = text_field(body, "signingCertificate", 5500, error);
  if (!error.empty()) return error;
  r.signature = text_field(body, "signature", 800, error);
  if (!error.empty()) return error;
  if (r.is_signed && (!r.signing_certificate || !r.signature)) {
    return std::string("signingCertificate, signature: both required for a signed campaign (SignedUpdateFirmware)");
  }
  if (!r.is_signed && (r.signing_certificate || r.signature || r.install_date)) {
    return std::string("signingCertificate, signature, installDate: only for a signed campaign (\"signed\": true)");
  }
  const auto ids = body.find("chargePointIds");
  r.model = text_field(body, "model", 20, error);
  if (!error.empty()) return error;
  if (ids != body.end() && !ids->is_null()) {
    if (r.model) return std::string("chargePointIds, model: give one of them, not both");
    if (!ids->is_array() || ids->empty() || ids->size() > 10000) {
      return std::string("chargePointIds: expected an array of 1 to 10000 charge point ids");
    }
    std::set<std::string> seen;
    for (const auto& id : *ids) {
      if (!id.is_string() || id.get<std::string>().empty() || id.get<std::string>().size() > 48) {
        return std::string("chargePointIds: every entry must be a charge point id (1 to 48 characters)");
      }
      if (!seen.insert(id.get<std::string>()).second) return "chargePointIds: " + id.get<std::string>() + " twice";
      r.charge_point_ids.push_back(id.get<std::string>());
    }
  } else if (!r.model) {
    return std::string("chargePointIds or model: required (which chargers to update)");
  }
  // The request the chargers will get must be valid: check it as the passthrough would.
  FirmwareSend probe;
  probe.location = r.location;
  probe.retrieve_date = r.retrieve_date;
  probe.retries = r.retries;
  probe.retry_interval = r.retry_interval;
  probe.is_signed = r.is_signed;
  probe.signing_certificate = r.signing_certificate;
  probe.signature = r.signature;
  probe.install_date = r.install_date;
  probe.target_id = 1;
  if (auto problem = check_command(firmware_send_action(probe),
                                   firmware_send_payload(probe, "2024-01-01T00:00:00.000Z"))) {
    return *problem;
  }
  return r;
}

std::string firmware_send_action(const FirmwareSend& send) {
  return send.is_signed && !send.v201 ? "SignedUpdateFirmware" : "UpdateFirmware";
}

bool firmware_send_has_request_id(const FirmwareSend& send) { return send.is_signed || send.v201; }

json firmware_send_payload(const FirmwareSend& send, std::string_view now) {
  const std::string retrieve = send.retrieve_date.value_or(std::string(now));
  json payload = json::object();
  if (firmware_send_has_request_id(send)) {
    payload["requestId"] = send.target_id;
    json firmware = {{"location", send.location}, {"retrieveDateTime", retrieve}};
    if (send.is_signed) {
      firmware["signingCertificate"] = send.signing_certificate.value_or("");
      firmware["signature"] = send.signature.value_or("");
    }
    if (send.install_date) firmware["installDateTime"] = *send.install_date;
    payload["firmware"] = std::move(firmware);
  } else {
    payload["location"] = send.location;
    payload["retrieveDate"] = retrieve;
  }
  if (send.retries) payload["retries"] = *send.retries;
  if (send.retry_interval) payload["retryInterval"] = *send.retry_interval;
  return payload;
}

std::optional<FirmwareRequest> firmware_request(std::string_view action, const json& request, const json& response) {
  if (!request.is_object()) return std::nullopt;
  FirmwareRequest r;
  r.action = std::string(action);
  if (action == "UpdateFirmware" && !request.contains("firmware")) {  // 1.6
    r.location = request.value("location", "");
    if (request.contains("retrieveDate") && request["retrieveDate"].is_string()) {
      r.retrieve_date = request["retrieveDate"].get<std::string>();
    }
    r.answer = "Accepted";  // UpdateFirmware.conf has no status: the charger took it
    return r;
  }
  if (action == "SignedUpdateFirmware" || action == "UpdateFirmware") {  // 1.6 signed, or 2.0.1
    const json firmware = request.value("firmware", json::object());
    r.location = firmware.value("location", "");
    if (firmware.contains("retrieveDateTime") && firmware["retrieveDateTime"].is_string()) {
      r.retrieve_date = firmware["retrieveDateTime"].get<std::string>();
    }
    if (request.contains("requestId") && request["requestId"].is_number_integer()) {
      r.request_id = request["requestId"].get<std::int64_t>();
    }
    r.answer = response.is_object() ? response.value("status", "") : "";
    return r;
  }
  return std::nullopt;
}

messages::DomainEvent firmware_campaign_event(const json& campaign, std::string_view charge_point_id,
                                              std::string_view target_status) {
  messages::DomainEvent event{"firmware.campaign.changed", std::string(charge_point_id), json::object()};
  const auto id = campaign.value("id", std::int64_t{0});
  event.fields["campaignId"] = id;
  event.fields["name"] = campaign.value("name", "");
  event.fields["status"] = campaign.value("status", "");
  event.fields["counts"] = campaign.value("counts", json::object());
  if (!charge_point_id.empty()) {
    event.fields["chargePointId"] = std::string(charge_point_id);
    event.fields["targetStatus"] = std::string(target_status);
  }
  event.fields["eventId"] = "firmware-campaign/" + std::to_string(id) + "/" + campaign.value("updatedAt", "") + "/" +
                            (charge_point_id.empty() ? std::string("campaign") : std::string(charge_point_id)) + "/" +
                            (target_status.empty() ? campaign.value("status", "") : std::string(target_status));
  return event;
}

}  // namespace genx::csms
