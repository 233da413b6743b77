#include "sim/broker_bench.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker_client.hpp"
#include "sim/sim_core.hpp"

namespace genx::sim {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string url = "amqp://guest:guest@127.0.0.1:5672/";
  double seconds = 5;
  int inflight = 200;
  int responders = 2;
  int prefetch = 16;
  std::size_t body_bytes = 700;  // about the size of a GenX envelope
  std::int64_t max_priority = broker::kOcppMaxPriority;  // 0: a queue without priorities
  std::string json_file;
};

std::string unique_prefix() {
  std::random_device rd;
  return "genx.bench." + std::to_string(getpid()) + "." + std::to_string(rd() % 100000);
}

broker::QueueDecl bench_queue(const std::string& name, std::int64_t max_priority) {
  broker::QueueDecl q;
  q.name = name;
  q.durable = true;
  q.arguments["x-expires"] = std::int64_t{60000};
  if (max_priority > 0) q.arguments["x-max-priority"] = max_priority;
  return q;
}

broker::ConnectionSettings settings(const BenchOptions& o, const std::string& name) {
  auto s = broker::parse_amqp_url(o.url);
  s.connection_name = name;
  if (s.host != "localhost" && s.host.rfind("127.", 0) != 0) {
    throw std::invalid_argument("bench-broker only runs against a loopback broker, not " + s.host);
  }
  return s;
}

void wait_for(broker::BrokerClient& c) {
  if (!c.wait_connected(std::chrono::seconds(15))) throw std::runtime_error("RabbitMQ not reachable");
}

nlohmann::json one_way(const BenchOptions& o, const std::string& prefix) {
  std::string queue = prefix + ".oneway";
  broker::Topology topology;
  topology.queues.push_back(bench_queue(queue, o.max_priority));
  broker::BrokerClient publisher(settings(o, "genx bench publisher"), topology);
  broker::BrokerClient consumer(settings(o, "genx bench consumer"), topology);
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<std::uint64_t> confirmed{0};
  consumer.consume(queue, static_cast<std::uint16_t>(std::min(o.inflight, 65535)),
                   [&](broker::Delivery&& d) {
                     if (measuring) ++consumed;
                     consumer.ack(d);
                   });
  consumer.start();
  publisher.start();
  wait_for(consumer);
  wait_for(publisher);
  std::string body(o.body_bytes, 'x');
  std::function<void()> publish_one = [&] {
    if (stopping) return;
    broker::Message m;
    m.routing_key = queue;
    m.body = body;
    m.priority = 1;
    m.type = "MeterValues";
    publisher.publish(std::move(m), [&](broker::PublishOutcome outcome) {
      if (outcome == broker::PublishOutcome::kConfirmed && measuring) ++confirmed;
      publish_one();
    });
  };
  for (int i = 0; i < o.inflight; ++i) publish_one();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // warm-up
  measuring = true;
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(o.seconds * 1000)));
  measuring = false;
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stopping = true;
  publisher.stop(std::chrono::seconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  consumer.stop(std::chrono::seconds(2));
  return {{"messagesPerSecond", static_cast<double>(consumed) / elapsed},
          {"confirmsPerSecond", static_cast<double>(confirmed) / elapsed},
          {"inflight", o.inflight},
          {"seconds", elapsed}};
}

