#include "api/command_http.hpp"

#include <string>

namespace genx::api {

using messages::CommandOutcome;
using nlohmann::json;

CommandHttp command_http(const messages::CommandReply& r) {
  const std::string who = "charger " + r.device_id;
  switch (r.outcome) {
    case CommandOutcome::kResult: return {200, r.payload};
    case CommandOutcome::kInvalidResponse:
      return {502, json{{"error", who + " answered " + r.action + " with an invalid response: " +
                                      r.error_description},
                        {"response", r.payload}}};
    case CommandOutcome::kCallError:
      return {502, json{{"error", who + " answered " + r.action + " with CALLERROR " + r.error_code},
                        {"errorCode", r.error_code},
                        {"errorDescription", r.error_description},
                        {"errorDetails", r.error_details.is_null() ? json::object() : r.error_details}}};
    case CommandOutcome::kTimeout:
      return {504, json{{"error", who + " did not answer " + r.action + " in time"}}};
    case CommandOutcome::kBusy:
      return {429, json{{"error", who + " is busy: " + r.error_description}}};
    case CommandOutcome::kDisconnected:
      return {502, json{{"error", who + " disconnected before answering " + r.action}}};
  }
  return {500, json{{"error", "internal error"}}};
}

CommandHttp command_offline_http(std::string_view device_id) {
  return {404, json{{"error", "charger " + std::string(device_id) + " offline"}}};
}

}  // namespace genx::api
