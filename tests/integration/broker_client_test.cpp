// BrokerClient against a real RabbitMQ (GENX_TEST_RABBITMQ_URL, default
// amqp://guest:guest@127.0.0.1:5672/). Every test uses its own randomly named queues
// and exchanges and deletes them afterwards. The reconnect tests close their own
// connection (found by its connection_name) and the heartbeat test reads its frame
// count with rabbitmqctl; GENX_TEST_RABBITMQCTL overrides the command, e.g. for a
// private node:
//   GENX_TEST_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5690/
//   GENX_TEST_RABBITMQCTL="GENX_LOCAL_RABBITMQ_PORT=5690 scripts/rabbitmq-local.sh ctl"
// The broker-restart test (BrokerRestart.*) needs GENX_TEST_RABBITMQ_RESTART_CMD and runs
// against GENX_TEST_RABBITMQ_RESTART_URL (default: GENX_TEST_RABBITMQ_URL); without the
// command it is skipped, and ctest reports it as skipped (tests/CMakeLists.txt).
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "broker/broker_client.hpp"

using namespace genx::broker;
using namespace std::chrono_literals;

namespace {

std::string broker_url() {
  const char* env = std::getenv("GENX_TEST_RABBITMQ_URL");
  return env != nullptr && *env != '\0' ? env : "amqp://guest:guest@127.0.0.1:5672/";
}

std::string restart_url() {
  const char* env = std::getenv("GENX_TEST_RABBITMQ_RESTART_URL");
  return env != nullptr && *env != '\0' ? env : broker_url();
}

std::string restart_command() {
  const char* env = std::getenv("GENX_TEST_RABBITMQ_RESTART_CMD");
  return env != nullptr ? env : "";
}

std::string rabbitmqctl() {
  const char* env = std::getenv("GENX_TEST_RABBITMQCTL");
  return env != nullptr && *env != '\0' ? env : "rabbitmqctl";
}

std::string random_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

std::string run_command(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    ::pclose(p);
  }
  return out;
}

