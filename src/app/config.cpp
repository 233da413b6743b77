#include "app/config.hpp"

#include "messages/actions.hpp"

#include "broker/retry.hpp"
#include "analytics/time_zone.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

extern char** environ;

namespace genx::app {
namespace {

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

std::string default_instance_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "genx");
  return std::string(host) + "-" + std::to_string(getpid());
}

long parse_integer(const std::string& name, const std::string& value, long min, long max) {
  long result = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), result);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    throw ConfigError(name + ": expected an integer, got \"" + value + "\"");
  }
  if (result < min || result > max) {
    throw ConfigError(name + ": " + value + " is out of range [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
  }
  return result;
}

// Whether amqp[s]://user:password@... carries a password (never echoed in errors); for
// a node list, whether any node does.
bool url_has_password(std::string_view url) {
  if (const auto comma = url.find(','); comma != std::string_view::npos) {
    return url_has_password(url.substr(0, comma)) || url_has_password(url.substr(comma + 1));
  }
  const auto scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?"));
  const auto at = rest.rfind('@');
  return at != std::string_view::npos && rest.substr(0, at).find(':') != std::string_view::npos;
}

std::string read_secret_file(const std::string& setting, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(setting + ": cannot read " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.pop_back();
  if (line.empty()) throw ConfigError(setting + ": " + path + " is empty (expected the secret on its first line)");
  return line;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const std::vector<SettingInfo>& settings_table() {
  static const std::vector<SettingInfo> table = {
      {"RABBITMQ_URL", "--rabbitmq-url", "amqp://localhost:5672",
       "RabbitMQ address (amqps:// for TLS), or the nodes of a cluster separated by commas "
       "(amqp://u@h1:5672,h2:5672,h3:5672/vhost: connects to one, fails over to the next); user, "
       "password and vhost in the URL win (a password in the --rabbitmq-url flag is refused: flags "
       "show in ps)",
       R"md(broker address (`amqps://` for TLS, see [Security](security.md)), or the nodes of a RabbitMQ cluster separated by commas, e.g. `amqp://genx@rmq1:5672,rmq2:5672,rmq3:5672/genx`: each process connects to one node and fails over to the next ([RabbitMQ cluster: node lists and quorum queues](operations.md#rabbitmq-cluster-node-lists-and-quorum-queues)); user, password and vhost in the URL win over the next settings. A password inside the `--rabbitmq-url` flag is refused (flags show in `ps`))md"},
      {"RABBITMQ_USERNAME", "--rabbitmq-username", "guest", "RabbitMQ user",
       R"md(broker user)md"},
      {"RABBITMQ_PASSWORD", "--rabbitmq-password", "guest",
       "RabbitMQ password: environment or .env only (the flag is refused: flags show in ps)",
       R"md(broker password: environment or `.env` only; the flag is refused with an error (flags show in `ps`))md"},
      {"RABBITMQ_PASSWORD_FILE", "--rabbitmq-password-file", "",
       "file whose first line is the RabbitMQ password (wins over RABBITMQ_PASSWORD)",
       R"md(file whose first line is the broker password (e.g. a systemd credential or a mounted secret); wins over `RABBITMQ_PASSWORD`)md"},
      {"RABBITMQ_VHOST", "--rabbitmq-vhost", "/", "RabbitMQ virtual host",
       R"md(virtual host (one per environment or tenant; a vhost in the URL wins))md"},
      {"RABBITMQ_CA_FILE", "--rabbitmq-ca-file", "",
       "amqps://: PEM CA bundle that must have signed the broker's certificate (default: "
       "the system CAs, /etc/ssl/certs/ca-certificates.crt)",
       R"md(When unset: system CAs. `amqps://`: PEM CA bundle the broker's certificate must chain to (default `/etc/ssl/certs/ca-certificates.crt`); the host name is verified too)md"},
      {"RABBITMQ_CERT_FILE", "--rabbitmq-cert-file", "",
       "amqps://: PEM client certificate for brokers that require one (with RABBITMQ_KEY_FILE)",
       R"md(`amqps://`: PEM client certificate, for brokers that require one (set with `RABBITMQ_KEY_FILE`))md"},
      {"RABBITMQ_KEY_FILE", "--rabbitmq-key-file", "", "amqps://: PEM private key of RABBITMQ_CERT_FILE",
       R"md(`amqps://`: PEM private key of `RABBITMQ_CERT_FILE`)md"},
      {"RABBITMQ_HEARTBEAT", "--rabbitmq-heartbeat", "30", "AMQP heartbeat in seconds (0 = off)",
       R"md(AMQP heartbeat, seconds (0 = off))md"},
      {"RABBITMQ_QUEUE_OCPP_MESSAGES", "--rabbitmq-queue-ocpp-messages", "ocpp_messages",
       "queue of charger calls for the ocpp-workers",
       R"md(charger calls for the workers)md"},
      {"RABBITMQ_QUEUE_NOTIFICATIONS", "--rabbitmq-queue-notifications", "notifications",
       "durable queue of notification events",
       R"md(shared, non-durable feed of every event; declared only with `GENX_NOTIFICATIONS_MAX_LENGTH` (see [Queues and their bounds](operations.md#queues-and-their-bounds)))md"},
      {"RABBITMQ_QUEUE_ANALYTICS", "--rabbitmq-queue-analytics", "analytics",
       "queue of events for the analytics processor",
       R"md(events for the analytics processor)md"},
      {"RABBITMQ_QUEUE_CHARGING_EVENTS", "--rabbitmq-queue-charging-events", "charging_events",
       "queue of charging events for billing and integrations",
       R"md(charging events for billing and integrations; declared only with `GENX_CHARGING_EVENTS_MAX_LENGTH`)md"},
      {"RABBITMQ_EXCHANGE_OCPP", "--rabbitmq-exchange-ocpp", "ocpp_exchange",
       "topic exchange for charger calls (ocpp.message.{Action})",
       R"md(topic exchange of charger calls)md"},
      {"RABBITMQ_EXCHANGE_EVENTS", "--rabbitmq-exchange-events", "events_exchange",
       "topic exchange for domain events (notification.{event})",
       R"md(topic exchange of domain events)md"},
      {"RABBITMQ_EXCHANGE_COMMANDS", "--rabbitmq-exchange-commands", "commands_exchange",
       "direct exchange for commands to chargers (routing key = charge point id)",
       R"md(direct exchange of commands to chargers (routing key = charge point id))md"},
      {"DATABASE_URL", "--database-url", "sqlite://var/genx.db",
       "database: sqlite://PATH (relative to the working directory) or sqlite:///ABS/PATH",
       R"md(`sqlite://relative/path`, `sqlite:///absolute/path`, `sqlite::memory:`, or `postgresql://USER@HOST:PORT/DB` (also `postgres://`) with libpq's parameters in the query, e.g. `?sslmode=verify-full&sslrootcert=/etc/genx/db-ca.pem` (TLS with the server's certificate checked against that CA and its host name))md"},
      {"DATABASE_READ_URL", "--database-read-url", "",
       "database of the api's read side (REST reads, dashboard, token checks), e.g. a PostgreSQL "
       "role with SELECT only (genx db grant read); empty = DATABASE_URL",
       R"md(When unset: `DATABASE_URL`. The api's read side — REST reads, the dashboard's data, API token checks — connects here: on PostgreSQL a role with SELECT only (`genx db grant read`), so no bug behind a GET can change data. The api's writes (what commands taught, charger security) still use `DATABASE_URL`)md"},
      {"DATABASE_READ_PASSWORD_FILE", "", "", "the password file of DATABASE_READ_URL's role",
       R"md(When unset: `DATABASE_PASSWORD_FILE`. The password file of `DATABASE_READ_URL`'s role)md"},
      {"DATABASE_PASSWORD_FILE", "", "", "PostgreSQL: file whose first line is the database password",
       R"md(PostgreSQL: a file whose first line is the password (keeps it out of the URL, the environment of `ps` and the logs); else the URL's password or libpq's `~/.pgpass`)md"},
      {"DATABASE_POOL_SIZE", "", "4", "PostgreSQL: connections per process (1-200)",
       R"md(PostgreSQL: connections per process (1–200), shared by every port the process opens (a worker: its unit of work, its health check, the pruner); a unit of work borrows one for its duration and waits up to 30 s for a free one (then a transient error, retried). Size the server's `max_connections` for processes × this)md"},
      {"GENX_SCHEMA_WAIT_SECONDS", "--schema-wait-seconds", "120",
       "how long gateway, api, notifier and analytics wait at start for the database schema "
       "to be migrated (by genx db migrate or an ocpp-worker) before they exit",
       R"md(how long the gateway, api, notifier and analytics wait at start for `genx db migrate` or an ocpp-worker to bring the schema up to date before they exit with an error (they never migrate))md"},
      {"GENX_BIND_ADDRESS", "--bind-address", "0.0.0.0", "address the listeners bind to",
       R"md(address the listeners bind to)md"},
      {"GATEWAY_PORT", "--gateway-port", "9000",
       "OCPP WebSocket port (ws://HOST:PORT/ocpp/ID); 0 = no plain listener (TLS only)",
       R"md(OCPP WebSocket port (`ws://`); `0` = no plain listener (TLS only))md"},
      {"GATEWAY_TLS_PORT", "--gateway-tls-port", "0",
       "OCPP over TLS port (wss://HOST:PORT/ocpp/ID, security profiles 2 and 3); 0 = off",
       R"md(OCPP over TLS (`wss://`, security profiles 2 and 3); `0` = off. Needs the next two)md"},
      {"GATEWAY_TLS_CERT_FILE", "--gateway-tls-cert-file", "",
       "PEM server certificate chain for GATEWAY_TLS_PORT (reloaded on SIGHUP)",
       R"md(PEM server certificate chain (server certificate first); re-read on SIGHUP)md"},
      {"GATEWAY_TLS_KEY_FILE", "--gateway-tls-key-file", "",
       "PEM private key of that certificate (reloaded on SIGHUP)",
       R"md(PEM private key of that certificate; re-read on SIGHUP)md"},
      {"GATEWAY_TLS_CA_FILE", "--gateway-tls-ca-file", "",
       "PEM CA that issues charger client certificates (security profile 3); empty = none asked",
       R"md(PEM CA certificate(s) that issue charger client certificates (profile 3); unset = no client certificate asked; re-read on SIGHUP)md"},
      {"GATEWAY_TLS_CIPHERS", "--gateway-tls-ciphers", "",
       "OpenSSL cipher list for TLS 1.2 (default: ECDHE with AES-GCM or ChaCha20 only)",
       R"md(When unset: built-in. OpenSSL cipher list for TLS 1.2 (default: ECDHE with AES-GCM or ChaCha20-Poly1305 only); TLS 1.3 uses OpenSSL's suites)md"},
      {"GENX_CA_CERT_FILE", "--ca-cert-file", "",
       "PEM CA certificate that signs chargers' SignCertificate CSRs (security extension); empty = every CSR Rejected",
       R"md(PEM certificate of the CSMS-side CA that signs the CSRs chargers send with `SignCertificate` (OCPP 1.6 security extension); unset = every CSR is answered `Rejected`. Give the gateway the same file in `GATEWAY_TLS_CA_FILE` so the certificates it signs work for security profile 3. See [Security](security.md))md"},
      {"GENX_CA_KEY_FILE", "--ca-key-file", "",
       "PEM private key of GENX_CA_CERT_FILE (read by the ocpp-workers only)",
       R"md(PEM private key of `GENX_CA_CERT_FILE`, unencrypted; read by the ocpp-workers only, at start)md"},
      {"GENX_CA_CERT_DAYS", "--ca-cert-days", "365",
       "validity in days of the charger certificates the CA signs",
       R"md(validity in days of the charger certificates the CSMS-side CA signs)md"},
      {"GENX_CA_ORGANIZATION", "--ca-organization", "",
       "when set, a CSR's organisation (O) must be exactly this (OCPP security whitepaper); empty = not checked",
       R"md(when set, a CSR's subject organisation (`O`) must be exactly this, as the OCPP security whitepaper asks (the CPO's name); unset = not checked. The CN must always be the charge point id)md"},
      {"GATEWAY_MIN_SECURITY_PROFILE", "--gateway-min-security-profile", "0",
       "lowest OCPP security profile the gateway accepts, also for chargers it does not know (0-3)",
       R"md(the lowest security profile the gateway accepts, for every charger including unknown ones (0–3))md"},
      {"OCPP_PREFERRED_VERSION", "--ocpp-preferred-version", "2.0.1",
       "the OCPP version a charger gets when it offers both ocpp2.0.1 and ocpp1.6 at the handshake: 2.0.1 or 1.6",
       R"md(the OCPP version a charger gets when it offers both `ocpp2.0.1` and `ocpp1.6` at the handshake (`2.0.1` or `1.6`); a charger that offers one gets that one (see [OCPP 2.0.1](ocpp201.md)))md"},
      {"GATEWAY_AUTH_THREADS", "--gateway-auth-threads", "2",
       "gateway threads that check charger credentials (slow password hashes) off the I/O thread",
       R"md(gateway threads that read charger credentials and check passwords (slow hashes) off the WebSocket I/O thread)md"},
      {"API_PORT", "--api-port", "8080", "REST API, health and dashboard port",
       R"md(REST API port)md"},
      {"NOTIFY_PORT", "--notify-port", "8081", "Socket.IO notification port",
       R"md(Socket.IO port of the notifier (`genx run`: notifier *i* on `NOTIFY_PORT + i`))md"},
      {"API_TOKEN", "--api-token", "",
       "an operator token for REST and Socket.IO (besides those of genx tokens); environment "
       "or .env only (the flag is refused)",
       R"md(an operator token for REST and Socket.IO, besides the tokens of `genx tokens` (see [API tokens and roles](security.md#api-tokens-and-roles)); environment or `.env` only, the flag is refused)md"},
      {"GENX_METRICS_AUTH", "--metrics-auth", "open",
       "the api's /metrics: open, or token (needs a token of any role when tokens are configured)",
       R"md(the api's `/metrics`: `open` (for a Prometheus on a trusted network), or `token` (a token of any role, when tokens are configured))md"},
      {"GENX_INSTANCE_ID", "--instance-id", "", "instance name (default: host name + pid)",
       R"md(When unset: host name + pid. Names this instance's queues; `genx run` appends the role and index)md"},
      {"GENX_LOG_LEVEL", "--log-level", "info", "trace, debug, info, warn, error",
       R"md(trace, debug, info, warn, error)md"},
      {"GENX_UNKNOWN_CHARGER_POLICY", "--unknown-charger-policy", "accept",
       "BootNotification from an unregistered charger: accept, pending or reject",
       R"md(BootNotification of a charger that is neither pre-registered nor accepted before: `accept`, `pending` or `reject`)md"},
      {"GENX_UNKNOWN_TAG_POLICY", "--unknown-tag-policy", "accept",
       "Authorize of an id tag not in the database: accept or reject",
       R"md(an id tag not in the database: `accept` or `reject` (answered `Invalid`))md"},
      {"GENX_HEARTBEAT_INTERVAL", "--heartbeat-interval", "300",
       "heartbeat interval (s) sent to accepted chargers",
       R"md(heartbeat interval (s) given to accepted chargers; the gateway drops a charger silent for 3 intervals unless `GENX_IDLE_TIMEOUT_S` says otherwise)md"},
      {"GENX_MAX_FRAME_BYTES", "--max-frame-bytes", "65536",
       "largest WebSocket message accepted; larger closes the connection (1009)",
       R"md(largest WebSocket message; a larger one closes the connection with 1009)md"},
      {"GENX_HANDSHAKE_TIMEOUT_MS", "--handshake-timeout-ms", "10000",
       "time a client has to send its WebSocket upgrade request (and again to take the answer)",
       R"md(time a client has, from its TCP connect, to send the whole WebSocket upgrade request (and again to take the 101 answer); otherwise the socket is closed (see "Abuse limits"))md"},
      {"GENX_IDLE_TIMEOUT_S", "--idle-timeout-s", "",
       "the gateway pings every half of it; a charger that sent nothing, not even the pong, since the "
       "previous ping is dropped (default: 3 x GENX_HEARTBEAT_INTERVAL)",
       R"md(When unset: 3 × `GENX_HEARTBEAT_INTERVAL`. The gateway pings each charger every half of it; one that sent nothing, not even the pong, since the previous ping is dropped (2–259200 s))md"},
      {"GENX_CALL_RATE", "--call-rate", "20",
       "calls per second a charger may send, sustained (token bucket); excess: CALLERROR GenericError; 0 = unlimited",
       R"md(calls per second one charger may send, sustained (token bucket per charge point id); excess calls are answered CALLERROR `GenericError` "rate limit exceeded"; `0` = unlimited)md"},
      {"GENX_CALL_BURST", "--call-burst", "2000", "calls a charger may send at once above its rate (bucket size)",
       R"md(calls a charger may send at once above its rate (the bucket's size; sized so a charger back from an outage can replay its stored messages at full speed))md"},
      {"GENX_CALL_FLOOD_CLOSE", "--call-flood-close", "200",
       "closes a connection (1008) whose rate-limited calls outnumber its accepted calls by this many; 0 = never",
       R"md(a connection whose rate-limited calls outnumber its accepted calls by this many is closed with 1008; `0` = never)md"},
      {"GENX_MAX_CONNECTIONS_PER_ADDRESS", "--max-connections-per-address", "1000",
       "open connections from one source address; more get HTTP 429 at the handshake; 0 = unlimited",
       R"md(open connections (handshakes included) from one source IP address; more get HTTP 429 at the handshake (`wss://`: closed before the TLS handshake); `0` = unlimited)md"},
      {"GENX_MAX_CONNECTIONS", "--max-connections", "10000",
       "open connections to one gateway; more get HTTP 503 at the handshake; 0 = unlimited",
       R"md(open connections to one gateway process; more get HTTP 503 at the handshake (`wss://`: closed before the TLS handshake); `0` = unlimited (keep it below `ulimit -n`))md"},
      {"GENX_REPLY_TIMEOUT_MS", "--reply-timeout-ms", "30000",
       "how long the gateway waits for a worker's reply before answering InternalError",
       R"md(how long the gateway waits for a worker's reply before answering `InternalError`)md"},
      {"GENX_COMMAND_TIMEOUT_MS", "--command-timeout-ms", "30000",
       "how long a command to a charger may take (api: HTTP 504 after it)",
       R"md(how long a command to a charger may take: the api answers 504 after it, the gateway stops waiting for the charger, RabbitMQ drops the unconsumed message (TTL))md"},
      {"GENX_SMART_INTERVAL_MS", "--smart-interval-ms", "1000",
       "how often an ocpp-worker re-runs the site allocation (at once after a session starts or stops); 0 = none",
       R"md(how often each ocpp-worker re-runs the site allocation ([smart-charging](smart-charging.md)); it also runs at once (at most every 200 ms) after a StartTransaction, StopTransaction or MeterValues; `0` = this worker allocates nothing)md"},
      {"GENX_SMART_COMMAND_TIMEOUT_MS", "--smart-command-timeout-ms", "10000",
       "how long the site allocation waits for a charger's answer to a profile (no answer: offline)",
       R"md(how long the site allocation waits for a charger's answer to a profile; no answer counts the charger as offline (its worst case))md"},
      {"GENX_SMART_NOMINAL_VOLTAGE", "--smart-nominal-voltage", "230",
       "volts per phase for site limits in watts (maxPowerW) and profiles sent in W",
       R"md(volts per phase the site allocation converts with ([smart-charging](smart-charging.md)): a site limit in watts (`maxPowerW`) is `maxPowerW / (volts x phases)` amperes per phase, and a charger that takes only `W` profiles (`ChargingScheduleAllowedChargingRateUnit` = `Power`) gets `amperes x volts x phases` watts; 100-1000)md"},
      {"GENX_FIRMWARE_INTERVAL_MS", "--firmware-interval-ms", "1000",
       "how often the ocpp-worker holding the campaign lease advances firmware campaigns; 0 = none",
       R"md(how often the ocpp-worker holding the firmware campaign lease times out overdue targets and sends `UpdateFirmware` / `SignedUpdateFirmware` to as many pending chargers as each campaign's `maxConcurrent` leaves free ([firmware](firmware.md)); `0` = this worker runs no campaigns)md"},
      {"GENX_COMMAND_QUEUE_LIMIT", "--command-queue-limit", "16",
       "commands waiting per charger in the gateway; more get HTTP 429",
       R"md(commands waiting per charger in its gateway behind the outstanding one; more get HTTP 429)md"},
      {"GENX_OCPP_WORKERS", "--ocpp-workers", "",
       "ocpp-worker processes started by genx run (default: 1 on SQLite, whose one writer a second "
       "worker only waits for; 2 on PostgreSQL)",
       R"md(When unset: 1 on SQLite, 2 on PostgreSQL. ocpp-worker processes started by `genx run`. SQLite has one writer: a second worker on the same file only waits for its lock and re-reads the pages the other changed, so one worker with group commit is both cheaper per call and faster there (about half the worker CPU per call and a lower p99, `bench/RESULTS.md`); PostgreSQL commits in parallel)md"},
      {"GENX_WORKER_PREFETCH", "--worker-prefetch", "16",
       "unacked messages one ocpp-worker holds at most",
       R"md(unacked messages one worker holds at most)md"},
      {"GENX_WORKER_COMMIT_BATCH", "--worker-commit-batch", "64",
       "messages an ocpp-worker commits in one database transaction at most (group commit; 1 = one each)",
       R"md(group commit: an ocpp-worker processes the deliveries already waiting (at most this many, and at most its prefetch) in one database transaction, then replies and acks each after the commit and its confirms; `1` = one transaction per message)md"},
      {"GENX_WORKER_COMMIT_WAIT_MS", "--worker-commit-wait-ms", "0",
       "longest wait (ms) for a group commit to fill while none of its messages is awaited by "
       "a charger (0 = never wait; see the configuration reference before raising it)",
       R"md(how long an ocpp-worker lets a group commit fill while none of its messages is awaited (calls the gateway answers on RabbitMQ's confirm: Heartbeat, StatusNotification, MeterValues, …); a call a charger or the api waits for (`reply_to` set) ends the wait at once. 5 ms cut the worker's CPU per call by about 15 % at 800 calls/s, but RabbitMQ confirms a persistent message that its consumer acked before it was written to disk at once, and otherwise only after its next disk sync: holding acks back raised the chargers' p99 several-fold (`bench/RESULTS.md`), hence off (`0` = never wait))md"},
      {"GENX_TEST_FAULT", "--test-fault", "",
       "TESTS ONLY, never in production: crash-after-commit:ACTION makes an ocpp-worker SIGKILL "
       "itself right after committing the first new ACTION call, before it publishes anything",
       R"md(**tests only, never set it in production**: `crash-after-commit:ACTION` makes an ocpp-worker kill itself (SIGKILL) right after it committed the first new `ACTION` call and before it published the reply or the events (used by `tests/e2e/outbox.test.mjs`); anything else is refused at start-up)md"},
      {"GENX_SIM_CHARGERS", "--sim-chargers", "3",
       "simulated chargers genx run starts (genx sim, realistic profile) so the dashboard shows life; 0 = none",
       R"md(simulated chargers (`DEMO-0`, `DEMO-1`, …) that `genx run` starts with `genx sim` so the dashboard shows life; `0` = none)md"},
      {"GENX_SIM_OCPP", "--sim-ocpp", "mixed",
       "OCPP version of the demo chargers: 1.6, 2.0.1, or mixed (every other one 2.0.1)",
       R"md(the OCPP version the demo chargers of `GENX_SIM_CHARGERS` speak: `1.6`, `2.0.1`, or `mixed` (`DEMO-1`, `DEMO-3`, … are 2.0.1 stations, the others 1.6 chargers: both versions side by side on the dashboard; `genx sim --ocpp`))md"},
      {"GENX_NOTIFIERS", "--notifiers", "1",
       "notifier processes started by genx run (notifier i listens on NOTIFY_PORT + i)",
       R"md(notifier processes started by `genx run` (0 = none))md"},
      {"GENX_CORS_ORIGINS", "--cors-origins", "",
       "other web origins allowed to call the api and Socket.IO, comma-separated, or * (default: "
       "none; the dashboard's own origin is always allowed)",
       R"md(other web origins (`https://ops.example.com`) allowed to call the api and the notifier from a browser, comma-separated, or `*`; unset = none: only the dashboard's own origin (the api's, and for the notifier `http(s)://SAME-HOST:API_PORT`). A request with another `Origin` gets 403)md"},
      {"GENX_WEB_DIR", "--web-dir", "",
       "dashboard files served by the api (default: web/public of the source tree of the binary)",
       R"md(the dashboard files the api serves; unset = `web/public` of the source tree the binary was built in (`build/genx` → `web/public`), else `./web/public`)md"},
      {"GENX_PUBLIC_API_URL", "--public-api-url", "",
       "the api's URL as chargers reach it (e.g. https://csms.example.com), for upload locations; "
       "default: http:// + the Host of the operator's request",
       R"md(the api's base URL as chargers reach it (`https://csms.example.com`, behind a TLS proxy), used in the upload location GenX sends with `GetDiagnostics` / `GetLog`; unset = `http://` + the `Host` of the operator's request. See [diagnostics](diagnostics.md))md"},
      {"GENX_DIAGNOSTICS_DIR", "--diagnostics-dir", "var/diagnostics",
       "directory where uploaded diagnostics and log files are stored (relative: to the working directory)",
       R"md(directory of the uploaded diagnostics and log files (created when missing; relative paths from the working directory, like `var/genx.db`). Every api process must see the same directory)md"},
      {"GENX_DIAGNOSTICS_MAX_BYTES", "--diagnostics-max-bytes", "52428800",
       "largest diagnostics or log upload accepted, in bytes (larger: 413)",
       R"md(largest diagnostics or log file accepted, in bytes (default 50 MiB); a larger upload is answered 413 and the request shows `UploadFailed`)md"},
      {"GENX_DIAGNOSTICS_RETENTION_DAYS", "--diagnostics-retention-days", "30",
       "days diagnostics requests and their files are kept (0 = forever)",
       R"md(days a diagnostics request and its file are kept (the api removes older ones every 10 minutes); `0` = forever)md"},
      {"GENX_RETRY_DELAYS", "--retry-delays", "1s,5s,25s,2m",
       "delays before the retries of a message that failed transiently (then the DLQ)",
       R"md(delays (`ms`, `s`, `m`, `h`) before the retries of a message whose processing failed transiently; one delay queue `ocpp_messages.retry.<delay>` each; after the last one the message goes to `ocpp_messages.dlq` (empty = no retries))md"},
      {"GENX_NOTIFICATION_TTL_MS", "--notification-ttl-ms", "3600000",
       "age after which an unread message of the notifications queue expires",
       R"md(age after which an unread message of the `notifications` queue expires (a queue's TTL is fixed when it is created: delete the queue to change it))md"},
      {"GENX_CHARGING_EVENTS_MAX_LENGTH", "--charging-events-max-length", "0",
       "length limit of the charging_events queue for outside integrations, oldest dropped "
       "when full (0 = the queue is not declared)",
       R"md(`0` = off. Turns on the `charging_events` queue for outside integrations, holding at most this many messages; when full the oldest is dropped (`x-overflow: drop-head`) and the api alerts (`QueueFull`). `0`: the queue is not declared)md"},
      {"GENX_NOTIFICATIONS_MAX_LENGTH", "--notifications-max-length", "0",
       "length limit of the shared, non-durable notifications queue, oldest dropped when full "
       "(0 = the queue is not declared)",
       R"md(`0` = off. Turns on the shared `notifications` queue (not durable, `GENX_NOTIFICATION_TTL_MS`, at most this many messages, oldest dropped). `0`: not declared)md"},
      {"GENX_QUEUE_TYPE", "--queue-type", "classic",
       "classic or quorum: the type of GenX's durable queues (quorum for a RabbitMQ cluster: "
       "replicated; priorities by a second queue <ocpp_messages>.high)",
       R"md(`classic` or `quorum`: the type of GenX's durable queues. `quorum` for a RabbitMQ cluster (replicated on every node; the high class of `ocpp_messages` gets a queue of its own, `ocpp_messages.high`, that workers take first); every process of an installation uses the same value. `classic` is the default: what one machine needs, today's names and arguments, fewer writes per message on one node ([RabbitMQ cluster: node lists and quorum queues](operations.md#rabbitmq-cluster-node-lists-and-quorum-queues)))md"},
      {"GENX_DLQ_MAX_LENGTH", "--dlq-max-length", "100000",
       "length limit of every dead-letter queue (the oldest dead letters are dropped)",
       R"md(length limit of every dead-letter queue (`*.dlq`); when full the oldest dead letter is dropped (the api alerts at 90%))md"},
      {"GENX_ENV_FILE", "--env-file", ".env", "file of KEY=VALUE lines read at start-up",
       R"md(the `.env` file to read)md"},
      {"GENX_HEALTH_PORT", "--health-port", "9100",
       "base port of the per-role /health and /metrics endpoints (gateway +0, ocpp-worker i "
       "+10+i, notifier i +100+i, analytics i +200+i; 0 = off)",
       R"md(base port of the per-role `/health` and `/metrics` endpoints: gateway +0, ocpp-worker *i* +10+*i*, notifier *i* +100+*i*, analytics *i* +200+*i* (the api serves them on `API_PORT`); `0` = off)md"},
      {"GENX_ROLE_INDEX", "--role-index", "0",
       "index of this process within its role (genx run sets it; systemd: %i)",
       R"md(this process's index within its role (0–63); `genx run` and PM2 set it, systemd templates pass `%i`)md"},
      {"GENX_LOG_FORMAT", "--log-format", "text", "log lines as text or json (one object per line)",
       R"md(`text`, or `json`: one JSON object per line (`time, level, role, process, msg` and, where known, `deviceId, messageId, action, latencyMs`))md"},
      {"RABBITMQ_MANAGEMENT_URL", "--rabbitmq-management-url", "",
       "RabbitMQ management API (default: http://AMQP_HOST:AMQP_PORT+10000, i.e. 15672 for 5672)",
       R"md(When unset: AMQP host, port + 10000. RabbitMQ management API for the queue monitor (`http://localhost:15672` for the default broker))md"},
      {"RABBITMQ_MANAGEMENT_USERNAME", "--rabbitmq-management-username", "",
       "management API user (default: the AMQP user)",
       R"md(When unset: the AMQP user. Management API user (needs the `monitoring` tag; `genx-monitor` in `deploy/`))md"},
      {"RABBITMQ_MANAGEMENT_PASSWORD", "--rabbitmq-management-password", "",
       "management API password (default: the AMQP password); environment or .env only",
       R"md(When unset: the AMQP password. Its password; environment or `.env` only (the flag is refused))md"},
      {"GENX_QUEUE_ALERT_DEPTH", "--queue-alert-depth", "10000",
       "queue depth that raises an error.occurred QueueBacklog event (0 = off)",
       R"md(a queue this deep raises an `error.occurred` event with code `QueueBacklog` (`0` = off))md"},
      {"GENX_DLQ_ALERT_DEPTH", "--dlq-alert-depth", "1",
       "dead-letter queue depth that raises an error.occurred DeadLetters event (0 = off)",
       R"md(a dead-letter queue this deep raises `error.occurred` with code `DeadLetters` (`0` = off))md"},
      {"GENX_QUEUE_POLL_INTERVAL", "--queue-poll-interval", "10",
       "seconds between the api's queue checks for alerts",
       R"md(seconds between the api's queue checks for those alerts)md"},
      {"GENX_ANALYTICS", "--analytics", "1", "analytics processes started by genx run (0 = none)",
       R"md(analytics processes started by `genx run` (0 = none; several may run: they recompute, never increment))md"},
      {"GENX_ANALYTICS_BATCH_SIZE", "--analytics-batch-size", "1000",
       "messages the analytics processor takes per batch (one database transaction)",
       R"md(messages per analytics batch (one database transaction; also the consumer's prefetch). Each message is one ocpp-worker group commit's events, so a batch holds several times as many events)md"},
      {"GENX_ANALYTICS_BATCH_WAIT_MS", "--analytics-batch-wait-ms", "1000",
       "longest wait (ms) for a batch to fill once its first event arrived",
       R"md(how long a batch may wait to fill once its first event arrived (the analytics figures lag the events by at most about this; a batch recomputes each charger-day it touches once, so larger batches cost less per event))md"},
      {"GENX_TIMEZONE", "--timezone", "UTC",
       "operator time zone for daily reports (a /usr/share/zoneinfo name, e.g. Europe/Berlin)",
       R"md(the operator's time zone for daily reports and for dates in `/api/stats` queries (`Europe/Berlin`, any name in `/usr/share/zoneinfo`); after changing it run `genx analytics rebuild`)md"},
      {"GENX_TARIFF_ENERGY_PER_KWH", "--tariff-energy-per-kwh", "0",
       "energy price per kWh, in currency units (e.g. 0.35)",
       R"md(energy price per kWh in currency units (up to 6 decimals, e.g. `0.35`))md"},
      {"GENX_TARIFF_TIME_PER_MINUTE", "--tariff-time-per-minute", "0",
       "time price per minute of session, in currency units",
       R"md(price per minute of session (pro rata per second))md"},
      {"GENX_TARIFF_SESSION_FEE", "--tariff-session-fee", "0", "fee per completed session",
       R"md(fee per session)md"},
      {"GENX_TARIFF_CURRENCY", "--tariff-currency", "EUR", "ISO 4217 currency (2 decimals)",
       R"md(ISO 4217 code; amounts are in its minor unit, assumed to be 1/100)md"},
      {"GENX_RETENTION_PROCESSED_MESSAGES_DAYS", "--retention-processed-messages-days", "14",
       "days a processed charger call's dedupe record is kept (0 = forever); must exceed the retry delays",
       R"md(days a processed charger call's dedupe record (`processed_messages`) is kept; `0` = forever. Must be at least 10 times `GENX_RETRY_DELAYS` + `GENX_REPLY_TIMEOUT_MS` (checked at start-up); see [Data retention](operations.md#data-retention))md"},
      {"GENX_RETENTION_MESSAGE_LOG_DAYS", "--retention-message-log-days", "30",
       "days the raw OCPP message log (charger_data) is kept (0 = forever)",
       R"md(days the raw OCPP message log (`charger_data`) is kept; `0` = forever)md"},
      {"GENX_RETENTION_ANALYTICS_EVENTS_DAYS", "--retention-analytics-events-days", "7",
       "days the analytics processor remembers an event id as processed (0 = forever)",
       R"md(days the analytics processor remembers an event id (`analytics_processed_events`); `0` = forever)md"},
      {"GENX_RETENTION_METER_VALUES_DAYS", "--retention-meter-values-days", "0",
       "days meter values of finished transactions are kept (0 = forever); limits analytics rebuild",
       R"md(days meter values of finished sessions are kept; `0` = forever. Pruning them limits how far back `genx analytics rebuild` can go)md"},
      {"GENX_RETENTION_STATUS_HISTORY_DAYS", "--retention-status-history-days", "0",
       "days connector status history is kept (0 = forever); limits analytics rebuild",
       R"md(days connector status history is kept; `0` = forever. Limits `genx analytics rebuild` the same way)md"},
      {"GENX_PRUNE_INTERVAL_S", "--prune-interval-s", "3600",
       "seconds between pruning passes of ocpp-worker 0 (0 = only genx db prune)",
       R"md(seconds between the pruning passes of ocpp-worker 0 (the first at its start); `0` = only `genx db prune`)md"},
      {"GENX_PRUNE_BATCH_ROWS", "--prune-batch-rows", "1000",
       "rows deleted per pruning transaction (short, so the database's write lock is not held long)",
       R"md(rows deleted per pruning transaction (short transactions: the database's single write lock is never held long))md"},
  };
  return table;
}

std::string settings_reference() {
  std::string out =
      "# Configuration reference\n\n"
      "You want to set GenX up: every setting, its flag, its default and what it does.\n\n"
      "Every setting comes from the environment or a `.env` file (`KEY=VALUE` lines; "
      "`GENX_ENV_FILE` names it, default `.env`), and can be overridden by a flag; "
      "precedence is flag > environment > `.env` > default. A malformed value stops the "
      "process at start-up with a message naming the setting. `genx --help` prints the "
      "same list in short.\n\n"
      "Several stacks run side by side on one machine when each has its own ports, "
      "`DATABASE_URL` and queue/exchange names (the e2e tests do exactly that).\n\n"
      "This page is generated from the settings table in `src/app/config.cpp` "
      "(`build/genx config reference > docs/configuration.md`); a unit test fails when the "
      "two differ.\n\n"
      "| variable | flag | default | meaning |\n"
      "|---|---|---|---|\n";
  auto cell = [](std::string text) {
    std::string escaped;
    for (char c : text) {
      if (c == '|') escaped += "\\|";
      else if (c == '\n') escaped += ' ';
      else escaped += c;
    }
    return escaped;
  };
  for (const auto& s : settings_table()) {
    const std::string flag = *s.flag ? std::string("`") + s.flag + "`" : "(environment only)";
    const std::string def = *s.default_value ? std::string("`") + s.default_value + "`" : "unset";
    out += "| `" + std::string(s.env) + "` | " + flag + " | " + cell(def) + " | " + cell(*s.doc ? s.doc : s.help) + " |\n";
  }
  return out;
}

Variables parse_env_file(const std::string& text) {
  Variables vars;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = trim(t.substr(7));
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("env file line " + std::to_string(number) + ": expected KEY=VALUE");
    }
    std::string key = trim(t.substr(0, eq));
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(value.substr(0, hash));
    }
    vars[key] = value;
  }
  return vars;
}

