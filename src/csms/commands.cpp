// Commands to chargers: messages, HTTP mapping, effects and events (see commands.hpp).
#include "csms/commands.hpp"

#include <algorithm>

#include "ocpp/v16_validation.hpp"

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

std::optional<json> parse_object(std::string_view body, std::string& error) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const json* version = field(j, "version");
  if (version == nullptr || !version->is_number_integer()) {
    error = "version: missing";
    return std::nullopt;
  }
  if (version->get<std::int64_t>() != kEnvelopeVersion) {
    error = "version " + version->dump() + " not supported";
    return std::nullopt;
  }
  return j;
}

// The OCPP 1.6 specification (not its JSON schemas) numbers connectors from 1 and lets
// connector 0 stand for the whole charge point only where that makes sense: a charger
// cannot unlock, start on or trigger a message for "connector 0".
std::optional<std::string> check_connector_range(std::string_view action, const json& payload) {
  const json* connector = field(payload, "connectorId");
  if (connector == nullptr || !connector->is_number()) return std::nullopt;
  const double id = connector->get<double>();
  if (action == "ChangeAvailability") {
    if (id < 0) return std::string("connectorId: must be 0 (the whole charge point) or a connector number");
    return std::nullopt;
  }
  if (id < 1) return std::string("connectorId: must be 1 or more (connector 0 is the charge point itself)");
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& supported_commands() {
  static const std::vector<std::string> kCommands = {
      "RemoteStartTransaction", "RemoteStopTransaction", "Reset",       "UnlockConnector",
      "ChangeAvailability",     "ChangeConfiguration",   "GetConfiguration", "ClearCache",
      "DataTransfer",           "TriggerMessage"};
  return kCommands;
}

bool is_supported_command(std::string_view action) {
  const auto& all = supported_commands();
  return std::find(all.begin(), all.end(), action) != all.end();
}

std::string serialize(const CommandRequest& r) {
  return json{{"version", r.version},      {"commandId", r.command_id}, {"deviceId", r.device_id},
              {"action", r.action},        {"payload", r.payload},      {"deadline", r.deadline_ms}}
      .dump();
}

std::variant<CommandRequest, std::string> parse_command_request(std::string_view body) {
  std::string error;
  auto j = parse_object(body, error);
  if (!j) return error;
  CommandRequest r;
  for (auto [name, target] : {std::pair{"commandId", &r.command_id}, std::pair{"deviceId", &r.device_id},
                              std::pair{"action", &r.action}}) {
    auto value = text_field(*j, name);
    if (!value || value->empty()) return std::string(name) + ": missing";
    *target = *value;
  }
  const json* payload = field(*j, "payload");
  if (payload == nullptr || !payload->is_object()) return std::string("payload: expected an object");
  r.payload = *payload;
  if (const json* deadline = field(*j, "deadline"); deadline != nullptr && deadline->is_number_integer()) {
    r.deadline_ms = deadline->get<std::int64_t>();
  }
  return r;
}

std::string_view to_string(CommandOutcome outcome) {
  switch (outcome) {
    case CommandOutcome::kResult: return "result";
    case CommandOutcome::kInvalidResponse: return "invalidResponse";
    case CommandOutcome::kCallError: return "callError";
    case CommandOutcome::kTimeout: return "timeout";
    case CommandOutcome::kBusy: return "busy";
    case CommandOutcome::kDisconnected: return "disconnected";
  }
  return "unknown";
}

std::optional<CommandOutcome> command_outcome_from_string(std::string_view text) {
  for (auto o : {CommandOutcome::kResult, CommandOutcome::kInvalidResponse, CommandOutcome::kCallError,
                 CommandOutcome::kTimeout, CommandOutcome::kBusy, CommandOutcome::kDisconnected}) {
    if (to_string(o) == text) return o;
  }
  return std::nullopt;
}

std::string serialize(const CommandReply& r) {
  json j{{"version", r.version},   {"commandId", r.command_id},
         {"deviceId", r.device_id}, {"action", r.action},
         {"outcome", to_string(r.outcome)}, {"uniqueId", r.unique_id},
         {"payload", r.payload}};
  if (!r.error_code.empty()) j["errorCode"] = r.error_code;
  if (!r.error_description.empty()) j["errorDescription"] = r.error_description;
  if (!r.error_details.is_null() && !r.error_details.empty()) j["errorDetails"] = r.error_details;
  return j.dump();
}

std::variant<CommandReply, std::string> parse_command_reply(std::string_view body) {
  std::string error;
  auto j = parse_object(body, error);
  if (!j) return error;
  CommandReply r;
  auto command_id = text_field(*j, "commandId");
  if (!command_id || command_id->empty()) return std::string("commandId: missing");
  r.command_id = *command_id;
  auto outcome = text_field(*j, "outcome");
  auto parsed = outcome ? command_outcome_from_string(*outcome) : std::nullopt;
  if (!parsed) return std::string("outcome: missing or unknown");
  r.outcome = *parsed;
  r.device_id = text_field(*j, "deviceId").value_or("");
  r.action = text_field(*j, "action").value_or("");
  r.unique_id = text_field(*j, "uniqueId").value_or("");
  if (const json* p = field(*j, "payload")) r.payload = *p;
  r.error_code = text_field(*j, "errorCode").value_or("");
  r.error_description = text_field(*j, "errorDescription").value_or("");
  if (const json* d = field(*j, "errorDetails")) r.error_details = *d;
  return r;
}

CommandHttp command_http(const CommandReply& r) {
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

DomainEvent command_sent_event(const CommandRequest& request, std::string_view unique_id) {
  return DomainEvent{"command.sent", request.device_id,
                     json{{"commandId", request.command_id},
                          {"action", request.action},
                          {"uniqueId", std::string(unique_id)},
                          {"payload", request.payload}}};
}

DomainEvent command_completed_event(std::string_view device_id, std::string_view command_id,
                                    std::string_view action, std::string_view outcome,
                                    const CommandHttp& http) {
  json fields{{"commandId", std::string(command_id)},
              {"action", std::string(action)},
              {"outcome", std::string(outcome)},
              {"httpStatus", http.status}};
  if (http.status == 200) {
    fields["response"] = http.body;
  } else {
    if (const json* code = field(http.body, "errorCode")) fields["errorCode"] = *code;
    if (const json* description = field(http.body, "errorDescription")) {
      fields["errorDescription"] = *description;
    }
    if (const json* error = field(http.body, "error")) fields["error"] = *error;
  }
  return DomainEvent{"command.completed", std::string(device_id), std::move(fields)};
}

}  // namespace genx::csms
