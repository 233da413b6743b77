#include "runtime/ops.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "api/read_store.hpp"

namespace genx::app {

int ops_port(int base, std::string_view role, int index) {
  if (base <= 0) return 0;
  if (role == "gateway") return base + index;
  if (role == "ocpp-worker") return base + 10 + index;
  if (role == "notifier") return base + 100 + index;
  if (role == "analytics") return base + 200 + index;
  return 0;
}

std::vector<RoleEndpoint> local_role_endpoints(const Config& config,
                                               const std::vector<std::string>& roles) {
  std::vector<RoleEndpoint> out;
  auto add = [&](const std::string& role, int count) {
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) return;
    for (int i = 0; i < count; ++i) {
      int port = ops_port(config.health_port, role, i);
      if (port > 0) {
        out.push_back({role + "." + std::to_string(i), "http://127.0.0.1:" + std::to_string(port)});
      }
    }
  };
  add("gateway", 1);
  add("ocpp-worker", config.ocpp_workers);
  add("notifier", config.notifiers);
  add("analytics", config.analytics_processes);
  return out;
}

void register_broker_metrics(broker::BrokerClient& broker) {
  auto& r = metrics::registry();
  r.add_callback("genx_rabbitmq_connected", "1 when the RabbitMQ connection is up",
                 [&broker] { return broker.connected() ? 1.0 : 0.0; });
  struct Item {
    const char* name;
    const char* help;
    std::uint64_t broker::BrokerCounters::*field;
  };
  static const Item kItems[] = {
      {"genx_rabbitmq_published_total", "messages written to RabbitMQ",
       &broker::BrokerCounters::published},
      {"genx_rabbitmq_confirmed_total", "publishes confirmed by RabbitMQ",
       &broker::BrokerCounters::confirmed},
      {"genx_rabbitmq_nacked_total", "publishes refused by RabbitMQ",
       &broker::BrokerCounters::nacked},
      {"genx_rabbitmq_returned_total", "mandatory publishes returned unroutable",
       &broker::BrokerCounters::returned},
      {"genx_rabbitmq_connection_lost_total", "publishes whose outcome was lost with the connection",
       &broker::BrokerCounters::connection_lost},
      {"genx_rabbitmq_delivered_total", "deliveries received from RabbitMQ",
       &broker::BrokerCounters::delivered},
      {"genx_rabbitmq_reconnects_total", "RabbitMQ reconnections",
       &broker::BrokerCounters::reconnects},
  };
  for (const auto& item : kItems) {
    auto field = item.field;
    r.add_callback(item.name, item.help,
                   [&broker, field] { return static_cast<double>(broker.counters().*field); },
                   true);
  }
  r.add_callback("genx_process_pid", "process id of this role instance",
                 [] { return static_cast<double>(getpid()); });
}

nlohmann::json rabbitmq_check(broker::BrokerClient& broker, const std::string& queue,
                              bool& healthy) {
  bool connected = broker.connected();
  nlohmann::json check = {{"status", connected ? "up" : "down"}, {"node", broker.node()}};
  auto info = connected ? broker.check_queue(queue, std::chrono::seconds(2)) : std::nullopt;
  if (info) {
    check["queue"] = {{"name", queue}, {"messages", info->messages}, {"consumers", info->consumers}};
  } else {
    healthy = false;
    check["status"] = "down";
    check["error"] = connected ? "queue " + queue + " not available"
                               : std::string("not connected to RabbitMQ");
  }
  return check;
}

nlohmann::json database_check(api::ReadStore& store, bool& healthy) {
  try {
    store.ping();
    return {{"status", "up"}};
  } catch (const std::exception& e) {
    healthy = false;
    return {{"status", "down"}, {"error", e.what()}};
  }
}

std::unique_ptr<metrics::OpsServer> start_ops_server(const Config& config, std::string_view role,
                                                     std::function<metrics::HealthReport()> health) {
  int port = ops_port(config.health_port, role, config.role_index);
  if (port == 0) return nullptr;
  std::string role_name(role);
  std::string process = role_name + "." + std::to_string(config.role_index);
  auto server = std::make_unique<metrics::OpsServer>(
      config.bind_address, port, [health = std::move(health), role_name, process] {
        auto report = health();
        report.body["role"] = role_name;
        report.body["process"] = process;
        report.body["pid"] = getpid();
        return report;
      });
  try {
    server->start();
  } catch (const std::exception& e) {
    // A taken port must not take the role down with it (two hand-started workers with
    // the same GENX_ROLE_INDEX): the role runs, its probe fails visibly.
    spdlog::error("{}; this {} runs WITHOUT /health and /metrics (give each instance its own "
                  "GENX_ROLE_INDEX)",
                  e.what(), role_name);
    return nullptr;
  }
  return server;
}

nlohmann::json collect_role_health(const std::vector<RoleEndpoint>& endpoints, bool strict,
                                   bool& all_healthy) {
  nlohmann::json roles = nlohmann::json::object();
  for (const auto& endpoint : endpoints) {
    auto result = metrics::http_get(endpoint.url + "/health", 2000);
    if (result.status == 0) {
      roles[endpoint.name] = {{"status", "unreachable"}, {"url", endpoint.url}, {"error", result.error}};
      if (strict) all_healthy = false;
      continue;
    }
    auto body = nlohmann::json::parse(result.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      body = {{"status", "unhealthy"}, {"error", "unreadable /health answer"}};
    }
    if (result.status != 200) all_healthy = false;
    body["url"] = endpoint.url;
    roles[endpoint.name] = body;
  }
  return roles;
}

}  // namespace genx::app