Variables process_environment() {
  Variables vars;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return vars;
}

Config load_config(const Variables& environment, const std::vector<std::string>& args) {
  const auto& table = settings_table();
  Variables flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) throw ConfigError("unexpected argument \"" + arg + "\"");
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto it = std::find_if(table.begin(), table.end(),
                           [&](const SettingInfo& s) { return name == s.flag; });
    if (it == table.end()) throw ConfigError("unknown option " + name + " (see genx --help)");
    if (!value) {
      if (i + 1 >= args.size()) throw ConfigError(name + ": missing value");
      value = args[++i];
    }
    if (name == "--rabbitmq-password" || name == "--api-token" || name == "--rabbitmq-management-password") {
      throw ConfigError(name + ": secrets are not accepted on the command line (every user sees them in ps); "
                        "set " + it->env + " in the environment or the .env file" +
                        (name == "--rabbitmq-password" ? " (or RABBITMQ_PASSWORD_FILE)" : ""));
    }
    if (name == "--rabbitmq-url" && url_has_password(*value)) {
      throw ConfigError("--rabbitmq-url: the URL contains a password, which every user sees in ps; "
                        "give the URL without it and set RABBITMQ_PASSWORD or RABBITMQ_PASSWORD_FILE "
                        "in the environment or .env");
    }
    flags[it->env] = *value;
  }

  auto explicit_value = [&](const std::string& env) -> std::optional<std::string> {
    if (auto f = flags.find(env); f != flags.end()) return f->second;
    if (auto e = environment.find(env); e != environment.end()) return e->second;
    return std::nullopt;
  };

  Variables file_vars;
  std::string env_file = explicit_value("GENX_ENV_FILE").value_or(".env");
  if (!env_file.empty()) {
    std::ifstream in(env_file);
    if (in) {
      std::stringstream buffer;
      buffer << in.rdbuf();
      try {
        file_vars = parse_env_file(buffer.str());
      } catch (const ConfigError& e) {
        throw ConfigError(env_file + ": " + e.what());
      }
    } else if (explicit_value("GENX_ENV_FILE")) {
      throw ConfigError("GENX_ENV_FILE: cannot read " + env_file);
    }
  }

  auto get = [&](const char* env) -> std::string {
    if (auto v = explicit_value(env)) return *v;
    if (auto f = file_vars.find(env); f != file_vars.end()) return f->second;
    for (const auto& s : table) {
      if (std::string_view(s.env) == env) return s.default_value;
    }
    throw ConfigError(std::string("internal: unknown setting ") + env);
  };
  auto get_int = [&](const char* env, long min, long max) {
    return parse_integer(env, get(env), min, max);
  };
  auto require_name = [&](const char* env) {
    std::string v = get(env);
    if (v.empty() || v.size() > 255) throw ConfigError(std::string(env) + ": must be 1-255 characters");
    return v;
  };

  Config c;
  broker::ConnectionSettings defaults;
  defaults.username = get("RABBITMQ_USERNAME");
  defaults.password = get("RABBITMQ_PASSWORD");
  if (const std::string file = get("RABBITMQ_PASSWORD_FILE"); !file.empty()) {
    defaults.password = read_secret_file("RABBITMQ_PASSWORD_FILE", file);
  }
  defaults.vhost = get("RABBITMQ_VHOST");
  defaults.ca_file = get("RABBITMQ_CA_FILE");
  defaults.cert_file = get("RABBITMQ_CERT_FILE");
  defaults.key_file = get("RABBITMQ_KEY_FILE");
  if (defaults.cert_file.empty() != defaults.key_file.empty()) {
    throw ConfigError("RABBITMQ_CERT_FILE and RABBITMQ_KEY_FILE: set both (a client certificate and its key) or neither");
  }
  for (const auto& [setting, path] : {std::pair{"RABBITMQ_CA_FILE", defaults.ca_file},
                                      std::pair{"RABBITMQ_CERT_FILE", defaults.cert_file},
                                      std::pair{"RABBITMQ_KEY_FILE", defaults.key_file}}) {
    if (!path.empty() && !std::ifstream(path)) throw ConfigError(std::string(setting) + ": cannot read " + path);
  }
  defaults.heartbeat_seconds = static_cast<int>(get_int("RABBITMQ_HEARTBEAT", 0, 3600));
  c.rabbitmq_url = get("RABBITMQ_URL");
  try {
    c.amqp = broker::parse_amqp_urls(c.rabbitmq_url, defaults);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("RABBITMQ_URL: ") + e.what());
  }

  c.names.queue_ocpp_messages = require_name("RABBITMQ_QUEUE_OCPP_MESSAGES");
  c.names.queue_notifications = require_name("RABBITMQ_QUEUE_NOTIFICATIONS");
  c.names.queue_analytics = require_name("RABBITMQ_QUEUE_ANALYTICS");
  c.names.queue_charging_events = require_name("RABBITMQ_QUEUE_CHARGING_EVENTS");
  c.names.exchange_ocpp = require_name("RABBITMQ_EXCHANGE_OCPP");
  c.names.exchange_events = require_name("RABBITMQ_EXCHANGE_EVENTS");
  c.names.exchange_commands = require_name("RABBITMQ_EXCHANGE_COMMANDS");

  c.database_url = get("DATABASE_URL");
  if (c.database_url.rfind("sqlite:", 0) != 0 && c.database_url.rfind("postgresql://", 0) != 0 &&
      c.database_url.rfind("postgres://", 0) != 0) {
    throw ConfigError("DATABASE_URL: expected sqlite://PATH or postgresql://..., got \"" +
                      c.database_url + "\"");
  }
  c.database_read_url = get("DATABASE_READ_URL");
  if (!c.database_read_url.empty() && c.database_read_url.rfind("sqlite:", 0) != 0 &&
      c.database_read_url.rfind("postgresql://", 0) != 0 && c.database_read_url.rfind("postgres://", 0) != 0) {
    throw ConfigError("DATABASE_READ_URL: expected sqlite://PATH or postgresql://..., got a URL of another scheme");
  }
  // PostgreSQL settings, read from the environment by the store itself (every role and
  // command opens its ports through store/open_store.hpp): checked here so a bad value
  // stops the process at start.
  if (auto it = environment.find("DATABASE_POOL_SIZE"); it != environment.end() && !it->second.empty()) {
    const auto& v = it->second;
    if (v.find_first_not_of("0123456789") != std::string::npos || v.size() > 3 || std::stoi(v) < 1 ||
        std::stoi(v) > 200) {
      throw ConfigError("DATABASE_POOL_SIZE: expected 1-200 connections, got \"" + v + "\"");
    }
  }
  c.bind_address = get("GENX_BIND_ADDRESS");
  c.gateway_port = static_cast<int>(get_int("GATEWAY_PORT", 0, 65535));
  c.api_port = static_cast<int>(get_int("API_PORT", 1, 65535));
  c.notify_port = static_cast<int>(get_int("NOTIFY_PORT", 1, 65535));
  if (std::string token = get("API_TOKEN"); !token.empty()) c.api_token = token;
  const std::string metrics_auth = lower(get("GENX_METRICS_AUTH"));
  if (metrics_auth != "open" && metrics_auth != "token") {
    throw ConfigError("GENX_METRICS_AUTH: expected open or token, got \"" + metrics_auth + "\"");
  }
  c.metrics_open = metrics_auth == "open";
  c.instance_id = get("GENX_INSTANCE_ID");
  if (c.instance_id.empty()) c.instance_id = default_instance_id();

  c.log_level = lower(get("GENX_LOG_LEVEL"));
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::none_of(std::begin(kLevels), std::end(kLevels),
                   [&](const char* l) { return c.log_level == l; })) {
    throw ConfigError("GENX_LOG_LEVEL: expected trace, debug, info, warn or error, got \"" +
                      c.log_level + "\"");
  }

  std::string charger_policy = lower(get("GENX_UNKNOWN_CHARGER_POLICY"));
  if (charger_policy == "accept") {
    c.policy.unknown_charger = csms::UnknownChargerPolicy::kAccept;
  } else if (charger_policy == "pending") {
    c.policy.unknown_charger = csms::UnknownChargerPolicy::kPending;
  } else if (charger_policy == "reject") {
    c.policy.unknown_charger = csms::UnknownChargerPolicy::kReject;
  } else {
    throw ConfigError("GENX_UNKNOWN_CHARGER_POLICY: expected accept, pending or reject, got \"" +
                      charger_policy + "\"");
  }
  std::string tag_policy = lower(get("GENX_UNKNOWN_TAG_POLICY"));
  if (tag_policy == "accept") {
    c.policy.unknown_tag = csms::UnknownTagPolicy::kAccept;
  } else if (tag_policy == "reject") {
    c.policy.unknown_tag = csms::UnknownTagPolicy::kReject;
  } else {
    throw ConfigError("GENX_UNKNOWN_TAG_POLICY: expected accept or reject, got \"" + tag_policy +
                      "\"");
  }
  const std::string preferred_ocpp = get("OCPP_PREFERRED_VERSION");
  if (preferred_ocpp != "2.0.1" && preferred_ocpp != "1.6") {
    throw ConfigError("OCPP_PREFERRED_VERSION: expected 2.0.1 or 1.6, got \"" + preferred_ocpp + "\"");
  }
  c.prefer_ocpp201 = preferred_ocpp == "2.0.1";
  c.policy.heartbeat_interval_seconds =
      static_cast<int>(get_int("GENX_HEARTBEAT_INTERVAL", 1, 86400));
  c.max_frame_bytes = static_cast<std::size_t>(get_int("GENX_MAX_FRAME_BYTES", 1024, 16 << 20));
  c.handshake_timeout = std::chrono::milliseconds(get_int("GENX_HANDSHAKE_TIMEOUT_MS", 100, 600000));
  c.idle_timeout = get("GENX_IDLE_TIMEOUT_S").empty()
                       ? std::chrono::seconds(3L * c.policy.heartbeat_interval_seconds)
                       : std::chrono::seconds(get_int("GENX_IDLE_TIMEOUT_S", 2, 3 * 86400));
  c.call_rate = static_cast<std::uint32_t>(get_int("GENX_CALL_RATE", 0, 100000));
  c.call_burst = static_cast<std::uint32_t>(get_int("GENX_CALL_BURST", 1, 1000000));
  c.call_flood_close = static_cast<std::uint32_t>(get_int("GENX_CALL_FLOOD_CLOSE", 0, 1000000));
  c.max_connections_per_address =
      static_cast<std::size_t>(get_int("GENX_MAX_CONNECTIONS_PER_ADDRESS", 0, 10000000));
  c.max_connections = static_cast<std::size_t>(get_int("GENX_MAX_CONNECTIONS", 0, 10000000));
  c.reply_timeout = std::chrono::milliseconds(get_int("GENX_REPLY_TIMEOUT_MS", 100, 600000));
  c.command_timeout = std::chrono::milliseconds(get_int("GENX_COMMAND_TIMEOUT_MS", 100, 600000));
  c.smart_interval = std::chrono::milliseconds(get_int("GENX_SMART_INTERVAL_MS", 0, 3600000));
  c.smart_command_timeout = std::chrono::milliseconds(get_int("GENX_SMART_COMMAND_TIMEOUT_MS", 100, 600000));
  c.smart_nominal_voltage = static_cast<double>(get_int("GENX_SMART_NOMINAL_VOLTAGE", 100, 1000));
  c.firmware_interval = std::chrono::milliseconds(get_int("GENX_FIRMWARE_INTERVAL_MS", 0, 3600000));
  c.schema_wait = std::chrono::seconds(get_int("GENX_SCHEMA_WAIT_SECONDS", 0, 86400));
  c.command_queue_limit = static_cast<std::size_t>(get_int("GENX_COMMAND_QUEUE_LIMIT", 1, 1000));
  // SQLite has one writer: a second worker process only waits for its lock (and re-reads
  // the pages the first one changed), so on SQLite one worker with group commit is both
  // cheaper per call and faster (bench/RESULTS.md); PostgreSQL commits in parallel.
  if (get("GENX_OCPP_WORKERS").empty()) {
    c.ocpp_workers = c.database_url.rfind("sqlite:", 0) == 0 ? 1 : 2;
  } else {
    c.ocpp_workers = static_cast<int>(get_int("GENX_OCPP_WORKERS", 0, 64));
  }
  c.worker_prefetch = static_cast<int>(get_int("GENX_WORKER_PREFETCH", 1, 10000));
  c.sim_chargers = static_cast<int>(get_int("GENX_SIM_CHARGERS", 0, 10000));
  c.sim_ocpp = get("GENX_SIM_OCPP");
  if (c.sim_ocpp != "1.6" && c.sim_ocpp != "2.0.1" && c.sim_ocpp != "mixed") {
    throw ConfigError("GENX_SIM_OCPP: expected 1.6, 2.0.1 or mixed, got \"" + c.sim_ocpp + "\"");
  }
  c.notifiers = static_cast<int>(get_int("GENX_NOTIFIERS", 0, 64));
  {
    std::string origins = get("GENX_CORS_ORIGINS");
    std::size_t start = 0;
    while (start <= origins.size()) {
      auto comma = origins.find(',', start);
      std::string origin = trim(origins.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!origin.empty()) {
        if (origin != "*" && origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0) {
          throw ConfigError("GENX_CORS_ORIGINS: expected * or origins like http://host:8080, got \"" +
                            origin + "\"");
        }
        c.cors_origins.push_back(origin);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  c.web_dir = get("GENX_WEB_DIR");
  c.public_api_url = get("GENX_PUBLIC_API_URL");
  while (!c.public_api_url.empty() && c.public_api_url.back() == '/') c.public_api_url.pop_back();
  if (!c.public_api_url.empty() && c.public_api_url.rfind("http://", 0) != 0 && c.public_api_url.rfind("https://", 0) != 0) {
    throw ConfigError("GENX_PUBLIC_API_URL: expected http://HOST[:PORT] or https://HOST[:PORT], got \"" +
                      c.public_api_url + "\"");
  }
  if (c.public_api_url.size() > 300) throw ConfigError("GENX_PUBLIC_API_URL: longer than 300 characters");
  c.diagnostics_dir = get("GENX_DIAGNOSTICS_DIR");
  if (c.diagnostics_dir.empty()) throw ConfigError("GENX_DIAGNOSTICS_DIR: must not be empty");
  c.diagnostics_max_bytes = static_cast<std::uint64_t>(get_int("GENX_DIAGNOSTICS_MAX_BYTES", 1, 1L << 40));
  c.diagnostics_retention_days = static_cast<int>(get_int("GENX_DIAGNOSTICS_RETENTION_DAYS", 0, 36500));
  c.health_port = static_cast<int>(get_int("GENX_HEALTH_PORT", 0, 65535 - 263));
  c.role_index = static_cast<int>(get_int("GENX_ROLE_INDEX", 0, 63));
  c.log_format = lower(get("GENX_LOG_FORMAT"));
  if (c.log_format != "text" && c.log_format != "json") {
    throw ConfigError("GENX_LOG_FORMAT: expected text or json, got \"" + c.log_format + "\"");
  }
  c.management_url = get("RABBITMQ_MANAGEMENT_URL");
  if (c.management_url.empty()) {
    c.management_url =
        "http://" + c.amqp.host + ":" + std::to_string(c.amqp.port + 10000);
  } else if (c.management_url.rfind("http://", 0) != 0) {
    throw ConfigError("RABBITMQ_MANAGEMENT_URL: expected http://HOST:PORT, got \"" +
                      c.management_url + "\"");
  }
  while (!c.management_url.empty() && c.management_url.back() == '/') c.management_url.pop_back();
  c.management_username = get("RABBITMQ_MANAGEMENT_USERNAME");
  if (c.management_username.empty()) c.management_username = c.amqp.username;
  c.management_password = get("RABBITMQ_MANAGEMENT_PASSWORD");
  if (c.management_password.empty()) c.management_password = c.amqp.password;
  c.queue_alert_depth = get_int("GENX_QUEUE_ALERT_DEPTH", 0, 1L << 40);
  c.dlq_alert_depth = get_int("GENX_DLQ_ALERT_DEPTH", 0, 1L << 40);
  c.queue_poll_seconds = static_cast<int>(get_int("GENX_QUEUE_POLL_INTERVAL", 1, 3600));
  try {
    c.names.retry_delays_ms.clear();
    for (auto d : broker::parse_retry_delays(get("GENX_RETRY_DELAYS"))) {
      c.names.retry_delays_ms.push_back(d.count());
    }
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("GENX_RETRY_DELAYS: ") + e.what());
  }
  c.names.notification_ttl_ms = get_int("GENX_NOTIFICATION_TTL_MS", 1000, 7L * 24 * 3600 * 1000);
  c.names.charging_events_max_length = get_int("GENX_CHARGING_EVENTS_MAX_LENGTH", 0, 1L << 40);
  c.names.notifications_max_length = get_int("GENX_NOTIFICATIONS_MAX_LENGTH", 0, 1L << 40);
  c.names.dead_letter_max_length = get_int("GENX_DLQ_MAX_LENGTH", 1, 1L << 40);
  if (const std::string type = lower(get("GENX_QUEUE_TYPE")); type == "quorum") {
    c.names.queue_type = broker::QueueType::kQuorum;
  } else if (type != "classic") {
    throw ConfigError("GENX_QUEUE_TYPE: expected classic or quorum, got \"" + type + "\"");
  }
  c.names.high_class_actions = messages::high_class_actions();
  c.analytics_processes = static_cast<int>(get_int("GENX_ANALYTICS", 0, 8));
  c.analytics_batch_size = static_cast<int>(get_int("GENX_ANALYTICS_BATCH_SIZE", 1, 10000));
  c.analytics_batch_wait =
      std::chrono::milliseconds(get_int("GENX_ANALYTICS_BATCH_WAIT_MS", 0, 60000));
  c.time_zone = get("GENX_TIMEZONE");
  try {
    analytics::TimeZone zone(c.time_zone);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("GENX_TIMEZONE: ") + e.what());
  }
  auto price = [&](const char* env) {
    const auto micro = csms::parse_price_micro(get(env));
    if (!micro) {
      throw ConfigError(std::string(env) + ": expected a non-negative decimal with at most 6 "
                        "decimals, got \"" + get(env) + "\"");
    }
    return *micro;
  };
  c.policy.tariff.energy_per_kwh_micro = price("GENX_TARIFF_ENERGY_PER_KWH");
  c.policy.tariff.time_per_minute_micro = price("GENX_TARIFF_TIME_PER_MINUTE");
  c.policy.tariff.session_fee_micro = price("GENX_TARIFF_SESSION_FEE");
  c.policy.tariff.currency = get("GENX_TARIFF_CURRENCY");
  if (c.policy.tariff.currency.size() != 3 ||
      !std::all_of(c.policy.tariff.currency.begin(), c.policy.tariff.currency.end(),
                   [](unsigned char ch) { return ch >= 'A' && ch <= 'Z'; })) {
    throw ConfigError("GENX_TARIFF_CURRENCY: expected a 3-letter code like EUR, got \"" +
                      c.policy.tariff.currency + "\"");
  }
  c.worker_commit_batch = static_cast<int>(get_int("GENX_WORKER_COMMIT_BATCH", 1, 10000));
  c.worker_commit_wait =
      std::chrono::milliseconds(get_int("GENX_WORKER_COMMIT_WAIT_MS", 0, 1000));
  if (const auto fault = get("GENX_TEST_FAULT"); !fault.empty()) {
    constexpr std::string_view kCrash = "crash-after-commit:";
    if (fault.rfind(kCrash, 0) != 0 || fault.size() == kCrash.size()) {
      throw ConfigError("GENX_TEST_FAULT: expected crash-after-commit:ACTION (tests only), got \"" +
                        fault + "\"");
    }
    c.test_crash_after_commit = fault.substr(kCrash.size());
  }
  {
    auto& r = c.retention;
    r.processed_messages_days =
        static_cast<int>(get_int("GENX_RETENTION_PROCESSED_MESSAGES_DAYS", 0, 36500));
    r.message_log_days = static_cast<int>(get_int("GENX_RETENTION_MESSAGE_LOG_DAYS", 0, 36500));
    r.analytics_events_days =
        static_cast<int>(get_int("GENX_RETENTION_ANALYTICS_EVENTS_DAYS", 0, 36500));
    r.meter_values_days = static_cast<int>(get_int("GENX_RETENTION_METER_VALUES_DAYS", 0, 36500));
    r.status_history_days =
        static_cast<int>(get_int("GENX_RETENTION_STATUS_HISTORY_DAYS", 0, 36500));
    r.batch_rows = static_cast<int>(get_int("GENX_PRUNE_BATCH_ROWS", 1, 100000));
    c.prune_interval = std::chrono::seconds(get_int("GENX_PRUNE_INTERVAL_S", 0, 7L * 24 * 3600));
    // A redelivered or retried call must still find its dedupe record: the whole retry
    // chain (and the reply timeout) must fit many times into the retention.
    std::int64_t chain_ms = c.reply_timeout.count();
    for (auto d : c.names.retry_delays_ms) chain_ms += d;
    constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
    if (r.processed_messages_days > 0 && chain_ms * 10 > r.processed_messages_days * kDayMs) {
      throw ConfigError("GENX_RETENTION_PROCESSED_MESSAGES_DAYS: " +
                        std::to_string(r.processed_messages_days) +
                        " day(s) is too short for GENX_RETRY_DELAYS and GENX_REPLY_TIMEOUT_MS (" +
                        std::to_string(chain_ms / 1000) +
                        " s together): keep dedupe records at least 10 times longer");
    }
  }
  {
    auto& sec = c.charger_security;
    sec.tls_port = static_cast<int>(get_int("GATEWAY_TLS_PORT", 0, 65535));
    sec.tls_cert_file = get("GATEWAY_TLS_CERT_FILE");
    sec.tls_key_file = get("GATEWAY_TLS_KEY_FILE");
    sec.tls_ca_file = get("GATEWAY_TLS_CA_FILE");
    sec.tls_ciphers = get("GATEWAY_TLS_CIPHERS");
    sec.min_profile = static_cast<int>(get_int("GATEWAY_MIN_SECURITY_PROFILE", 0, 3));
    sec.auth_threads = static_cast<int>(get_int("GATEWAY_AUTH_THREADS", 1, 64));
    if (sec.tls_port > 0 && (sec.tls_cert_file.empty() || sec.tls_key_file.empty())) {
      throw ConfigError("GATEWAY_TLS_PORT: needs GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE");
    }
    if (sec.tls_port == 0 && !(sec.tls_cert_file.empty() && sec.tls_key_file.empty() && sec.tls_ca_file.empty())) {
      throw ConfigError("GATEWAY_TLS_CERT_FILE/KEY_FILE/CA_FILE are set but GATEWAY_TLS_PORT is 0");
    }
    if (c.gateway_port == 0 && sec.tls_port == 0) {
      throw ConfigError("GATEWAY_PORT: 0 (no plain listener) needs GATEWAY_TLS_PORT");
    }
    if (sec.tls_port != 0 && sec.tls_port == c.gateway_port) {
      throw ConfigError("GATEWAY_TLS_PORT: must differ from GATEWAY_PORT");
    }
  }
  c.ca.cert_file = get("GENX_CA_CERT_FILE");
  c.ca.key_file = get("GENX_CA_KEY_FILE");
  c.ca.validity_days = static_cast<int>(get_int("GENX_CA_CERT_DAYS", 1, 36500));
  c.ca.organization = get("GENX_CA_ORGANIZATION");
  if (c.ca.cert_file.empty() != c.ca.key_file.empty()) {
    throw ConfigError("GENX_CA_CERT_FILE and GENX_CA_KEY_FILE: set both (the CA's certificate and its key) or neither");
  }
  c.amqp.connection_name = "genx " + c.instance_id;
  return c;
}

}  // namespace genx::app
