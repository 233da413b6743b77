#pragma once
// Retry with backoff and dead-lettering for any consumer (DESIGN.md "RabbitMQ topology",
// Retry). Pure: builds names, topology and messages; the caller publishes them with
// confirms and acks the original delivery only after the confirm.
//
// Mechanism: a message whose processing failed for a transient reason is republished
// (default exchange) to the delay queue "<queue>.retry.<delay>" — a durable queue with
// x-message-ttl = delay that dead-letters through the default exchange straight back to
// "<queue>" (only the queue that failed sees it again, not every queue bound to the
// original exchange). The attempt number travels in the header x-genx-attempt (the first
// delivery is attempt 1 and carries no header). After the last delay, or at once for a
// message that can never succeed, the message is republished to "<queue>.dlq" with
// headers x-genx-reason, x-genx-failed-at (ISO 8601 UTC), x-genx-attempts,
// x-genx-original-exchange and x-genx-original-routing-key. Every other property
// (message_id, priority, reply_to, correlation_id, type) is kept.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker_client.hpp"
#include "broker/topology.hpp"

namespace genx::broker {

inline constexpr const char* kAttemptHeader = "x-genx-attempt";
inline constexpr const char* kReasonHeader = "x-genx-reason";
inline constexpr const char* kFailedAtHeader = "x-genx-failed-at";
inline constexpr const char* kAttemptsHeader = "x-genx-attempts";
inline constexpr const char* kOriginalExchangeHeader = "x-genx-original-exchange";
inline constexpr const char* kOriginalRoutingKeyHeader = "x-genx-original-routing-key";

using RetryDelays = std::vector<std::chrono::milliseconds>;

// "1s,5s,25s,2m" -> delays; units ms, s, m, h; throws std::invalid_argument naming the
// bad item. Empty text = no retries (straight to the DLQ).
RetryDelays parse_retry_delays(const std::string& text);
// 1000 ms -> "1s", 120000 -> "2m", 1500 -> "1500ms".
std::string format_delay(std::chrono::milliseconds delay);

std::string dead_letter_queue(const std::string& queue);
// "<queue>.dlq" for a consuming queue; a name already ending in ".dlq" is kept.
std::string resolve_dead_letter_queue(const std::string& queue_or_dlq);
std::string retry_queue(const std::string& queue, std::chrono::milliseconds delay);

// The delay queues of `queue` and its DLQ (durable).
Topology retry_topology(const std::string& queue, const RetryDelays& delays);

// Attempt number of a delivery (x-genx-attempt, 1 when absent or malformed).
int attempt_of(const Delivery& delivery);

// The message that brings `delivery` back to its queue after the next delay, or nullopt
// when every delay has been used (then dead-letter it).
std::optional<Message> retry_message(const Delivery& delivery, const RetryDelays& delays);

// The copy of `delivery` for "<queue>.dlq" (queue = delivery.consumer_queue).
Message dead_letter_message(const Delivery& delivery, const std::string& reason,
                            const std::string& failed_at);

// The message a replay publishes: the dead-lettered copy back to its original exchange
// and routing key, without the x-genx-* retry/DLQ headers (attempts start again).
Message replay_message(const Delivery& dead_lettered);

}  // namespace genx::broker
