#include "messages/actions.hpp"

#include <string>

namespace genx::messages {

std::uint8_t priority_for_action(std::string_view action) {
  if (action == "BootNotification" || action == "Authorize" || action == "StartTransaction" ||
      action == "StopTransaction" || action == "TransactionEvent") {
    return 8;
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
