#pragma once
// The role runtime (issue 15, "one role runtime"): what every long-running role has in
// common, written once. A Role owns
//   - the broker connection and its topology (core topology plus the role's own),
//   - the ops server (/health, /metrics on the role's port) with the RabbitMQ check of
//     the role's queue and the broker metrics,
//   - SIGINT/SIGTERM (one sigwait thread),
//   - the one bounded hand-off queue between the broker thread and the work thread,
//   - the stop order: signal -> hand-off stopped and the role's own stop (e.g. its
//     server) -> the work returns -> ops server stopped -> deliveries not started handed
//     back to RabbitMQ -> broker drained and closed.
// A role supplies only what is its own: its topology, what it consumes, its health
// extras and metrics, its work loop or server, and how that stops.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "broker/broker_client.hpp"
#include "broker/topology.hpp"
#include "metrics/ops_server.hpp"
#include "runtime/handoff.hpp"

namespace genx::runtime {

// Blocks SIGINT/SIGTERM in the calling thread (and every thread it starts afterwards)
// and runs `on_signal` once on a dedicated thread when one arrives.
void install_shutdown_handler(std::function<void(int signal)> on_signal);

class Role {
 public:
  // `extra` is appended to the core topology (the role's own queues and bindings).
  Role(const app::Config& config, std::string name, broker::Topology extra = {});
  ~Role();
  Role(const Role&) = delete;
  Role& operator=(const Role&) = delete;

  const app::Config& config() const { return config_; }
  const std::string& name() const { return name_; }
  broker::BrokerClient& broker() { return *broker_; }

  // Deliveries of `queue` go to the hand-off queue (capacity: twice the prefetch, room
  // for the deliveries of a connection that just dropped); the work thread drains it.
  // With `preferred_queue` (quorum mode's high class queue) the role consumes it too, with
  // the same prefetch, and its deliveries are taken first (HandOff's preferred lane).
  HandOff& consume_to_handoff(const std::string& queue, std::uint16_t prefetch,
                              const std::string& preferred_queue = {});
  // Deliveries of `queue` handled on the broker thread itself (roles with no work thread).
  void consume(const std::string& queue, std::uint16_t prefetch, broker::BrokerClient::DeliveryHandler handler);

  // /health: {"checks":{"rabbitmq": <queue>}} plus what `extra` adds (a database check,
  // connected chargers...). Without a call, the queue consumed (if any) is checked.
  void health(std::string queue, std::function<void(metrics::HealthReport&)> extra = {});
  // What else a signal stops (a server's stop(), a flag); called on the signal thread.
  void on_stop(std::function<void()> stop);
  // What the log says the role does on a signal ("signal 15: <what>"); default
  // "stopping the <name>".
  void on_signal_log(std::string what) { signal_log_ = std::move(what); }
  // Whether a stop was asked for.
  bool stopping() const { return stopping_.load(); }

  // Installs the signal handler, starts the ops server and the broker, runs `work` on
  // this thread until it returns (a server's run(), a drain loop that ends when
  // stopping()), then stops in the order above, waiting up to `drain` for confirms.
  int run(const std::function<void()>& work,
          std::chrono::milliseconds drain = std::chrono::seconds(5));

 private:
  const app::Config& config_;
  std::string name_;
  std::unique_ptr<broker::BrokerClient> broker_;
  std::unique_ptr<HandOff> handoff_;
  std::string health_queue_;
  std::function<void(metrics::HealthReport&)> health_extra_;
  std::vector<std::function<void()>> on_stop_;
  std::string signal_log_;
  std::atomic<bool> stopping_{false};
};

}  // namespace genx::runtime
