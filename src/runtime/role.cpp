#include "runtime/role.hpp"

#include <pthread.h>
#include <signal.h>

#include <thread>

#include <spdlog/spdlog.h>

#include "runtime/ops.hpp"

namespace genx::runtime {

void install_shutdown_handler(std::function<void(int)> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, on_signal = std::move(on_signal)] {
    int signal = 0;
    if (sigwait(&set, &signal) == 0) on_signal(signal);
  }).detach();
}

Role::Role(const app::Config& config, std::string name, broker::Topology extra)
    : config_(config), name_(std::move(name)) {
  broker::Topology topology = broker::core_topology(config.names);
  topology.append(std::move(extra));
  broker_ = std::make_unique<broker::BrokerClient>(config.amqp, std::move(topology));
}

Role::~Role() = default;

HandOff& Role::consume_to_handoff(const std::string& queue, std::uint16_t prefetch,
                                  const std::string& preferred_queue) {
  const std::size_t queues = preferred_queue.empty() ? 1 : 2;
  handoff_ = std::make_unique<HandOff>(2 * queues * static_cast<std::size_t>(prefetch));
  if (health_queue_.empty()) health_queue_ = queue;
  auto into_handoff = [this](bool preferred) {
    return [this, preferred](broker::Delivery&& d) {
      if (!handoff_->push(std::move(d), preferred)) {
        // Stopping, or more than the prefetch outstanding: RabbitMQ keeps it for later.
        broker_->nack(d, true);
      }
    };
  };
  // The preferred queue first: after a reconnect its consumer is registered first too.
  if (!preferred_queue.empty()) broker_->consume(preferred_queue, prefetch, into_handoff(true));
  broker_->consume(queue, prefetch, into_handoff(false));
  return *handoff_;
}

void Role::consume(const std::string& queue, std::uint16_t prefetch, broker::BrokerClient::DeliveryHandler handler) {
  if (health_queue_.empty()) health_queue_ = queue;
  broker_->consume(queue, prefetch, std::move(handler));
}

void Role::health(std::string queue, std::function<void(metrics::HealthReport&)> extra) {
  health_queue_ = std::move(queue);
  health_extra_ = std::move(extra);
}

void Role::on_stop(std::function<void()> stop) { on_stop_.push_back(std::move(stop)); }

int Role::run(const std::function<void()>& work, std::chrono::milliseconds drain) {
  // First: every thread started from here on has the signals blocked.
  install_shutdown_handler([this](int signal) {
    spdlog::info("signal {}: {}", signal, signal_log_.empty() ? "stopping the " + name_ : signal_log_);
    stopping_ = true;
    if (handoff_) handoff_->stop();
    for (const auto& stop : on_stop_) stop();
  });
  app::register_broker_metrics(*broker_);
  auto ops = app::start_ops_server(config_, name_, [this] {
    metrics::HealthReport report;
    report.body["checks"]["rabbitmq"] = app::rabbitmq_check(*broker_, health_queue_, report.healthy);
    if (health_extra_) health_extra_(report);
    return report;
  });
  broker_->start();
  work();
  if (ops) ops->stop();
  // Hand back what was received but not started; in-flight acks and confirms are sent
  // while the client drains.
  if (handoff_) {
    handoff_->stop();
    for (auto& d : handoff_->take_all()) broker_->nack(d, true);
  }
  broker_->stop(drain);
  spdlog::info("{} stopped", name_);
  return 0;
}

}  // namespace genx::runtime
