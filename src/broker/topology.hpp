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
};

struct QueueDecl {
  std::string name;
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;
  std::map<std::string, ArgumentValue> arguments;  // x-max-priority, x-dead-letter-exchange, ...
};

struct BindingDecl {
  std::string queue;
  std::string exchange;
  std::string routing_key;
};

struct Topology {
  std::vector<ExchangeDecl> exchanges;
  std::vector<QueueDecl> queues;
  std::vector<BindingDecl> bindings;
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
};

inline constexpr std::int64_t kOcppMaxPriority = 9;
inline constexpr std::int64_t kNotificationTtlMs = 60 * 60 * 1000;
inline constexpr const char* kOverflowDropHead = "drop-head";

// Every queue is read by a GenX role or bounded (README "Queues and their bounds"):
// ocpp_exchange + ocpp_messages (x-max-priority = kOcppMaxPriority, bound with
// "ocpp.message.#", dead-lettered with its original routing key through the topic
// exchange "<ocpp_exchange>.dlx" to "<ocpp_messages>.dlq", bound with "#"),
// events_exchange + analytics ("notification.#"), the delay queues of ocpp_messages
// (x-message-ttl, retry.hpp) and "<queue>.dlq" for ocpp_messages and analytics
// (x-max-length = names.dead_letter_max_length, drop-head). Only when configured:
// charging_events ("notification.charging.#", "notification.transaction.#",
// "notification.meter.values"; durable, x-max-length, drop-head) and its DLQ, and
// notifications ("notification.#"; not durable: a live feed is never written to disk;
// x-message-ttl = names.notification_ttl_ms, x-max-length, drop-head). Exchanges and
// the other queues are durable.
Topology core_topology(const Names& names);

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
