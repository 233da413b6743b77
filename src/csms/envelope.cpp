#include "csms/envelope.hpp"

#include <array>
#include <algorithm>
#include <cstdio>

namespace genx::csms {
namespace {

using nlohmann::json;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, UTC).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

// Reads exactly `width` digits at text[pos]; advances pos.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

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

}  // namespace

json to_json(const Envelope& envelope) {
  json j = {
      {"version", envelope.version},
      {"messageId", envelope.message_id},
      {"deviceId", envelope.device_id},
      {"chargerId", nullptr},
      {"gatewayId", envelope.gateway_id},
      {"ocppVersion", envelope.ocpp_version},
      {"messageType", envelope.message_type},
      {"uniqueId", envelope.unique_id},
      {"payload", envelope.payload},
      {"timestamp", envelope.timestamp},
      {"rawData", envelope.raw_data},
  };
  if (envelope.charger_id) j["chargerId"] = *envelope.charger_id;
  return j;
}

std::string serialize(const Envelope& envelope) { return to_json(envelope).dump(); }

std::variant<Envelope, std::string> parse_envelope(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::string("envelope is not valid JSON");
  if (!j.is_object()) return std::string("envelope is not a JSON object");

  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) {
    return std::string("envelope has no integer \"version\"");
  }
  if (version->get<std::int64_t>() != kEnvelopeVersion) {
    return "unsupported envelope version " + std::to_string(version->get<std::int64_t>()) +
           " (this build understands version " + std::to_string(kEnvelopeVersion) + ")";
  }

  Envelope e;
  e.version = kEnvelopeVersion;
  for (const char* key : {"deviceId", "messageType", "uniqueId"}) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return std::string("envelope field \"") + key + "\" is missing or not a non-empty string";
    }
  }
  e.device_id = j["deviceId"].get<std::string>();
  e.message_type = j["messageType"].get<std::string>();
  e.unique_id = j["uniqueId"].get<std::string>();

  const auto payload = j.find("payload");
  if (payload == j.end() || !payload->is_object()) {
    return std::string("envelope field \"payload\" is missing or not an object");
  }
  e.payload = *payload;

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

  const auto charger_id = j.find("chargerId");
  if (charger_id != j.end() && !charger_id->is_null()) {
    if (!charger_id->is_number_integer()) {
      return std::string("envelope field \"chargerId\" must be an integer or null");
    }
    e.charger_id = charger_id->get<std::int64_t>();
  }
  return e;
}

std::string serialize(const Reply& reply) {
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

std::variant<Reply, std::string> parse_reply(std::string_view body) {
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

std::string serialize(const DomainEvent& event, std::string_view timestamp) {
  json j = event.fields.is_object() ? event.fields : json::object();
  // The envelope fields win over an event field of the same name.
  j["version"] = kEnvelopeVersion;
  j["type"] = event.type;
  j["deviceId"] = event.device_id;
  j["timestamp"] = std::string(timestamp);
  return j.dump();
}

std::uint8_t priority_for_action(std::string_view action) {
  if (action == "BootNotification" || action == "Authorize" || action == "StartTransaction" ||
      action == "StopTransaction") {
    return 8;
  }
  if (action == "MeterValues" || action == "Heartbeat") return 1;
  // DataTransfer, StatusNotification, Firmware/DiagnosticsStatusNotification, anything else.
  return 5;
}

std::string format_timestamp(std::int64_t unix_millis) {
  std::int64_t days = unix_millis / 86'400'000;
  std::int64_t rest = unix_millis % 86'400'000;
  if (rest < 0) {
    rest += 86'400'000;
    --days;
  }
  const Civil c = civil_from_days(days);
  const auto ms = static_cast<int>(rest % 1000);
  const auto secs = static_cast<int>(rest / 1000);
  std::array<char, 40> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(c.year), c.month, c.day, secs / 3600, (secs / 60) % 60,
                secs % 60, ms);
  return buffer.data();
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || !expect(text, pos, '-')) return std::nullopt;
  const auto month = read_digits(text, pos, 2);
  if (!month || !expect(text, pos, '-')) return std::nullopt;
  const auto day = read_digits(text, pos, 2);
  if (!day) return std::nullopt;
  if (!expect(text, pos, 'T') && !expect(text, pos, 't') && !expect(text, pos, ' ')) {
    return std::nullopt;
  }
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !expect(text, pos, ':')) return std::nullopt;
  const auto minute = read_digits(text, pos, 2);
  if (!minute || !expect(text, pos, ':')) return std::nullopt;
  const auto second = read_digits(text, pos, 2);
  if (!second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  std::int64_t millis = 0;
  if (expect(text, pos, '.') || expect(text, pos, ',')) {
    int digits = 0;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  std::int64_t offset_minutes = 0;
  if (expect(text, pos, 'Z') || expect(text, pos, 'z')) {
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto oh = read_digits(text, pos, 2);
    if (!oh) return std::nullopt;
    expect(text, pos, ':');
    const auto om = read_digits(text, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = sign * (*oh * 60 + *om);
  } else if (pos != text.size()) {
    return std::nullopt;
  }
  // No zone designator at all: read as UTC (what chargers without a clock zone mean).
  if (pos != text.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(*year, static_cast<unsigned>(*month),
                                            static_cast<unsigned>(*day));
  const std::int64_t seconds =
      days * 86400 + *hour * 3600 + *minute * 60 + std::min(*second, 59) - offset_minutes * 60;
  return seconds * 1000 + millis;
}

std::optional<std::string> normalize_timestamp(std::string_view text) {
  const auto millis = parse_timestamp(text);
  if (!millis) return std::nullopt;
  return format_timestamp(*millis);
}

}  // namespace genx::csms
