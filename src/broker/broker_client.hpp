#pragma once
// BrokerClient: the one RabbitMQ connection of a process (rabbitmq-c underneath; no
// rabbitmq-c type leaks through this header).
//
// Threading: the client owns one I/O thread that owns the AMQP connection; every
// public method is thread-safe and never blocks on the network (except check_queue,
// which waits up to its timeout). Callbacks (publish outcomes, deliveries) run on the
// I/O thread and must return quickly: hand real work to another thread.
//
// Connection: TCP_NODELAY, AMQP heartbeats; when the connection drops it reconnects
// with exponential backoff and full jitter, re-declares the topology, the run-time
// bindings and re-registers every consumer. With several nodes (a cluster,
// settings.nodes) it connects to one; after a failed attempt or a lost connection the
// next attempt goes to the next node of the list (round robin, same backoff), so a
// stopped node costs one reconnect. Publishing uses one channel in confirm mode with many confirms in
// flight (pipelined; never one round trip per message).
//
// Delivery contract for consumers: at-least-once. A delivery stays unacked until
// ack()/nack() is called for it; if the connection drops first, the broker redelivers
// it (redelivered = true) to some consumer. ack/nack for a delivery from an earlier
// connection generation are ignored (the broker has already requeued it). Call stop()
// before destroying the client (the destructor calls it too).
//
// Publish contract (every publish() callback gets exactly one outcome):
// - A message written to the broker and not yet confirmed when the connection drops
//   gets kConnectionLost (the broker may or may not have it: republish if needed;
//   consumers must be idempotent anyway).
// - A message accepted by publish() while the client is disconnected (or not written
//   yet when the connection dropped) is held, in publish order, and written after the
//   next successful (re)connect and topology declaration. It is held at most
//   settings.unsent_publish_timeout; beyond that, or when more than
//   settings.max_unsent_publishes are held, it gets kConnectionLost without being sent.
// - publish() after stop() began gets kStopped at once; held messages still unsent
//   when stop() finishes get kStopped.
// - Mandatory messages carry the header "x-genx-publish-seq" (the channel sequence
//   number) so a basic.return is matched to its publish exactly; an unroutable
//   mandatory message gets kReturned (never kConfirmed).
//
// Handlers: a DeliveryHandler that throws gets its delivery nacked with requeue (unless
// no_ack). Callbacks must not call stop() or destroy the client (they run on the I/O
// thread that stop() joins).
//
// Known limit: while the broker blocks the connection (memory/disk alarm), a publish
// write stalls the I/O thread until the alarm clears (rabbitmq-c writes are blocking);
// nothing is lost, but acks and deliveries wait too.
//
// Operator access to a queue (get/purge; used for dead-letter queues): both block the
// caller up to their timeout and throw BrokerError when not connected, on timeout or
// when the broker refuses (e.g. the queue does not exist). A message taken by get()
// stays unacked on the client's get channel until ack()/nack() for it, or until the
// connection closes (then the broker requeues it); get() after a timeout may leave one
// such message held until the connection closes.
//
// Broker-side errors: a channel.close or connection.close from the broker (e.g.
// PRECONDITION_FAILED because a queue exists with other arguments) is logged with its
// reply text and handled as a connection loss: reconnect with backoff.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "broker/topology.hpp"

