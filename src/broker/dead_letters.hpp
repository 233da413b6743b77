#pragma once
// Operator tools for dead-letter queues: `genx dlq ...` and /api/dlq (README
// "Reliability"). Blocking; call from an operator's thread, never from a broker callback.
//
// A DLQ is a queue, so looking without removing costs a round trip per message: list
// and show take messages with basic.get (manual ack) and hand every one back with
// nack+requeue when done. While a listing runs the messages are invisible to other
// readers, and handed-back messages carry the redelivered flag. Listing is bounded by
// `limit`, and every scan by the queue length seen when it started (so messages that
// arrive meanwhile cannot make it loop).
//
// Replay republishes a message to its original exchange and routing key (headers
// x-genx-original-*, see retry.hpp) with a publisher confirm, and acks the DLQ copy only
// after the confirm: a crash in between leaves both copies, never none; processing is
// idempotent, so a twice-replayed message has its effect once.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/broker_client.hpp"

namespace genx::broker {

struct DeadLetter {
  std::string id;           // the message_id
  std::string queue;        // the DLQ it sits in
  std::string exchange;     // where a replay sends it
  std::string routing_key;
  std::string reason;
  std::string failed_at;
  std::int64_t attempts = 0;
  std::string type;
  std::string body;
  Headers headers;
};

nlohmann::json to_json(const DeadLetter& letter, bool with_body);

class DeadLetterTool {
 public:
  // `timeout` bounds every broker round trip.
  DeadLetterTool(BrokerClient& broker, std::chrono::milliseconds timeout);

  std::vector<DeadLetter> list(const std::string& dlq, std::size_t limit);
  std::optional<DeadLetter> show(const std::string& dlq, const std::string& id);
  // Replays the message with this id; false when no message has it.
  bool replay(const std::string& dlq, const std::string& id);
  // Replays every message present when it starts; returns how many.
  std::size_t replay_all(const std::string& dlq);
  std::uint32_t purge(const std::string& dlq);

 private:
  std::uint32_t length(const std::string& dlq);
  void replay_one(const Delivery& delivery);
  void hand_back(const std::string& dlq, const std::vector<Delivery>& held, std::uint32_t ready_before);
  BrokerClient& broker_;
  std::chrono::milliseconds timeout_;
};

}  // namespace genx::broker
