#include "messages/actions.hpp"

#include <string>

namespace genx::messages {

const std::vector<std::string>& high_class_actions() {
  // TransactionEvent: OCPP 2.0.1's start/update/stop of a transaction.
  static const std::vector<std::string> actions = {"BootNotification", "Authorize", "StartTransaction",
                                                   "StopTransaction", "TransactionEvent"};
  return actions;
}

std::uint8_t priority_for_action(std::string_view action) {
  for (const auto& high : high_class_actions()) {
    if (action == high) return 8;
  }
  if (action == "MeterValues" || action == "Heartbeat") return 1;
  // DataTransfer, StatusNotification, Firmware/DiagnosticsStatusNotification, anything else.
  return 5;
}

bool answered_on_confirm(std::string_view action) {
  return action == "Heartbeat" || action == "StatusNotification" || action == "MeterValues" ||
         action == "DiagnosticsStatusNotification" || action == "FirmwareStatusNotification" ||
         action == "SecurityEventNotification" || action == "LogStatusNotification" ||
         action == "SignedFirmwareStatusNotification" || action == "NotifyReport" ||
         action == "NotifyEvent";
}

nlohmann::json confirm_result(std::string_view action, std::string_view now) {
  if (action == "Heartbeat") return nlohmann::json{{"currentTime", std::string(now)}};
  return nlohmann::json::object();
}

}  // namespace genx::messages
