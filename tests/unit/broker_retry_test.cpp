// Retry and dead-letter routing as data (broker/retry.hpp): what the worker publishes
// when a message fails, and what a replay sends back.
#include <gtest/gtest.h>

#include "broker/retry.hpp"

namespace genx::broker {
namespace {

using std::chrono::milliseconds;

Delivery original() {
  Delivery d;
  d.consumer_queue = "ocpp_messages";
  d.exchange = "ocpp_exchange";
  d.routing_key = "ocpp.message.StatusNotification";
  d.body = R"({"version":1})";
  d.message_id = "m-1";
  d.reply_to = "genx.gateway.gw.replies";
  d.correlation_id = "c-1";
  d.priority = 5;
  d.type = "StatusNotification";
  return d;
}

TEST(RetryDelays, ParsesUnitsAndRejectsNonsense) {
  EXPECT_EQ(parse_retry_delays("1s,5s,25s,2m"),
            (RetryDelays{milliseconds(1000), milliseconds(5000), milliseconds(25000), milliseconds(120000)}));
  EXPECT_EQ(parse_retry_delays(" 250ms , 1h"), (RetryDelays{milliseconds(250), milliseconds(3600000)}));
  EXPECT_TRUE(parse_retry_delays("").empty());
  EXPECT_THROW(parse_retry_delays("5"), std::invalid_argument);
  EXPECT_THROW(parse_retry_delays("1s,,2s"), std::invalid_argument);
  EXPECT_THROW(parse_retry_delays("-1s"), std::invalid_argument);
  EXPECT_THROW(parse_retry_delays("2d"), std::invalid_argument);
  EXPECT_THROW(parse_retry_delays("25h"), std::invalid_argument);
}

TEST(RetryTopology, DelayQueuesDeadLetterStraightBackIntoTheirQueue) {
  const auto t = retry_topology("q", {milliseconds(1000), milliseconds(120000)});
  ASSERT_EQ(t.queues.size(), 3u);
  EXPECT_EQ(t.queues[0].name, "q.retry.1s");
  EXPECT_EQ(std::get<std::int64_t>(t.queues[0].arguments.at("x-message-ttl")), 1000);
  EXPECT_EQ(std::get<std::string>(t.queues[0].arguments.at("x-dead-letter-exchange")), "");
  EXPECT_EQ(std::get<std::string>(t.queues[0].arguments.at("x-dead-letter-routing-key")), "q");
  EXPECT_EQ(t.queues[1].name, "q.retry.2m");
  EXPECT_EQ(t.queues[2].name, "q.dlq");
  EXPECT_TRUE(t.queues[2].durable);
  EXPECT_EQ(format_delay(milliseconds(1500)), "1500ms");
  EXPECT_EQ(resolve_dead_letter_queue("q"), "q.dlq");
  EXPECT_EQ(resolve_dead_letter_queue("q.dlq"), "q.dlq");
}

TEST(RetryMessage, WalksTheDelaysThenGivesUp) {
  const RetryDelays delays{milliseconds(1000), milliseconds(5000)};
  Delivery d = original();
  EXPECT_EQ(attempt_of(d), 1);
  auto first = retry_message(d, delays);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->exchange, "");
  EXPECT_EQ(first->routing_key, "ocpp_messages.retry.1s");
  EXPECT_EQ(std::get<std::int64_t>(first->headers.at(kAttemptHeader)), 2);
  EXPECT_EQ(std::get<std::string>(first->headers.at(kOriginalRoutingKeyHeader)), "ocpp.message.StatusNotification");
  EXPECT_EQ(first->message_id, "m-1");
  EXPECT_EQ(first->reply_to, d.reply_to);
  EXPECT_EQ(first->correlation_id, "c-1");
  EXPECT_EQ(first->priority, std::optional<std::uint8_t>(5));
  EXPECT_TRUE(first->persistent);

  // Back from the delay queue: delivered through the default exchange.
  Delivery second = d;
  second.exchange = "";
  second.routing_key = "ocpp_messages";
  second.headers = first->headers;
  auto again = retry_message(second, delays);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->routing_key, "ocpp_messages.retry.5s");
  EXPECT_EQ(std::get<std::string>(again->headers.at(kOriginalRoutingKeyHeader)), "ocpp.message.StatusNotification");

  Delivery third = second;
  third.headers = again->headers;
  EXPECT_EQ(attempt_of(third), 3);
  EXPECT_FALSE(retry_message(third, delays));

  const Message dead = dead_letter_message(third, "database unavailable", "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(dead.routing_key, "ocpp_messages.dlq");
  EXPECT_EQ(std::get<std::string>(dead.headers.at(kReasonHeader)), "database unavailable");
  EXPECT_EQ(std::get<std::string>(dead.headers.at(kFailedAtHeader)), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(std::get<std::int64_t>(dead.headers.at(kAttemptsHeader)), 3);
  EXPECT_EQ(std::get<std::string>(dead.headers.at(kOriginalExchangeHeader)), "ocpp_exchange");
  EXPECT_EQ(dead.headers.count(kAttemptHeader), 0u);
}

TEST(ReplayMessage, GoesBackToTheOriginalExchangeWithoutRetryHeaders) {
  Delivery d = original();
  const Message dead = dead_letter_message(d, "cannot be processed", "t");
  Delivery in_dlq = d;
  in_dlq.exchange = "";
  in_dlq.routing_key = "ocpp_messages.dlq";
  in_dlq.headers = dead.headers;
  const Message replay = replay_message(in_dlq);
  EXPECT_EQ(replay.exchange, "ocpp_exchange");
  EXPECT_EQ(replay.routing_key, "ocpp.message.StatusNotification");
  EXPECT_TRUE(replay.headers.empty());
  EXPECT_EQ(replay.body, d.body);

  // Dead-lettered by RabbitMQ through "<exchange>.dlx": back to "<exchange>".
  Delivery by_broker = d;
  by_broker.exchange = "ocpp_exchange.dlx";
  EXPECT_EQ(replay_message(by_broker).exchange, "ocpp_exchange");
}

TEST(DeadLetterMessage, GivesAnAnonymousMessageAStableId) {
  Delivery d = original();
  d.message_id.clear();
  const auto a = dead_letter_message(d, "r", "t");
  const auto b = dead_letter_message(d, "r", "t");
  EXPECT_FALSE(a.message_id.empty());
  EXPECT_EQ(a.message_id, b.message_id);
}

}  // namespace
}  // namespace genx::broker
