#pragma once
// Diagnostics and logs with GenX as the upload location (OCPP 1.6 GetDiagnostics, the
// security whitepaper's GetLog; docs/diagnostics.md). Pure: JSON in, values out, no I/O;
// thread-safe.
//
// Life of a diagnostics request (status):
//   Requested     - stored by POST /api/chargers/{id}/diagnostics, the command on its way
//   Accepted      - the charger answered (GetDiagnostics always; GetLog with Accepted or
//                   AcceptedCanceled)
//   Rejected      - GetLog answered Rejected
//   Failed        - the command was never answered (offline, timeout, CALLERROR)
//   then what the charger reports in DiagnosticsStatusNotification / LogStatusNotification
//   (Idle, Uploading, Uploaded, UploadFailed, UploadFailure, BadMessage, PermissionDenied,
//   NotSupportedOperation), and what the upload URL saw: Uploaded when a file landed,
//   UploadFailed (with `detail`) when an upload was refused (too large, broken body).
// A file is "received" when its bytes are stored (receivedAt, fileSize, sha256 set).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "messages/envelope.hpp"

namespace genx::csms {

// What is asked of the charger: GetDiagnostics, or GetLog with one of its log types.
inline constexpr std::string_view kDiagnosticsKind = "Diagnostics";
inline constexpr std::string_view kDiagnosticsLogKind = "DiagnosticsLog";
inline constexpr std::string_view kSecurityLogKind = "SecurityLog";

struct DiagnosticsFile {
  std::int64_t id = 0;  // also the GetLog requestId
  std::string charge_point_id;
  std::string kind;  // Diagnostics, DiagnosticsLog or SecurityLog
  std::string status;
  std::optional<std::string> detail;     // why it failed, in words
  std::optional<std::string> file_name;  // as the charger named it
  std::optional<std::int64_t> file_size;
  std::optional<std::string> sha256;       // of the stored bytes, lower-case hex
  std::optional<std::string> stored_name;  // the file's name under the diagnostics directory
  std::optional<std::string> received_at;
  bool token_used = false;  // the one-time upload URL was used (successfully or not)
  std::string created_at;
  std::string updated_at;
};

// {id, chargePointId, kind, requestId, status, detail, fileName, fileSize, sha256,
//  received, receivedAt, uploadUrlUsed, createdAt, updatedAt}
nlohmann::json diagnostics_json(const DiagnosticsFile& file);

// What an operator asks for: POST /api/chargers/{id}/diagnostics
// {kind?: Diagnostics|DiagnosticsLog|SecurityLog, startTime?, stopTime?, retries?,
//  retryInterval?}. The times bound the log (GetDiagnostics startTime/stopTime, GetLog
// oldestTimestamp/latestTimestamp).
struct DiagnosticsRequest {
  std::string kind = std::string(kDiagnosticsKind);
  std::optional<std::string> start_time;  // canonical
  std::optional<std::string> stop_time;
  std::optional<int> retries;
  std::optional<int> retry_interval;
};

// The request, or the error for HTTP 400 naming the field.
std::variant<DiagnosticsRequest, std::string> parse_diagnostics_request(const nlohmann::json& body);

// The command to send: {action, payload}, valid against the 1.6 schema of the action
// (GetDiagnostics.json, or the security whitepaper's GetLog.json). upload_url: the
// one-time location (at most 512 characters for GetLog, a URI for GetDiagnostics).
struct DiagnosticsCommand {
  std::string action;
  nlohmann::json payload;
};
DiagnosticsCommand diagnostics_command(const DiagnosticsRequest& request, std::int64_t request_id,
                                       const std::string& upload_url);

// The status a command answer gives the request: GetDiagnostics -> Accepted (fileName
// taken when present); GetLog -> its status (Accepted, Rejected, AcceptedCanceled) and
// filename.
struct DiagnosticsAnswer {
  std::string status;
  std::optional<std::string> file_name;
};
DiagnosticsAnswer diagnostics_answer(std::string_view action, const nlohmann::json& response);

// Whether the status says the upload is over (no later notification expected).
bool diagnostics_finished(std::string_view status);

// diagnostics.status.changed with {diagnosticsId, requestId, kind, status,
// previousStatus, source ("charger", "upload" or "api"), detail, fileName, fileSize}.
// The api's events get eventId "diagnostics/{id}/{status}@{updatedAt}"; the worker's
// get theirs from the charger message (csms/processor.cpp).
nlohmann::json diagnostics_event_fields(const DiagnosticsFile& file, std::string_view previous_status,
                                        std::string_view source);
messages::DomainEvent diagnostics_event(const DiagnosticsFile& file, std::string_view previous_status,
                                        std::string_view source);

}  // namespace genx::csms
