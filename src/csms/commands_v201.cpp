#include "csms/commands_v201.hpp"

#include <algorithm>

#include "ocpp/v201_validation.hpp"
#include "smart/profiles.hpp"

namespace genx::csms {

const std::vector<std::string>& supported_commands_v201() {
  static const std::vector<std::string> kCommands = {
      "RequestStartTransaction", "RequestStopTransaction", "Reset",          "UnlockConnector",
      "ChangeAvailability",      "GetVariables",           "SetVariables",   "GetBaseReport",
      "GetReport",               "TriggerMessage",         "ClearCache",     "DataTransfer",
      "GetTransactionStatus",    "ReserveNow",             "CancelReservation",
      // D Local authorization list (docs/local-list.md)
      "SendLocalList", "GetLocalListVersion",
      // L Firmware (docs/firmware.md), N Diagnostics (docs/diagnostics.md)
      "UpdateFirmware", "GetLog",
      // A Security (docs/security.md)
      "CertificateSigned", "InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate",
      // K Smart charging (docs/smart-charging.md)
      "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule", "GetChargingProfiles"};
  return kCommands;
}

std::optional<std::string> convenience_action_v201(std::string_view endpoint) {
  if (endpoint == "start") return std::string("RequestStartTransaction");
  if (endpoint == "stop") return std::string("RequestStopTransaction");
  if (endpoint == "reset") return std::string("Reset");
  if (endpoint == "unlock") return std::string("UnlockConnector");
  return std::nullopt;
}

std::optional<std::string> check_command_v201(std::string_view action, const nlohmann::json& payload) {
  const auto& all = supported_commands_v201();
  if (std::find(all.begin(), all.end(), action) == all.end()) {
    std::string list;
    for (const auto& c : all) list += (list.empty() ? "" : ", ") + c;
    return "unsupported command " + std::string(action) + " for an OCPP 2.0.1 station (supported: " +
           list + ")";
  }
  if (!payload.is_object()) return std::string("body: expected a JSON object (the OCPP payload)");
  if (auto violation = ocpp::v201::validate_command(action, payload)) {
    return violation->description + " (" + std::string(ocpp::to_string(violation->code)) + ")";
  }
  return smart::check_profile_command_v201(action, payload);
}

}  // namespace genx::csms
