// Retry and dead-letter routing (see retry.hpp). Pure: no rabbitmq-c here.
#include "broker/retry.hpp"

#include <charconv>
#include <functional>
#include <stdexcept>

namespace genx::broker {
namespace {

std::string header_text(const Headers& headers, const char* key) {
  auto it = headers.find(key);
  if (it == headers.end()) return {};
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return {};
}

// Same properties and body; exchange/routing key left to the caller.
Message copy_of(const Delivery& d) {
  Message m;
  m.body = d.body;
  m.content_type = d.content_type;
  m.message_id = d.message_id;
  m.correlation_id = d.correlation_id;
  m.reply_to = d.reply_to;
  m.type = d.type;
  if (d.priority != 0) m.priority = d.priority;
  m.persistent = true;
  m.headers = d.headers;
  return m;
}

// Where the message first entered: kept across retry trips in headers.
void keep_origin(const Delivery& d, Message& m) {
  if (!m.headers.count(kOriginalRoutingKeyHeader)) {
    m.headers[kOriginalExchangeHeader] = d.exchange;
    m.headers[kOriginalRoutingKeyHeader] = d.routing_key;
  }
}

}  // namespace

RetryDelays parse_retry_delays(const std::string& text) {
  RetryDelays delays;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    start = comma + 1;
    if (item.empty()) {
      if (text.find_first_not_of(' ') == std::string::npos) break;
      throw std::invalid_argument("empty delay in \"" + text + "\"");
    }
    long long n = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    const std::string unit(ptr, static_cast<std::size_t>(item.data() + item.size() - ptr));
    long long factor = 0;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = 1000;
    else if (unit == "m") factor = 60000;
    else if (unit == "h") factor = 3600000;
    if (ec != std::errc() || factor == 0 || n <= 0 || n * factor > 24LL * 3600000) {
      throw std::invalid_argument("bad delay \"" + item +
                                  "\" (expected a positive number with ms, s, m or h, at most 24h)");
    }
    delays.emplace_back(n * factor);
    if (comma == text.size()) break;
  }
  return delays;
}

std::string format_delay(std::chrono::milliseconds delay) {
  const auto ms = delay.count();
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string dead_letter_queue(const std::string& queue) { return queue + ".dlq"; }

std::string resolve_dead_letter_queue(const std::string& queue) {
  const std::string suffix = ".dlq";
  if (queue.size() > suffix.size() && queue.compare(queue.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return queue;
  }
  return dead_letter_queue(queue);
}

std::string retry_queue(const std::string& queue, std::chrono::milliseconds delay) {
  return queue + ".retry." + format_delay(delay);
}

Topology retry_topology(const std::string& queue, const RetryDelays& delays) {
  Topology t;
  for (const auto& delay : delays) {
    QueueDecl q{retry_queue(queue, delay), true, false, false, {}};
    q.arguments["x-message-ttl"] = static_cast<std::int64_t>(delay.count());
    q.arguments["x-dead-letter-exchange"] = std::string();
    q.arguments["x-dead-letter-routing-key"] = queue;
    t.queues.push_back(std::move(q));
  }
  t.queues.push_back({dead_letter_queue(queue), true, false, false, {}});
  return t;
}

int attempt_of(const Delivery& delivery) {
  auto it = delivery.headers.find(kAttemptHeader);
  if (it == delivery.headers.end()) return 1;
  const auto* n = std::get_if<std::int64_t>(&it->second);
  if (n == nullptr || *n < 1 || *n > 1000000) return 1;
  return static_cast<int>(*n);
}

std::optional<Message> retry_message(const Delivery& delivery, const RetryDelays& delays) {
  const int attempt = attempt_of(delivery);
  if (attempt > static_cast<int>(delays.size())) return std::nullopt;
  Message m = copy_of(delivery);
  keep_origin(delivery, m);
  m.exchange = "";
  m.routing_key = retry_queue(delivery.consumer_queue, delays[static_cast<std::size_t>(attempt - 1)]);
  m.headers[kAttemptHeader] = static_cast<std::int64_t>(attempt + 1);
  return m;
}

Message dead_letter_message(const Delivery& delivery, const std::string& reason,
                            const std::string& failed_at) {
  Message m = copy_of(delivery);
  keep_origin(delivery, m);
  m.exchange = "";
  m.routing_key = dead_letter_queue(delivery.consumer_queue);
  m.headers.erase(kAttemptHeader);
  m.headers[kReasonHeader] = reason;
  m.headers[kFailedAtHeader] = failed_at;
  m.headers[kAttemptsHeader] = static_cast<std::int64_t>(attempt_of(delivery));
  // The DLQ tools address messages by id: give an anonymous one a stable id.
  if (m.message_id.empty()) {
    m.message_id = "dlq-" + std::to_string(std::hash<std::string>{}(delivery.body + failed_at));
  }
  return m;
}

Message replay_message(const Delivery& dead_lettered) {
  Message m = copy_of(dead_lettered);
  m.exchange = header_text(dead_lettered.headers, kOriginalExchangeHeader);
  m.routing_key = header_text(dead_lettered.headers, kOriginalRoutingKeyHeader);
  if (m.routing_key.empty()) {
    // Dead-lettered by the broker itself (x-dead-letter-exchange): x-death says where
    // it came from only in a table we do not decode; the routing key is the original.
    // Our DLX is "<exchange>.dlx" (topology.hpp): replay to "<exchange>".
    m.exchange = dead_lettered.exchange;
    const std::string suffix = ".dlx";
    if (m.exchange.size() > suffix.size() &&
        m.exchange.compare(m.exchange.size() - suffix.size(), suffix.size(), suffix) == 0) {
      m.exchange.resize(m.exchange.size() - suffix.size());
    }
    m.routing_key = dead_lettered.routing_key;
  }
  for (const char* key : {kAttemptHeader, kReasonHeader, kFailedAtHeader, kAttemptsHeader,
                          kOriginalExchangeHeader, kOriginalRoutingKeyHeader}) {
    m.headers.erase(key);
  }
  return m;
}

}  // namespace genx::broker
