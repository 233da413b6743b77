#include "csms/commands_v201.hpp"

#include <algorithm>

#include "csms/commands.hpp"
#include "ocpp/v201_validation.hpp"
#include "smart/profiles.hpp"

namespace genx::csms {

const std::vector<std::string>& supported_commands_v201() {
  // Every CSMS-to-station call of OCPP 2.0.1, by functional block; each is checked against
  // its 2.0.1 schema before it is sent. GenX itself sends the ones its features need (the
  // rest reach the station as passthrough commands, their answers returned as they came).
  static const std::vector<std::string> kCommands = {
      // A Security
      "CertificateSigned", "DeleteCertificate", "GetInstalledCertificateIds", "InstallCertificate",
      // B Provisioning
      "GetBaseReport", "GetReport", "GetVariables", "Reset", "SetNetworkProfile", "SetVariables",
      // C Authorization
      "ClearCache",
      // D Local authorization list (docs/local-list.md)
      "GetLocalListVersion", "SendLocalList",
      // E/F Transactions and remote control
      "GetTransactionStatus", "RequestStartTransaction", "RequestStopTransaction", "TriggerMessage",
      "UnlockConnector",
      // G Availability
      "ChangeAvailability",
      // H Reservation
      "CancelReservation", "ReserveNow",
      // I Tariff and cost
      "CostUpdated",
      // K Smart charging (docs/smart-charging.md)
      "ClearChargingProfile", "GetChargingProfiles", "GetCompositeSchedule", "SetChargingProfile",
      // L Firmware (docs/firmware.md)
      "PublishFirmware", "UnpublishFirmware", "UpdateFirmware",
      // N Diagnostics (docs/diagnostics.md) and monitoring
      "ClearVariableMonitoring", "CustomerInformation", "GetLog", "GetMonitoringReport", "SetMonitoringBase",
      "SetMonitoringLevel", "SetVariableMonitoring",
      // O Display messages
      "ClearDisplayMessage", "GetDisplayMessages", "SetDisplayMessage",
      // P Data transfer
      "DataTransfer"};
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

std::optional<std::string> check_command_for(bool v201, std::string_view action, const nlohmann::json& payload) {
  return v201 ? check_command_v201(action, payload) : check_command(action, payload);
}

}  // namespace genx::csms