nlohmann::json request_reply(const BenchOptions& o, const std::string& prefix) {
  std::string requests = prefix + ".requests";
  std::string replies = prefix + ".replies";
  broker::Topology server_topology;
  server_topology.queues.push_back(bench_queue(requests, o.max_priority));
  broker::Topology client_topology = server_topology;
  broker::QueueDecl reply_queue;
  reply_queue.name = replies;
  reply_queue.durable = false;
  reply_queue.exclusive = true;
  reply_queue.auto_delete = true;
  client_topology.queues.push_back(reply_queue);

  std::vector<std::unique_ptr<broker::BrokerClient>> responders;
  for (int i = 0; i < o.responders; ++i) {
    auto r = std::make_unique<broker::BrokerClient>(
        settings(o, "genx bench responder " + std::to_string(i)), server_topology);
    broker::BrokerClient* self = r.get();
    r->consume(requests, static_cast<std::uint16_t>(o.prefetch), [self](broker::Delivery&& d) {
      broker::Message reply;
      reply.routing_key = d.reply_to;
      reply.correlation_id = d.correlation_id;
      reply.body = R"({"status":"Accepted","currentTime":"2026-01-01T00:00:00.000Z","interval":300})";
      reply.persistent = false;
      auto delivery = std::make_shared<broker::Delivery>(std::move(d));
      self->publish(std::move(reply), [self, delivery](broker::PublishOutcome outcome) {
        if (outcome == broker::PublishOutcome::kConfirmed) {
          self->ack(*delivery);
        } else {
          self->nack(*delivery, true);
        }
      });
    });
    r->start();
    responders.push_back(std::move(r));
  }
  for (auto& r : responders) wait_for(*r);

  broker::BrokerClient requester(settings(o, "genx bench requester"), client_topology);
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> round_trips{0};
  std::mutex mutex;  // guards sent_at and latency
  std::unordered_map<std::string, Clock::time_point> sent_at;
  LatencyHistogram latency;
  std::atomic<std::uint64_t> next_id{1};
  std::string body(o.body_bytes, 'x');
  std::function<void()> send_one = [&] {
    if (stopping) return;
    broker::Message m;
    m.routing_key = requests;
    m.body = body;
    m.priority = 8;
    m.type = "Authorize";
    m.reply_to = replies;
    m.correlation_id = std::to_string(next_id++);
    {
      std::lock_guard lock(mutex);
      sent_at[m.correlation_id] = Clock::now();
    }
    requester.publish(std::move(m), [&](broker::PublishOutcome outcome) {
      if (outcome != broker::PublishOutcome::kConfirmed) send_one();
    });
  };
  requester.consume(replies, 0, [&](broker::Delivery&& d) {
    {
      std::lock_guard lock(mutex);
      auto it = sent_at.find(d.correlation_id);
      if (it != sent_at.end()) {
        if (measuring) {
          latency.record(static_cast<std::uint64_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second).count()));
        }
        sent_at.erase(it);
      }
    }
    if (measuring) ++round_trips;
    send_one();
  }, true);
  requester.start();
  wait_for(requester);
  for (int i = 0; i < o.inflight; ++i) send_one();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  measuring = true;
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(o.seconds * 1000)));
  measuring = false;
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stopping = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  requester.stop(std::chrono::seconds(2));
  for (auto& r : responders) r->stop(std::chrono::seconds(2));
  std::lock_guard lock(mutex);
  auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  return {{"roundTripsPerSecond", static_cast<double>(round_trips) / elapsed},
          {"inflight", o.inflight},
          {"responders", o.responders},
          {"prefetch", o.prefetch},
          {"seconds", elapsed},
          {"latencyMs",
           {{"p50", ms(latency.percentile(0.5))},
            {"p99", ms(latency.percentile(0.99))},
            {"max", ms(latency.max())}}}};
}

double number(const std::string& flag, const std::string& v, double min, double max) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= min && d <= max)) {
    throw std::invalid_argument(flag + ": expected a number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  return d;
}

}  // namespace

int run_broker_bench_command(const std::vector<std::string>& args) {
  BenchOptions o;
  if (const char* url = std::getenv("RABBITMQ_URL")) o.url = url;
  std::string mode = "both";
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& flag = args[i];
      if (flag == "--help" || flag == "-h") {
        std::puts(
            "genx bench-broker [--rabbitmq-url URL] [--seconds S] [--inflight N] [--responders N]\n"
            "                  [--prefetch N] [--body-bytes N] [--mode one-way|request-reply|both]\n"
            "                  [--max-priority N] [--json FILE]\n"
            "RabbitMQ alone with GenX's settings: one-way messages/s and request-reply round trips/s.");
        return 0;
      }
      if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
      const std::string& v = args[++i];
      if (flag == "--rabbitmq-url") o.url = v;
      else if (flag == "--seconds") o.seconds = number(flag, v, 0.5, 600);
      else if (flag == "--inflight") o.inflight = static_cast<int>(number(flag, v, 1, 100000));
      else if (flag == "--responders") o.responders = static_cast<int>(number(flag, v, 1, 64));
      else if (flag == "--prefetch") o.prefetch = static_cast<int>(number(flag, v, 1, 65535));
      else if (flag == "--body-bytes") o.body_bytes = static_cast<std::size_t>(number(flag, v, 1, 1 << 20));
      else if (flag == "--json") o.json_file = v;
      else if (flag == "--max-priority") o.max_priority = static_cast<std::int64_t>(number(flag, v, 0, 255));
      else if (flag == "--mode") {
        if (v != "one-way" && v != "request-reply" && v != "both") throw std::invalid_argument("--mode: one-way, request-reply or both");
        mode = v;
      } else throw std::invalid_argument("unknown option " + flag);
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "genx bench-broker: %s\n", e.what());
    return 2;
  }
  try {
    std::string prefix = unique_prefix();
    nlohmann::json result = {{"bodyBytes", o.body_bytes}};
    if (mode != "request-reply") {
      result["oneWay"] = one_way(o, prefix);
      std::printf("one-way (persistent, confirms, manual acks): %.0f msgs/s\n",
                  result["oneWay"]["messagesPerSecond"].get<double>());
    }
    if (mode != "one-way") {
      result["requestReply"] = request_reply(o, prefix);
      std::printf("request-reply (%d in flight, %d responders): %.0f round trips/s, p50 %.2f ms, p99 %.2f ms\n",
                  o.inflight, o.responders, result["requestReply"]["roundTripsPerSecond"].get<double>(),
                  result["requestReply"]["latencyMs"]["p50"].get<double>(),
                  result["requestReply"]["latencyMs"]["p99"].get<double>());
    }
    if (!o.json_file.empty()) {
      std::ofstream out(o.json_file);
      out << result.dump(2) << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genx bench-broker: %s\n", e.what());
    return 1;
  }
}

}  // namespace genx::sim
