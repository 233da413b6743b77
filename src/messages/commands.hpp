#pragma once
// Commands to chargers (CSMS -> charger calls, docs/api.md "Remote commands") as the api and
// the gateways exchange them over RabbitMQ, and the command.sent / command.completed
// events. What the CSMS records of an answer lives in csms/commands.hpp; how an outcome
// becomes an HTTP answer in api/command_http.hpp.
// Pure: JSON in, JSON out, no I/O; every function is thread-safe and never throws.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "messages/envelope.hpp"

namespace genx::messages {

// api -> gateway, on the commands exchange with routing key = charge point id;
// reply_to / correlation_id (= command_id) carry the answer back.
struct CommandRequest {
  int version = kEventVersion;
  std::string command_id;  // unique per command; the AMQP correlation id
  std::string device_id;   // charge point identity
  std::string action;      // e.g. "Reset"
  nlohmann::json payload = nlohmann::json::object();
  std::int64_t deadline_ms = 0;  // Unix ms after which nobody waits for the answer
};

std::string encode_command_request(const CommandRequest& request);
// The request, or why the body is not one (not JSON, missing field, unknown version).
std::variant<CommandRequest, std::string> decode_command_request(std::string_view body);

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
  int version = kEventVersion;
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

std::string encode_command_reply(const CommandReply& reply);
std::variant<CommandReply, std::string> decode_command_reply(std::string_view body);

// command.sent (published by the gateway when it writes the CALL to the charger):
// {commandId, action, uniqueId, payload}.
DomainEvent command_sent_event(const CommandRequest& request, std::string_view unique_id);
// command.completed (published by the api when the command ends, whatever the end):
// {commandId, action, outcome, httpStatus (the api's answer), response?, errorCode?, errorDescription?}.
// outcome is one of to_string(CommandOutcome) or "offline".
DomainEvent command_completed_event(std::string_view device_id, std::string_view command_id,
                                    std::string_view action, std::string_view outcome,
                                    int http_status, const nlohmann::json& http_body);

}  // namespace genx::messages
