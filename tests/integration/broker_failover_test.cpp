// BrokerClient against a real RabbitMQ cluster (scripts/rabbitmq-cluster.sh): with a node
// list it connects to one node, and when that node stops it carries on against another
// one, with its topology, consumers and run-time bindings declared there again.
//
//   GENX_TEST_RABBITMQ_CLUSTER_URL  the node list, e.g.
//                                   amqp://guest:guest@127.0.0.1:5760,127.0.0.1:5761,127.0.0.1:5762/
//   GENX_TEST_RABBITMQ_CLUSTER_CMD  the cluster script with its environment, e.g.
//                                   "GENX_CLUSTER_RABBITMQ_PORT=5760 scripts/rabbitmq-cluster.sh";
//                                   the test runs "$CMD stop-node PORT" and "$CMD start-node PORT"
// Without both, the tests are skipped (their own ctest entry, tests/CMakeLists.txt). The
// queues and exchanges they declare stay on the test cluster (rabbitmq-cluster.sh start
// makes a fresh one).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "broker/broker_client.hpp"

using namespace genx::broker;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

struct Inbox {
  std::mutex mu;
  std::multiset<std::string> bodies;
  BrokerClient* client = nullptr;
  BrokerClient::DeliveryHandler handler() {
    return [this](Delivery&& d) {
      {
        std::lock_guard lock(mu);
        bodies.insert(d.body);
      }
      client->ack(d);
    };
  }
  bool has(const std::string& body) {
    std::lock_guard lock(mu);
    return bodies.count(body) > 0;
  }
  std::size_t count(const std::string& body) {
    std::lock_guard lock(mu);
    return bodies.count(body);
  }
};

class BrokerFailover : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = env("GENX_TEST_RABBITMQ_CLUSTER_URL");
    cmd_ = env("GENX_TEST_RABBITMQ_CLUSTER_CMD");
    if (url_.empty() || cmd_.empty()) {
      GTEST_SKIP() << "GENX_TEST_RABBITMQ_CLUSTER_URL / GENX_TEST_RABBITMQ_CLUSTER_CMD not set";
    }
    std::mt19937_64 rng{std::random_device{}()};
    suffix_ = std::to_string(rng() % 1000000000);
  }
  void TearDown() override {
    // Bring a stopped node back: the next test (and CI's next stage) wants the whole cluster.
    if (!stopped_port_.empty()) {
      const std::string start = cmd_ + " start-node " + stopped_port_ + " >&2";
      EXPECT_EQ(std::system(start.c_str()), 0) << start;
    }
  }

  ConnectionSettings settings() const {
    auto s = parse_amqp_urls(url_);
    s.connection_name = "genx-failover-test-" + suffix_;
    s.min_backoff = 100ms;
    s.max_backoff = 1000ms;
    s.heartbeat_seconds = 5;
    s.unsent_publish_timeout = 60s;
    return s;
  }

  // A quorum queue (kept by the cluster when one node stops), an exclusive transient
  // queue (gone with the connection, like a gateway's command queue) and its run-time
  // binding.
  Topology topology() const {
    Topology t;
    t.exchanges.push_back({exchange(), "topic", true, {}});
    QueueDecl q{queue(), true, false, false, {}};
    q.arguments["x-queue-type"] = std::string("quorum");
    t.queues.push_back(q);
    t.queues.push_back({commands(), false, true, true, {}});
    t.bindings.push_back({queue(), exchange(), "work.#"});
    return t;
  }
  std::string exchange() const { return "genx.failover.x." + suffix_; }
  std::string queue() const { return "genx.failover.q." + suffix_; }
  std::string commands() const { return "genx.failover.commands." + suffix_; }

  static PublishOutcome publish_sync(BrokerClient& client, Message m) {
    std::promise<PublishOutcome> p;
    auto f = p.get_future();
    client.publish(std::move(m), [&p](PublishOutcome o) { p.set_value(o); });
    if (f.wait_for(60s) != std::future_status::ready) return PublishOutcome::kStopped;
    return f.get();
  }
  Message message(const std::string& key, const std::string& body) const {
    Message m;
    m.exchange = exchange();
    m.routing_key = key;
    m.body = body;
    m.message_id = body;
    return m;
  }

  // Publishes until one is confirmed (a publish racing a failover may get
  // kConnectionLost: the caller republishes, as GenX's roles do).
  bool publish_until_confirmed(BrokerClient& client, const std::string& key, const std::string& body) {
    for (int i = 0; i < 20; ++i) {
      if (publish_sync(client, message(key, body)) == PublishOutcome::kConfirmed) return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

  std::string url_, cmd_, suffix_, stopped_port_;
};

}  // namespace

TEST_F(BrokerFailover, StoppedNodeIsReplacedByAnotherWithTopologyConsumersAndBindings) {
  BrokerClient client(settings(), topology());
  Inbox work, cmds;
  work.client = &client;
  cmds.client = &client;
  client.consume(queue(), 10, work.handler());
  client.consume(commands(), 10, cmds.handler());
  client.bind(commands(), exchange(), "charger.CP-" + suffix_);
  client.start();
  ASSERT_TRUE(client.wait_connected(60s));
  const std::string first_node = client.node();

  // Before: both paths work on the first node.
  ASSERT_EQ(publish_sync(client, message("work.a", "before")), PublishOutcome::kConfirmed);
  ASSERT_EQ(publish_sync(client, message("charger.CP-" + suffix_, "command-before")), PublishOutcome::kConfirmed);
  ASSERT_TRUE(wait_until([&] { return work.has("before") && cmds.has("command-before"); }, 30s));

  // Stop the node the client is connected to.
  const auto colon = first_node.rfind(':');
  stopped_port_ = first_node.substr(colon + 1);
  const std::string stop = cmd_ + " stop-node " + stopped_port_ + " >&2";
  ASSERT_EQ(std::system(stop.c_str()), 0) << stop;

  // After: connected again, to another node of the list.
  ASSERT_TRUE(wait_until([&] { return client.connected() && client.reconnects() >= 1; }, 120s))
      << "still not reconnected; last node tried " << client.node();
  EXPECT_NE(client.node(), first_node);
  // The topology was declared there, the consumers registered and the run-time binding
  // of the exclusive queue (which died with the old connection) declared again.
  ASSERT_TRUE(publish_until_confirmed(client, "work.b", "after"));
  ASSERT_TRUE(publish_until_confirmed(client, "charger.CP-" + suffix_, "command-after"));
  EXPECT_TRUE(wait_until([&] { return work.has("after"); }, 60s)) << "no delivery from the quorum queue";
  EXPECT_TRUE(wait_until([&] { return cmds.has("command-after"); }, 60s))
      << "the run-time binding was not declared on the new node";
  client.stop();
}

TEST_F(BrokerFailover, ANodeThatDoesNotAnswerIsSkipped) {
  // First in the list: a port where nothing listens (connection refused).
  auto s = settings();
  s.nodes.insert(s.nodes.begin(), BrokerNode{"127.0.0.1", 1});
  s.connect_timeout = 2000ms;
  BrokerClient client(s, topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(60s)) << "last node tried " << client.node();
  EXPECT_NE(client.node(), "127.0.0.1:1");
  EXPECT_EQ(publish_sync(client, message("work.c", "skipped-dead-node")), PublishOutcome::kConfirmed);
  client.stop();
}
