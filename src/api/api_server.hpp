#pragma once
// The REST API role (read side): health, metrics, chargers and transactions as JSON.
//
// Threading: run() serves on one I/O thread; requests are handled one at a time against
// a Store opened by the caller for that thread. stop() is safe from any thread.
// Slow routes (GET /api/queues, which may wait ~5 s on the RabbitMQ management API, and
// /api/dlq..., which wait on broker round trips) run on a small worker pool instead
// (slow_route()), so they never hold up other requests; their answer is written back on
// the I/O thread. At most kSlowRequestLimit of them wait or run at once; beyond that the
// api answers 503 with Retry-After. They never touch the Store (not thread-safe).
// Commands to chargers (POST /api/chargers/{id}/commands/{Action}, /start, /stop,
// /reset, /unlock) are asynchronous: the request is validated and published at once,
// and the HTTP answer is written when the charger's answer (or the timeout) comes back,
// so one waiting command never holds up other requests (no thread per command).
// Authentication (docs/security.md): when a token is configured (API_TOKEN or a
// database token, auth/access_control.hpp), GET/HEAD of /api/* needs a token of any role
// ("Authorization: Bearer TOKEN"), every other method an operator token (401 without or
// with a wrong token, 403 for a read token); /health, /api/config, the dashboard files
// and (metrics_open) /metrics stay open. The check runs before routing, in authorize().
// CORS: a request whose Origin is neither the page's own nor in cors_origins is refused
// (403); allowed foreign origins get Access-Control-Allow-Origin. Every response carries
// the security headers of security_headers() (CSP without inline code, nosniff, no
// framing, no referrer).
#include <chrono>
#include <cstdint>
#include <cstddef>
// Dead letters: GET /api/dlq?queue=Q&limit=N, GET /api/dlq/{id}?queue=Q,
// POST /api/dlq/replay {"id":ID} or {"all":true}, DELETE /api/dlq?queue=Q.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "smart/site_store.hpp"
#include "auth/access_control.hpp"
#include "broker/broker_client.hpp"
#include "messages/commands.hpp"
#include "api/read_store.hpp"
#include "api/local_list_store.hpp"
#include "api/reservation_store.hpp"
#include "api/diagnostics_store.hpp"
#include "security/certificate_store.hpp"
#include "csms/firmware.hpp"
#include "security/credential_store.hpp"

namespace genx::api {

struct ApiOptions {
  std::string bind_address = "0.0.0.0";
  int port = 8080;
  auth::AccessControl* access = nullptr;  // null: everything open (owned by the caller, api thread)
  bool metrics_open = true;               // GENX_METRICS_AUTH=open; false: /metrics needs a token
  std::vector<std::string> cors_origins;  // GENX_CORS_ORIGINS: foreign origins allowed ("*" = any)
  std::string ocpp_queue = "ocpp_messages";
  std::string events_exchange = "events_exchange";  // command.completed events
  int notify_port = 8081;  // told to the dashboard by GET /api/config
  int gateway_port = 9000;
  std::string web_dir;     // dashboard files; empty = no dashboard
  // Operations hooks (src/runtime/ops.hpp, src/api/queue_monitor.hpp); unset = not served.
  // queues: the body of GET /api/queues. roles_health: the other roles' /health, merged
  // into this /health under "roles"; it clears `healthy` when one reports unhealthy.
  std::function<nlohmann::json()> queues;
  std::function<nlohmann::json(bool& healthy)> roles_health;
  std::string time_zone = "UTC";  // GENX_TIMEZONE: dates in stats queries, daily buckets
  std::string currency = "EUR";   // GENX_TARIFF_CURRENCY
  double nominal_voltage = 230;   // GENX_SMART_NOMINAL_VOLTAGE: site limits in watts
  // Diagnostics uploads (docs/diagnostics.md).
  std::string public_api_url;     // GENX_PUBLIC_API_URL; empty: http://{Host of the request}
  std::string diagnostics_dir;    // GENX_DIAGNOSTICS_DIR
  std::uint64_t diagnostics_max_bytes = 50ULL * 1024 * 1024;  // GENX_DIAGNOSTICS_MAX_BYTES
  int diagnostics_retention_days = 30;                         // GENX_DIAGNOSTICS_RETENTION_DAYS (0 = forever)
};

class CommandClient;
struct CommandResult;
class LocalListService;

// The headers every api response carries (name, value). notify_port: the Socket.IO
// port the dashboard connects to (allowed in connect-src).
std::vector<std::pair<std::string, std::string>> security_headers(int notify_port);

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int status_code, std::string type, std::string text)
      : status(status_code), content_type(std::move(type)), body(std::move(text)) {}

  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (paging: X-Total-Count, Link)
};

