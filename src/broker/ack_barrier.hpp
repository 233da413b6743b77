#pragma once
// Settling a consumed delivery after the publishes it caused (the ocpp-worker's reply and
// events, a copy to a delay queue or the DLQ): ack once every publish is confirmed.
//
// A publish the broker REFUSES while the connection holds (kNacked; kReturned for a
// mandatory message) is published again after a backoff, up to
// RepublishPolicy::give_up_after, and the delivery stays unacked meanwhile. Handing it
// back at once (nack with requeue, as before) turned a burst of refused publishes into a
// tight loop: RabbitMQ redelivered it at once, the worker answered it again from the
// stored reply, the publish was refused again, and on a quorum queue every hand-back
// counted toward x-delivery-limit, so after a failover whose new node refused publishes
// for ~30 s about 1,200 answered telemetry messages were dead-lettered (docs/limits.md).
// A refusal is the broker's failure, not the message's: it no longer spends the
// message's delivery attempts. The worker's prefetch bounds how many deliveries can be
// held this way (it stops receiving more), which is the backpressure wanted.
//
// kConnectionLost / kStopped: the delivery belongs to a connection that is gone (the
// broker hands it back itself) or to a stopping process: the delivery is nacked with
// requeue at once (a no-op for an old connection), as before. Giving up after
// give_up_after, or when the scheduler is stopped, hands it back too.
//
// Threading: outcomes arrive on the broker's I/O thread, republishes run on the
// scheduler's thread; every hook must be thread-safe. finish() is called exactly once.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/broker_client.hpp"

namespace genx::broker {

// Runs tasks after a delay on one thread of its own. After stop() (which runs every
// task still waiting at once, with `stopped` true, so nothing waits forever) schedule()
// refuses new tasks. Thread-safe.
class DelayedTasks {
 public:
  using Task = std::function<void(bool stopped)>;
  DelayedTasks();
  ~DelayedTasks();
  DelayedTasks(const DelayedTasks&) = delete;
  DelayedTasks& operator=(const DelayedTasks&) = delete;

  // false (the task is not kept) once stop() has begun.
  bool schedule(std::chrono::milliseconds delay, Task task);
  void stop();
  std::size_t pending() const;

 private:
  void loop();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Task> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

struct RepublishPolicy {
  std::chrono::milliseconds first_delay{250};  // doubled per refusal of the same message
  std::chrono::milliseconds max_delay{5000};
  std::chrono::milliseconds give_up_after{60000};  // then the delivery is handed back
};

// What a barrier does with the world; the worker wires them to BrokerClient, the unit
// tests to fakes.
struct AckBarrierHooks {
  std::function<void(Message, BrokerClient::PublishCallback)> publish;
  // Exactly once: confirmed = every publish confirmed (ack), else hand back (nack with
  // requeue); `outcome` is the last outcome that was not kConfirmed.
  std::function<void(bool confirmed, PublishOutcome outcome)> finish;
  // Runs a republish later; false when it cannot (stopping): the delivery is handed back.
  std::function<bool(std::chrono::milliseconds, DelayedTasks::Task)> schedule;
  // A refused publish about to be sent again (attempt = refusals so far), for logs/metrics.
  std::function<void(const Message&, PublishOutcome, int attempt, std::chrono::milliseconds delay)>
      on_republish;
};

class AckBarrier : public std::enable_shared_from_this<AckBarrier> {
 public:
  // Publishes every message; finish() once all are confirmed or one has failed for good.
  // With no messages, finish(true) at once.
  static void publish_all(std::vector<Message> messages, AckBarrierHooks hooks,
                          RepublishPolicy policy = {});

  AckBarrier(std::size_t count, AckBarrierHooks hooks, RepublishPolicy policy);

 private:
  void send(std::size_t index, Message message);
  void settle(bool ok, PublishOutcome outcome);

  AckBarrierHooks hooks_;
  RepublishPolicy policy_;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::size_t remaining_;
  bool failed_ = false;
  PublishOutcome bad_outcome_ = PublishOutcome::kConfirmed;
  std::vector<int> refusals_;
};

const char* outcome_name(PublishOutcome outcome);

}  // namespace genx::broker
