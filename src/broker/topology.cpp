// Topology as data (DESIGN.md "RabbitMQ topology"). Pure: no rabbitmq-c here.
#include "broker/topology.hpp"

#include <chrono>

#include "broker/retry.hpp"

namespace genx::broker {

void Topology::append(const Topology& other) {
  exchanges.insert(exchanges.end(), other.exchanges.begin(), other.exchanges.end());
  queues.insert(queues.end(), other.queues.begin(), other.queues.end());
  bindings.insert(bindings.end(), other.bindings.begin(), other.bindings.end());
  unbindings.insert(unbindings.end(), other.unbindings.begin(), other.unbindings.end());
}

std::string high_class_queue(const std::string& ocpp_messages) { return ocpp_messages + ".high"; }
std::string classes_exchange(const std::string& ocpp_exchange) { return ocpp_exchange + ".classes"; }
std::string bulk_exchange(const std::string& ocpp_exchange) { return ocpp_exchange + ".bulk"; }

namespace {

// A durable queue of the classic topology as a quorum queue (core_topology's comment).
void make_quorum(QueueDecl& q) {
  q.arguments["x-queue-type"] = std::string("quorum");
  q.arguments.erase("x-max-priority");
  if (q.arguments.count("x-dead-letter-exchange") != 0) {
    q.arguments["x-dead-letter-strategy"] = std::string("at-least-once");
    q.arguments["x-overflow"] = std::string("reject-publish");
  }
}

}  // namespace

Topology core_topology(const Names& names) {
  Topology t;
  const bool quorum = names.queue_type == QueueType::kQuorum;
  const std::string dlx = names.exchange_ocpp + ".dlx";
  const std::string dlq = names.queue_ocpp_messages + ".dlq";

  t.exchanges.push_back({names.exchange_ocpp, "topic", true, {}});
  t.exchanges.push_back({names.exchange_events, "topic", true, {}});
  t.exchanges.push_back({dlx, "topic", true, {}});

  // No x-dead-letter-routing-key: dead-lettered messages keep their original key.
  QueueDecl ocpp{names.queue_ocpp_messages, true, false, false, {}};
  ocpp.arguments["x-max-priority"] = kOcppMaxPriority;
  ocpp.arguments["x-dead-letter-exchange"] = dlx;
  if (quorum) ocpp.arguments["x-delivery-limit"] = names.delivery_limit;
  t.queues.push_back(ocpp);
  // Dead letters wait for an operator (genx dlq): bounded, keeping the newest. A full
  // DLQ that refused copies would send the worker's failures back to ocpp_messages.
  auto dead_letters = [&](const std::string& name) {
    QueueDecl q{name, true, false, false, {}};
    q.arguments["x-max-length"] = names.dead_letter_max_length;
    q.arguments["x-overflow"] = std::string(kOverflowDropHead);
    return q;
  };
  t.queues.push_back(dead_letters(dlq));
  t.queues.push_back({names.queue_analytics, true, false, false, {}});
  // Retries: delay queues back into ocpp_messages (bounded by their TTL: each message
  // leaves after its delay).
  RetryDelays delays;
  for (auto ms : names.retry_delays_ms) delays.emplace_back(ms);
  Topology retries = retry_topology(names.queue_ocpp_messages, delays);
  retries.queues.pop_back();  // ocpp_messages.dlq: declared above
  t.append(retries);
  t.queues.push_back(dead_letters(dead_letter_queue(names.queue_analytics)));

  if (quorum) {
    // Priority classes as two queues (see topology.hpp).
    const std::string high = high_class_queue(names.queue_ocpp_messages);
    const std::string classes = classes_exchange(names.exchange_ocpp);
    const std::string bulk = bulk_exchange(names.exchange_ocpp);
    t.exchanges.push_back({bulk, "fanout", true, {}});
    t.exchanges.push_back({classes, "topic", true, {{"alternate-exchange", bulk}}});
    QueueDecl high_queue = ocpp;
    high_queue.name = high;
    t.queues.push_back(high_queue);
    Topology high_retries = retry_topology(high, delays);
    high_retries.queues.pop_back();  // its DLQ is ocpp_messages.dlq
    t.append(high_retries);
    t.bindings.push_back({classes, names.exchange_ocpp, "ocpp.message.#", true});
    t.bindings.push_back({names.queue_ocpp_messages, bulk, "", false});
    for (const auto& action : names.high_class_actions) {
      t.bindings.push_back({high, classes, "ocpp.message." + action, false});
    }
  } else {
    t.bindings.push_back({names.queue_ocpp_messages, names.exchange_ocpp, "ocpp.message.#"});
  }
  t.bindings.push_back({dlq, dlx, "#"});
  // analytics reads the workers' events.batch messages, sent to it directly; an earlier
  // GenX bound it to every event, which would now deliver each event a second time.
  t.unbindings.push_back({names.queue_analytics, names.exchange_events, "notification.#"});

  // For outside integrations (billing, ...): nobody in GenX reads it, so only when
  // configured, and bounded so that an integration that stops reading cannot fill the
  // broker (whose memory or disk alarm would block every publisher, chargers included).
  if (names.charging_events_max_length > 0) {
    QueueDecl events{names.queue_charging_events, true, false, false, {}};
    events.arguments["x-max-length"] = names.charging_events_max_length;
    events.arguments["x-overflow"] = std::string(kOverflowDropHead);
    t.queues.push_back(events);
    t.queues.push_back(dead_letters(dead_letter_queue(names.queue_charging_events)));
    t.bindings.push_back(
        {names.queue_charging_events, names.exchange_events, "notification.charging.#"});
    t.bindings.push_back(
        {names.queue_charging_events, names.exchange_events, "notification.transaction.#"});
    t.bindings.push_back(
        {names.queue_charging_events, names.exchange_events, "notification.meter.values"});
  }
  // A shared feed of every event; dashboards read their notifier's own queue instead.
  // Only when configured; transient (not durable: nothing is written to disk), and
  // bounded by age and length.
  if (names.notifications_max_length > 0) {
    QueueDecl notifications{names.queue_notifications, false, false, false, {}};
    notifications.arguments["x-message-ttl"] = names.notification_ttl_ms;
    notifications.arguments["x-max-length"] = names.notifications_max_length;
    notifications.arguments["x-overflow"] = std::string(kOverflowDropHead);
    t.queues.push_back(notifications);
    t.bindings.push_back({names.queue_notifications, names.exchange_events, "notification.#"});
  }
  if (quorum) {
    for (auto& q : t.queues) {
      if (q.durable && !q.exclusive) make_quorum(q);
    }
  }
  return t;
}

std::string gateway_reply_queue(const std::string& instance_id) {
  return "genx.gateway." + instance_id + ".replies";
}

Topology gateway_topology(const Names& names, const std::string& instance_id) {
  Topology t = commands_topology(names);
  t.queues.push_back({gateway_reply_queue(instance_id), false, true, true, {}});
  t.queues.push_back({gateway_command_queue(instance_id), false, true, true, {}});
  return t;
}

std::string gateway_command_queue(const std::string& instance_id) {
  return "genx.gateway." + instance_id + ".commands";
}

Topology commands_topology(const Names& names) {
  Topology t;
  t.exchanges.push_back({names.exchange_commands, "direct", true, {}});
  return t;
}

std::string api_reply_queue(const std::string& instance_id) {
  return "genx.api." + instance_id + ".replies";
}

Topology api_topology(const Names& names, const std::string& instance_id) {
  Topology t = commands_topology(names);
  t.queues.push_back({api_reply_queue(instance_id), false, true, true, {}});
  return t;
}

std::string notifier_queue(const std::string& instance_id) {
  return "genx.notifier." + instance_id;
}

Topology notifier_topology(const Names& names, const std::string& instance_id) {
  Topology t;
  QueueDecl queue{notifier_queue(instance_id), false, true, true, {}};
  queue.arguments["x-message-ttl"] = kNotifierMessageTtlMs;
  queue.arguments["x-max-length"] = kNotifierMaxLength;
  queue.arguments["x-overflow"] = std::string(kOverflowDropHead);
  t.queues.push_back(queue);
  t.bindings.push_back({queue.name, names.exchange_events, "notification.#"});
  return t;
}

}  // namespace genx::broker
