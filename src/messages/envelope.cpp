#include "messages/envelope.hpp"

namespace genx::messages {
namespace {

using nlohmann::json;

std::optional<std::string> optional_string(const json& object, const char* key,
                                           std::string& error) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string{};
  if (!it->is_string()) {
    error = std::string("field \"") + key + "\" must be a string";
    return std::nullopt;
  }
  return it->get<std::string>();
}

// The payload of a CALL frame [2, id, action, {payload}], or nullopt.
std::optional<json> call_payload(std::string_view frame) {
  json j = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array() || j.size() != 4 || !j[3].is_object()) return std::nullopt;
  return std::move(j[3]);
}

}  // namespace

std::string encode_envelope(const Envelope& envelope) {
  json j = {
      {"version", kEnvelopeVersion},
      {"messageId", envelope.message_id},
      {"deviceId", envelope.device_id},
      {"chargerId", nullptr},
      {"gatewayId", envelope.gateway_id},
      {"ocppVersion", envelope.ocpp_version},
      {"messageType", envelope.message_type},
      {"uniqueId", envelope.unique_id},
      {"timestamp", envelope.timestamp},
      {"rawData", envelope.raw_data},
  };
  if (envelope.charger_id) j["chargerId"] = *envelope.charger_id;
  return j.dump();
}

std::variant<Envelope, std::string> decode_envelope(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::string("envelope is not valid JSON");
  if (!j.is_object()) return std::string("envelope is not a JSON object");

  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) {
    return std::string("envelope has no integer \"version\"");
  }
  const auto v = version->get<std::int64_t>();
  if (v < kOldestEnvelopeVersion || v > kEnvelopeVersion) {
    return "unsupported envelope version " + std::to_string(v) + " (this build understands versions " +
           std::to_string(kOldestEnvelopeVersion) + " to " + std::to_string(kEnvelopeVersion) + ")";
  }

  Envelope e;
  e.version = static_cast<int>(v);
  for (const char* key : {"deviceId", "messageType", "uniqueId"}) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return std::string("envelope field \"") + key + "\" is missing or not a non-empty string";
    }
  }
  e.device_id = j["deviceId"].get<std::string>();
  e.message_type = j["messageType"].get<std::string>();
  e.unique_id = j["uniqueId"].get<std::string>();

  if (e.version == 1) {
    const auto payload = j.find("payload");
    if (payload == j.end() || !payload->is_object()) {
      return std::string("envelope field \"payload\" is missing or not an object");
    }
    e.payload = *payload;
  }

  std::string error;
  const auto message_id = optional_string(j, "messageId", error);
  const auto gateway_id = optional_string(j, "gatewayId", error);
  const auto ocpp_version = optional_string(j, "ocppVersion", error);
  const auto timestamp = optional_string(j, "timestamp", error);
  const auto raw_data = optional_string(j, "rawData", error);
  if (!error.empty()) return "envelope " + error;
  e.message_id = *message_id;
  e.gateway_id = *gateway_id;
  if (!ocpp_version->empty()) e.ocpp_version = *ocpp_version;
  e.timestamp = *timestamp;
  e.raw_data = *raw_data;
  if (e.version >= 2) {
    // The frame once: the payload is the CALL's fourth element.
    auto payload = call_payload(e.raw_data);
    if (!payload) return std::string("envelope field \"rawData\" is not an OCPP CALL with an object payload");
    e.payload = std::move(*payload);
  }

  const auto charger_id = j.find("chargerId");
  if (charger_id != j.end() && !charger_id->is_null()) {
    if (!charger_id->is_number_integer()) {
      return std::string("envelope field \"chargerId\" must be an integer or null");
    }
    e.charger_id = charger_id->get<std::int64_t>();
  }
  return e;
}

json readable_envelope(json body) {
  if (!body.is_object() || body.contains("payload")) return body;
  const auto raw = body.find("rawData");
  if (raw == body.end() || !raw->is_string()) return body;
  if (auto payload = call_payload(raw->get_ref<const std::string&>())) body["payload"] = std::move(*payload);
  return body;
}

