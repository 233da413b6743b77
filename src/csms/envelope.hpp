#pragma once
// The messages services share (DESIGN.md "Message envelope"): the envelope a gateway
// publishes for each charger CALL, the reply a worker sends back, and domain events.
// Pure: JSON in, JSON out, no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "ocpp/frame.hpp"

namespace genx::csms {

inline constexpr int kEnvelopeVersion = 1;

struct Envelope {
  int version = kEnvelopeVersion;
  std::string message_id;                // unique per publish (uuid)
  std::string device_id;                 // charge point identity from the URL
  std::optional<std::int64_t> charger_id;
  std::string gateway_id;
  std::string ocpp_version = "1.6";
  std::string message_type;              // the OCPP action
  std::string unique_id;                 // the OCPP message id
  nlohmann::json payload = nlohmann::json::object();
  std::string timestamp;                 // ISO 8601 UTC, when the gateway received it
  std::string raw_data;                  // the frame exactly as received
};

nlohmann::json to_json(const Envelope& envelope);
std::string serialize(const Envelope& envelope);
// Returns the envelope, or a description of why the body is not a usable envelope
// (not JSON, missing field, unsupported version). Never throws.
std::variant<Envelope, std::string> parse_envelope(std::string_view body);

// The worker's answer to one envelope, sent to the gateway by reply_to/correlation_id.
// Exactly one of result / error is set.
struct Reply {
  std::string unique_id;
  std::optional<nlohmann::json> result;
  std::optional<ocpp::CallError> error;
};

std::string serialize(const Reply& reply);
std::variant<Reply, std::string> parse_reply(std::string_view body);

// A domain event for events_exchange, routing key "notification." + type.
struct DomainEvent {
  std::string type;       // e.g. "charger.status.changed"
  std::string device_id;
  nlohmann::json fields = nlohmann::json::object();  // the event's own fields
};

// {"version":1,"type":...,"deviceId":...,"timestamp":...,<fields>}
std::string serialize(const DomainEvent& event, std::string_view timestamp);

// Priority of an action on ocpp_messages (0..9): actions a person waits for outrank telemetry.
std::uint8_t priority_for_action(std::string_view action);

// ISO 8601 UTC with milliseconds, e.g. "2024-01-15T10:30:00.000Z".
std::string format_timestamp(std::int64_t unix_millis);

// Reads an RFC 3339 / ISO 8601 date-time as chargers send it ("2024-01-15T10:30:00Z",
// with or without fractional seconds, "Z" or a "+hh:mm"/"-hh:mm" offset) into Unix
// milliseconds. nullopt when the text is not such a date-time. Never throws.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// parse_timestamp then format_timestamp: the canonical UTC form; nullopt if unreadable.
std::optional<std::string> normalize_timestamp(std::string_view text);

}  // namespace genx::csms