// One field (e.g. recv_cnt) of the connection named `name`, as rabbitmqctl lists it;
// empty when not listed.
std::string connection_field(const std::string& name, const std::string& field) {
  std::string out = run_command(rabbitmqctl() + " -q list_connections " + field +
                                " client_properties 2>/dev/null | grep -F '" + name + "' | cut -f1 | head -1");
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Synchronous rabbitmq-c session used only to clean up after a test.
class Admin {
 public:
  explicit Admin(const std::string& url) {
    const auto s = parse_amqp_url(url);
    conn_ = amqp_new_connection();
    amqp_socket_t* sock = amqp_tcp_socket_new(conn_);
    ok_ = amqp_socket_open(sock, s.host.c_str(), s.port) == AMQP_STATUS_OK &&
          amqp_login(conn_, s.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, s.username.c_str(),
                     s.password.c_str())
                  .reply_type == AMQP_RESPONSE_NORMAL;
  }
  ~Admin() {
    if (ok_) amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn_);
  }
  bool ok() const { return ok_; }
  // Each operation on a fresh channel: a failure closes only that channel.
  void delete_queue(const std::string& q) {
    with_channel([&](amqp_channel_t ch) { amqp_queue_delete(conn_, ch, amqp_cstring_bytes(q.c_str()), 0, 0); });
  }
  void delete_exchange(const std::string& x) {
    with_channel([&](amqp_channel_t ch) { amqp_exchange_delete(conn_, ch, amqp_cstring_bytes(x.c_str()), 0); });
  }
  void declare_queue(const std::string& q, std::int32_t max_priority) {
    with_channel([&](amqp_channel_t ch) {
      amqp_table_entry_t e;
      e.key = amqp_cstring_bytes("x-max-priority");
      e.value.kind = AMQP_FIELD_KIND_I32;
      e.value.value.i32 = max_priority;
      amqp_table_t args{1, &e};
      amqp_queue_declare(conn_, ch, amqp_cstring_bytes(q.c_str()), 0, 1, 0, 0, args);
    });
  }

 private:
  template <class F>
  void with_channel(F f) {
    if (!ok_) return;
    const amqp_channel_t ch = next_++;
    amqp_channel_open(conn_, ch);
    if (amqp_get_rpc_reply(conn_).reply_type != AMQP_RESPONSE_NORMAL) return;
    f(ch);
    if (amqp_get_rpc_reply(conn_).reply_type == AMQP_RESPONSE_NORMAL) {
      amqp_channel_close(conn_, ch, AMQP_REPLY_SUCCESS);
    } else {
      amqp_channel_close_ok_t ok{};
      amqp_send_method(conn_, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    }
  }
  amqp_connection_state_t conn_;
  bool ok_ = false;
  amqp_channel_t next_ = 1;
};

class BrokerIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    suffix_ = random_suffix();
    exchange_ = "genx.test.x." + suffix_;
    queue_ = "genx.test.q." + suffix_;
    ASSERT_TRUE(Admin(url()).ok()) << "no RabbitMQ at " << url();
  }
  void TearDown() override {
    Admin admin(url());
    for (const auto& q : extra_queues_) admin.delete_queue(q);
    admin.delete_queue(queue_);
    admin.delete_exchange(exchange_);
  }

  // The broker under test.
  virtual std::string url() const { return broker_url(); }

  ConnectionSettings settings(const std::string& name = "") const {
    auto s = parse_amqp_url(url());
    s.connection_name = name.empty() ? "genx-test-" + suffix_ : name;
    s.min_backoff = 50ms;
    s.max_backoff = 500ms;
    s.heartbeat_seconds = 10;
    return s;
  }

  Topology topology() const {
    Topology t;
    t.exchanges.push_back({exchange_, "topic", true, {}});
    QueueDecl q{queue_, true, false, false, {}};
    q.arguments["x-max-priority"] = std::int64_t{9};
    t.queues.push_back(q);
    t.bindings.push_back({queue_, exchange_, "test.#"});
    return t;
  }

  Message message(const std::string& body, const std::string& key = "test.msg") const {
    Message m;
    m.exchange = exchange_;
    m.routing_key = key;
    m.body = body;
    m.message_id = body;
    return m;
  }

  // Publishes and waits for the outcome.
  static PublishOutcome publish_sync(BrokerClient& client, Message m) {
    std::promise<PublishOutcome> p;
    auto f = p.get_future();
    client.publish(std::move(m), [&p](PublishOutcome o) { p.set_value(o); });
    if (f.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "no publish outcome within 10 s";
      return PublishOutcome::kStopped;
    }
    return f.get();
  }

  std::uint32_t queue_depth(BrokerClient& client) {
    auto info = client.check_queue(queue_, 5s);
    EXPECT_TRUE(info.has_value());
    return info ? info->messages : 0;
  }

  std::string suffix_, exchange_, queue_;
  std::vector<std::string> extra_queues_;
};

// Collects deliveries from the I/O thread.
struct Inbox {
  std::mutex mu;
  std::vector<Delivery> items;
  BrokerClient::DeliveryHandler handler() {
    return [this](Delivery&& d) {
      std::lock_guard lock(mu);
      items.push_back(std::move(d));
    };
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return items.size();
  }
};

}  // namespace

TEST_F(BrokerIntegration, TopologyDeclaredTwiceIsIdempotent) {
  for (int i = 0; i < 2; ++i) {
    BrokerClient client(settings(), topology());
    client.start();
    ASSERT_TRUE(client.wait_connected(10s)) << "round " << i;
    EXPECT_EQ(queue_depth(client), 0u);
    client.stop();
  }
}

TEST_F(BrokerIntegration, TopologyMismatchKeepsClientDisconnected) {
  Admin(url()).declare_queue(queue_, 3);  // same name, different x-max-priority
  BrokerClient client(settings(), topology());
  client.start();
  EXPECT_FALSE(client.wait_connected(2s)) << "PRECONDITION_FAILED must not count as connected";
  client.stop();
}

