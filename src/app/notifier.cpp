// The notifier role: its own queue on events_exchange ("notification.#", bound only while
// a Socket.IO client is connected) -> Socket.IO clients. A delivery is acked once the
// event sits in every client's queue, with a bounded prefetch: a stalled notifier leaves
// events in its (TTL-bounded) RabbitMQ queue instead of growing its own memory. Events
// are not redelivered to clients: a late notification is worthless, and a client that
// reconnects reloads its view over REST.
// Domain events are at least once (a redelivered message republishes its stored events,
// same eventId): an event whose eventId was forwarded among the last kRecentEventIds is
// acked and dropped, so a client sees it once and a late copy of an older
// charger.status.changed does not bring back an older status.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "runtime/ops.hpp"
#include "app/roles.hpp"
#include "metrics/metrics.hpp"
#include "notifier/notifier_server.hpp"
#include "notifier/recent_ids.hpp"
#include "notifier/socketio_protocol.hpp"
#include "runtime/role.hpp"
#include "app/schema_wait.hpp"
#include "store/open_store.hpp"

namespace genx::app {

namespace {
constexpr std::uint16_t kNotifierPrefetch = 256;
// Ids remembered for dedupe (~10 MB): far more than a redelivery can lag behind.
constexpr std::size_t kRecentEventIds = 100000;

metrics::Counter& duplicate_events() {
  static auto& c = metrics::registry().counter(
      "genx_notifier_duplicate_events_total",
      "events dropped because their eventId was forwarded recently (at-least-once copies)");
  return c.with();
}
void count_duplicate() { duplicate_events().inc(); }
}

int run_notifier(const Config& config) {
  // The queue is declared unbound: it is bound to events_exchange only while a Socket.IO
  // client is connected (options.on_audience below), so events are not routed into it,
  // delivered and parsed for nobody (issue 15: "events only to queues with a reader").
  broker::Topology topology = broker::notifier_topology(config.names, config.instance_id);
  const auto feed = topology.bindings;
  topology.bindings.clear();
  runtime::Role role(config, "notifier", topology);
  broker::BrokerClient& broker = role.broker();
  notifier::RecentIds forwarded(kRecentEventIds);  // used on the broker's I/O thread only
  duplicate_events();  // on /metrics from the start (0), not only after the first copy

  notifier::NotifierOptions options;
  options.bind_address = config.bind_address;
  options.port = config.notify_port;
  // Tokens are checked on the notifier's I/O thread, against the database's API tokens
  // (read through the notifier's own connection) and API_TOKEN.
  wait_for_schema(config, "notifier");
  auto token_store = store::open_token_store(config.database_url);
  auth::AccessControl access(config.api_token, token_store.get());
  warn_when_open(access, "notifier", "Socket.IO event stream");
  options.access = &access;
  options.cors_origins = config.cors_origins;
  options.dashboard_port = config.api_port;
  // First client in: bind (queued to the broker thread); the server answers Socket.IO
  // CONNECTs once RabbitMQ has confirmed the last binding, so no event published after a
  // client's "connect" misses it. Last client out: unbind. The broker client declares
  // its bindings again after a reconnect.
  options.on_audience = [&broker, feed](bool any_client, std::function<void()> feed_ready) {
    for (std::size_t i = 0; i < feed.size(); ++i) {
      const auto& b = feed[i];
      if (any_client) {
        broker.bind(b.queue, b.exchange, b.routing_key,
                    i + 1 == feed.size() ? std::move(feed_ready) : std::function<void()>{});
      } else {
        broker.unbind(b.queue, b.exchange, b.routing_key);
      }
    }
    if (any_client && feed.empty() && feed_ready) feed_ready();
    spdlog::info("notifier: {} the event feed",
                 any_client ? "a client is connected: binding" : "no client left: unbinding");
  };
  notifier::NotifierServer server(options);

  const std::string queue = broker::notifier_queue(config.instance_id);
  // No work thread: each event is handed to the Socket.IO server from the broker thread.
  role.consume(queue, kNotifierPrefetch, [&](broker::Delivery&& delivery) {
    auto name = notifier::event_name_for_routing_key(delivery.routing_key);
    auto body = nlohmann::json::parse(delivery.body, nullptr, false);
    if (!name || !body.is_object()) {
      spdlog::warn("notifier: dropping unusable event {} ({})", delivery.message_id,
                   delivery.routing_key);
      broker.ack(delivery);
      return;
    }
    const auto id = body.find("eventId");
    if (id != body.end() && id->is_string() && !forwarded.first_time(id->get_ref<const std::string&>())) {
      spdlog::debug("notifier: dropping duplicate event {}", id->get_ref<const std::string&>());
      count_duplicate();
      broker.ack(delivery);
      return;
    }
    std::string device = body.value("deviceId", "");
    auto d = std::make_shared<broker::Delivery>(std::move(delivery));
    std::string payload = d->body;
    server.broadcast(*name, std::move(payload), std::move(device),
                     [&broker, d] { broker.ack(*d); });
  });

  role.on_stop([&server] { server.stop(); });
  spdlog::info("notifier consuming {} (bound to {} with notification.# while a client is connected)",
               queue, config.names.exchange_events);
  return role.run([&server] { server.run(); }, std::chrono::seconds(2));
}

}  // namespace genx::app
