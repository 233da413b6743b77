// The ocpp-worker role: consumes ocpp_messages, runs the business rules in one database
// transaction per message (messages already waiting share one: group commit, see
// app/batch_store.hpp), replies to the gateway, publishes domain events, and acks a
// delivery only after its commit and every publish it caused are confirmed.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/batch_store.hpp"
#include "app/roles.hpp"
#include "csms/processor.hpp"
#include "store/open_store.hpp"

namespace genx::app {
namespace {

// Deliveries handed from the broker thread to the processing thread. Bounded by the
// consumer's prefetch: the broker never has more unacked deliveries outstanding.
class DeliveryQueue {
 public:
  void push(broker::Delivery&& d) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(d));
    }
    cv_.notify_one();
  }
  std::optional<broker::Delivery> pop(const std::atomic<bool>& stopping) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return stopping || !items_.empty(); });
    if (stopping) return std::nullopt;
    auto d = std::move(items_.front());
    items_.pop_front();
    return d;
  }
  void wake() { cv_.notify_all(); }
  // Copies of up to n deliveries waiting behind the one just popped (group commit).
  std::vector<broker::Delivery> peek(std::size_t n) {
    std::lock_guard lock(mutex_);
    std::vector<broker::Delivery> out;
    for (std::size_t i = 0; i < items_.size() && i < n; ++i) out.push_back(items_[i]);
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<broker::Delivery> items_;
};

// Acks the delivery once every publish it caused is confirmed; a refused publish sends
// it back to the queue (the reply and events are idempotent on redelivery).
struct AckBarrier {
  AckBarrier(broker::BrokerClient& b, broker::Delivery d, int publishes)
      : broker(b), delivery(std::move(d)), remaining(publishes) {}
  broker::BrokerClient& broker;
  broker::Delivery delivery;
  std::atomic<int> remaining;
  std::atomic<bool> failed{false};

  void done(broker::PublishOutcome outcome) {
    if (outcome != broker::PublishOutcome::kConfirmed) failed = true;
    if (--remaining == 0) {
      if (failed) {
        spdlog::warn("publish for {} not confirmed; returning the message to the queue",
                     delivery.message_id);
        broker.nack(delivery, true);
      } else {
        broker.ack(delivery);
      }
    }
  }
};

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int run_ocpp_worker(const Config& config) {
  broker::BrokerClient broker(config.amqp, broker::core_topology(config.names));
  auto store = store::open_store(config.database_url);
  csms::SystemClock clock;
  csms::MessageProcessor processor(*store, clock, config.policy);
  // Group commit: the deliveries already waiting are processed in one transaction (one
  // fsync); each is still replied to and acked on its own after the commit and confirms.
  const auto group_size =
      static_cast<std::size_t>(std::min(config.worker_commit_batch, config.worker_prefetch));
  GroupCommit group(*store, clock, config.policy, group_size);

  std::atomic<bool> stopping{false};
  DeliveryQueue queue;
  install_shutdown_handler([&](int signal) {
    spdlog::info("signal {}: finishing the current message", signal);
    stopping = true;
    queue.wake();
  });

  broker.consume(config.names.queue_ocpp_messages,
                 static_cast<std::uint16_t>(config.worker_prefetch),
                 [&](broker::Delivery&& d) { queue.push(std::move(d)); });
  broker.start();
  spdlog::info("ocpp-worker consuming {} (prefetch {})", config.names.queue_ocpp_messages,
               config.worker_prefetch);

  // error.occurred for a dead-lettered message (best effort: the DLQ keeps the message).
  auto publish_failure = [&](const std::string& device_id, const std::string& action,
                             const std::string& message_id, const std::string& reason) {
    csms::DomainEvent event{"error.occurred", device_id,
                            {{"code", "ProcessingFailed"},
                             {"message", reason},
                             {"action", action},
                             {"messageId", message_id}}};
    broker::Message message;
    message.exchange = config.names.exchange_events;
    message.routing_key = "notification." + event.type;
    message.type = event.type;
    message.message_id = message_id + ".error";
    message.body = csms::serialize(event, csms::format_timestamp(now_millis()));
    broker.publish(std::move(message), [](broker::PublishOutcome) {});
  };

  while (auto delivery = queue.pop(stopping)) {
    auto parsed = csms::parse_envelope(delivery->body);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      spdlog::error("message {} cannot be processed ({}); dead-lettering it",
                    delivery->message_id, *error);
      publish_failure("", delivery->type, delivery->message_id, "unreadable message: " + *error);
      broker.nack(*delivery, false);
      continue;
    }
    const auto& envelope = std::get<csms::Envelope>(parsed);
    group.run(*delivery, queue.peek(group_size - 1));

    std::optional<csms::Outcome> outcome;
    std::string failure;
    auto backoff = std::chrono::milliseconds(50);
    while (!stopping) {
      try {
        outcome = group.take(*delivery);
        if (!outcome) outcome = processor.process(envelope);
        break;
      } catch (const store::TransientStoreError& e) {
        spdlog::warn("{} {} from {}: database unavailable ({}), retrying in {} ms",
                     envelope.message_type, envelope.unique_id, envelope.device_id, e.what(),
                     backoff.count());
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      } catch (const std::exception& e) {
        spdlog::error("{} {} from {}: processing failed: {}; dead-lettering it",
                      envelope.message_type, envelope.unique_id, envelope.device_id, e.what());
        failure = e.what();
        break;
      }
    }
    if (!outcome) {
      // Stopping mid-retry hands the message back; a failure that is not transient
      // goes to the dead-letter queue.
      if (!failure.empty()) {
        publish_failure(envelope.device_id, envelope.message_type, envelope.message_id,
                        "processing failed: " + failure);
      }
      broker.nack(*delivery, stopping.load());
      if (stopping) break;
      continue;
    }

    std::vector<broker::Message> publishes;
    if (!delivery->reply_to.empty()) {
      broker::Message reply;
      reply.routing_key = delivery->reply_to;
      reply.correlation_id = delivery->correlation_id;
      reply.message_id = envelope.message_id + ".reply";
      reply.body = csms::serialize(outcome->reply);
      reply.persistent = false;
      publishes.push_back(std::move(reply));
    }
    std::string timestamp = csms::format_timestamp(now_millis());
    for (const auto& event : outcome->events) {
      broker::Message message;
      message.exchange = config.names.exchange_events;
      message.routing_key = "notification." + event.type;
      message.type = event.type;
      message.message_id = envelope.message_id + "." + event.type;
      message.body = csms::serialize(event, timestamp);
      publishes.push_back(std::move(message));
    }
    for (const auto& warning : outcome->warnings) {
      spdlog::warn("{} {} from {}: {}", envelope.message_type, envelope.unique_id,
                   envelope.device_id, warning);
    }
    spdlog::debug("{} {} from {} processed{}", envelope.message_type, envelope.unique_id,
                  envelope.device_id, outcome->duplicate ? " (duplicate)" : "");
    if (publishes.empty()) {
      broker.ack(*delivery);
      continue;
    }
    auto barrier = std::make_shared<AckBarrier>(broker, std::move(*delivery),
                                                static_cast<int>(publishes.size()));
    for (auto& message : publishes) {
      broker.publish(std::move(message),
                     [barrier](broker::PublishOutcome o) { barrier->done(o); });
    }
  }

  broker.stop(std::chrono::seconds(5));
  spdlog::info("ocpp-worker stopped");
  return 0;
}

}  // namespace genx::app
