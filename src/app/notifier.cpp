// The notifier role: its own queue on events_exchange ("notification.#") -> Socket.IO
// clients. A delivery is acked once the event sits in every client's queue, with a
// bounded prefetch: a stalled notifier leaves events in its (TTL-bounded) RabbitMQ queue
// instead of growing its own memory. Events are not redelivered to clients: a late
// notification is worthless, and a client that reconnects reloads its view over REST.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "app/roles.hpp"
#include "notifier/notifier_server.hpp"
#include "notifier/socketio_protocol.hpp"

namespace genx::app {

namespace {
constexpr std::uint16_t kNotifierPrefetch = 256;
}

int run_notifier(const Config& config) {
  broker::Topology topology = broker::core_topology(config.names);
  topology.append(broker::notifier_topology(config.names, config.instance_id));
  broker::BrokerClient broker(config.amqp, topology);

  notifier::NotifierOptions options;
  options.bind_address = config.bind_address;
  options.port = config.notify_port;
  options.api_token = config.api_token;
  options.cors_origins = config.cors_origins;
  options.dashboard_port = config.api_port;
  notifier::NotifierServer server(options);

  const std::string queue = broker::notifier_queue(config.instance_id);
  broker.consume(queue, kNotifierPrefetch, [&](broker::Delivery&& delivery) {
    auto name = notifier::event_name_for_routing_key(delivery.routing_key);
    auto body = nlohmann::json::parse(delivery.body, nullptr, false);
    if (!name || !body.is_object()) {
      spdlog::warn("notifier: dropping unusable event {} ({})", delivery.message_id,
                   delivery.routing_key);
      broker.ack(delivery);
      return;
    }
    std::string device = body.value("deviceId", "");
    auto d = std::make_shared<broker::Delivery>(std::move(delivery));
    std::string payload = d->body;
    server.broadcast(*name, std::move(payload), std::move(device),
                     [&broker, d] { broker.ack(*d); });
  });

  install_shutdown_handler([&](int signal) {
    spdlog::info("signal {}: stopping the notifier", signal);
    server.stop();
  });
  broker.start();
  spdlog::info("notifier consuming {} (bound to {} with notification.#)", queue,
               config.names.exchange_events);
  server.run();
  broker.stop(std::chrono::seconds(2));
  spdlog::info("notifier stopped");
  return 0;
}

}  // namespace genx::app
