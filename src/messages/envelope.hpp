#pragma once
// The messages on ocpp_exchange and the answers to them (DESIGN.md "Message envelope"):
// the envelope a gateway publishes for each charger CALL, the reply a worker sends back,
// and domain events on events_exchange. One encoder and one decoder each.
// Pure: JSON in, JSON out, no I/O.
//
// Envelope versions (docs/design.md "Message envelope versions"):
//   1  the frame twice: "payload" (the call's payload as JSON) and "rawData" (the frame
//      as received, as a string).
//   2  the frame once, in "rawData"; no "payload". decode_envelope() reads the payload out
//      of rawData, so a consumer sees the same fields for both versions, and
//      readable_envelope() adds "payload" to a v2 body for people (DLQ views).
// This build writes version 2 and reads 1 and 2: version-1 envelopes still in the queues
// after an upgrade are processed as before.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/timestamp.hpp"
#include "ocpp/frame.hpp"

namespace genx::messages {

inline constexpr int kEnvelopeVersion = 2;
inline constexpr int kOldestEnvelopeVersion = 1;
// Domain events, commands and takeover notices: still version 1.
inline constexpr int kEventVersion = 1;

struct Envelope {
  int version = kEnvelopeVersion;
  std::string message_id;                // unique per publish (uuid)
  std::string device_id;                 // charge point identity from the URL
  std::optional<std::int64_t> charger_id;
  std::string gateway_id;
  std::string ocpp_version = "1.6";
  std::string message_type;              // the OCPP action
  std::string unique_id;                 // the OCPP message id
  nlohmann::json payload = nlohmann::json::object();  // decoded; not written by version 2
  std::string timestamp;                 // ISO 8601 UTC, when the gateway received it
  std::string raw_data;                  // the frame exactly as received
};

// Version 2: the frame once, in rawData (payload is not written).
std::string encode_envelope(const Envelope& envelope);
// Returns the envelope (payload filled for both versions), or a description of why the
// body is not a usable envelope (not JSON, missing field, unsupported version). Never throws.
std::variant<Envelope, std::string> decode_envelope(std::string_view body);
// A parsed envelope body with "payload" added from rawData when it has none (version 2),
// for a person reading it (DLQ views). Other JSON is returned unchanged.
nlohmann::json readable_envelope(nlohmann::json body);

// The worker's answer to one envelope. Exactly one of result / error is set.
// Two shapes: the OCPP frame the worker sends the gateway (reply_frame, forwarded to the
// charger as is), and the stored form the idempotency table keeps (encode_stored_reply).
struct Reply {
  std::string unique_id;
  std::optional<nlohmann::json> result;
  std::optional<ocpp::CallError> error;
};

// The CALLRESULT / CALLERROR frame for the charger.
std::string reply_frame(const Reply& reply);
// {"uniqueId", "result"|"error"}: what the worker stores with a processed message, and
// what workers before envelope version 2 sent the gateway.
std::string encode_stored_reply(const Reply& reply);
std::variant<Reply, std::string> decode_stored_reply(std::string_view body);
// A reply body from the worker as the gateway receives it: a ready frame (starts with
// '['), returned as is, or the older {"uniqueId",...} form, turned into the frame.
// nullopt with `error` set when it is neither.
std::optional<std::string> reply_body_to_frame(std::string body, std::string& error);

// A domain event for events_exchange, routing key "notification." + type.
struct DomainEvent {
  std::string type;       // e.g. "charger.status.changed"
  std::string device_id;
  nlohmann::json fields = nlohmann::json::object();  // the event's own fields
};

// {"version":1,"type":...,"deviceId":...,"timestamp":...,<fields>}
std::string encode_event(const DomainEvent& event, std::string_view timestamp);
// The routing key of an event on events_exchange.
std::string event_routing_key(std::string_view type);

// The events of one group commit for the analytics queue, in ONE message:
// {"version":1,"type":"events.batch","events":[<encoded event>,...]} (each element as
// encode_event wrote it; the events keep their own eventId, which analytics dedupes on).
inline constexpr const char* kEventBatchType = "events.batch";
std::string encode_event_batch(const std::vector<std::string>& encoded_events);
// The events of an analytics message, parsed once: the elements of an events.batch, or the
// body itself when it is a single event (an earlier worker's, or one published by hand).
// nullopt when the body is not a JSON object.
std::optional<std::vector<nlohmann::json>> split_event_batch(std::string_view body);

}  // namespace genx::messages