// A request the route table refuses: the answer, and for 405 the path's methods (the
// Allow header).
struct RouteRefusal {
  HttpResponse response;
  std::string allow;
};

// Worker threads for slow routes, and how many slow requests may wait or run at once.
inline constexpr std::size_t kSlowRequestThreads = 2;
inline constexpr std::size_t kSlowRequestLimit = 8;

// A slow route's work (ApiHandler::slow_route), to run off the api's I/O thread.
struct SlowJob {
  std::function<HttpResponse()> run;  // empty: not a slow route
  // Runs one at a time with the other exclusive jobs: the dead-letter tools hold the
  // DLQ's messages while they look through them, so two at once would miss messages.
  bool exclusive = false;
};

// Routing and rendering, free of sockets so it can be tested directly.
class ApiHandler {
 public:
  ApiHandler(ApiOptions options, ReadStore& store, broker::BrokerClient* broker);
  // Access control for a request (before handle_command/handle): the refusal (401/403,
  // or 503 when the tokens cannot be checked), or nullopt when the request may proceed.
  std::optional<HttpResponse> authorize(std::string_view method, std::string_view target,
                                        std::string_view authorization);
  // The route check (before authorize): 404 for an /api/*, /health or /metrics path the
  // OpenAPI document (api/routes.hpp) does not name, 405 with `allow` for a method it does
  // not name for that path; nullopt for a documented operation or a dashboard file.
  std::optional<RouteRefusal> check_route(std::string_view method, std::string_view target);
  HttpResponse handle(std::string_view method, std::string_view target,
                      std::string_view authorization, std::string_view accept = {},
                      std::string_view body = {});

  // When target is a slow route (GET/HEAD /api/queues, /api/dlq...): the work that
  // answers it, to run on any thread (it uses only the queues hook and the broker client,
  // both thread-safe, never the Store). Otherwise a job without `run` (use handle()).
  // Call after authorize(), on the api's thread.
  SlowJob slow_route(std::string_view method, std::string_view target,
                   std::string_view body);

  // Enables the command routes and GET /api/chargers/{id}/configuration; `store` is the
  // same database as the read store (effects are recorded there, on the api's thread).
  void enable_commands(CommandClient& commands, CommandStore& store,
                       security::CredentialStore& credentials);
  // Enables the reservation routes (docs/reservations.md; needs enable_commands too):
  // POST /api/chargers/{id}/reservations, DELETE /api/reservations/{id}, GET
  // /api/reservations[/{id}], /api/chargers/{id}/reservations, and the active ones in
  // GET /api/chargers/{id}. Same database and thread as the read store.
  void enable_reservations(ReservationStore& store);
  // Marks Accepted reservations past their expiryDate Expired and publishes
  // reservation.expired for each; the api role calls it every second on its thread.
  void expire_reservations();
  // Enables the site routes and GET /api/chargers/{id}/charging-profiles (api/site_routes.hpp),
  // and records every charging-profile command there; used on the api's thread.
  void enable_sites(smart::SiteStore& store) { site_store_ = &store; }
  // Enables the diagnostics routes (docs/diagnostics.md; needs enable_commands too):
  // POST /api/chargers/{id}/diagnostics, GET /api/diagnostics[/{id}[/file]],
  // /api/chargers/{id}/diagnostics, and the one-time upload URLs
  // PUT|POST /api/uploads/{token}[/{fileName}]. Creates options.diagnostics_dir.
  void enable_diagnostics(DiagnosticsStore& store);
  // The largest body an upload URL accepts (multipart overhead included), or 0 when
  // target is not an upload URL (the default body limit applies).
  std::uint64_t upload_body_limit(std::string_view method, std::string_view target) const;
  // An upload to a one-time URL (no operator token: the URL's token is the credential):
  // 201 when stored; 404 unknown token, 409 used, 413 too large, 429 too many failures
  // from `remote`, 400 broken multipart. nullopt when target is not an upload URL.
  std::optional<HttpResponse> handle_upload(std::string_view method, std::string_view target,
                                            std::string_view content_type, std::string_view body,
                                            const std::string& remote);
  // An upload refused before its body was read (larger than the limit): 413, and the
  // request's status becomes UploadFailed (404/429 as handle_upload for a bad token).
  HttpResponse refuse_large_upload(std::string_view target, const std::string& remote);
  // Removes the requests (and files) older than the retention; the api calls it periodically.
  void prune_diagnostics();
  // Enables the local authorization list routes (api/local_list_routes.hpp; needs
  // enable_commands first); `store` is used on the api's thread.
  void enable_local_list(LocalListStore& store);
  // Asks GetLocalListVersion of chargers that booted since GenX last asked (the api role
  // calls it every few seconds on its thread).
  void check_local_list_versions();
  // Enables the security extension's routes (api/certificate_routes.cpp: certificates per
  // charger, security events) and records the certificate commands' answers there.
  void enable_certificates(security::CertificateStore& store) { certificate_store_ = &store; }
  // Enables the firmware routes (api/firmware_routes.cpp) and records answered
  // UpdateFirmware / SignedUpdateFirmware passthroughs there; used on the api's thread.
  void enable_firmware(csms::FirmwareStore& store) { firmware_store_ = &store; }
  // When target is a command route: handles it and returns true; respond is called
  // exactly once (maybe before this returns, maybe later on the api's thread).
  // Otherwise returns false and leaves the request to handle().
  // host: the request's Host header (the upload URL's default authority).
  bool handle_command(std::string_view method, std::string_view target, std::string_view authorization,
                      std::string_view body, std::function<void(HttpResponse)> respond,
                      std::string_view host = {});

