#pragma once
// The business rules' view of the messages between processes: the contract itself lives
// in messages/ (envelope, reply, events, timestamps); these names keep the rules and the
// stores that read them unchanged.
#include "messages/envelope.hpp"
#include "messages/timestamp.hpp"

namespace genx::csms {

using messages::DomainEvent;
using messages::Envelope;
using messages::Reply;
using messages::format_timestamp;
using messages::normalize_timestamp;
using messages::parse_timestamp;

inline std::string serialize(const DomainEvent& event, std::string_view timestamp) {
  return messages::encode_event(event, timestamp);
}

}  // namespace genx::csms