namespace genx::broker {

// One RabbitMQ node of a cluster.
struct BrokerNode {
  std::string host;
  int port = 5672;
};

struct ConnectionSettings {
  // The first node (kept for callers that name one: logs, the management API default).
  std::string host = "localhost";
  int port = 5672;
  // Every node, in the order the client tries them (parse_amqp_urls with two or more
  // nodes); empty = {host, port} only. When set, it wins over host/port. Credentials,
  // vhost and TLS settings are the same for all of them.
  std::vector<BrokerNode> nodes;
  bool tls = false;
  std::string username = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  int heartbeat_seconds = 30;
  std::string connection_name;  // shown in the management UI
  std::chrono::milliseconds min_backoff{200};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds connect_timeout{5000};
  // amqps: PEM CA bundle used to verify the broker (peer and host name are verified);
  // empty = /etc/ssl/certs/ca-certificates.crt.
  std::string ca_file;
  // amqps: client certificate and its private key (PEM), for brokers that require one.
  std::string cert_file;
  std::string key_file;
  // Bounds on publishes held while disconnected (see "Publish contract" above).
  std::size_t max_unsent_publishes = 10000;
  std::chrono::milliseconds unsent_publish_timeout{10000};
};

// Header values: strings and integers cover what GenX sends.
using HeaderValue = std::variant<std::string, std::int64_t>;
using Headers = std::map<std::string, HeaderValue>;

struct Message {
  std::string exchange;
  std::string routing_key;
  std::string body;
  std::string content_type = "application/json";
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string type;
  std::optional<std::uint8_t> priority;
  std::optional<std::chrono::milliseconds> expiration;
  std::int64_t timestamp_seconds = 0;  // 0: set to now when published
  bool persistent = true;
  bool mandatory = false;  // unroutable -> PublishOutcome::kReturned
  Headers headers;
};

struct Delivery {
  std::uint64_t generation = 0;  // connection generation the tag belongs to
  std::uint64_t delivery_tag = 0;
  std::string consumer_queue;
  std::string exchange;
  std::string routing_key;
  std::string body;
  std::string content_type;
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string type;
  std::uint8_t priority = 0;
  bool redelivered = false;
  Headers headers;
  std::uint16_t channel = 0;  // consumer channel the tag belongs to (set by the client)
};

enum class PublishOutcome {
  kConfirmed,       // broker took responsibility (persisted if persistent and queue durable)
  kNacked,          // broker refused it (internal error)
  kReturned,        // mandatory and no queue bound for the routing key
  kConnectionLost,  // connection dropped before the confirm: outcome unknown, republish if needed
  kStopped,         // client stopped before the message could be sent
};

// Monotonic counters since construction, for metrics.
struct BrokerCounters {
  std::uint64_t published = 0;        // written to the broker
  std::uint64_t confirmed = 0;        // outcome kConfirmed
  std::uint64_t nacked = 0;           // outcome kNacked
  std::uint64_t returned = 0;         // outcome kReturned
  std::uint64_t connection_lost = 0;  // outcome kConnectionLost
  std::uint64_t delivered = 0;        // deliveries handed to consumers
  std::uint64_t reconnects = 0;       // successful connects after a loss
};

struct QueueInfo {
  std::uint32_t messages = 0;
  std::uint32_t consumers = 0;
};

// An operator operation (get, purge) that could not be done; what() says why.
struct BrokerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class BrokerClient {
 public:
  using PublishCallback = std::function<void(PublishOutcome)>;
  using DeliveryHandler = std::function<void(Delivery&&)>;
  using StateHandler = std::function<void(bool connected)>;

  // topology is declared on every (re)connect before consumers start.
  BrokerClient(ConnectionSettings settings, Topology topology);
  ~BrokerClient();
  BrokerClient(const BrokerClient&) = delete;
  BrokerClient& operator=(const BrokerClient&) = delete;

  // Starts the I/O thread; connecting happens there (with backoff), so start never fails.
  void start();
  // Stops consuming, waits up to `drain` for outstanding confirms, closes, joins.
  // Publishes not yet confirmed get kStopped / kConnectionLost.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(5));

  // Blocks until connected and the topology is declared, or the timeout expires.
  bool wait_connected(std::chrono::milliseconds timeout);
  bool connected() const;
  // "host:port" of the node the client is connected to, or last tried.
  std::string node() const;
  std::uint64_t reconnects() const;
  BrokerCounters counters() const;

  void on_state_change(StateHandler handler);  // call before start()

  // Queues the message for publishing; cb gets exactly one outcome.
  void publish(Message message, PublishCallback cb);

  // Registers a consumer (before or after start); each consumer gets its own channel
  // with basic.qos(prefetch). no_ack consumers get auto-acked deliveries.
  void consume(std::string queue, std::uint16_t prefetch, DeliveryHandler handler,
               bool no_ack = false);

