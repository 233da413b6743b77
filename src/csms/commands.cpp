// Commands to chargers: checks, convenience endpoints and effects (see commands.hpp).
#include "csms/commands.hpp"

#include <algorithm>

#include "ocpp/v16_validation.hpp"
#include "smart/profiles.hpp"

namespace genx::csms {

using nlohmann::json;

namespace {

const json* field(const json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

std::optional<std::string> text_field(const json& j, const char* name) {
  const json* f = field(j, name);
  if (f == nullptr || !f->is_string()) return std::nullopt;
  return f->get<std::string>();
}

// The OCPP 1.6 specification (not its JSON schemas) numbers connectors from 1 and lets
// connector 0 stand for the whole charge point only where that makes sense (availability,
// a reservation of any connector, charging profiles and schedules of the whole charge
// point): a charger cannot unlock, start on or trigger a message for "connector 0".
std::optional<std::string> check_connector_range(std::string_view action, const json& payload) {
  const json* connector = field(payload, "connectorId");
  if (connector == nullptr || !connector->is_number()) return std::nullopt;
  const double id = connector->get<double>();
  if (action == "ChangeAvailability" || action == "ReserveNow" || action == "SetChargingProfile" ||
      action == "ClearChargingProfile" || action == "GetCompositeSchedule") {
    if (id < 0) return std::string("connectorId: must be 0 (the whole charge point) or a connector number");
    return std::nullopt;
  }
  if (id < 1) return std::string("connectorId: must be 1 or more (connector 0 is the charge point itself)");
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& supported_commands() {
  // Every CSMS-to-charger action of OCPP 1.6 and its security whitepaper, by profile.
  static const std::vector<std::string> kCommands = {
      // Core
      "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector",
      "ChangeAvailability", "ChangeConfiguration", "GetConfiguration", "ClearCache",
      "DataTransfer",
      // Remote Trigger
      "TriggerMessage",
      // Firmware Management
      "UpdateFirmware", "GetDiagnostics",
      // Local Auth List Management
      "SendLocalList", "GetLocalListVersion",
      // Reservation
      "ReserveNow", "CancelReservation",
      // Smart Charging
      "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule",
      // Security whitepaper
      "CertificateSigned", "InstallCertificate", "GetInstalledCertificateIds",
      "DeleteCertificate", "ExtendedTriggerMessage", "GetLog", "SignedUpdateFirmware"};
  return kCommands;
}

bool is_supported_command(std::string_view action) {
  const auto& all = supported_commands();
  return std::find(all.begin(), all.end(), action) != all.end();
}

std::optional<std::string> convenience_action(std::string_view endpoint) {
  if (endpoint == "start") return std::string("RemoteStartTransaction");
  if (endpoint == "stop") return std::string("RemoteStopTransaction");
  if (endpoint == "reset") return std::string("Reset");
  if (endpoint == "unlock") return std::string("UnlockConnector");
  return std::nullopt;
}

std::optional<std::string> check_command(std::string_view action, const json& payload) {
  if (!is_supported_command(action)) {
    std::string list;
    for (const auto& c : supported_commands()) list += (list.empty() ? "" : ", ") + c;
    return "unsupported command " + std::string(action) + " (supported: " + list + ")";
  }
  if (!payload.is_object()) return std::string("body: expected a JSON object (the OCPP payload)");
  if (auto violation = ocpp::v16::validate_command(action, payload)) return violation->description;
  if (auto problem = smart::check_profile_command(action, payload)) return problem;
  return check_connector_range(action, payload);
}

std::optional<CommandEffect> command_effect(std::string_view action, const json& request,
                                            const json& response) {
  const std::string status = text_field(response, "status").value_or("");
  if (action == "GetConfiguration") {
    ConfigurationReport report;
    if (const json* keys = field(response, "configurationKey"); keys && keys->is_array()) {
      for (const auto& k : *keys) {
        if (!k.is_object()) continue;
        auto key = text_field(k, "key");
        if (!key) continue;
        const json* readonly = field(k, "readonly");
        report.keys.push_back(
            {*key, text_field(k, "value"), readonly != nullptr && readonly->is_boolean() && readonly->get<bool>()});
      }
    }
    if (const json* unknown = field(response, "unknownKey"); unknown && unknown->is_array()) {
      for (const auto& k : *unknown) {
        if (k.is_string()) report.unknown_keys.push_back(k.get<std::string>());
      }
    }
    return report;
  }
  if (action == "ChangeConfiguration" && (status == "Accepted" || status == "RebootRequired")) {
    auto key = text_field(request, "key");
    auto value = text_field(request, "value");
    if (!key || !value) return std::nullopt;
    return ConfigurationChange{*key, *value, status == "RebootRequired"};
  }
  if (action == "ChangeAvailability" && (status == "Accepted" || status == "Scheduled")) {
    const json* connector = field(request, "connectorId");
    auto type = text_field(request, "type");
    if (connector == nullptr || !connector->is_number_integer() || !type) return std::nullopt;
    return AvailabilityChange{connector->get<int>(), *type, status == "Scheduled"};
  }
  return std::nullopt;
}

}  // namespace genx::csms
