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
  EXPECT_TRUE(bound(t, "analytics", "events_exchange", "notification.#"));
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
  EXPECT_TRUE(bound(t, "an", "ev", "notification.#"));
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
