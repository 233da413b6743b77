#pragma once
// RabbitMQ topology as data (DESIGN.md "RabbitMQ topology"), declared idempotently by
// every role at each (re)connect.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace genx::broker {

using ArgumentValue = std::variant<std::string, std::int64_t>;

struct ExchangeDecl {
  std::string name;
  std::string type = "topic";
  bool durable = true;
  std::map<std::string, ArgumentValue> arguments;  // alternate-exchange
};

struct QueueDecl {
  std::string name;
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;
  std::map<std::string, ArgumentValue> arguments;  // x-max-priority, x-dead-letter-exchange, ...
};

struct BindingDecl {
  std::string queue;  // the destination: a queue, or an exchange when to_exchange
  std::string exchange;
  std::string routing_key;
  bool to_exchange = false;  // exchange-to-exchange binding (exchange.bind)
};

// GENX_QUEUE_TYPE (docs/operations.md "RabbitMQ cluster: node lists and quorum queues"). classic:
// one node, priorities in ocpp_messages. quorum: replicated queues for a cluster; priorities by
// a second queue (see core_topology).
enum class QueueType { kClassic, kQuorum };

struct Topology {
  std::vector<ExchangeDecl> exchanges;
  std::vector<QueueDecl> queues;
  std::vector<BindingDecl> bindings;
  // Bindings an earlier GenX made that must go (unbinding one that does not exist is a
  // no-op for RabbitMQ): removed after the bindings above are made.
  std::vector<BindingDecl> unbindings;
  void append(const Topology& other);
};

// Names from the environment (DESIGN.md "Configuration").
struct Names {
  std::string queue_ocpp_messages = "ocpp_messages";
  std::string queue_notifications = "notifications";
  std::string queue_analytics = "analytics";
  std::string queue_charging_events = "charging_events";
  std::string exchange_ocpp = "ocpp_exchange";
  std::string exchange_events = "events_exchange";
  // Delay queues "<ocpp_messages>.retry.<delay>" (see retry.hpp), in attempt order.
  std::vector<std::int64_t> retry_delays_ms = {1000, 5000, 25000, 120000};
  // x-message-ttl of the notifications queue (a queue's TTL cannot change once it
  // exists: delete the queue to change it).
  std::int64_t notification_ttl_ms = 60 * 60 * 1000;
  std::string exchange_commands = "commands_exchange";
  // Queues nobody in GenX reads are opt-in (0 = not declared, not bound): the length
  // limit of charging_events (outside integrations; GENX_CHARGING_EVENTS_MAX_LENGTH)
  // and of notifications (GENX_NOTIFICATIONS_MAX_LENGTH). Both drop their oldest
  // message when full (x-overflow drop-head), so a full queue never refuses an event
  // and never holds up a worker's confirm, hence a charger's answer.
  std::int64_t charging_events_max_length = 0;
  std::int64_t notifications_max_length = 0;
  // x-max-length of every dead-letter queue (drop-head: the newest failures are kept).
  std::int64_t dead_letter_max_length = 100000;
  QueueType queue_type = QueueType::kClassic;
  // quorum: the actions routed to the high class queue "<ocpp_messages>.high"
  // (messages::high_class_actions(); set by the configuration).
  std::vector<std::string> high_class_actions;
  // quorum: x-delivery-limit of ocpp_messages and its high queue (a message handed back
  // more often, e.g. one that crashes every worker, is dead-lettered to the DLQ).
  std::int64_t delivery_limit = 20;
};

inline constexpr std::int64_t kOcppMaxPriority = 9;
inline constexpr std::int64_t kNotificationTtlMs = 60 * 60 * 1000;
inline constexpr const char* kOverflowDropHead = "drop-head";

// Every queue is read by a GenX role or bounded (docs/operations.md "Queues and their bounds"):
// ocpp_exchange + ocpp_messages (x-max-priority = kOcppMaxPriority, bound with
// "ocpp.message.#", dead-lettered with its original routing key through the topic
// exchange "<ocpp_exchange>.dlx" to "<ocpp_messages>.dlq", bound with "#"),
// events_exchange, analytics (not bound: the ocpp-worker sends it one events.batch message
// per group commit through the default exchange; the "notification.#" binding of GenX
// before 2026-12 is removed), the delay queues of ocpp_messages
// (x-message-ttl, retry.hpp) and "<queue>.dlq" for ocpp_messages and analytics
// (x-max-length = names.dead_letter_max_length, drop-head). Only when configured:
// charging_events ("notification.charging.#", "notification.transaction.#",
// "notification.meter.values"; durable, x-max-length, drop-head) and its DLQ, and
// notifications ("notification.#"; not durable: a live feed is never written to disk;
// x-message-ttl = names.notification_ttl_ms, x-max-length, drop-head). Exchanges and
// the other queues are durable.
//
// With names.queue_type == kQuorum every durable queue above is a quorum queue
// (x-queue-type quorum; no x-max-priority, which quorum queues do not have); queues that
// dead-letter do so at least once (x-dead-letter-strategy at-least-once, which needs
// x-overflow reject-publish), ocpp_messages and its high queue carry x-delivery-limit.
// The priority classes become two queues: ocpp_exchange passes "ocpp.message.#" on to
// the topic exchange "<ocpp_exchange>.classes", where "<ocpp_messages>.high" is bound
// with "ocpp.message.<Action>" for each action of names.high_class_actions; everything
// else falls through its alternate exchange "<ocpp_exchange>.bulk" (fanout) into
// ocpp_messages. Workers consume both and take the high queue's deliveries first. The
// high queue has delay queues of its own and dead-letters into the same DLQ.
Topology core_topology(const Names& names);

// "<ocpp_messages>.high", "<ocpp_exchange>.classes", "<ocpp_exchange>.bulk" (quorum mode).
std::string high_class_queue(const std::string& ocpp_messages);
std::string classes_exchange(const std::string& ocpp_exchange);
std::string bulk_exchange(const std::string& ocpp_exchange);

// The gateway's reply queue for this instance: "genx.gateway.<id>.replies",
// exclusive, auto-delete, not durable (gone with the gateway's connection).
std::string gateway_reply_queue(const std::string& instance_id);
// The gateway also owns "genx.gateway.<id>.commands" (exclusive, auto-delete, not
// durable), bound at run time to the commands exchange with the routing key of every
// charger it holds (BrokerClient::bind / unbind).
Topology gateway_topology(const Names& names, const std::string& instance_id);
std::string gateway_command_queue(const std::string& instance_id);

// Commands to chargers: the direct, durable commands exchange (routing key = charge
// point id). Declared by the gateways and the api.
Topology commands_topology(const Names& names);

// The api's reply queue for command answers: "genx.api.<id>.replies", exclusive,
// auto-delete, not durable; plus commands_topology.
std::string api_reply_queue(const std::string& instance_id);
Topology api_topology(const Names& names, const std::string& instance_id);

// A notifier's own queue: "genx.notifier.<id>", exclusive, auto-delete, not durable,
// bound to events_exchange with "notification.#" (every notifier sees every event).
// Messages expire after kNotifierMessageTtlMs and the queue keeps at most
// kNotifierMaxLength (oldest dropped): a late notification is worthless.
inline constexpr std::int64_t kNotifierMessageTtlMs = 30 * 1000;
inline constexpr std::int64_t kNotifierMaxLength = 10000;
std::string notifier_queue(const std::string& instance_id);
Topology notifier_topology(const Names& names, const std::string& instance_id);

}  // namespace genx::broker