TEST_F(BrokerIntegration, UnbindingsRemoveABindingAnEarlierVersionMade) {
  {
    BrokerClient earlier(settings(), topology());  // binds the queue with "test.#"
    earlier.start();
    ASSERT_TRUE(earlier.wait_connected(10s));
    earlier.stop();
  }
  Topology t = topology();
  t.bindings.clear();
  t.unbindings.push_back({queue_, exchange_, "test.#"});
  t.unbindings.push_back({queue_, exchange_, "never.bound"});  // not there: a no-op
  BrokerClient client(settings(), t);
  client.start();
  ASSERT_TRUE(client.wait_connected(10s)) << "unbinding what is not bound must not fail the connect";
  std::atomic<int> outcomes{0};
  client.publish(message("after the unbind"), [&](PublishOutcome) { ++outcomes; });
  ASSERT_TRUE(wait_until([&] { return outcomes == 1; }, 10s));
  EXPECT_EQ(queue_depth(client), 0u) << "the binding is gone: nothing reaches the queue";
  client.stop();
}

TEST_F(BrokerIntegration, TenThousandPipelinedPublishesAreAllConfirmed) {
  BrokerClient client(settings(), topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  constexpr int kCount = 10000;
  std::atomic<int> confirmed{0}, other{0};
  for (int i = 0; i < kCount; ++i) {
    auto m = message("m" + std::to_string(i));
    m.priority = static_cast<std::uint8_t>(i % 10);
    client.publish(std::move(m), [&](PublishOutcome o) { ++(o == PublishOutcome::kConfirmed ? confirmed : other); });
  }
  ASSERT_TRUE(wait_until([&] { return confirmed + other == kCount; }, 120s));
  EXPECT_EQ(confirmed.load(), kCount);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(queue_depth(client), static_cast<std::uint32_t>(kCount));
  const auto c = client.counters();
  EXPECT_EQ(c.published, static_cast<std::uint64_t>(kCount));
  EXPECT_EQ(c.confirmed, static_cast<std::uint64_t>(kCount));
  client.stop();
}

TEST_F(BrokerIntegration, MandatoryUnroutableIsReturnedAndRoutableIsConfirmed) {
  BrokerClient client(settings(), topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  std::mutex mu;
  std::map<std::string, PublishOutcome> outcomes;
  const std::vector<std::pair<std::string, std::string>> plan = {
      {"a", "test.ok"}, {"b", "nowhere.bound"}, {"c", "test.ok"}, {"d", "nowhere.else"}, {"e", "test.ok"}};
  for (const auto& [body, key] : plan) {
    auto m = message(body, key);
    m.mandatory = true;
    client.publish(std::move(m), [&, body = body](PublishOutcome o) {
      std::lock_guard lock(mu);
      outcomes[body] = o;
    });
  }
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return outcomes.size() == plan.size();
      },
      10s));
  EXPECT_EQ(outcomes["a"], PublishOutcome::kConfirmed);
  EXPECT_EQ(outcomes["b"], PublishOutcome::kReturned);
  EXPECT_EQ(outcomes["c"], PublishOutcome::kConfirmed);
  EXPECT_EQ(outcomes["d"], PublishOutcome::kReturned);
  EXPECT_EQ(outcomes["e"], PublishOutcome::kConfirmed);
  EXPECT_EQ(client.counters().returned, 2u);
  EXPECT_EQ(queue_depth(client), 3u);
  client.stop();
}

TEST_F(BrokerIntegration, PrefetchBoundsUnackedDeliveries) {
  constexpr int kCount = 40;
  constexpr std::uint16_t kPrefetch = 5;
  BrokerClient client(settings(), topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(publish_sync(client, message(std::to_string(i))), PublishOutcome::kConfirmed);

  Inbox inbox;
  client.consume(queue_, kPrefetch, inbox.handler());
  ASSERT_TRUE(wait_until([&] { return inbox.size() == kPrefetch; }, 30s));
  // The broker's own count: it holds every message but the prefetched ones as ready,
  // i.e. it has handed out exactly kPrefetch and has stopped.
  ASSERT_TRUE(wait_until([&] { return queue_depth(client) == kCount - kPrefetch; }, 30s))
      << "ready: " << queue_depth(client);
  EXPECT_EQ(inbox.size(), kPrefetch);

  std::size_t acked = 0;
  std::size_t max_outstanding = 0;
  std::set<std::string> bodies;
  while (acked < static_cast<std::size_t>(kCount)) {
    std::optional<Delivery> next;
    {
      std::lock_guard lock(inbox.mu);
      max_outstanding = std::max(max_outstanding, inbox.items.size() - acked);
      if (inbox.items.size() > acked) next = inbox.items[acked];
    }
    if (!next) {
      ASSERT_TRUE(wait_until([&] { return inbox.size() > acked; }, 30s)) << "stalled after " << acked;
      continue;
    }
    bodies.insert(next->body);
    EXPECT_EQ(next->consumer_queue, queue_);
    client.ack(*next);
    ++acked;
  }
  EXPECT_LE(max_outstanding, kPrefetch);
  EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kCount));
  ASSERT_TRUE(wait_until([&] { return queue_depth(client) == 0; }, 5s));
  client.stop();
}