std::string reply_frame(const Reply& reply) {
  if (reply.error) {
    return ocpp::serialize(ocpp::CallError{reply.unique_id, reply.error->code, reply.error->description,
                                           reply.error->details.is_object() ? reply.error->details
                                                                            : json::object()});
  }
  return ocpp::serialize(ocpp::CallResult{reply.unique_id, reply.result.value_or(json::object())});
}

std::optional<std::string> reply_body_to_frame(std::string body, std::string& error) {
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && body[first] == '[') return body;
  auto parsed = decode_stored_reply(body);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    error = *why;
    return std::nullopt;
  }
  return reply_frame(std::get<Reply>(parsed));
}

std::string encode_stored_reply(const Reply& reply) {
  json j = {{"uniqueId", reply.unique_id}};
  if (reply.error) {
    j["error"] = {{"code", std::string(ocpp::to_string(reply.error->code))},
                  {"description", reply.error->description},
                  {"details", reply.error->details.is_object() ? reply.error->details
                                                                : json::object()}};
  } else {
    j["result"] = reply.result.value_or(json::object());
  }
  return j.dump();
}

std::variant<Reply, std::string> decode_stored_reply(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::string("reply is not valid JSON");
  if (!j.is_object()) return std::string("reply is not a JSON object");
  const auto unique_id = j.find("uniqueId");
  if (unique_id == j.end() || !unique_id->is_string()) {
    return std::string("reply has no string \"uniqueId\"");
  }
  Reply reply;
  reply.unique_id = unique_id->get<std::string>();
  const auto result = j.find("result");
  const auto error = j.find("error");
  const bool has_result = result != j.end();
  const bool has_error = error != j.end();
  if (has_result == has_error) {
    return std::string("reply must carry exactly one of \"result\" and \"error\"");
  }
  if (has_result) {
    if (!result->is_object()) return std::string("reply \"result\" is not an object");
    reply.result = *result;
    return reply;
  }
  if (!error->is_object()) return std::string("reply \"error\" is not an object");
  const auto code = error->find("code");
  if (code == error->end() || !code->is_string()) {
    return std::string("reply error has no string \"code\"");
  }
  const auto parsed_code = ocpp::error_code_from_string(code->get<std::string>());
  if (!parsed_code) return "reply error code \"" + code->get<std::string>() + "\" is unknown";
  ocpp::CallError call_error;
  call_error.unique_id = reply.unique_id;
  call_error.code = *parsed_code;
  const auto description = error->find("description");
  if (description != error->end() && description->is_string()) {
    call_error.description = description->get<std::string>();
  }
  const auto details = error->find("details");
  if (details != error->end() && details->is_object()) call_error.details = *details;
  reply.error = std::move(call_error);
  return reply;
}

std::string event_routing_key(std::string_view type) {
  return "notification." + std::string(type);
}

std::string encode_event(const DomainEvent& event, std::string_view timestamp) {
  json j = event.fields.is_object() ? event.fields : json::object();
  // The envelope fields win over an event field of the same name.
  j["version"] = kEventVersion;
  j["type"] = event.type;
  j["deviceId"] = event.device_id;
  j["timestamp"] = std::string(timestamp);
  return j.dump();
}

std::string encode_event_batch(const std::vector<std::string>& encoded_events) {
  std::size_t size = 64;
  for (const auto& e : encoded_events) size += e.size() + 1;
  std::string out;
  out.reserve(size);
  out += R"({"version":)";
  out += std::to_string(kEventVersion);
  out += R"(,"type":")";
  out += kEventBatchType;
  out += R"(","events":[)";
  for (std::size_t i = 0; i < encoded_events.size(); ++i) {
    if (i != 0) out += ',';
    out += encoded_events[i];
  }
  out += "]}";
  return out;
}

std::optional<std::vector<std::string>> split_event_batch(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto type = j.find("type");
  const auto events = j.find("events");
  if (type == j.end() || *type != kEventBatchType || events == j.end() || !events->is_array()) {
    return std::vector<std::string>{std::string(body)};
  }
  std::vector<std::string> out;
  out.reserve(events->size());
  for (const auto& e : *events) out.push_back(e.dump());
  return out;
}

}  // namespace genx::messages
