#pragma once
// Start-up configuration (DESIGN.md "Configuration"): defaults, then the .env file,
// then the process environment, then command-line flags. Parsed once into a typed
// struct; an unknown flag or malformed value is a ConfigError naming the setting.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "broker/broker_client.hpp"
#include "broker/topology.hpp"
#include "csms/processor.hpp"
#include "security/certificate_authority.hpp"
#include "store/retention.hpp"

namespace genx::app {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The charger side of docs/security.md (gateway: wss:// listener, profile checks).
struct ChargerSecurityConfig {
  int tls_port = 0;  // 0: no wss:// listener
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  std::string tls_ciphers;
  int min_profile = 0;
  int auth_threads = 2;
};

struct Config {
  std::string rabbitmq_url;
  broker::ConnectionSettings amqp;
  broker::Names names;
  std::string database_url;
  std::string database_read_url;  // the api's read side; empty: database_url
  std::string bind_address;
  int gateway_port = 9000;
  int api_port = 8080;
  int notify_port = 8081;
  std::optional<std::string> api_token;
  bool metrics_open = true;  // GENX_METRICS_AUTH=open
  std::string instance_id;
  std::string log_level;
  csms::Policy policy;
  std::size_t max_frame_bytes = 65536;
  // Gateway abuse limits (docs/security.md "Abuse limits"); 0 = unlimited where noted.
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::seconds idle_timeout{900};  // default: 3 heartbeat intervals
  bool prefer_ocpp201 = true;              // OCPP_PREFERRED_VERSION
  std::uint32_t call_rate = 20;            // calls/s per charger; 0 = unlimited
  std::uint32_t call_burst = 2000;
  std::uint32_t call_flood_close = 200;    // 0 = never close
  std::size_t max_connections_per_address = 1000;  // 0 = unlimited
  std::size_t max_connections = 10000;             // 0 = unlimited
  std::chrono::milliseconds reply_timeout{30000};
  std::chrono::milliseconds command_timeout{30000};
  // Site load management (docs/smart-charging.md): how often each ocpp-worker
  // re-runs the allocation (0 = never), and how long it waits for a charger's answer.
  std::chrono::milliseconds smart_interval{1000};
  std::chrono::milliseconds smart_command_timeout{10000};
  double smart_nominal_voltage = 230;  // GENX_SMART_NOMINAL_VOLTAGE
  // The CSMS-side CA of the security extension (docs/security.md): SignCertificate is
  // signed when cert_file is set (GENX_CA_*).
  security::CaSettings ca;
  // Firmware campaigns (docs/firmware.md): how often the runner in the
  // ocpp-worker holding the campaign lease sends what the concurrency limits allow (0 = never).
  std::chrono::milliseconds firmware_interval{1000};
  // How long a role that does not migrate waits for the schema (app/schema_wait.hpp).
  std::chrono::seconds schema_wait{120};
  std::size_t command_queue_limit = 16;
  int ocpp_workers = 1;  // unset: 1 on SQLite, 2 on PostgreSQL (config.cpp)
  int worker_prefetch = 16;
  int worker_commit_batch = 64;  // deliveries per database transaction at most (group commit)
  // How long a group commit may wait to fill while no message in it is awaited (a
  // charger already answered on the broker's confirm, e.g. MeterValues): fewer commits
  // and wake-ups per message; an awaited call (reply_to set) ends the wait at once. Off
  // by default: RabbitMQ confirms a message its consumer acked before it reached the
  // disk at once, so holding acks back delays the confirms that answer chargers.
  std::chrono::milliseconds worker_commit_wait{0};
  // Test only (GENX_TEST_FAULT): "crash-after-commit:ACTION" makes an ocpp-worker SIGKILL
  // itself after committing the first new ACTION message, before any publish.
  std::string test_crash_after_commit;
  int sim_chargers = 3;  // genx run: simulated chargers for the demo (0 = none)
  std::string sim_ocpp = "mixed";  // their OCPP version: 1.6, 2.0.1 or mixed
  int notifiers = 1;
  std::vector<std::string> cors_origins;  // empty: the dashboard's origin (any host, API_PORT)
  std::string web_dir;                    // empty: web/public beside the build directory
  // Diagnostics uploads (docs/diagnostics.md).
  std::string public_api_url;             // GENX_PUBLIC_API_URL; empty: from the request's Host
  std::string diagnostics_dir = "var/diagnostics";
  std::uint64_t diagnostics_max_bytes = 50ULL * 1024 * 1024;
  int diagnostics_retention_days = 30;
  // Operations (src/runtime/ops.hpp): health/metrics ports, log format, queue monitoring.
  int health_port = 9100;  // base of the per-role ops ports; 0 = no ops endpoint
  int role_index = 0;      // this process's index within its role (set by genx run)
  std::string log_format = "text";
  std::string management_url;  // empty: derived from RABBITMQ_URL (AMQP port + 10000)
  std::string management_username;
  std::string management_password;
  long queue_alert_depth = 10000;  // 0 = off
  long dlq_alert_depth = 1;        // 0 = off
  int queue_poll_seconds = 10;
  int analytics_processes = 1;
  int analytics_batch_size = 1000;
  std::chrono::milliseconds analytics_batch_wait{1000};
  std::string time_zone = "UTC";
  ChargerSecurityConfig charger_security;
  // Data retention (docs/operations.md "Data retention"); pruned by ocpp-worker 0 and genx db
  // prune.
  store::RetentionPolicy retention;
  std::chrono::seconds prune_interval{3600};  // 0: no periodic pruning
};

// One setting: environment variable, flag ("" = environment only), default, a one-line
// help (genx --help) and its full meaning in Markdown (docs/configuration.md). This table
// is the one place a setting is documented: docs/configuration.md is generated from it
// (settings_reference(), `genx config reference`) and a test keeps the two equal.
struct SettingInfo {
  const char* env;
  const char* flag;
  const char* default_value;
  const char* help;
  const char* doc;
};
const std::vector<SettingInfo>& settings_table();

// docs/configuration.md: the settings table as Markdown.
std::string settings_reference();

using Variables = std::map<std::string, std::string>;

// Parses KEY=VALUE lines (comments with #, optional quotes, optional "export ").
Variables parse_env_file(const std::string& text);

// Builds the configuration. `environment` is the process environment; `args` are the
// role's command-line arguments (flags --name=value or --name value). The .env file
// named by GENX_ENV_FILE (default ".env") is read when it exists.
Config load_config(const Variables& environment, const std::vector<std::string>& args);

Variables process_environment();

}  // namespace genx::app