TEST_F(BrokerIntegration, UnackedDeliveryIsRedeliveredToTheNextClient) {
  {
    BrokerClient first(settings(), topology());
    Inbox inbox;
    first.consume(queue_, 10, inbox.handler());
    first.start();
    ASSERT_TRUE(first.wait_connected(10s));
    auto m = message("precious");
    m.correlation_id = "corr-1";
    m.headers["attempt"] = std::int64_t{3};
    m.headers["origin"] = std::string("gw-a");
    ASSERT_EQ(publish_sync(first, m), PublishOutcome::kConfirmed);
    ASSERT_TRUE(wait_until([&] { return inbox.size() == 1; }, 5s));
    EXPECT_FALSE(inbox.items[0].redelivered);
    first.stop();  // without acking
  }
  BrokerClient second(settings(), topology());
  Inbox inbox;
  second.consume(queue_, 10, inbox.handler());
  second.start();
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 1; }, 10s));
  const Delivery d = inbox.items[0];
  EXPECT_EQ(d.body, "precious");
  EXPECT_TRUE(d.redelivered);
  EXPECT_EQ(d.correlation_id, "corr-1");
  EXPECT_EQ(d.message_id, "precious");
  EXPECT_EQ(d.content_type, "application/json");
  EXPECT_EQ(std::get<std::int64_t>(d.headers.at("attempt")), 3);
  EXPECT_EQ(std::get<std::string>(d.headers.at("origin")), "gw-a");
  second.ack(d);
  ASSERT_TRUE(wait_until([&] { return queue_depth(second) == 0; }, 5s));
  second.stop();
}

TEST_F(BrokerIntegration, AckFromAnotherGenerationIsIgnored) {
  BrokerClient client(settings(), topology());
  Inbox inbox;
  client.consume(queue_, 10, inbox.handler());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  ASSERT_EQ(publish_sync(client, message("one")), PublishOutcome::kConfirmed);
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 1; }, 5s));
  Delivery stale = inbox.items[0];
  stale.generation += 7;
  client.ack(stale);
  client.nack(stale, false);
  stale.delivery_tag += 1000;  // would be PRECONDITION_FAILED if it reached the broker
  client.ack(stale);
  // Marker: acks and publishes leave in call order, so had a stale ack reached the
  // broker, it would have closed the channel before confirming this.
  EXPECT_EQ(publish_sync(client, message("marker")), PublishOutcome::kConfirmed);
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.reconnects(), 0u);
  client.ack(inbox.items[0]);
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 2; }, 30s));
  client.ack(inbox.items[1]);
  ASSERT_TRUE(wait_until([&] { return queue_depth(client) == 0; }, 30s));
  client.stop();
}

TEST_F(BrokerIntegration, CheckQueueOnMissingQueueThenClientKeepsWorking) {
  BrokerClient client(settings(), topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(client.check_queue("genx.test.missing." + suffix_, 5s).has_value());
  }
  ASSERT_EQ(publish_sync(client, message("after")), PublishOutcome::kConfirmed);
  auto info = client.check_queue(queue_, 5s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->messages, 1u);
  EXPECT_EQ(client.reconnects(), 0u);
  client.stop();
}

