#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "broker/topology.hpp"

using namespace genx::broker;

namespace {
const QueueDecl* find_queue(const Topology& t, const std::string& name) {
  for (const auto& q : t.queues)
    if (q.name == name) return &q;
  return nullptr;
}
const ExchangeDecl* find_exchange(const Topology& t, const std::string& name) {
  for (const auto& x : t.exchanges)
    if (x.name == name) return &x;
  return nullptr;
}
bool bound(const Topology& t, const std::string& q, const std::string& x, const std::string& key) {
  return std::any_of(t.bindings.begin(), t.bindings.end(), [&](const BindingDecl& b) {
    return b.queue == q && b.exchange == x && b.routing_key == key;
  });
}
}  // namespace

TEST(Topology, CoreExchangesAreDurableTopics) {
  const auto t = core_topology(Names{});
  for (const char* name : {"ocpp_exchange", "events_exchange", "ocpp_exchange.dlx"}) {
    const auto* x = find_exchange(t, name);
    ASSERT_NE(x, nullptr) << name;
    EXPECT_EQ(x->type, "topic");
    EXPECT_TRUE(x->durable);
  }
}

TEST(Topology, OcppMessagesHasPriorityAndDeadLettering) {
  const auto t = core_topology(Names{});
  const auto* q = find_queue(t, "ocpp_messages");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->durable);
  EXPECT_FALSE(q->exclusive);
  EXPECT_FALSE(q->auto_delete);
  EXPECT_EQ(std::get<std::int64_t>(q->arguments.at("x-max-priority")), kOcppMaxPriority);
  EXPECT_EQ(std::get<std::string>(q->arguments.at("x-dead-letter-exchange")), "ocpp_exchange.dlx");
  EXPECT_EQ(q->arguments.count("x-dead-letter-routing-key"), 0u) << "dead letters keep their routing key";
  EXPECT_TRUE(bound(t, "ocpp_messages", "ocpp_exchange", "ocpp.message.#"));
  ASSERT_NE(find_queue(t, "ocpp_messages.dlq"), nullptr);
  EXPECT_TRUE(find_queue(t, "ocpp_messages.dlq")->durable);
  EXPECT_TRUE(bound(t, "ocpp_messages.dlq", "ocpp_exchange.dlx", "#"));
}

TEST(Topology, AnalyticsQueueIsDurableAndUnboundedItsConsumerCountsEveryEvent) {
  const auto t = core_topology(Names{});
  const auto* q = find_queue(t, "analytics");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->durable);
  // The workers send it one events.batch per group commit; the binding to every event an
  // earlier GenX made is removed (it would deliver each event a second time).
  EXPECT_FALSE(bound(t, "analytics", "events_exchange", "notification.#"));
  EXPECT_TRUE(std::any_of(t.unbindings.begin(), t.unbindings.end(), [](const BindingDecl& b) {
    return b.queue == "analytics" && b.exchange == "events_exchange" && b.routing_key == "notification.#";
  }));
  EXPECT_EQ(q->arguments.count("x-message-ttl"), 0u) << "analytics must count every event: no expiry";
  EXPECT_EQ(q->arguments.count("x-max-length"), 0u) << "nor a drop";
}

TEST(Topology, QueuesNobodyInGenXReadsAreNotDeclaredByDefault) {
  const auto t = core_topology(Names{});
  for (const char* name : {"charging_events", "charging_events.dlq", "notifications"}) {
    EXPECT_EQ(find_queue(t, name), nullptr) << name;
  }
  for (const auto& b : t.bindings) {
    EXPECT_NE(b.queue, "charging_events");
    EXPECT_NE(b.queue, "notifications");
  }
}

