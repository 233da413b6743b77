#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/api_server.hpp"
#include "api/queue_monitor.hpp"
#include "app/gateway_security.hpp"
#include "runtime/ops.hpp"
#include "api/command_client.hpp"
#include "app/roles.hpp"
#include "broker/topology.hpp"
#include "gateway/gateway.hpp"
#include "runtime/role.hpp"
#include "app/schema_wait.hpp"
#include "store/open_certificate_store.hpp"
#include "store/open_store.hpp"

namespace genx::app {

bool has_role(std::string_view role) {
  // The roles this binary can run as supervised children (genx run). A new role adds
  // its subcommand in main.cpp and its name here.
  return role == "gateway" || role == "ocpp-worker" || role == "api" || role == "analytics" ||
         role == "notifier";
}

void warn_when_open(auth::AccessControl& access, const char* role, const char* what) {
  if (access.enabled()) return;
  spdlog::warn("##########################################################################");
  spdlog::warn("# {}: NO API TOKEN CONFIGURED: the {} is open to anyone who can reach it.", role, what);
  spdlog::warn("# Create one (genx tokens create --name NAME --role operator) or set API_TOKEN.");
  spdlog::warn("##########################################################################");
}

int run_gateway(const Config& config) {
  // Charger credentials are read from the database (security::CredentialStore).
  wait_for_schema(config, "gateway");
  runtime::Role role(config, "gateway", broker::gateway_topology(config.names, config.instance_id));
  role.on_signal_log("closing charger connections");
  broker::BrokerClient& broker = role.broker();

  gateway::GatewayOptions options;
  options.bind_address = config.bind_address;
  options.port = config.gateway_port;
  options.instance_id = config.instance_id;
  options.names = config.names;
  options.max_frame_bytes = config.max_frame_bytes;
  options.reply_timeout = config.reply_timeout;
  options.command_timeout = config.command_timeout;
  options.max_queued_commands = config.command_queue_limit;
  // A charger that sends nothing (not even a WebSocket pong) for GENX_IDLE_TIMEOUT_S
  // (default three heartbeat intervals) is gone.
  options.idle_timeout = config.idle_timeout;
  options.prefer_ocpp201 = config.prefer_ocpp201;
  options.handshake_timeout = config.handshake_timeout;
  options.call_rate = {config.call_rate, config.call_burst, config.call_flood_close};
  options.connection_limits = {config.max_connections_per_address, config.max_connections};
  options.security = gateway_security_settings(config);
  gateway::Gateway gateway(options, broker);
  install_sighup_handler([&gateway] { gateway.reload_tls(); });
  metrics::registry().add_callback("genx_gateway_connected_chargers", "chargers connected now",
                                   [&gateway] { return double(gateway.connected_chargers()); });
  metrics::registry().add_callback("genx_gateway_open_connections",
                                   "TCP connections open now, handshakes included (GENX_MAX_CONNECTIONS)",
                                   [&gateway] { return double(gateway.open_connections()); });
  role.health(broker::gateway_reply_queue(config.instance_id), [&gateway](metrics::HealthReport& report) {
    report.body["connectedChargers"] = gateway.connected_chargers();
  });
  role.on_stop([&gateway] { gateway.stop(); });
  return role.run([&gateway] { gateway.run(); });
}

// GENX_WEB_DIR, or web/public of the source tree the binary was built in (build/genx ->
// web/public), or ./web/public.
static std::string resolve_web_dir(const std::string& configured) {
  namespace fs = std::filesystem;
  if (!configured.empty()) return configured;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "web" / "public");
    candidates.push_back(exe.parent_path() / "web" / "public");
  }
  candidates.push_back(fs::current_path(ec) / "web" / "public");
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c / "index.html", ec)) return c.string();
  }
  spdlog::warn("no dashboard files found (set GENX_WEB_DIR); serving the API only");
  return {};
}