 private:
  HttpResponse health();
  HttpResponse metrics();
  // /api/dlq...: dead-letter tools (broker/dead_letters.hpp); blocks the calling thread
  // while it talks to RabbitMQ (bounded by a timeout per round trip). Reads only
  // options_ and broker_ (thread-safe): slow_route() runs it on a worker thread.
  HttpResponse dead_letters(std::string_view method, std::string_view path,
                            const std::map<std::string, std::string>& params, std::string_view body);
  void finish_command(CommandResult result, const std::function<void(HttpResponse)>& respond);
  // The HTTP answer of an ended command; records its effects (configuration,
  // availability, reservations) and publishes command.completed and reservation events.
  struct CommandEnd {
    int status = 200;
    nlohmann::json body;
    bool answered = false;  // the charger's CALLRESULT, valid against the response schema
  };
  CommandEnd conclude_command(const CommandResult& result);
  void publish_event(const messages::DomainEvent& event);
  void record_reservation_effect(const messages::CommandRequest& request, const nlohmann::json& response);
  // The reservation routes (reservation_routes.cpp).
  void reserve(const std::string& device_id, std::string_view body, std::function<void(HttpResponse)> respond);
  void cancel_reservation(std::string_view id_text, std::function<void(HttpResponse)> respond);
  std::optional<HttpResponse> reservation_read_route(std::string_view path,
                                                     const std::map<std::string, std::string>& params);
  ReservationStore* reservation_store_ = nullptr;
  // The diagnostics routes (diagnostics_routes.cpp).
  void request_diagnostics(const std::string& device_id, std::string_view body, std::string_view host,
                           std::function<void(HttpResponse)> respond);
  std::optional<HttpResponse> diagnostics_read_route(std::string_view path,
                                                     const std::map<std::string, std::string>& params);
  // Counts a refused upload from `remote`; true when it is over the limit (answer 429).
  bool upload_refused(const std::string& remote);
  bool upload_blocked(const std::string& remote);
  DiagnosticsStore* diagnostics_store_ = nullptr;
  std::map<std::string, std::pair<std::int64_t, int>> upload_failures_;  // remote -> (window start ms, count)
  std::shared_ptr<LocalListService> local_list_;
  // The certificate routes (certificate_routes.cpp).
  void record_certificate_effect(const messages::CommandRequest& request, const nlohmann::json& response);
  bool certificate_command(std::string_view method, const std::string& device_id, std::string_view tail,
                           std::string_view body, std::function<void(HttpResponse)> respond);
  std::optional<HttpResponse> certificate_read_route(std::string_view path,
                                                     const std::map<std::string, std::string>& params);
  security::CertificateStore* certificate_store_ = nullptr;
  // The firmware routes (firmware_routes.cpp).
  void record_firmware_effect(const messages::CommandRequest& request, const nlohmann::json& response);
  std::optional<HttpResponse> firmware_route(std::string_view method, std::string_view path,
                                             const std::map<std::string, std::string>& params, std::string_view body);
  csms::FirmwareStore* firmware_store_ = nullptr;
  ApiOptions options_;
  std::map<std::string, std::uint64_t> command_outcomes_;  // outcome -> count, for /metrics
  CommandClient* commands_ = nullptr;
  CommandStore* command_store_ = nullptr;
  security::CredentialStore* credential_store_ = nullptr;
  smart::SiteStore* site_store_ = nullptr;
  ReadStore& store_;
  broker::BrokerClient* broker_;
  std::uint64_t requests_ = 0;
};

class ApiServer {
 public:
  ApiServer(ApiOptions options, ApiHandler& handler);
  ~ApiServer();
  void run();  // binds (throws std::runtime_error naming the address) and serves until stop()
  void stop();
  // Runs fn on the api's I/O thread (now / after delay); safe from any thread.
  void post(std::function<void()> fn);
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace genx::api