TEST(Topology, ChargingEventsWhenConfiguredIsDurableBoundedAndDropsItsOldest) {
  Names n;
  n.charging_events_max_length = 5000;
  const auto t = core_topology(n);
  const auto* q = find_queue(t, "charging_events");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->durable);
  EXPECT_EQ(std::get<std::int64_t>(q->arguments.at("x-max-length")), 5000);
  EXPECT_EQ(std::get<std::string>(q->arguments.at("x-overflow")), "drop-head")
      << "reject-publish would nack the worker's event publish and hold up the charger's answer";
  EXPECT_TRUE(bound(t, "charging_events", "events_exchange", "notification.charging.#"));
  EXPECT_TRUE(bound(t, "charging_events", "events_exchange", "notification.transaction.#"));
  EXPECT_TRUE(bound(t, "charging_events", "events_exchange", "notification.meter.values"));
  EXPECT_FALSE(bound(t, "charging_events", "events_exchange", "notification.#"));
  const auto* dlq = find_queue(t, "charging_events.dlq");
  ASSERT_NE(dlq, nullptr);
  EXPECT_EQ(std::get<std::int64_t>(dlq->arguments.at("x-max-length")), 100000);
  EXPECT_EQ(find_queue(t, "notifications"), nullptr) << "each is configured on its own";
}

TEST(Topology, NotificationsWhenConfiguredIsTransientAndBounded) {
  Names n;
  n.notifications_max_length = 2000;
  n.notification_ttl_ms = 60000;
  const auto t = core_topology(n);
  const auto* q = find_queue(t, "notifications");
  ASSERT_NE(q, nullptr);
  EXPECT_FALSE(q->durable) << "a live feed: RabbitMQ writes nothing of it to disk";
  EXPECT_EQ(std::get<std::int64_t>(q->arguments.at("x-message-ttl")), 60000);
  EXPECT_EQ(std::get<std::int64_t>(q->arguments.at("x-max-length")), 2000);
  EXPECT_EQ(std::get<std::string>(q->arguments.at("x-overflow")), "drop-head");
  EXPECT_TRUE(bound(t, "notifications", "events_exchange", "notification.#"));
  EXPECT_EQ(find_queue(t, "charging_events"), nullptr);
}

TEST(Topology, EveryDeclaredQueueIsBoundedOrReadByAGenXRole) {
  Names n;
  n.charging_events_max_length = 10;
  n.notifications_max_length = 10;
  n.dead_letter_max_length = 777;
  auto t = core_topology(n);
  t.append(gateway_topology(n, "gw"));
  t.append(api_topology(n, "api"));
  t.append(notifier_topology(n, "nf"));
  // Read by a role GenX starts: the workers, the analytics processor, each instance's own
  // exclusive queues (gone with their connection).
  const std::vector<std::string> consumed = {"ocpp_messages", "analytics"};
  for (const auto& q : t.queues) {
    const bool read = std::find(consumed.begin(), consumed.end(), q.name) != consumed.end() ||
                      (q.exclusive && q.auto_delete);
    const bool by_length = q.arguments.count("x-max-length") > 0;
    const bool by_age = q.arguments.count("x-message-ttl") > 0;
    EXPECT_TRUE(read || by_length || by_age) << q.name;
    if (by_length) {
      EXPECT_EQ(std::get<std::string>(q.arguments.at("x-overflow")), "drop-head") << q.name;
    }
    if (q.name.size() > 4 && q.name.compare(q.name.size() - 4, 4, ".dlq") == 0) {
      EXPECT_EQ(std::get<std::int64_t>(q.arguments.at("x-max-length")), 777) << q.name;
    }
  }
  EXPECT_NE(find_queue(t, "ocpp_messages.dlq"), nullptr);
  EXPECT_NE(find_queue(t, "analytics.dlq"), nullptr);
  EXPECT_NE(find_queue(t, "charging_events.dlq"), nullptr);
}

TEST(Topology, NamesFromConfigurationAreUsedEverywhere) {
  Names n;
  n.queue_ocpp_messages = "q1";
  n.exchange_ocpp = "x1";
  n.exchange_events = "ev";
  n.queue_analytics = "an";
  const auto t = core_topology(n);
  EXPECT_NE(find_exchange(t, "x1.dlx"), nullptr);
  EXPECT_NE(find_queue(t, "q1.dlq"), nullptr);
  EXPECT_EQ(std::get<std::string>(find_queue(t, "q1")->arguments.at("x-dead-letter-exchange")), "x1.dlx");
  EXPECT_TRUE(bound(t, "q1", "x1", "ocpp.message.#"));
  EXPECT_NE(find_queue(t, "an"), nullptr);
  EXPECT_TRUE(std::any_of(t.unbindings.begin(), t.unbindings.end(), [](const BindingDecl& b) {
    return b.queue == "an" && b.exchange == "ev" && b.routing_key == "notification.#";
  }));
  EXPECT_EQ(find_queue(t, "ocpp_messages"), nullptr);
}