TEST_F(BrokerIntegration, PublishAfterStopGetsStoppedAndStopIsIdempotent) {
  BrokerClient client(settings(), topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  ASSERT_EQ(publish_sync(client, message("before")), PublishOutcome::kConfirmed);
  client.stop();
  client.stop();
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(publish_sync(client, message("after")), PublishOutcome::kStopped);
  EXPECT_FALSE(client.check_queue(queue_, 100ms).has_value());
}

TEST_F(BrokerIntegration, StopDrainsQueuedPublishesBeforeClosing) {
  constexpr int kCount = 2000;
  BrokerClient client(settings(), topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  std::atomic<int> confirmed{0}, other{0};
  for (int i = 0; i < kCount; ++i) {
    client.publish(message("s" + std::to_string(i)),
                   [&](PublishOutcome o) { ++(o == PublishOutcome::kConfirmed ? confirmed : other); });
  }
  client.stop(10s);  // returns only after every outcome is known
  EXPECT_EQ(confirmed.load(), kCount);
  EXPECT_EQ(other.load(), 0);
  BrokerClient reader(settings(), topology());
  reader.start();
  ASSERT_TRUE(reader.wait_connected(10s));
  EXPECT_EQ(queue_depth(reader), static_cast<std::uint32_t>(kCount));
  reader.stop();
}

TEST_F(BrokerIntegration, IdleConnectionSurvivesOnHeartbeats) {
  const std::string name = "genx-test-heartbeat-" + suffix_;
  auto s = settings(name);
  s.heartbeat_seconds = 1;  // the broker drops a peer silent for two intervals
  BrokerClient client(s, topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  // Idle (no publish, no consumer): all the broker receives from now on is heartbeats.
  // Wait until it has counted several of them, i.e. the connection stayed idle for
  // more than the two intervals after which the broker would have dropped a silent peer.
  const std::string first = connection_field(name, "recv_cnt");
  ASSERT_FALSE(first.empty()) << "connection " << name << " not listed by rabbitmqctl";
  const auto start = std::stoull(first);
  std::uint64_t received = start;
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string now = connection_field(name, "recv_cnt");
        if (!now.empty()) received = std::stoull(now);
        return received >= start + 4;
      },
      60s))
      << "the broker received " << received - start << " frames while the client was idle";
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.reconnects(), 0u);
  EXPECT_EQ(publish_sync(client, message("still-here")), PublishOutcome::kConfirmed);
  client.stop();
}

TEST_F(BrokerIntegration, UnreachableBrokerHoldsThenFailsPublishes) {
  auto s = settings();
  s.host = "127.0.0.1";
  s.port = 1;  // nothing listens there
  s.unsent_publish_timeout = 300ms;
  BrokerClient client(s, topology());
  client.start();
  EXPECT_FALSE(client.wait_connected(200ms));
  EXPECT_EQ(publish_sync(client, message("x")), PublishOutcome::kConnectionLost);
  client.stop();
}