int run_api(const Config& config) {
  wait_for_schema(config, "api");
  runtime::Role role(config, "api", broker::api_topology(config.names, config.instance_id));
  broker::BrokerClient& broker = role.broker();
  // The read side may connect as a read-only role (DATABASE_READ_URL); commands and
  // charger credentials write through DATABASE_URL.
  auto store = store::open_api_read_store(config.database_url, config.database_read_url);
  api::ApiOptions options;
  options.bind_address = config.bind_address;
  options.port = config.api_port;
  // Tokens are checked on the api's I/O thread against their own database connection.
  auto token_store = store::open_api_token_store(config.database_url, config.database_read_url);
  auth::AccessControl access(config.api_token, token_store.get());
  warn_when_open(access, "api", "REST API (commands included)");
  options.access = &access;
  options.metrics_open = config.metrics_open;
  options.cors_origins = config.cors_origins;
  options.ocpp_queue = config.names.queue_ocpp_messages;
  options.events_exchange = config.names.exchange_events;
  options.notify_port = config.notify_port;
  options.gateway_port = config.gateway_port;
  options.web_dir = resolve_web_dir(config.web_dir);
  api::QueueMonitorOptions monitor_options;
  monitor_options.management_url = config.management_url;
  monitor_options.username = config.management_username;
  monitor_options.password = config.management_password;
  monitor_options.vhost = config.amqp.vhost;
  monitor_options.queues = {config.names.queue_ocpp_messages, config.names.queue_analytics,
                            config.names.queue_charging_events, config.names.queue_notifications};
  if (config.names.queue_type == broker::QueueType::kQuorum) {
    // The high class queue of quorum mode (broker/topology.hpp) is shown beside ocpp_messages.
    monitor_options.queues.insert(monitor_options.queues.begin() + 1,
                                  broker::high_class_queue(config.names.queue_ocpp_messages));
  }
  monitor_options.events_exchange = config.names.exchange_events;
  monitor_options.queue_alert_depth = config.queue_alert_depth;
  monitor_options.dlq_alert_depth = config.dlq_alert_depth;
  monitor_options.poll = std::chrono::seconds(config.queue_poll_seconds);
  api::QueueMonitor monitor(monitor_options, &broker);
  options.queues = [&monitor] { return monitor.snapshot(); };
  std::vector<std::string> peer_roles = {"gateway", "ocpp-worker"};
  if (has_role("notifier")) peer_roles.push_back("notifier");
  if (has_role("analytics")) peer_roles.push_back("analytics");
  auto peers = local_role_endpoints(config, peer_roles);
  options.roles_health = [peers](bool& healthy) {
    return collect_role_health(peers, false, healthy);
  };
  options.time_zone = config.time_zone;
  options.currency = config.policy.tariff.currency;
  options.nominal_voltage = config.smart_nominal_voltage;
  options.public_api_url = config.public_api_url;
  options.diagnostics_dir = config.diagnostics_dir;
  options.diagnostics_max_bytes = config.diagnostics_max_bytes;
  options.diagnostics_retention_days = config.diagnostics_retention_days;
  api::ApiHandler handler(options, *store, &broker);
  api::ApiServer server(options, handler);
  // Commands wait asynchronously on the api's one I/O thread (see api_server.hpp).
  api::CommandClient commands(
      broker, config.names, broker::api_reply_queue(config.instance_id), config.command_timeout,
      [&server](std::function<void()> fn) { server.post(std::move(fn)); },
      [&server](std::chrono::milliseconds delay, std::function<void()> fn) {
        server.schedule(delay, std::move(fn));
      });
  commands.start();
  // Command effects and charger credentials: their own connection, used on the api's
  // one I/O thread like the read side.
  auto command_store = store::open_store(config.database_url, store::Schema::require_current);
  handler.enable_commands(commands, *command_store, *command_store);
  handler.enable_sites(*command_store);
  handler.enable_reservations(*command_store);
  std::unique_ptr<security::CertificateStore> certificate_store;
  try {
    certificate_store = store::open_certificate_store(config.database_url);
    handler.enable_certificates(*certificate_store);
  } catch (const std::invalid_argument& e) {
    spdlog::warn("api: certificate and security-event routes off: {}", e.what());
  }
  handler.enable_firmware(command_store->firmware_store());
  // Reservations past their expiryDate end within a second (docs/reservations.md).
  std::function<void()> sweep_reservations = [&] {
    handler.expire_reservations();
    server.schedule(std::chrono::seconds(1), sweep_reservations);
  };
  server.schedule(std::chrono::seconds(1), sweep_reservations);
  // Diagnostics uploads (docs/diagnostics.md): their own connection; retention every 10 minutes.
  auto diagnostics_store = store::open_diagnostics_store(config.database_url);
  handler.enable_diagnostics(*diagnostics_store);
  std::function<void()> prune_diagnostics = [&] {
    handler.prune_diagnostics();
    server.schedule(std::chrono::minutes(10), prune_diagnostics);
  };
  server.schedule(std::chrono::seconds(5), prune_diagnostics);
  // Local authorization lists (docs/local-list.md): their own connection, the api's thread;
  // chargers that booted are asked their list version within a few seconds.
  std::unique_ptr<api::LocalListStore> local_list_store;
  try {
    local_list_store = store::open_local_list_store(config.database_url);
    handler.enable_local_list(*local_list_store);
  } catch (const std::invalid_argument& e) {  // sqlite::memory: (one process only)
    spdlog::warn("api: local authorization list routes disabled: {}", e.what());
  }
  std::function<void()> check_local_lists = [&] {
    handler.check_local_list_versions();
    server.schedule(std::chrono::seconds(3), check_local_lists);
  };
  server.schedule(std::chrono::seconds(3), check_local_lists);
  role.on_stop([&server] { server.stop(); });
  // The api serves /health and /metrics on its own port: no ops server of its own.
  return role.run(
      [&] {
        monitor.start();
        server.run();
        monitor.stop();
      },
      std::chrono::seconds(2));
}

}  // namespace genx::app
