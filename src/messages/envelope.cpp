#include "messages/envelope.hpp"

#include "ocpp/json_text.hpp"

#include <limits>
#include <utility>

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

// ---- The common case without a DOM ----
// Reading a version-2 envelope into a nlohmann::json DOM cost more than half of its decode
// (bench/callgrind): a tree of the whole body, each value allocated. The gateway writes
// one flat object of strings, integers and nulls; FlatObject collects exactly that through
// nlohmann's SAX parser (same lexer, same JSON rules, no tree) and gives up (nullopt) on
// anything else: nested values, booleans, floats, a key given twice, invalid JSON.
// decode_envelope then takes the DOM path, which decides every such body as before.
struct FlatValue {
  enum class Kind { kNull, kString, kInteger } kind = Kind::kNull;
  std::string text;
  std::int64_t integer = 0;
};

class FlatObject {
 public:
  static std::optional<FlatObject> read(std::string_view body) {
    FlatObject object;
    Collector collector{object};
    if (!json::sax_parse(body, &collector) || object.fields_.empty()) return std::nullopt;
    return object;
  }

  const FlatValue* find(std::string_view key) const {
    for (const auto& [k, v] : fields_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  FlatValue* find(std::string_view key) { return const_cast<FlatValue*>(std::as_const(*this).find(key)); }

 private:
  // The SAX events of one flat object; returning false stops the parse.
  struct Collector {
    FlatObject& object;
    int depth = 0;
    std::string key_;

    bool put(FlatValue value) {
      if (depth != 1 || object.find(key_) != nullptr) return false;
      object.fields_.emplace_back(std::move(key_), std::move(value));
      return true;
    }
    bool null() { return put(FlatValue{}); }
    bool boolean(bool) { return false; }
    bool number_integer(json::number_integer_t v) {
      return put(FlatValue{FlatValue::Kind::kInteger, {}, v});
    }
    bool number_unsigned(json::number_unsigned_t v) {
      if (v > static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) return false;
      return put(FlatValue{FlatValue::Kind::kInteger, {}, static_cast<std::int64_t>(v)});
    }
    bool number_float(json::number_float_t, const json::string_t&) { return false; }
    bool string(json::string_t& text) { return put(FlatValue{FlatValue::Kind::kString, std::move(text), 0}); }
    bool binary(json::binary_t&) { return false; }
    bool start_object(std::size_t) { return depth++ == 0; }
    bool key(json::string_t& text) {
      key_ = std::move(text);
      return true;
    }
    bool end_object() {
      --depth;
      return true;
    }
    bool start_array(std::size_t) { return false; }
    bool end_array() { return false; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }
  };

  std::vector<std::pair<std::string, FlatValue>> fields_;
};

// A version-2 envelope that FlatObject reads and that has every field right, or nullopt:
// decode_envelope then takes the DOM path (which also words the errors).
std::optional<Envelope> decode_flat_envelope(std::string_view body) {
  auto object = FlatObject::read(body);
  if (!object) return std::nullopt;
  using Kind = FlatValue::Kind;
  const FlatValue* version = object->find("version");
  if (version == nullptr || version->kind != Kind::kInteger || version->integer != kEnvelopeVersion) {
    return std::nullopt;
  }
  Envelope e;
  e.version = kEnvelopeVersion;
  // Required: a non-empty string.
  for (auto [key, field] : {std::pair{"deviceId", &e.device_id}, std::pair{"messageType", &e.message_type},
                            std::pair{"uniqueId", &e.unique_id}}) {
    FlatValue* v = object->find(key);
    if (v == nullptr || v->kind != Kind::kString || v->text.empty()) return std::nullopt;
    *field = std::move(v->text);
  }
  // Optional: a string, or absent or null for "".
  std::string ocpp_version;
  for (auto [key, field] : {std::pair{"messageId", &e.message_id}, std::pair{"gatewayId", &e.gateway_id},
                            std::pair{"ocppVersion", &ocpp_version}, std::pair{"timestamp", &e.timestamp},
                            std::pair{"rawData", &e.raw_data}}) {
    FlatValue* v = object->find(key);
    if (v == nullptr || v->kind == Kind::kNull) continue;
    if (v->kind != Kind::kString) return std::nullopt;
    *field = std::move(v->text);
  }
  if (!ocpp_version.empty()) e.ocpp_version = std::move(ocpp_version);
  if (const FlatValue* charger_id = object->find("chargerId"); charger_id != nullptr &&
                                                               charger_id->kind != Kind::kNull) {
    if (charger_id->kind != Kind::kInteger) return std::nullopt;
    e.charger_id = charger_id->integer;
  }
  auto payload = call_payload(e.raw_data);
  if (!payload) return std::nullopt;
  e.payload = std::move(*payload);
  return e;
}

// Every envelope version and every malformed body: the reference decoder.
std::variant<Envelope, std::string> decode_envelope_dom(std::string_view body);

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
  if (auto envelope = decode_flat_envelope(body)) return std::move(*envelope);
  return decode_envelope_dom(body);
}

namespace {

std::variant<Envelope, std::string> decode_envelope_dom(std::string_view body) {
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

}  // namespace

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
  if (!reply.result) return ocpp::serialize_result(reply.unique_id, json::object());
  return ocpp::serialize_result(reply.unique_id, *reply.result);
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

// {"error":{"code","description","details"}|"result":...,"uniqueId"}: keys in the order
// dump() writes them (ocpp/json_text.hpp).
std::string encode_stored_reply(const Reply& reply) {
  std::string out = "{";
  if (reply.error) {
    out += R"("error":{"code":)";
    ocpp::append_json_string(out, ocpp::to_string(reply.error->code));
    out += R"(,"description":)";
    ocpp::append_json_string(out, reply.error->description);
    out += R"(,"details":)";
    if (reply.error->details.is_object()) {
      ocpp::append_json(out, reply.error->details);
    } else {
      out += "{}";
    }
    out += '}';
  } else {
    out += R"("result":)";
    if (reply.result) {
      ocpp::append_json(out, *reply.result);
    } else {
      out += "{}";
    }
  }
  out += R"(,"uniqueId":)";
  ocpp::append_json_string(out, reply.unique_id);
  out += '}';
  return out;
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
  // The event's fields and the envelope fields, which win over a field of the same name,
  // merged in key order: what dump() of that one object writes (ocpp/json_text.hpp),
  // without copying the fields into it.
  const std::string version = std::to_string(kEventVersion);
  std::string type;
  ocpp::append_json_string(type, event.type);
  std::string device_id;
  ocpp::append_json_string(device_id, event.device_id);
  std::string time;
  ocpp::append_json_string(time, timestamp);
  const std::pair<std::string_view, const std::string*> envelope[] = {
      {"deviceId", &device_id}, {"timestamp", &time}, {"type", &type}, {"version", &version}};
  std::size_t next = 0;  // the first envelope field not yet written
  std::string out = "{";
  auto separate = [&out] {
    if (out.size() > 1) out += ',';
  };
  auto envelope_fields_before = [&](const std::string* key) {
    for (; next < std::size(envelope) && (key == nullptr || envelope[next].first < *key); ++next) {
      separate();
      out += '"';
      out += envelope[next].first;
      out += "\":";
      out += *envelope[next].second;
    }
  };
  if (event.fields.is_object()) {
    for (const auto& [key, value] : event.fields.get_ref<const json::object_t&>()) {
      envelope_fields_before(&key);
      if (next < std::size(envelope) && envelope[next].first == key) continue;
      separate();
      ocpp::append_json_string(out, key);
      out += ':';
      ocpp::append_json(out, value);
    }
  }
  envelope_fields_before(nullptr);
  out += '}';
  return out;
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

std::optional<std::vector<json>> split_event_batch(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto type = j.find("type");
  const auto events = j.find("events");
  if (type == j.end() || *type != kEventBatchType || events == j.end() || !events->is_array()) {
    std::vector<json> one;
    one.push_back(std::move(j));
    return one;
  }
  return std::move(*events).get<std::vector<json>>();
}

}  // namespace genx::messages