  // Run-time bindings (a gateway binds the routing key of each charger it holds).
  // bind() adds (queue, exchange, routing_key) to the client's binding set and declares
  // it; unbind() removes it from the set and deletes it on the broker. Both are queued
  // like publishes (applied in call order, never block). After every reconnect the
  // whole set is declared again right after the topology, so bindings of exclusive
  // queues survive a broker restart. Binding twice is harmless. A broker error (queue
  // or exchange missing) is handled as a connection loss.
  // on_bound (optional) runs on the broker thread once RabbitMQ has confirmed the binding
  // (bind-ok), or after a reconnect has declared it again: from then on, messages routed
  // by it reach the queue.
  void bind(std::string queue, std::string exchange, std::string routing_key,
            std::function<void()> on_bound = {});
  void unbind(std::string queue, std::string exchange, std::string routing_key);

  void ack(const Delivery& delivery);
  void nack(const Delivery& delivery, bool requeue);

  // Passive declare of a queue (health checks). nullopt when missing, not connected,
  // or no answer within timeout.
  std::optional<QueueInfo> check_queue(const std::string& queue,
                                       std::chrono::milliseconds timeout);

  // basic.get with manual ack: the next ready message of `queue`, or nullopt when the
  // queue is empty. Settle the delivery with ack()/nack() (see "Operator access").
  std::optional<Delivery> get(const std::string& queue, std::chrono::milliseconds timeout);
  // Removes every ready message of `queue`; returns how many were removed.
  std::uint32_t purge(const std::string& queue, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses amqp://user:pass@host:port/vhost and amqps://... into settings. Credentials
// and vhost given in the URL override the defaults passed in; throws
// std::invalid_argument naming what is wrong.
//
// Vhost rules (RabbitMQ URI spec, https://www.rabbitmq.com/docs/uri-spec): the path
// after the authority, percent-decoded, is the vhost; "/" must be written "%2F"
// (amqp://host/%2F). No path ("amqp://host") and an empty path ("amqp://host/") both
// keep defaults.vhost: the spec reads "amqp://host/" as vhost "", which no RabbitMQ
// installation uses by default, so people writing it mean the default. A path with a
// second unescaped "/" is an error. Query parameters: heartbeat (seconds),
// connection_timeout (milliseconds), connection_name; any other is an error.
// Default port 5672, 5671 for amqps (which sets tls = true).
// settings.nodes stays empty (the client connects to host/port).
ConnectionSettings parse_amqp_url(const std::string& url, ConnectionSettings defaults = {});

// RABBITMQ_URL: one URL as above, or the nodes of a cluster separated by commas, e.g.
// "amqp://u@h1:5672,amqp://u@h2:5672/vhost" or "amqp://u@h1,h2:5673,h3/vhost". A node
// without a scheme takes the first node's; all nodes use one scheme. User name, password,
// vhost and query parameters may be written on any node and apply to all; two nodes
// stating different values is an error, as are an empty item and a node listed twice.
// (A comma inside a password is written %2C.) Throws std::invalid_argument naming the
// node (1-based) and what is wrong; host/port of the result are the first node's.
ConnectionSettings parse_amqp_urls(const std::string& text, ConnectionSettings defaults = {});

// "host:port" ("[::1]:5672" for IPv6).
std::string describe(const BrokerNode& node);

// The order in which a client tries the nodes: starts at the first; next() after every
// failed connect or lost connection, wrapping around. Pure.
class NodeRotation {
 public:
  explicit NodeRotation(std::vector<BrokerNode> nodes);  // throws std::invalid_argument when empty
  const BrokerNode& current() const { return nodes_[index_]; }
  const BrokerNode& next();
  std::size_t index() const { return index_; }
  std::size_t size() const { return nodes_.size(); }

 private:
  std::vector<BrokerNode> nodes_;
  std::size_t index_ = 0;
};

// Reconnect delay before attempt `attempt` (0-based): "full jitter" over an
// exponentially growing window, delay = min + unit_random * (min(max, min * 2^attempt) - min),
// unit_random in [0, 1). Never below min_backoff, never above max_backoff.
std::chrono::milliseconds backoff_delay(std::uint32_t attempt, std::chrono::milliseconds min_backoff,
                                        std::chrono::milliseconds max_backoff, double unit_random);

}  // namespace genx::broker
