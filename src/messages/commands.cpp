// Commands to chargers as the api and the gateways exchange them (see commands.hpp).
#include "messages/commands.hpp"

namespace genx::messages {

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
  if (version->get<std::int64_t>() != kEventVersion) {
    error = "version " + version->dump() + " not supported";
    return std::nullopt;
  }
  return j;
}

}  // namespace

std::string encode_command_request(const CommandRequest& r) {
  return json{{"version", r.version},      {"commandId", r.command_id}, {"deviceId", r.device_id},
              {"action", r.action},        {"payload", r.payload},      {"deadline", r.deadline_ms}}
      .dump();
}

std::variant<CommandRequest, std::string> decode_command_request(std::string_view body) {
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

std::string encode_command_reply(const CommandReply& r) {
  json j{{"version", r.version},   {"commandId", r.command_id},
         {"deviceId", r.device_id}, {"action", r.action},
         {"outcome", to_string(r.outcome)}, {"uniqueId", r.unique_id},
         {"payload", r.payload}};
  if (!r.error_code.empty()) j["errorCode"] = r.error_code;
  if (!r.error_description.empty()) j["errorDescription"] = r.error_description;
  if (!r.error_details.is_null() && !r.error_details.empty()) j["errorDetails"] = r.error_details;
  return j.dump();
}

std::variant<CommandReply, std::string> decode_command_reply(std::string_view body) {
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

DomainEvent command_sent_event(const CommandRequest& request, std::string_view unique_id) {
  return DomainEvent{"command.sent", request.device_id,
                     json{{"commandId", request.command_id},
                          {"action", request.action},
                          {"uniqueId", std::string(unique_id)},
                          {"payload", request.payload}}};
}

DomainEvent command_completed_event(std::string_view device_id, std::string_view command_id,
                                    std::string_view action, std::string_view outcome,
                                    int http_status, const json& http_body) {
  json fields{{"commandId", std::string(command_id)},
              {"action", std::string(action)},
              {"outcome", std::string(outcome)},
              {"httpStatus", http_status}};
  if (http_status == 200) {
    fields["response"] = http_body;
  } else {
    if (const json* code = field(http_body, "errorCode")) fields["errorCode"] = *code;
    if (const json* description = field(http_body, "errorDescription")) {
      fields["errorDescription"] = *description;
    }
    if (const json* error = field(http_body, "error")) fields["error"] = *error;
  }
  return DomainEvent{"command.completed", std::string(device_id), std::move(fields)};
}

}  // namespace genx::messages