TEST(Topology, GatewayReplyQueueIsPrivateToTheInstance) {
  EXPECT_EQ(gateway_reply_queue("gw-a"), "genx.gateway.gw-a.replies");
  const auto t = gateway_topology(Names{}, "gw-a");
  const auto* q = find_queue(t, "genx.gateway.gw-a.replies");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->exclusive);
  EXPECT_TRUE(q->auto_delete);
  EXPECT_FALSE(q->durable);
}

TEST(Topology, AppendConcatenates) {
  auto t = core_topology(Names{});
  const auto before = t.queues.size();
  t.append(gateway_topology(Names{}, "x"));
  EXPECT_EQ(t.queues.size(), before + 2);
  EXPECT_EQ(t.queues[before].name, "genx.gateway.x.replies");
  EXPECT_EQ(t.queues.back().name, "genx.gateway.x.commands");
}

TEST(Topology, GatewayOwnsAnExclusiveCommandQueueAndTheDirectCommandsExchange) {
  Names names;
  names.exchange_commands = "cmds";
  auto t = gateway_topology(names, "gw-a");
  const auto* q = find_queue(t, "genx.gateway.gw-a.commands");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->exclusive);
  EXPECT_TRUE(q->auto_delete);
  EXPECT_FALSE(q->durable);
  ASSERT_EQ(t.exchanges.size(), 1u);
  EXPECT_EQ(t.exchanges[0].name, "cmds");
  EXPECT_EQ(t.exchanges[0].type, "direct");
  EXPECT_TRUE(t.bindings.empty());  // chargers are bound at run time, while connected
}

TEST(Topology, ApiOwnsAnExclusiveReplyQueue) {
  auto t = api_topology(Names{}, "api-1");
  const auto* q = find_queue(t, "genx.api.api-1.replies");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->exclusive);
  EXPECT_FALSE(q->durable);
  ASSERT_EQ(t.exchanges.size(), 1u);
  EXPECT_EQ(t.exchanges[0].name, "commands_exchange");
}

// ---- quorum mode (GENX_QUEUE_TYPE=quorum) -----------------------------------------

namespace {
Names quorum_names() {
  Names n;
  n.queue_type = QueueType::kQuorum;
  n.high_class_actions = {"BootNotification", "Authorize", "StartTransaction", "StopTransaction"};
  n.charging_events_max_length = 5000;
  n.notifications_max_length = 100;
  return n;
}
std::string text_arg(const QueueDecl& q, const char* key) {
  auto it = q.arguments.find(key);
  return it == q.arguments.end() ? "" : std::get<std::string>(it->second);
}
}  // namespace

TEST(TopologyQuorum, ClassicDefaultIsUnchanged) {
  const auto t = core_topology(Names{});
  EXPECT_EQ(find_queue(t, "ocpp_messages.high"), nullptr);
  EXPECT_EQ(find_exchange(t, "ocpp_exchange.classes"), nullptr);
  for (const auto& q : t.queues) EXPECT_EQ(q.arguments.count("x-queue-type"), 0u) << q.name;
}

TEST(TopologyQuorum, EveryDurableQueueIsQuorumTheLiveFeedStaysClassic) {
  const auto t = core_topology(quorum_names());
  for (const auto& q : t.queues) {
    if (q.name == "notifications") {
      EXPECT_FALSE(q.durable);
      EXPECT_EQ(q.arguments.count("x-queue-type"), 0u) << "a transient queue cannot be quorum";
      continue;
    }
    EXPECT_TRUE(q.durable) << q.name;
    EXPECT_EQ(text_arg(q, "x-queue-type"), "quorum") << q.name;
    EXPECT_EQ(q.arguments.count("x-max-priority"), 0u) << q.name << ": quorum queues have no priorities";
    if (q.arguments.count("x-dead-letter-exchange") != 0) {
      EXPECT_EQ(text_arg(q, "x-dead-letter-strategy"), "at-least-once") << q.name;
      EXPECT_EQ(text_arg(q, "x-overflow"), "reject-publish") << q.name << ": at-least-once needs it";
    }
  }
  // DLQs keep their bound and drop their oldest.
  const auto* dlq = find_queue(t, "ocpp_messages.dlq");
  ASSERT_NE(dlq, nullptr);
  EXPECT_EQ(text_arg(*dlq, "x-overflow"), "drop-head");
}

