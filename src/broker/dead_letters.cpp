// Dead-letter queue tools (see dead_letters.hpp).
#include "broker/dead_letters.hpp"

#include <future>
#include <thread>

#include "broker/retry.hpp"
#include "messages/envelope.hpp"

namespace genx::broker {
namespace {

std::string text_header(const Headers& h, const char* key) {
  auto it = h.find(key);
  if (it == h.end()) return {};
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return std::to_string(std::get<std::int64_t>(it->second));
}

DeadLetter letter_of(const Delivery& d) {
  DeadLetter l;
  l.id = d.message_id;
  l.queue = d.consumer_queue;
  const Message replay = replay_message(d);
  l.exchange = replay.exchange;
  l.routing_key = replay.routing_key;
  l.reason = text_header(d.headers, kReasonHeader);
  if (l.reason.empty()) l.reason = "dead-lettered by RabbitMQ";
  l.failed_at = text_header(d.headers, kFailedAtHeader);
  if (auto it = d.headers.find(kAttemptsHeader); it != d.headers.end()) {
    if (const auto* n = std::get_if<std::int64_t>(&it->second)) l.attempts = *n;
  }
  l.type = d.type;
  l.body = d.body;
  l.headers = d.headers;
  return l;
}

}  // namespace

nlohmann::json to_json(const DeadLetter& l, bool with_body) {
  nlohmann::json j = {{"id", l.id},           {"queue", l.queue},       {"exchange", l.exchange},
                      {"routingKey", l.routing_key}, {"reason", l.reason}, {"failedAt", l.failed_at},
                      {"attempts", l.attempts}, {"type", l.type}};
  if (with_body) {
    auto parsed = nlohmann::json::parse(l.body, nullptr, false);
    // An envelope that carries the frame once (version 2) is shown with its payload too.
    j["body"] = parsed.is_discarded() ? nlohmann::json(l.body) : messages::readable_envelope(std::move(parsed));
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [k, v] : l.headers) {
      std::visit([&](const auto& value) { headers[k] = value; }, v);
    }
    j["headers"] = headers;
  }
  return j;
}

DeadLetterTool::DeadLetterTool(BrokerClient& broker, std::chrono::milliseconds timeout)
    : broker_(broker), timeout_(timeout) {}

std::uint32_t DeadLetterTool::length(const std::string& dlq) {
  auto info = broker_.check_queue(dlq, timeout_);
  if (!info) throw BrokerError("queue " + dlq + " does not exist or RabbitMQ is unavailable");
  return info->messages;
}

// Hands held messages back and waits (bounded) until the queue shows them ready again:
// the nacks travel on another channel than the passive declare that counts, so without
// this a listing right after another one could see the queue short.
void DeadLetterTool::hand_back(const std::string& dlq, const std::vector<Delivery>& held,
                               std::uint32_t ready_before) {
  for (const auto& d : held) broker_.nack(d, true);
  if (held.empty()) return;
  const auto until = std::chrono::steady_clock::now() + timeout_;
  while (std::chrono::steady_clock::now() < until) {
    auto info = broker_.check_queue(dlq, timeout_);
    if (!info || info->messages >= ready_before) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<DeadLetter> DeadLetterTool::list(const std::string& dlq, std::size_t limit) {
  const std::uint32_t n = length(dlq);
  std::vector<Delivery> held;
  std::vector<DeadLetter> letters;
  try {
    while (held.size() < limit && held.size() < n) {
      auto d = broker_.get(dlq, timeout_);
      if (!d) break;
      letters.push_back(letter_of(*d));
      held.push_back(std::move(*d));
    }
  } catch (...) {
    for (const auto& d : held) broker_.nack(d, true);
    throw;
  }
  hand_back(dlq, held, n);
  return letters;
}

std::optional<DeadLetter> DeadLetterTool::show(const std::string& dlq, const std::string& id) {
  for (auto& l : list(dlq, length(dlq))) {
    if (l.id == id) return l;
  }
  return std::nullopt;
}

void DeadLetterTool::replay_one(const Delivery& d) {
  Message m = replay_message(d);
  if (m.routing_key.empty()) throw BrokerError("message " + d.message_id + " has no original routing key");
  auto done = std::make_shared<std::promise<PublishOutcome>>();
  auto outcome = done->get_future();
  broker_.publish(std::move(m), [done](PublishOutcome o) { done->set_value(o); });
  if (outcome.wait_for(timeout_) != std::future_status::ready) {
    throw BrokerError("replay of " + d.message_id + ": no confirm within the timeout");
  }
  if (outcome.get() != PublishOutcome::kConfirmed) {
    throw BrokerError("replay of " + d.message_id + ": RabbitMQ did not confirm the publish");
  }
  broker_.ack(d);
}

bool DeadLetterTool::replay(const std::string& dlq, const std::string& id) {
  const std::uint32_t n = length(dlq);
  std::vector<Delivery> held;
  bool found = false;
  try {
    while (held.size() < n) {
      auto d = broker_.get(dlq, timeout_);
      if (!d) break;
      if (d->message_id == id) {
        try {
          replay_one(*d);
        } catch (...) {
          broker_.nack(*d, true);
          throw;
        }
        found = true;
        break;
      }
      held.push_back(std::move(*d));
    }
  } catch (...) {
    for (const auto& d : held) broker_.nack(d, true);
    throw;
  }
  hand_back(dlq, held, found ? n - 1 : n);
  return found;
}

std::size_t DeadLetterTool::replay_all(const std::string& dlq) {
  const std::uint32_t n = length(dlq);
  std::size_t replayed = 0;
  while (replayed < n) {
    auto d = broker_.get(dlq, timeout_);
    if (!d) break;
    try {
      replay_one(*d);
    } catch (...) {
      broker_.nack(*d, true);
      throw;
    }
    ++replayed;
  }
  return replayed;
}

std::uint32_t DeadLetterTool::purge(const std::string& dlq) {
  length(dlq);  // a clear error when the queue does not exist
  return broker_.purge(dlq, timeout_);
}

}  // namespace genx::broker
