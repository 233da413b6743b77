#pragma once
// Commands to chargers (CSMS -> charger calls, README "Remote commands"): the messages
// the api and the gateways exchange over RabbitMQ, how an outcome becomes an HTTP
// answer, the convenience endpoints, the effects the CSMS records, and the
// command.sent / command.completed events.
// Pure: JSON in, JSON out, no I/O; every function is thread-safe and never throws.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "csms/envelope.hpp"

namespace genx::csms {

// The OCPP 1.6 commands GenX sends (Core profile + TriggerMessage), in README order.
const std::vector<std::string>& supported_commands();
bool is_supported_command(std::string_view action);

// api -> gateway, on the commands exchange with routing key = charge point id;
// reply_to / correlation_id (= command_id) carry the answer back.
struct CommandRequest {
  int version = kEnvelopeVersion;
  std::string command_id;  // unique per command; the AMQP correlation id
  std::string device_id;   // charge point identity
  std::string action;      // e.g. "Reset"
  nlohmann::json payload = nlohmann::json::object();
  std::int64_t deadline_ms = 0;  // Unix ms after which nobody waits for the answer
};

std::string serialize(const CommandRequest& request);
// The request, or why the body is not one (not JSON, missing field, unknown version).
std::variant<CommandRequest, std::string> parse_command_request(std::string_view body);

enum class CommandOutcome {
  kResult,           // the charger's CALLRESULT, valid against the response schema
  kInvalidResponse,  // a CALLRESULT that violates the response schema
  kCallError,        // the charger's CALLERROR
  kTimeout,          // the charger did not answer in time
  kBusy,             // too many commands already waiting for this charger
  kDisconnected,     // the charger went away before answering
};

std::string_view to_string(CommandOutcome outcome);
std::optional<CommandOutcome> command_outcome_from_string(std::string_view text);

// gateway -> api.
struct CommandReply {
  int version = kEnvelopeVersion;
  std::string command_id;
  std::string device_id;
  std::string action;
  CommandOutcome outcome = CommandOutcome::kResult;
  std::string unique_id;  // OCPP message id used toward the charger; empty when never sent
  nlohmann::json payload = nlohmann::json::object();  // kResult / kInvalidResponse
  std::string error_code;         // kCallError: the OCPP error code
  std::string error_description;  // kCallError: the charger's text; otherwise why it failed
  nlohmann::json error_details = nlohmann::json::object();
};

std::string serialize(const CommandReply& reply);
std::variant<CommandReply, std::string> parse_command_reply(std::string_view body);

// An HTTP answer for the api.
struct CommandHttp {
  int status = 200;
  nlohmann::json body;
};

// 200 with the payload; 502 {error, errorCode, errorDescription, errorDetails} for a
// CALLERROR; 502 naming the field for an invalid response; 504 timeout; 429 busy;
// 502 disconnected before answering.
CommandHttp command_http(const CommandReply& reply);
// The charger is not connected to any gateway (the publish was returned): 404.
CommandHttp command_offline_http(std::string_view device_id);

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

// command.sent (published by the gateway when it writes the CALL to the charger):
// {commandId, action, uniqueId, payload}.
DomainEvent command_sent_event(const CommandRequest& request, std::string_view unique_id);
// command.completed (published by the api when the command ends, whatever the end):
// {commandId, action, outcome, httpStatus, response?, errorCode?, errorDescription?}.
// outcome is one of to_string(CommandOutcome) or "offline".
DomainEvent command_completed_event(std::string_view device_id, std::string_view command_id,
                                    std::string_view action, std::string_view outcome,
                                    const CommandHttp& http);

}  // namespace genx::csms