TEST(TopologyQuorum, HighClassHasItsOwnQueueFedThroughTheClassesExchange) {
  const auto t = core_topology(quorum_names());
  for (const char* name : {"ocpp_messages", "ocpp_messages.high"}) {
    const auto* q = find_queue(t, name);
    ASSERT_NE(q, nullptr) << name;
    EXPECT_EQ(std::get<std::int64_t>(q->arguments.at("x-delivery-limit")), 20) << name;
    EXPECT_EQ(text_arg(*q, "x-dead-letter-exchange"), "ocpp_exchange.dlx") << name << ": one DLQ for both";
  }
  // ocpp_exchange -> ocpp_exchange.classes (exchange-to-exchange) with every OCPP key.
  const auto e2e = std::find_if(t.bindings.begin(), t.bindings.end(), [](const BindingDecl& b) {
    return b.to_exchange && b.queue == "ocpp_exchange.classes" && b.exchange == "ocpp_exchange";
  });
  ASSERT_NE(e2e, t.bindings.end());
  EXPECT_EQ(e2e->routing_key, "ocpp.message.#");
  EXPECT_FALSE(bound(t, "ocpp_messages", "ocpp_exchange", "ocpp.message.#")) << "a message would land twice";
  for (const char* action : {"BootNotification", "Authorize", "StartTransaction", "StopTransaction"}) {
    EXPECT_TRUE(bound(t, "ocpp_messages.high", "ocpp_exchange.classes", std::string("ocpp.message.") + action))
        << action;
  }
  EXPECT_FALSE(bound(t, "ocpp_messages.high", "ocpp_exchange.classes", "ocpp.message.MeterValues"));
  // Everything else: the alternate exchange, a fanout into ocpp_messages.
  const auto* classes = find_exchange(t, "ocpp_exchange.classes");
  ASSERT_NE(classes, nullptr);
  EXPECT_EQ(std::get<std::string>(classes->arguments.at("alternate-exchange")), "ocpp_exchange.bulk");
  const auto* bulk = find_exchange(t, "ocpp_exchange.bulk");
  ASSERT_NE(bulk, nullptr);
  EXPECT_EQ(bulk->type, "fanout");
  EXPECT_TRUE(bulk->durable);
  EXPECT_TRUE(bound(t, "ocpp_messages", "ocpp_exchange.bulk", ""));
}

TEST(TopologyQuorum, HighQueueRetriesThroughItsOwnDelayQueues) {
  const auto t = core_topology(quorum_names());
  const auto* delay = find_queue(t, "ocpp_messages.high.retry.1s");
  ASSERT_NE(delay, nullptr);
  EXPECT_EQ(std::get<std::int64_t>(delay->arguments.at("x-message-ttl")), 1000);
  EXPECT_EQ(text_arg(*delay, "x-dead-letter-routing-key"), "ocpp_messages.high");
  EXPECT_EQ(find_queue(t, "ocpp_messages.high.dlq"), nullptr) << "the high queue shares ocpp_messages.dlq";
}

TEST(TopologyQuorum, PerInstanceQueuesStayTransient) {
  const auto n = quorum_names();
  Topology t = gateway_topology(n, "gw-1");
  t.append(api_topology(n, "api-1"));
  t.append(notifier_topology(n, "nt-1"));
  for (const auto& q : t.queues) {
    EXPECT_FALSE(q.durable) << q.name;
    EXPECT_TRUE(q.exclusive) << q.name;
    EXPECT_EQ(q.arguments.count("x-queue-type"), 0u) << q.name;
  }
}