TEST_F(BrokerIntegration, ReconnectsAfterBrokerClosesTheConnection) {
  const std::string name = "genx-test-reconnect-" + suffix_;
  BrokerClient client(settings(name), topology());
  Inbox inbox;
  std::atomic<int> ups{0}, downs{0};
  client.on_state_change([&](bool up) { ++(up ? ups : downs); });
  // First connection: keep deliveries unacked; later connections: ack as they come.
  client.consume(queue_, 50, [&inbox, &client](Delivery&& d) {
    if (d.generation > 1) client.ack(d);
    inbox.handler()(std::move(d));
  });
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  ASSERT_EQ(publish_sync(client, message("before")), PublishOutcome::kConfirmed);
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 1; }, 5s));
  const Delivery old = inbox.items[0];  // left unacked: requeued by the broker on close

  const std::string pid =
      run_command(rabbitmqctl() + " -q list_connections pid client_properties 2>/dev/null | grep -F '" + name +
                  "' | cut -f1 | head -1");
  ASSERT_FALSE(pid.empty()) << "connection " << name << " not listed by rabbitmqctl";
  std::mutex mu;
  std::map<std::string, int> outcome_count;
  std::set<std::string> confirmed;
  std::atomic<int> outcomes{0};
  std::thread publisher([&] {
    for (int i = 0; i < 200; ++i) {
      const std::string body = "during" + std::to_string(i);
      client.publish(message(body), [&, body](PublishOutcome o) {
        std::lock_guard lock(mu);
        ++outcome_count[body];
        if (o == PublishOutcome::kConfirmed) confirmed.insert(body);
        ++outcomes;
      });
      std::this_thread::sleep_for(5ms);
    }
  });
  std::system((rabbitmqctl() + " -q close_connection \"" + pid.substr(0, pid.find_last_not_of("\n") + 1) +
               "\" 'genx test: forced close' >/dev/null 2>&1")
                  .c_str());
  publisher.join();

  ASSERT_TRUE(wait_until([&] { return client.reconnects() >= 1 && client.connected(); }, 20s));
  EXPECT_GE(downs.load(), 1);
  EXPECT_GE(ups.load(), 2);
  client.ack(old);  // stale generation: must be ignored, not break the new connection
  ASSERT_TRUE(wait_until([&] { return outcomes == 200; }, 20s));
  for (const auto& [body, n] : outcome_count) EXPECT_EQ(n, 1) << body << " got " << n << " outcomes";

  ASSERT_EQ(publish_sync(client, message("after")), PublishOutcome::kConfirmed);
  // Every confirmed message (and the requeued "before") reaches the re-registered consumer.
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(inbox.mu);
        std::set<std::string> seen;
        for (const auto& d : inbox.items)
          if (d.generation > old.generation) seen.insert(d.body);
        for (const auto& body : confirmed)
          if (!seen.count(body)) return false;
        return seen.count("after") == 1 && seen.count("before") == 1;
      },
      10s));
  {
    std::lock_guard lock(inbox.mu);
    for (const auto& d : inbox.items) {
      if (d.body == "before" && d.generation > old.generation) {
        EXPECT_TRUE(d.redelivered);
      }
    }
  }
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.reconnects(), 1u);
  client.stop();
}

// Run-time bindings (a gateway binding the chargers it holds): bind routes, unbind
// stops routing (a mandatory publish is returned), and the binding set survives a
// reconnect of an exclusive, auto-delete queue.
TEST_F(BrokerIntegration, RuntimeBindingsRouteAndAreRedeclaredAfterReconnect) {
  const std::string name = "genx-test-bind-" + suffix_;
  const std::string own_queue = "genx.test.own." + suffix_;
  Topology t = topology();
  t.queues.push_back({own_queue, false, true, true, {}});
  BrokerClient client(settings(name), t);
  Inbox inbox;
  client.consume(own_queue, 0, inbox.handler(), true);
  client.start();
  ASSERT_TRUE(client.wait_connected(10s));
  auto mandatory = [&](const std::string& key) {
    Message m = message("cmd", key);
    m.mandatory = true;
    return publish_sync(client, m);
  };
  EXPECT_EQ(mandatory("charger.CP-1"), PublishOutcome::kReturned);
  client.bind(own_queue, exchange_, "charger.CP-1");
  EXPECT_EQ(mandatory("charger.CP-1"), PublishOutcome::kConfirmed);
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 1; }, 5s));
  client.bind(own_queue, exchange_, "charger.CP-2");
  client.unbind(own_queue, exchange_, "charger.CP-2");
  EXPECT_EQ(mandatory("charger.CP-2"), PublishOutcome::kReturned);

  const std::string pid =
      run_command(rabbitmqctl() + " -q list_connections pid client_properties 2>/dev/null | grep -F '" + name +
                  "' | cut -f1 | head -1");
  ASSERT_FALSE(pid.empty()) << "connection " << name << " not listed by rabbitmqctl";
  std::system((rabbitmqctl() + " -q close_connection \"" + pid.substr(0, pid.find_last_not_of("\n") + 1) +
               "\" 'genx test: forced close' >/dev/null 2>&1")
                  .c_str());
  ASSERT_TRUE(wait_until([&] { return client.reconnects() >= 1 && client.connected(); }, 20s));
  // The exclusive queue died with the old connection; its binding came back with it.
  EXPECT_EQ(mandatory("charger.CP-1"), PublishOutcome::kConfirmed);
  EXPECT_EQ(mandatory("charger.CP-2"), PublishOutcome::kReturned);
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 2; }, 5s));
  client.stop();
}

