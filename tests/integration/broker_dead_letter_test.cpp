// Real RabbitMQ: BrokerClient::get/purge, the delay queues of broker/retry.hpp bringing a
// message back after its TTL, and the DeadLetterTool listing without removing,
// replaying with a confirm and purging.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker_client.hpp"
#include "broker/dead_letters.hpp"
#include "broker/retry.hpp"

using namespace genx::broker;
using namespace std::chrono_literals;

namespace {

std::string broker_url() {
  const char* env = std::getenv("GENX_TEST_RABBITMQ_URL");
  return env != nullptr && *env != '\0' ? env : "amqp://guest:guest@127.0.0.1:5672/";
}

std::string random_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng());
}

// Deletes the test's queues and exchange with a plain rabbitmq-c session.
void delete_all(const std::vector<std::string>& queues, const std::string& exchange) {
  const auto s = parse_amqp_url(broker_url());
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t* sock = amqp_tcp_socket_new(conn);
  if (amqp_socket_open(sock, s.host.c_str(), s.port) == AMQP_STATUS_OK &&
      amqp_login(conn, s.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, s.username.c_str(),
                 s.password.c_str())
              .reply_type == AMQP_RESPONSE_NORMAL) {
    amqp_channel_open(conn, 1);
    for (const auto& q : queues) amqp_queue_delete(conn, 1, amqp_cstring_bytes(q.c_str()), 0, 0);
    amqp_exchange_delete(conn, 1, amqp_cstring_bytes(exchange.c_str()), 0);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn);
}

PublishOutcome publish_sync(BrokerClient& client, Message m) {
  auto p = std::make_shared<std::promise<PublishOutcome>>();
  auto f = p->get_future();
  client.publish(std::move(m), [p](PublishOutcome o) { p->set_value(o); });
  if (f.wait_for(10s) != std::future_status::ready) return PublishOutcome::kStopped;
  return f.get();
}

class DeadLetterIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string s = random_suffix();
    exchange_ = "genx.test.dlx." + s;
    queue_ = "genx.test.dlq." + s;
    Topology t;
    t.exchanges.push_back({exchange_, "topic", true, {}});
    t.queues.push_back({queue_, true, false, false, {}});
    t.bindings.push_back({queue_, exchange_, "test.#"});
    t.append(retry_topology(queue_, {300ms}));
    auto settings = parse_amqp_url(broker_url());
    client_ = std::make_unique<BrokerClient>(settings, t);
    client_->start();
    ASSERT_TRUE(client_->wait_connected(10s)) << "no RabbitMQ at " << broker_url();
  }
  void TearDown() override {
    client_.reset();
    delete_all({queue_, dead_letter_queue(queue_), retry_queue(queue_, 300ms)}, exchange_);
  }

  Message message(const std::string& id) {
    Message m;
    m.exchange = exchange_;
    m.routing_key = "test.thing";
    m.body = "{\"id\":\"" + id + "\"}";
    m.message_id = id;
    return m;
  }

  // Ready messages of q reach n (nacked messages come back asynchronously).
  bool wait_until_depth(const std::string& q, std::uint32_t n) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      auto info = client_->check_queue(q, 5s);
      if (info && info->messages == n) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::string exchange_, queue_;
  std::unique_ptr<BrokerClient> client_;
};

TEST_F(DeadLetterIntegration, GetTakesOneMessageAndNackRequeueHandsItBack) {
  EXPECT_FALSE(client_->get(queue_, 5s).has_value()) << "empty queue";
  ASSERT_EQ(publish_sync(*client_, message("a")), PublishOutcome::kConfirmed);
  auto d = client_->get(queue_, 5s);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id, "a");
  EXPECT_EQ(d->routing_key, "test.thing");
  EXPECT_EQ(d->consumer_queue, queue_);
  EXPECT_FALSE(client_->get(queue_, 5s).has_value()) << "the only message is held unacked";
  client_->nack(*d, true);
  auto again = client_->get(queue_, 5s);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->redelivered);
  client_->ack(*again);
  EXPECT_FALSE(client_->get(queue_, 5s).has_value());
  EXPECT_THROW(client_->get("genx.test.no-such-queue." + random_suffix(), 5s), BrokerError);
  // The client is still usable after the broker refused an operation.
  ASSERT_EQ(publish_sync(*client_, message("b")), PublishOutcome::kConfirmed);
  EXPECT_EQ(client_->purge(queue_, 5s), 1u);
}

TEST_F(DeadLetterIntegration, DelayQueueBringsTheMessageBackAfterItsTtl) {
  Delivery d;
  d.consumer_queue = queue_;
  d.exchange = exchange_;
  d.routing_key = "test.thing";
  d.message_id = "r";
  d.body = "x";
  auto retry = retry_message(d, {300ms});
  ASSERT_TRUE(retry);
  ASSERT_EQ(publish_sync(*client_, *retry), PublishOutcome::kConfirmed);
  std::optional<Delivery> back;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!back && std::chrono::steady_clock::now() < until) {
    back = client_->get(queue_, 5s);
    if (!back) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(back.has_value()) << "the message came back from " << retry->routing_key;
  EXPECT_EQ(back->message_id, "r");
  EXPECT_EQ(attempt_of(*back), 2);
  client_->ack(*back);
}

TEST_F(DeadLetterIntegration, ToolListsWithoutRemovingReplaysAndPurges) {
  const std::string dlq = dead_letter_queue(queue_);
  for (const char* id : {"m1", "m2", "m3"}) {
    Delivery d;
    d.consumer_queue = queue_;
    d.exchange = exchange_;
    d.routing_key = "test.thing";
    d.message_id = id;
    d.body = std::string("body-") + id;
    ASSERT_EQ(publish_sync(*client_, dead_letter_message(d, "because", "2026-01-01T00:00:00.000Z")),
              PublishOutcome::kConfirmed);
  }
  DeadLetterTool tool(*client_, 5s);
  auto listed = tool.list(dlq, 100);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].id, "m1");
  EXPECT_EQ(listed[0].reason, "because");
  EXPECT_EQ(listed[0].routing_key, "test.thing");
  EXPECT_EQ(listed[0].exchange, exchange_);
  EXPECT_EQ(tool.list(dlq, 2).size(), 2u);
  ASSERT_TRUE(wait_until_depth(dlq, 3));
  auto shown = tool.show(dlq, "m2");
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->body, "body-m2");
  EXPECT_FALSE(tool.show(dlq, "nope"));

  EXPECT_TRUE(tool.replay(dlq, "m2"));
  EXPECT_FALSE(tool.replay(dlq, "nope"));
  auto replayed = client_->get(queue_, 5s);
  ASSERT_TRUE(replayed.has_value()) << "m2 is back in its original queue";
  EXPECT_EQ(replayed->message_id, "m2");
  EXPECT_EQ(replayed->headers.count(kReasonHeader), 0u);
  client_->ack(*replayed);
  ASSERT_TRUE(wait_until_depth(dlq, 2));

  EXPECT_EQ(tool.replay_all(dlq), 2u);
  ASSERT_TRUE(wait_until_depth(queue_, 2));
  ASSERT_TRUE(wait_until_depth(dlq, 0));
  EXPECT_EQ(tool.purge(queue_), 2u);
  EXPECT_THROW(tool.list("genx.test.no-such-queue." + random_suffix(), 10), BrokerError);
}

}  // namespace
