// Diagnostics and logs: requests, commands, answers and events (see diagnostics.hpp).
#include "csms/diagnostics.hpp"

#include "csms/commands.hpp"
#include "messages/timestamp.hpp"

namespace genx::csms {

using nlohmann::json;

namespace {

template <typename T>
json nullable(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

json diagnostics_json(const DiagnosticsFile& f) {
  return {{"id", f.id},
          {"chargePointId", f.charge_point_id},
          {"kind", f.kind},
          {"requestId", f.id},
          {"status", f.status},
          {"detail", nullable(f.detail)},
          {"fileName", nullable(f.file_name)},
          {"fileSize", nullable(f.file_size)},
          {"sha256", nullable(f.sha256)},
          {"received", f.received_at.has_value()},
          {"receivedAt", nullable(f.received_at)},
          {"uploadUrlUsed", f.token_used},
          {"createdAt", f.created_at},
          {"updatedAt", f.updated_at}};
}

std::variant<DiagnosticsRequest, std::string> parse_diagnostics_request(const json& body) {
  if (!body.is_object()) {
    return std::string("body: expected a JSON object {kind?, startTime?, stopTime?, retries?, retryInterval?}");
  }
  DiagnosticsRequest request;
  for (const auto& [key, value] : body.items()) {
    if (key != "kind" && key != "startTime" && key != "stopTime" && key != "retries" && key != "retryInterval") {
      return key + ": unknown field (expected kind, startTime, stopTime, retries, retryInterval; the upload "
                   "location is chosen by GenX: to send your own, use POST /api/chargers/{id}/commands/GetDiagnostics)";
    }
  }
  if (auto it = body.find("kind"); it != body.end()) {
    if (!it->is_string() || (*it != kDiagnosticsKind && *it != kDiagnosticsLogKind && *it != kSecurityLogKind)) {
      return std::string("kind: expected \"Diagnostics\" (GetDiagnostics), \"DiagnosticsLog\" or \"SecurityLog\" (GetLog)");
    }
    request.kind = it->get<std::string>();
  }
  for (const char* name : {"startTime", "stopTime"}) {
    auto it = body.find(name);
    if (it == body.end()) continue;
    if (!it->is_string()) return std::string(name) + ": expected an RFC 3339 date-time";
    auto canonical = messages::normalize_timestamp(it->get<std::string>());
    if (!canonical) return std::string(name) + ": not an RFC 3339 date-time";
    (std::string_view(name) == "startTime" ? request.start_time : request.stop_time) = *canonical;
  }
  if (request.start_time && request.stop_time && *request.stop_time < *request.start_time) {
    return std::string("stopTime: before startTime");
  }
  for (const char* name : {"retries", "retryInterval"}) {
    auto it = body.find(name);
    if (it == body.end()) continue;
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 1000000) {
      return std::string(name) + ": expected an integer 0..1000000";
    }
    (std::string_view(name) == "retries" ? request.retries : request.retry_interval) = it->get<int>();
  }
  return request;
}

DiagnosticsCommand diagnostics_command(const DiagnosticsRequest& request, std::int64_t request_id,
                                       const std::string& upload_url) {
  if (request.kind == kDiagnosticsKind) {
    json payload{{"location", upload_url}};
    if (request.retries) payload["retries"] = *request.retries;
    if (request.retry_interval) payload["retryInterval"] = *request.retry_interval;
    if (request.start_time) payload["startTime"] = *request.start_time;
    if (request.stop_time) payload["stopTime"] = *request.stop_time;
    return {"GetDiagnostics", std::move(payload)};
  }
  json log{{"remoteLocation", upload_url}};
  if (request.start_time) log["oldestTimestamp"] = *request.start_time;
  if (request.stop_time) log["latestTimestamp"] = *request.stop_time;
  json payload{{"logType", request.kind}, {"requestId", request_id}, {"log", std::move(log)}};
  if (request.retries) payload["retries"] = *request.retries;
  if (request.retry_interval) payload["retryInterval"] = *request.retry_interval;
  return {"GetLog", std::move(payload)};
}

DiagnosticsAnswer diagnostics_answer(std::string_view action, const json& response) {
  DiagnosticsAnswer answer;
  const char* name_field = action == "GetLog" ? "filename" : "fileName";
  if (auto it = response.find(name_field); it != response.end() && it->is_string() && !it->get<std::string>().empty()) {
    answer.file_name = it->get<std::string>();
  }
  answer.status = "Accepted";
  if (action == "GetLog") {
    if (auto it = response.find("status"); it != response.end() && it->is_string()) answer.status = *it;
  }
  return answer;
}

bool diagnostics_finished(std::string_view s) {
  return s == "Uploaded" || s == "UploadFailed" || s == "UploadFailure" || s == "Rejected" || s == "Failed" ||
         s == "BadMessage" || s == "PermissionDenied" || s == "NotSupportedOperation";
}

json diagnostics_event_fields(const DiagnosticsFile& f, std::string_view previous_status, std::string_view source) {
  return {{"diagnosticsId", f.id},
          {"requestId", f.id},
          {"kind", f.kind},
          {"status", f.status},
          {"previousStatus", std::string(previous_status)},
          {"source", std::string(source)},
          {"detail", nullable(f.detail)},
          {"fileName", nullable(f.file_name)},
          {"fileSize", nullable(f.file_size)}};
}

messages::DomainEvent diagnostics_event(const DiagnosticsFile& f, std::string_view previous_status,
                                        std::string_view source) {
  json fields = diagnostics_event_fields(f, previous_status, source);
  fields["eventId"] = "diagnostics/" + std::to_string(f.id) + "/" + f.status + "@" + f.updated_at;
  return {"diagnostics.status.changed", f.charge_point_id, std::move(fields)};
}

}  // namespace genx::csms