// Chaos: a full broker restart while publishing. Needs a command that restarts the
// broker under test (GENX_TEST_RABBITMQ_RESTART_URL, default GENX_TEST_RABBITMQ_URL),
// e.g. for a private node (scripts/test.sh always sets one up):
//   GENX_TEST_RABBITMQ_RESTART_CMD="GENX_LOCAL_RABBITMQ_PORT=5690 scripts/rabbitmq-local.sh stop &&
//                                   GENX_LOCAL_RABBITMQ_PORT=5690 scripts/rabbitmq-local.sh start"
// Without it the test is skipped (never passed): its own ctest entry reports SKIPPED.
class BrokerRestart : public BrokerIntegration {
 protected:
  void SetUp() override {
    if (restart_command().empty()) GTEST_SKIP() << "GENX_TEST_RABBITMQ_RESTART_CMD not set";
    BrokerIntegration::SetUp();
  }
  void TearDown() override {
    if (!restart_command().empty()) BrokerIntegration::TearDown();
  }
  std::string url() const override { return restart_url(); }
};

TEST_F(BrokerRestart, ConfirmedMessagesSurviveABrokerRestart) {
  auto s = settings();
  s.unsent_publish_timeout = 120s;  // held while the broker restarts, however long that takes here
  BrokerClient client(s, topology());
  client.start();
  ASSERT_TRUE(client.wait_connected(30s));
  constexpr int kCount = 300;
  std::mutex mu;
  std::set<std::string> confirmed;
  std::atomic<int> outcomes{0}, lost{0}, other{0};
  std::thread publisher([&] {
    for (int i = 0; i < kCount; ++i) {
      const std::string body = "r" + std::to_string(i);
      client.publish(message(body), [&, body](PublishOutcome o) {
        if (o == PublishOutcome::kConfirmed) {
          std::lock_guard lock(mu);
          confirmed.insert(body);
        } else {
          ++(o == PublishOutcome::kConnectionLost ? lost : other);
        }
        ++outcomes;
      });
      std::this_thread::sleep_for(20ms);
    }
  });
  // The restart begins once the broker has confirmed some: there is something to lose.
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return confirmed.size() >= 20;
      },
      60s));
  const int restart_rc = std::system(restart_command().c_str());
  publisher.join();
  ASSERT_EQ(restart_rc, 0) << restart_command();
  ASSERT_TRUE(wait_until([&] { return outcomes == kCount; }, 180s)) << outcomes.load() << " outcomes";
  ASSERT_TRUE(client.wait_connected(60s));
  EXPECT_GE(client.reconnects(), 1u);
  EXPECT_EQ(other.load(), 0);
  // The client works again after the restart.
  ASSERT_EQ(publish_sync(client, message("after")), PublishOutcome::kConfirmed);

  // Every confirmed message is in the queue after the restart; kConnectionLost ones
  // (in flight when the broker went down) may or may not be.
  std::set<std::string> confirmed_bodies;
  {
    std::lock_guard lock(mu);
    confirmed_bodies = confirmed;
  }
  ASSERT_GT(confirmed_bodies.size(), 0u);
  const auto depth = queue_depth(client);
  EXPECT_LE(depth, static_cast<std::uint32_t>(kCount + 1));
  Inbox inbox;
  client.consume(queue_, 500, inbox.handler(), true);
  std::set<std::string> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(inbox.mu);
        for (const auto& d : inbox.items) seen.insert(d.body);
        return inbox.items.size() >= depth;
      },
      60s))
      << inbox.size() << " of " << depth << " delivered";
  EXPECT_EQ(seen.count("after"), 1u);
  std::vector<std::string> missing;
  for (const auto& body : confirmed_bodies)
    if (seen.count(body) == 0) missing.push_back(body);
  EXPECT_TRUE(missing.empty()) << missing.size() << " confirmed messages lost, first: " << missing.front();
  std::printf("restart: %zu confirmed, %d connection-lost, %u in queue\n", confirmed_bodies.size(), lost.load(),
              depth);
  client.stop();
}
