#pragma once
// Commands to chargers (CSMS -> charger calls, docs/api.md "Remote commands"): which commands
// exist, how an api request is checked, the convenience endpoints, and the effects the
// CSMS records. The messages themselves are in messages/commands.hpp.
// Pure: JSON in, JSON out, no I/O; every function is thread-safe and never throws.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "csms/envelope.hpp"
#include "messages/commands.hpp"

namespace genx::csms {

using messages::CommandOutcome;
using messages::CommandReply;
using messages::CommandRequest;

// The OCPP 1.6 commands GenX sends: every CSMS-to-charger action of 1.6 and of the
// security whitepaper, in README order.
const std::vector<std::string>& supported_commands();
bool is_supported_command(std::string_view action);

// A command as the api got it: the action and its OCPP payload.
struct CommandCall {
  std::string action;
  nlohmann::json payload;
};

// The convenience endpoints: "start" -> RemoteStartTransaction, "stop" ->
// RemoteStopTransaction, "reset" -> Reset, "unlock" -> UnlockConnector; the body is the
// OCPP payload. nullopt for another name.
std::optional<std::string> convenience_action(std::string_view endpoint);

// Checks an api request: supported action and payload valid for the command schema.
// Returns the error text for HTTP 400 (naming the field), or nullopt when valid.
std::optional<std::string> check_command(std::string_view action, const nlohmann::json& payload);

// What the CSMS remembers of a command's answer.
struct ConfigurationEntry {
  std::string key;
  std::optional<std::string> value;
  bool readonly = false;
};
struct ConfigurationReport {  // GetConfiguration answered
  std::vector<ConfigurationEntry> keys;
  std::vector<std::string> unknown_keys;
};
struct ConfigurationChange {  // ChangeConfiguration Accepted or RebootRequired
  std::string key;
  std::string value;
  bool reboot_required = false;
};
struct AvailabilityChange {  // ChangeAvailability Accepted or Scheduled
  int connector_id = 0;      // 0: the whole charge point
  std::string type;          // Operative or Inoperative
  bool scheduled = false;    // Scheduled: takes effect after the running transaction
};
using CommandEffect = std::variant<ConfigurationReport, ConfigurationChange, AvailabilityChange>;

// The effect to record for a valid CALLRESULT, or nullopt when there is nothing to keep
// (other commands, Rejected/NotSupported answers).
std::optional<CommandEffect> command_effect(std::string_view action, const nlohmann::json& request,
                                            const nlohmann::json& response);

}  // namespace genx::csms
