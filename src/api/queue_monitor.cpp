#include "api/queue_monitor.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "messages/envelope.hpp"
#include "metrics/metrics.hpp"
#include "metrics/ops_server.hpp"

namespace genx::api {
namespace {

using nlohmann::json;

std::string base64(const std::string& in) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  while (i + 2 < in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string percent_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

bool matches(const std::string& name, const std::vector<std::string>& queues) {
  for (const auto& q : queues) {
    if (name == q || name.rfind(q + ".", 0) == 0) return true;
  }
  return false;
}

bool is_dead_letter(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".dlq") == 0;
}

json rate(const json& queue, const char* stat) {
  auto stats = queue.find("message_stats");
  if (stats == queue.end() || !stats->is_object()) return 0.0;
  auto details = stats->find(std::string(stat) + "_details");
  if (details == stats->end() || !details->contains("rate")) return 0.0;
  return (*details)["rate"];
}

std::int64_t total(const json& queue, const char* stat) {
  auto stats = queue.find("message_stats");
  if (stats == queue.end() || !stats->is_object()) return 0;
  auto it = stats->find(stat);
  return it != stats->end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

std::int64_t number(const json& queue, const char* key) {
  auto it = queue.find(key);
  return it != queue.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

// x-max-length of a queue (its arguments, or a policy's max-length when lower), or null.
json max_length(const json& queue) {
  std::int64_t limit = 0;
  auto args = queue.find("arguments");
  if (args != queue.end() && args->is_object()) {
    auto it = args->find("x-max-length");
    if (it != args->end() && it->is_number_integer()) limit = it->get<std::int64_t>();
  }
  auto policy = queue.find("effective_policy_definition");
  if (policy != queue.end() && policy->is_object()) {
    auto it = policy->find("max-length");
    if (it != policy->end() && it->is_number_integer()) {
      auto p = it->get<std::int64_t>();
      if (limit <= 0 || p < limit) limit = p;
    }
  }
  return limit > 0 ? json(limit) : json(nullptr);
}

metrics::Family<metrics::Gauge>& max_length_gauge() {
  static auto& g = metrics::registry().gauge("genx_queue_max_length", "x-max-length of a bounded GenX queue",
                                             {"queue"});
  return g;
}

metrics::Family<metrics::Counter>& full_alerts_counter() {
  static auto& c = metrics::registry().counter(
      "genx_queue_full_alerts_total", "times a bounded GenX queue reached 90% of its x-max-length (QueueFull events)",
      {"queue"});
  return c;
}

}  // namespace

// The configured order (the main queue first, as the dashboard shows it): each queue,
// then its DLQ and retry queues by name; anything else last.
void sort_as_configured(json& list, const std::vector<std::string>& queues) {
  auto rank = [&](const std::string& name) {
    for (std::size_t i = 0; i < queues.size(); ++i) {
      if (name == queues[i] || name.rfind(queues[i] + ".", 0) == 0) return i;
    }
    return queues.size();
  };
  std::sort(list.begin(), list.end(), [&](const json& a, const json& b) {
    const std::string na = a.value("name", ""), nb = b.value("name", "");
    const auto ra = rank(na), rb = rank(nb);
    return ra != rb ? ra < rb : na < nb;
  });
}

json queues_from_management(const json& answer, const std::vector<std::string>& queues) {
  json out = json::array();
  if (!answer.is_array()) return out;
  std::map<std::string, json> by_name;
  for (const auto& q : answer) {
    if (!q.is_object() || !q.contains("name") || !q["name"].is_string()) continue;
    std::string name = q["name"];
    if (!matches(name, queues)) continue;
    by_name[name] = {{"name", name},
                     {"messages", number(q, "messages")},
                     {"messagesReady", number(q, "messages_ready")},
                     {"unacked", number(q, "messages_unacknowledged")},
                     {"consumers", number(q, "consumers")},
                     {"publishRate", rate(q, "publish")},
                     {"deliverRate", rate(q, "deliver_get")},
                     {"ackRate", rate(q, "ack")},
                     {"redeliverRate", rate(q, "redeliver")},
                     {"published", total(q, "publish")},
                     {"delivered", total(q, "deliver_get")},
                     {"acked", total(q, "ack")},
                     {"maxLength", max_length(q)},
                     {"deadLetter", is_dead_letter(name)},
                     {"source", "management"}};
  }
  for (auto& [name, q] : by_name) {
    if (q["deadLetter"].get<bool>()) {
      q["errorRate"] = q["publishRate"];
    } else if (auto dlq = by_name.find(name + ".dlq"); dlq != by_name.end()) {
      q["errorRate"] = dlq->second["publishRate"];
    } else {
      q["errorRate"] = 0.0;
    }
    out.push_back(q);
  }
  sort_as_configured(out, queues);
  return out;
}

struct QueueMonitor::Impl {
  QueueMonitorOptions options;
  broker::BrokerClient* broker;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable cv;
  bool stopping = false;
  std::map<std::string, bool> alerted;

  json fetch() {
    auto result = metrics::http_get(
        options.management_url + "/api/queues/" + percent_encode(options.vhost), 5000,
        "Basic " + base64(options.username + ":" + options.password));
    if (result.status == 200) {
      auto answer = json::parse(result.body, nullptr, false);
      if (!answer.is_discarded()) return queues_from_management(answer, options.queues);
    }
    spdlog::warn("queue monitor: management API {} unavailable ({}); using passive declares",
                 options.management_url,
                 result.status ? "HTTP " + std::to_string(result.status) : result.error);
    json out = json::array();
    if (!broker) return out;
    std::vector<std::string> names;
    for (const auto& q : options.queues) {
      names.push_back(q);
      if (!is_dead_letter(q)) names.push_back(q + ".dlq");
    }
    for (const auto& name : names) {
      auto info = broker->check_queue(name, std::chrono::seconds(2));
      if (!info) continue;
      out.push_back({{"name", name},
                     {"messages", info->messages},
                     {"messagesReady", nullptr},
                     {"unacked", nullptr},
                     {"consumers", info->consumers},
                     {"publishRate", nullptr},
                     {"deliverRate", nullptr},
                     {"ackRate", nullptr},
                     {"redeliverRate", nullptr},
                     {"errorRate", nullptr},
                     {"published", nullptr},
                     {"delivered", nullptr},
                     {"acked", nullptr},
                     {"maxLength", nullptr},
                     {"deadLetter", is_dead_letter(name)},
                     {"source", "amqp"}});
    }
    return out;
  }

  void check_alerts(const json& queues) {
    static auto& depth = metrics::registry().gauge(
        "genx_queue_messages", "messages in a GenX queue at the last check", {"queue"});
    static auto& consumers = metrics::registry().gauge(
        "genx_queue_consumers", "consumers of a GenX queue at the last check", {"queue"});
    for (const auto& q : queues) {
      std::string name = q["name"];
      auto messages = q["messages"].get<std::int64_t>();
      depth.with({name}).set(static_cast<double>(messages));
      consumers.with({name}).set(q["consumers"].get<double>());
      check_full(q, name, messages);
      bool dlq = q["deadLetter"].get<bool>();
      long threshold = dlq ? options.dlq_alert_depth : options.queue_alert_depth;
      if (threshold <= 0) continue;
      bool over = messages >= threshold;
      bool& was = alerted[name];
      if (over && !was) {
        std::string code = dlq ? "DeadLetters" : "QueueBacklog";
        std::string text = "queue " + name + " holds " + std::to_string(messages) +
                           " messages (alert threshold " + std::to_string(threshold) + ")";
        spdlog::warn("queue monitor: {}", text);
        publish_alert(code, text, name, messages, threshold);
      } else if (!over && was) {
        spdlog::info("queue monitor: queue {} back below {} ({} messages)", name, threshold,
                     messages);
      }
      was = over;
    }
  }

  // A bounded queue at 90% of its x-max-length (rounded up) drops its oldest messages (or
  // is about to): one QueueFull event, a warning, and genx_queue_full_alerts_total.
  void check_full(const json& q, const std::string& name, std::int64_t messages) {
    auto& limit_gauge = max_length_gauge();
    auto& full_alerts = full_alerts_counter();
    auto limit = q.find("maxLength");
    if (limit == q.end() || !limit->is_number_integer()) return;
    const auto max = limit->get<std::int64_t>();
    limit_gauge.with({name}).set(static_cast<double>(max));
    const std::int64_t threshold = (max * 9 + 9) / 10;
    const bool over = messages >= threshold;
    bool& was = alerted[name + " full"];
    if (over && !was) {
      std::string text = "queue " + name + " is full: " + std::to_string(messages) + " of its " +
                         std::to_string(max) +
                         " messages limit; the oldest are dropped (is its consumer reading?)";
      spdlog::warn("queue monitor: {}", text);
      full_alerts.with({name}).inc();
      publish_alert("QueueFull", text, name, messages, threshold);
    } else if (!over && was) {
      spdlog::info("queue monitor: queue {} back below 90% of its limit ({} messages)", name,
                   messages);
    }
    was = over;
  }

  void publish_alert(const std::string& code, const std::string& text, const std::string& queue,
                     std::int64_t messages, long threshold) {
    if (!broker) return;
    genx::messages::DomainEvent event;
    event.type = "error.occurred";
    event.fields = {{"code", code},
                    {"message", text},
                    {"queue", queue},
                    {"messages", messages},
                    {"threshold", threshold}};
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    broker::Message message;
    message.exchange = options.events_exchange;
    message.routing_key = "notification.error.occurred";
    message.type = event.type;
    message.body = genx::messages::encode_event(event, genx::messages::format_timestamp(now));
    broker->publish(std::move(message), [queue](broker::PublishOutcome outcome) {
      if (outcome != broker::PublishOutcome::kConfirmed) {
        spdlog::warn("queue monitor: alert for {} not confirmed by RabbitMQ", queue);
      }
    });
  }

  void loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      try {
        check_alerts(fetch());
      } catch (const std::exception& e) {
        spdlog::warn("queue monitor: check failed: {}", e.what());
      }
      lock.lock();
      cv.wait_for(lock, options.poll, [&] { return stopping; });
    }
  }
};

QueueMonitor::QueueMonitor(QueueMonitorOptions options, broker::BrokerClient* broker)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->broker = broker;
  max_length_gauge();  // on /metrics from the start
  full_alerts_counter();
}

QueueMonitor::~QueueMonitor() { stop(); }

json QueueMonitor::snapshot() { return impl_->fetch(); }

void QueueMonitor::start() {
  impl_->thread = std::thread([this] { impl_->loop(); });
}

void QueueMonitor::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace genx::api
