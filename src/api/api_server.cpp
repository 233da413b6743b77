#include "api/api_server.hpp"
#include "api/routes.hpp"
#include "csms/commands_v201.hpp"
#include "api/security_routes.hpp"
#include "api/site_routes.hpp"
#include "api/stats_routes.hpp"

#include <array>
#include <atomic>
#include <charconv>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "api/command_client.hpp"
#include "api/fleet_query.hpp"
#include "api/local_list_routes.hpp"
#include "messages/timestamp.hpp"
#include "util/url.hpp"
#include "api/command_http.hpp"
#include "csms/commands.hpp"
#include "messages/commands.hpp"
#include "api/static_files.hpp"
#include "metrics/metrics.hpp"
#include "broker/dead_letters.hpp"
#include "broker/retry.hpp"
#include "net/listener.hpp"

namespace genx::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;

using util::parse_query;
using util::url_decode;

namespace {

HttpResponse json_response(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump()};
}

HttpResponse error_response(int status, std::string_view message) {
  return json_response(status, json{{"error", message}});
}

std::optional<long> to_long(const std::string& s) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The oldest last-seen time that still counts as online (kOnlineWindow before now).
std::string online_since() {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      (std::chrono::system_clock::now() - kOnlineWindow).time_since_epoch());
  return messages::format_timestamp(now.count());
}

void mark_online(json& charger, const std::string& since) {
  const auto& seen = charger["lastSeenAt"];
  charger["online"] = seen.is_string() && seen.get<std::string>() >= since;
}

}  // namespace

ApiHandler::ApiHandler(ApiOptions options, ReadStore& store, broker::BrokerClient* broker)
    : options_(std::move(options)), store_(store), broker_(broker) {}

HttpResponse ApiHandler::health() {
  json checks = json::object();
  bool healthy = true;
  if (broker_) {
    bool connected = broker_->connected();
    json rabbit = {{"status", connected ? "up" : "down"}, {"node", broker_->node()}};
    auto info = connected ? broker_->check_queue(options_.ocpp_queue, std::chrono::seconds(2))
                          : std::nullopt;
    if (info) {
      rabbit["queue"] = {{"name", options_.ocpp_queue},
                         {"messages", info->messages},
                         {"consumers", info->consumers}};
    } else {
      rabbit["status"] = "down";
      rabbit["error"] = connected ? "queue " + options_.ocpp_queue + " not available"
                                  : std::string("not connected to RabbitMQ");
    }
    healthy = healthy && info.has_value();
    checks["rabbitmq"] = rabbit;
  }
  try {
    store_.ping();
    checks["database"] = {{"status", "up"}};
  } catch (const std::exception& e) {
    healthy = false;
    checks["database"] = {{"status", "down"}, {"error", e.what()}};
  }
  json body = {{"checks", checks}};
  if (options_.roles_health) body["roles"] = options_.roles_health(healthy);
  body["status"] = healthy ? "healthy" : "unhealthy";
  return json_response(healthy ? 200 : 503, body);
}

HttpResponse ApiHandler::metrics() {
  std::string body;
  body += "# HELP genx_api_requests_total HTTP requests handled by the api role.\n";
  body += "# TYPE genx_api_requests_total counter\n";
  body += "genx_api_requests_total " + std::to_string(requests_) + "\n";
  // genx_rabbitmq_* come from the registry (runtime/ops.cpp, one set per role process):
  // writing them here too would give Prometheus two TYPE lines for one name.
  body += "# HELP genx_api_commands_total Commands to chargers that ended, by outcome.\n";
  body += "# TYPE genx_api_commands_total counter\n";
  for (const auto& [outcome, count] : command_outcomes_) {
    body += "genx_api_commands_total{outcome=\"" + outcome + "\"} " + std::to_string(count) + "\n";
  }
  body += metrics::registry().render();
  return HttpResponse{200, "text/plain; version=0.0.4", body};
}

void ApiHandler::enable_commands(CommandClient& commands, CommandStore& store,
                                 security::CredentialStore& credentials) {
  credential_store_ = &credentials;
  commands_ = &commands;
  command_store_ = &store;
}

bool ApiHandler::handle_command(std::string_view method, std::string_view target,
                                std::string_view /*authorization: see authorize()*/, std::string_view body,
                                std::function<void(HttpResponse)> respond, std::string_view host) {
  std::string_view path = target.substr(0, target.find('?'));
  if (local_list_ != nullptr) {
    const auto q = target.find('?');
    if (local_list_->handle(method, path, parse_query(q == std::string_view::npos ? std::string_view() : target.substr(q + 1)),
                            body, respond)) {
      ++requests_;
      return true;
    }
  }
  constexpr std::string_view kReservation = "/api/reservations/";
  if (method == "DELETE" && path.size() > kReservation.size() && path.substr(0, kReservation.size()) == kReservation) {
    ++requests_;
    cancel_reservation(path.substr(kReservation.size()), std::move(respond));
    return true;
  }
  constexpr std::string_view kPrefix = "/api/chargers/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = path.substr(kPrefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  const std::string device_id = url_decode(rest.substr(0, slash));
  std::string_view tail = rest.substr(slash + 1);
  if (certificate_command(method, device_id, tail, body, respond)) return true;
  if (tail == "reservations" && method == "POST") {
    ++requests_;
    reserve(device_id, body, std::move(respond));
    return true;
  }
  if (tail == "diagnostics" && method == "POST") {
    ++requests_;
    request_diagnostics(device_id, body, host, std::move(respond));
    return true;
  }
  const bool command_route =
      tail.substr(0, 9) == "commands/" && tail.size() > 9 && tail.find('/', 9) == std::string_view::npos;
  if (!command_route && !csms::convenience_action(tail)) return false;
  // The charger's protocol version picks the message and the schema (docs/ocpp201.md);
  // a charger the database does not know is checked as 1.6.
  bool v201 = false;
  try {
    if (auto charger = store_.charger(device_id)) v201 = is_ocpp201(*charger);
  } catch (const std::exception& e) {
    spdlog::warn("api: protocol version of {} unknown ({}); command checked as OCPP 1.6", device_id, e.what());
  }
  std::string action;
  if (command_route) {
    action = std::string(tail.substr(9));
  } else {
    action = *(v201 ? csms::convenience_action_v201(tail) : csms::convenience_action(tail));
  }
  ++requests_;
  if (method != "POST") {
    respond(error_response(405, "method not allowed: use POST"));
    return true;
  }
  json payload = json::object();
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    payload = json::parse(body, nullptr, false);
    if (payload.is_discarded()) {
      respond(error_response(400, "body: not valid JSON"));
      return true;
    }
  }
  if (auto problem = csms::check_command_for(v201, action, payload)) {
    respond(error_response(400, *problem));
    return true;
  }
  if (commands_ == nullptr) {
    respond(error_response(503, "commands are not available in this process"));
    return true;
  }
  commands_->send(device_id, action, std::move(payload),
                  [this, respond = std::move(respond)](CommandResult result) {
                    finish_command(std::move(result), respond);
                  });
  return true;
}

// On the api's thread: the HTTP answer, the recorded effects and command.completed.
ApiHandler::CommandEnd ApiHandler::conclude_command(const CommandResult& result) {
  const auto& request = result.request;
  CommandHttp http;
  std::string outcome;
  // A timeout reads the same whether the gateway reported it or the api's own timer fired
  // first (on a loaded host either can come first).
  const bool timed_out = result.timed_out ||
                         (result.reply && result.reply->outcome == messages::CommandOutcome::kTimeout);
  if (result.reply && !timed_out) {
    http = command_http(*result.reply);
    outcome = std::string(messages::to_string(result.reply->outcome));
  } else if (result.offline) {
    http = command_offline_http(request.device_id);
    outcome = "offline";
  } else if (timed_out) {
    http = {504, json{{"error", "charger " + request.device_id + " did not answer " + request.action +
                                    " within " + std::to_string(commands_->timeout().count()) + " ms"}}};
    outcome = "timeout";
  } else {
    http = {503, json{{"error", "command not sent: " + result.broker_error}}};
    outcome = "brokerUnavailable";
  }
  const bool answered = result.reply && !timed_out && result.reply->outcome == messages::CommandOutcome::kResult;
  if (answered && command_store_ != nullptr) {
    if (auto effect = csms::command_effect(request.action, request.payload, result.reply->payload)) {
      try {
        command_store_->record_command_effect(request.device_id, *effect);
      } catch (const std::exception& e) {
        spdlog::error("api: {} of {} answered but not recorded: {}", request.action, request.device_id,
                      e.what());
      }
    }
  }
  if (answered) record_reservation_effect(request, result.reply->payload);
  if (answered) record_certificate_effect(request, result.reply->payload);
  if (answered) record_firmware_effect(request, result.reply->payload);
  if (site_store_ != nullptr && (request.action == "SetChargingProfile" || request.action == "ClearChargingProfile" ||
                                 (request.action == "RemoteStartTransaction" && request.payload.contains("chargingProfile")))) {
    // Every charging-profile command with what the charger answered (or why it did not).
    std::string status = outcome;
    if (result.reply && result.reply->outcome == messages::CommandOutcome::kResult &&
        result.reply->payload.contains("status") && result.reply->payload["status"].is_string()) {
      status = result.reply->payload["status"].get<std::string>();
    } else if (result.reply && result.reply->outcome == messages::CommandOutcome::kCallError) {
      status = "CallError " + result.reply->error_code;
    }
    const auto connector = request.payload.contains("evseId") ? request.payload.value("evseId", 0)  // 2.0.1
                                                              : request.payload.value("connectorId", 0);
    try {
      site_store_->record_profile({request.device_id, connector, request.action, "api", request.payload, status});
    } catch (const std::exception& e) {
      spdlog::error("api: {} of {} answered but not recorded: {}", request.action, request.device_id, e.what());
    }
  }
  spdlog::info("api: {} to {} -> {} ({})", request.action, request.device_id, http.status, outcome);
  ++command_outcomes_[outcome];
  publish_event(messages::command_completed_event(request.device_id, request.command_id, request.action, outcome,
                                                  http.status, http.body));
  return {http.status, std::move(http.body), answered};
}

void ApiHandler::enable_local_list(LocalListStore& store) {
  if (commands_ == nullptr) throw std::logic_error("enable_local_list needs enable_commands first");
  local_list_ = std::make_shared<LocalListService>(*commands_, store,
                                                   [this](const messages::DomainEvent& e) { publish_event(e); });
}

void ApiHandler::check_local_list_versions() {
  if (local_list_ != nullptr) local_list_->check_versions();
}

void ApiHandler::finish_command(CommandResult result, const std::function<void(HttpResponse)>& respond) {
  auto end = conclude_command(result);
  respond(json_response(end.status, end.body));
}

void ApiHandler::publish_event(const messages::DomainEvent& event) {
  if (broker_ == nullptr) return;
  broker::Message message;
  message.exchange = options_.events_exchange;
  message.routing_key = messages::event_routing_key(event.type);
  if (auto id = event.fields.find("eventId"); id != event.fields.end() && id->is_string()) {
    message.message_id = id->get<std::string>();
  } else if (auto command = event.fields.find("commandId"); command != event.fields.end() && command->is_string()) {
    message.message_id = command->get<std::string>() + "-completed";
  }
  message.type = event.type;
  message.body = messages::encode_event(
      event, messages::format_timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count()));
  broker_->publish(std::move(message), [type = event.type](broker::PublishOutcome o) {
    if (o != broker::PublishOutcome::kConfirmed) spdlog::warn("api: {} event not published", type);
  });
}


HttpResponse ApiHandler::dead_letters(std::string_view method, std::string_view path,
                                      const std::map<std::string, std::string>& params,
                                      std::string_view body) {
  if (!broker_) return error_response(503, "RabbitMQ is not configured");
  auto q = params.find("queue");
  const std::string dlq = broker::resolve_dead_letter_queue(q == params.end() || q->second.empty() ? options_.ocpp_queue : q->second);
  broker::DeadLetterTool tool(*broker_, std::chrono::seconds(5));
  try {
    if (path == "/api/dlq" && method == "GET") {
      std::size_t limit = 100;
      if (auto it = params.find("limit"); it != params.end()) {
        auto v = to_long(it->second);
        if (!v || *v < 1 || *v > 10000) return error_response(400, "limit: expected 1..10000");
        limit = static_cast<std::size_t>(*v);
      }
      json out = json::array();
      for (const auto& l : tool.list(dlq, limit)) out.push_back(broker::to_json(l, false));
      return json_response(200, out);
    }
    if (path == "/api/dlq" && method == "DELETE") {
      return json_response(200, json{{"queue", dlq}, {"purged", tool.purge(dlq)}});
    }
    if (path == "/api/dlq/replay" && method == "POST") {
      auto request = json::parse(body, nullptr, false);
      if (!request.is_object()) return error_response(400, "expected a JSON object {\"id\":ID} or {\"all\":true}");
      if (request.contains("all") && request["all"] == true) {
        return json_response(200, json{{"queue", dlq}, {"replayed", tool.replay_all(dlq)}});
      }
      if (request.contains("id") && request["id"].is_string()) {
        const std::string id = request["id"];
        if (!tool.replay(dlq, id)) return error_response(404, "no message " + id + " in " + dlq);
        return json_response(200, json{{"queue", dlq}, {"replayed", 1}, {"id", id}});
      }
      return error_response(400, "expected {\"id\":ID} or {\"all\":true}");
    }
    constexpr std::string_view kPrefix = "/api/dlq/";
    if (path.substr(0, kPrefix.size()) == kPrefix && method == "GET") {
      const std::string id = url_decode(path.substr(kPrefix.size()));
      if (auto l = tool.show(dlq, id)) return json_response(200, broker::to_json(*l, true));
      return error_response(404, "no message " + id + " in " + dlq);
    }
    return error_response(path == "/api/dlq" || path.substr(0, kPrefix.size()) == kPrefix ? 405 : 404,
                          "method not allowed");
  } catch (const broker::BrokerError& e) {
    return error_response(503, std::string("RabbitMQ: ") + e.what());
  }
}

std::vector<std::pair<std::string, std::string>> security_headers(int notify_port) {
  const std::string port = std::to_string(notify_port);
  return {
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' http://*:" + port + " https://*:" + port + " ws://*:" + port + " wss://*:" + port +
           "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
}

std::optional<HttpResponse> ApiHandler::authorize(std::string_view method, std::string_view target,
                                                  std::string_view authorization) {
  if (options_.access == nullptr) return std::nullopt;
  const std::string_view path = target.substr(0, target.find('?'));
  const auth::Need need = auth::required_access(method, path, options_.metrics_open);
  if (need == auth::Need::kNone) return std::nullopt;
  try {
    const bool enabled = options_.access->enabled();
    std::optional<auth::Principal> who;
    if (enabled) who = options_.access->identify(auth::bearer_token(authorization));
    if (auto refusal = auth::check_access(need, enabled, who)) {
      ++requests_;
      return error_response(refusal->status, refusal->message);
    }
  } catch (const std::exception& e) {
    spdlog::warn("api: cannot check the API token: {}", e.what());
    return error_response(503, "cannot check the API token: database unavailable");
  }
  return std::nullopt;
}

std::optional<RouteRefusal> ApiHandler::check_route(std::string_view method, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (!is_api_path(path)) return std::nullopt;
  const auto match = match_route(api_routes(), method, path);
  if (match.check == RouteCheck::kFound) return std::nullopt;
  ++requests_;
  if (match.check == RouteCheck::kWrongMethod) {
    return RouteRefusal{error_response(405, "method not allowed: " + std::string(path) + " accepts " + match.allowed),
                        match.allowed};
  }
  return RouteRefusal{error_response(404, "not found: " + std::string(path) + " is not an api route (see /api/openapi.json)"),
                      {}};
}

SlowJob ApiHandler::slow_route(std::string_view method, std::string_view target, std::string_view body) {
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  const bool read = method == "GET" || method == "HEAD";
  if (path == "/api/queues" && read && options_.queues) {
    ++requests_;
    return {[queues = options_.queues] {
              try {
                return json_response(200, queues());
              } catch (const std::exception& e) {
                spdlog::error("api: GET /api/queues failed: {}", e.what());
                return error_response(500, "internal error");
              }
            },
            false};
  }
  if (path == "/api/dlq" || path.substr(0, 9) == "/api/dlq/") {
    ++requests_;
    // dead_letters() reads only options_ and broker_ (see the header); copies of the request.
    return {[this, method = std::string(method), path = std::string(path), params = parse_query(query),
             body = std::string(body)] {
              try {
                return dead_letters(method, path, params, body);
              } catch (const std::exception& e) {
                spdlog::error("api: {} {} failed: {}", method, path, e.what());
                return error_response(500, "internal error");
              }
            },
            true};
  }
  return {};
}

HttpResponse ApiHandler::handle(std::string_view method, std::string_view target,
                                std::string_view /*authorization: see authorize()*/, std::string_view accept,
                                std::string_view body) {
  ++requests_;
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (path == "/api/dlq" || path.substr(0, 9) == "/api/dlq/") {
    return dead_letters(method, path, parse_query(query), body);
  }
  if (auto id = security_route_id(path)) {  // access control (operator for PUT) ran before routing
    return handle_charger_security(method, url_decode(*id), body, credential_store_);
  }
  try {
    if (auto sites = handle_sites(method, path, body, site_store_, options_.nominal_voltage)) return *sites;
    if (auto firmware = firmware_route(method, path, parse_query(query), body)) return *firmware;
  } catch (const TransientStoreError& e) {
    spdlog::warn("api: database unavailable: {}", e.what());
    return error_response(503, std::string("database unavailable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("api: {} {} failed: {}", method, target, e.what());
    return error_response(500, "internal error");
  }
  if (method != "GET" && method != "HEAD") {
    return error_response(405, "method not allowed");
  }
  try {
    if (path == "/health") return health();
    if (path == "/metrics") return metrics();
    if (path == "/api/config") {
      return json_response(200, json{{"notifyPort", options_.notify_port},
                                     {"notifyPath", "/socket.io/"},
                                     {"gatewayPort", options_.gateway_port},
                                     {"authRequired", options_.access != nullptr && options_.access->enabled()}});
    }
    if (path == "/api/openapi.json") return HttpResponse{200, "application/json", std::string(openapi_document())};
    if (path.substr(0, 5) != "/api/") {
      if (auto file = read_static_file(options_.web_dir, path)) {
        return HttpResponse{200, file->content_type, std::move(file->body)};
      }
      return error_response(404, "not found");
    }

    auto params = parse_query(query);
    if (path == "/api/queues" && options_.queues) return json_response(200, options_.queues());
    if (auto stats = handle_stats(path, params, accept, store_, options_)) return *stats;
    constexpr std::string_view kChargers = "/api/chargers";
    constexpr std::string_view kTransactions = "/api/transactions";
    if (path == kChargers || path == "/api/chargers/") {
      auto parsed = parse_charger_query(params);
      if (auto* problem = std::get_if<std::string>(&parsed)) return error_response(400, *problem);
      auto query = std::get<ChargerQuery>(std::move(parsed));
      query.online_since = online_since();
      auto page = store_.list_chargers(query);
      for (auto& c : page.items) mark_online(c, query.online_since);
      auto response = json_response(200, page.items);
      response.headers = paging_headers(kChargers, params, query.limit, query.offset, page.total);
      return response;
    }
    if (path == "/api/chargers/summary") {
      return json_response(200, store_.charger_summary(online_since()));
    }
    constexpr std::string_view kConfiguration = "/configuration";
    if (path.substr(0, kChargers.size() + 1) == "/api/chargers/" && path.size() > kConfiguration.size() &&
        path.substr(path.size() - kConfiguration.size()) == kConfiguration) {
      std::string id = url_decode(
          path.substr(kChargers.size() + 1, path.size() - kChargers.size() - 1 - kConfiguration.size()));
      if (command_store_ == nullptr) return error_response(503, "configuration not available in this process");
      if (auto config = command_store_->charger_configuration(id)) return json_response(200, *config);
      return error_response(404, "no charger " + id);
    }
    constexpr std::string_view kDeviceModel = "/device-model";
    if (path.substr(0, kChargers.size() + 1) == "/api/chargers/" && path.size() > kDeviceModel.size() &&
        path.substr(path.size() - kDeviceModel.size()) == kDeviceModel) {
      std::string id = url_decode(
          path.substr(kChargers.size() + 1, path.size() - kChargers.size() - 1 - kDeviceModel.size()));
      if (auto model = store_.device_model(id)) {
        return json_response(200, json{{"chargePointId", id}, {"variables", std::move(*model)}});
      }
      return error_response(404, "no charger " + id);
    }
    if (auto reservations = reservation_read_route(path, params)) return *reservations;
    if (auto diagnostics = diagnostics_read_route(path, params)) return *diagnostics;
    if (auto certificates = certificate_read_route(path, params)) return *certificates;
    if (path.substr(0, kChargers.size() + 1) == "/api/chargers/") {
      std::string id = url_decode(path.substr(kChargers.size() + 1));
      auto charger = store_.charger(id);
      if (!charger) return error_response(404, "no charger " + id);
      if (reservation_store_ != nullptr) {
        ReservationFilter active;
        active.charger = id;
        active.status = std::string(csms::kReservationActive);
        json list = json::array();
        for (const auto& r : reservation_store_->list_reservations(active)) list.push_back(csms::reservation_json(r));
        (*charger)["reservations"] = std::move(list);
      }
      mark_online(*charger, online_since());
      return json_response(200, *charger);
    }
    if (path == kTransactions || path == "/api/transactions/") {
      TransactionFilter filter;
      for (const char* key : {"chargerId", "chargePointId"}) {
        if (auto it = params.find(key); it != params.end() && !it->second.empty()) {
          filter.charger = it->second;
        }
      }
      if (auto it = params.find("active"); it != params.end()) {
        if (it->second == "true") {
          filter.active = true;
        } else if (it->second == "false") {
          filter.active = false;
        } else {
          return error_response(400, "active: expected true or false");
        }
      }
      if (auto it = params.find("limit"); it != params.end()) {
        auto v = to_long(it->second);
        if (!v || *v < 1 || *v > 1000) return error_response(400, "limit: expected 1..1000");
        filter.limit = static_cast<int>(*v);
      }
      if (auto it = params.find("offset"); it != params.end()) {
        auto v = to_long(it->second);
        if (!v || *v < 0) return error_response(400, "offset: expected a non-negative integer");
        filter.offset = static_cast<int>(*v);
      }
      auto response = json_response(200, store_.list_transactions(filter));
      response.headers =
          paging_headers(kTransactions, params, filter.limit, filter.offset, store_.count_transactions(filter));
      return response;
    }
    if (path.substr(0, kTransactions.size() + 1) == "/api/transactions/") {
      // The api's id (an integer, both versions), or a 2.0.1 station's transactionId
      // (URL-encoded; docs/ocpp201.md). All digits is read as the api's id first.
      std::string raw = url_decode(path.substr(kTransactions.size() + 1));
      if (raw.empty()) return error_response(400, "transaction id missing");
      if (auto id = to_long(raw)) {
        if (auto tx = store_.transaction(*id)) return json_response(200, *tx);
      }
      const json ids = store_.transaction_ids_for(raw);
      if (ids.size() > 1) {
        return json_response(409, json{{"error", "transactionId " + raw + " is used by " +
                                                     std::to_string(ids.size()) +
                                                     " chargers: use the api's id"},
                                       {"ids", ids}});
      }
      if (ids.size() == 1) {
        if (auto tx = store_.transaction(ids[0].get<std::int64_t>())) return json_response(200, *tx);
      }
      return error_response(404, "no transaction " + raw);
    }
    return error_response(404, "not found");
  } catch (const TransientStoreError& e) {
    spdlog::warn("api: database unavailable: {}", e.what());
    return error_response(503, std::string("database unavailable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("api: {} {} failed: {}", method, target, e.what());
    return error_response(500, "internal error");
  }
}

namespace {

// Runs slow routes on a few worker threads and hands their answers back to the I/O
// thread. busy_ (waiting + running) is only touched on the I/O thread.
class SlowLane {
 public:
  SlowLane(net::io_context& ioc, std::size_t threads, std::size_t limit)
      : ioc_(ioc), pool_(threads), exclusive_(pool_.get_executor()), limit_(limit) {}

  // On the I/O thread. False (and job dropped) when `limit` slow requests already wait;
  // otherwise respond is called later, on the I/O thread, with the job's answer.
  bool submit(SlowJob job, std::function<void(HttpResponse)> respond) {
    if (busy_ >= limit_) return false;
    ++busy_;
    auto work = [this, run = std::move(job.run), respond = std::move(respond)]() mutable {
      HttpResponse result = run();
      net::post(ioc_, [this, result = std::move(result), respond = std::move(respond)]() mutable {
        --busy_;
        respond(std::move(result));
      });
    };
    if (job.exclusive) {
      net::post(exclusive_, std::move(work));
    } else {
      net::post(pool_, std::move(work));
    }
    return true;
  }

  std::size_t limit() const { return limit_; }

  // Drops the jobs not started and waits for the running ones (each bounded by its own
  // timeouts). After ioc stopped: their answers are never written.
  void shutdown() {
    pool_.stop();
    pool_.join();
  }

 private:
  net::io_context& ioc_;
  net::thread_pool pool_;
  net::strand<net::thread_pool::executor_type> exclusive_;  // exclusive jobs, one at a time
  std::size_t limit_;
  std::size_t busy_ = 0;
};

}  // namespace

struct ApiServer::Impl : std::enable_shared_from_this<ApiServer::Impl> {
  ApiOptions options;
  ApiHandler& handler;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
  SlowLane slow{ioc, kSlowRequestThreads, kSlowRequestLimit};  // after ioc: joined before it goes

  Impl(ApiOptions o, ApiHandler& h) : options(std::move(o)), handler(h) {}
  void accept();
};

namespace {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ApiHandler& handler, const ApiOptions& options, SlowLane& slow)
      : stream_(std::move(socket)), handler_(handler), options_(options), slow_(slow) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
  }

  void read() {
    request_ = {};
    parser_.emplace();
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

 private:
  std::string_view accept_header() const {
    const auto accept = request_[http::field::accept];
    return std::string_view(accept.data(), accept.size());
  }

  // Upload URLs (docs/diagnostics.md) take bodies up to their own limit, refused with 413
  // before the body is read when Content-Length says it is larger; every other request
  // keeps Beast's default limit (1 MiB).
  void on_header(beast::error_code ec) {
    if (ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    const auto& header = parser_->get();
    const auto method = header.method_string();
    const auto target = header.target();
    const std::uint64_t limit = handler_.upload_body_limit(std::string_view(method.data(), method.size()),
                                                           std::string_view(target.data(), target.size()));
    if (limit > 0) {
      parser_->body_limit(limit);
      if (const auto length = parser_->content_length(); length && *length > limit) {
        refuse_upload(std::string_view(target.data(), target.size()));
        return;
      }
      stream_.expires_after(std::chrono::minutes(10));  // a large file over a slow link
      if (beast::iequals(header[http::field::expect], "100-continue")) {
        auto proceed = std::make_shared<http::response<http::empty_body>>(http::status::continue_, header.version());
        http::async_write(stream_, *proceed, [self = shared_from_this(), proceed](beast::error_code wec, std::size_t) {
          if (wec) return;
          self->read_body();
        });
        return;
      }
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  // 413 for an upload larger than its limit; the rest of the body is read and dropped so
  // the client sees the answer rather than a reset connection.
  void refuse_upload(std::string_view target) {
    const std::string target_text(target);
    request_.method(parser_->get().method());
    request_.version(parser_->get().version());
    request_.keep_alive(false);
    draining_ = true;
    write(handler_.refuse_large_upload(target_text, remote_));
  }

  void drain() {
    stream_.expires_after(std::chrono::seconds(30));
    stream_.async_read_some(net::buffer(drain_buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      self->drain();
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      const auto target = parser_->get().target();
      refuse_upload(std::string_view(target.data(), target.size()));
      return;
    }
    if (ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    request_ = parser_->release();
    auto method = request_.method_string();
    auto target = request_.target();
    auto auth = request_[http::field::authorization];
    const std::string_view method_view(method.data(), method.size());
    const std::string_view target_view(target.data(), target.size());
    const std::string_view auth_view(auth.data(), auth.size());
    const auto origin = request_[http::field::origin];
    const auto host = request_[http::field::host];
    origin_ = std::string(origin.data(), origin.size());
    const bool foreign = !origin_.empty() && !auth::same_origin(origin_, std::string_view(host.data(), host.size()));
    cors_allowed_ = foreign && auth::cors_allowed(origin_, std::string_view(host.data(), host.size()),
                                                  options_.cors_origins);
    if (foreign && !cors_allowed_) {
      write(HttpResponse{403, "application/json",
                         nlohmann::json{{"error", "origin " + origin_ + " is not allowed (GENX_CORS_ORIGINS)"}}.dump()});
      return;
    }
    if (request_.method() == http::verb::options) {
      write(HttpResponse{204, "text/plain", ""});
      return;
    }
    if (auto refusal = handler_.check_route(method_view, target_view)) {
      write(std::move(refusal->response), {}, refusal->allow);
      return;
    }
    if (auto refusal = handler_.authorize(method_view, target_view, auth_view)) {
      write(std::move(*refusal));
      return;
    }
    // Uploads to one-time URLs (docs/diagnostics.md): the URL's token is the credential.
    const auto content_type = request_[http::field::content_type];
    if (auto upload = handler_.handle_upload(method_view, target_view,
                                             std::string_view(content_type.data(), content_type.size()),
                                             request_.body(), remote_)) {
      write(std::move(*upload));
      return;
    }
    // Commands answer later (when the charger does): write() runs from the callback.
    if (handler_.handle_command(method_view, target_view, auth_view, request_.body(),
                                [self = shared_from_this()](HttpResponse result) {
                                  self->write(std::move(result));
                                },
                                std::string_view(host.data(), host.size()))) {
      return;
    }
    // Slow routes run on the worker pool; write() runs when they are done, on this thread.
    if (auto job = handler_.slow_route(method_view, target_view, request_.body()); job.run) {
      if (!slow_.submit(std::move(job), [self = shared_from_this()](HttpResponse result) {
            self->write(std::move(result));
          })) {
        spdlog::warn("api: {} {} refused: {} slow requests already waiting", method_view, target_view,
                     slow_.limit());
        write(HttpResponse{503, "application/json",
                           nlohmann::json{{"error", "busy: " + std::to_string(slow_.limit()) +
                                                        " slow requests (/api/queues, /api/dlq) already "
                                                        "waiting; retry later"}}
                               .dump()},
              "2");
      }
      return;
    }
    write(handler_.handle(method_view, target_view, auth_view, accept_header(), request_.body()));
  }

  // retry_after: seconds for a Retry-After header; allow: methods for an Allow header
  // (empty: none).
  void write(HttpResponse result, std::string_view retry_after = {}, std::string_view allow = {}) {
    stream_.expires_after(std::chrono::seconds(30));  // the read's deadline may have passed
    response_ = {};
    response_.version(request_.version());
    response_.result(static_cast<http::status>(result.status));
    response_.set(http::field::server, "genx");
    response_.set(http::field::content_type, result.content_type);
    response_.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : security_headers(options_.notify_port)) response_.set(name, value);
    if (cors_allowed_) {
      response_.set(http::field::access_control_allow_origin, origin_);
      response_.set(http::field::vary, "Origin");
      if (request_.method() == http::verb::options) {
        response_.set(http::field::access_control_allow_methods, "GET, HEAD, POST, PUT, DELETE, OPTIONS");
        response_.set(http::field::access_control_allow_headers, "authorization, content-type");
        response_.set(http::field::access_control_max_age, "600");
      }
    }
    if (request_.method() == http::verb::options) response_.set(http::field::allow, "GET, HEAD, POST, PUT, DELETE, OPTIONS");
    if (!retry_after.empty()) response_.set(http::field::retry_after, std::string(retry_after));
    if (!allow.empty()) response_.set(http::field::allow, std::string(allow));
    for (const auto& [name, value] : result.headers) response_.set(name, value);
    if (cors_allowed_ && !result.headers.empty()) {
      response_.set(http::field::access_control_expose_headers, "X-Total-Count, Link");
    }
    response_.keep_alive(request_.keep_alive());
    response_.body() = request_.method() == http::verb::head ? "" : std::move(result.body);
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!self->response_.keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          if (self->draining_) self->drain();
                          return;
                        }
                        self->read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;  // one per request
  http::request<http::string_body> request_;
  std::string remote_;  // the peer's address (upload failure limits)
  bool draining_ = false;
  std::array<char, 16384> drain_buffer_{};
  http::response<http::string_body> response_;
  ApiHandler& handler_;
  const ApiOptions& options_;
  SlowLane& slow_;
  std::string origin_;
  bool cors_allowed_ = false;  // a foreign origin allowed by GENX_CORS_ORIGINS
};

}  // namespace

void ApiServer::Impl::accept() {
  acceptor.async_accept(ioc, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopping) return;
    if (!ec) std::make_shared<HttpSession>(std::move(socket), self->handler, self->options, self->slow)->read();
    self->accept();
  });
}

ApiServer::ApiServer(ApiOptions options, ApiHandler& handler)
    : impl_(std::make_shared<Impl>(std::move(options), handler)) {}

ApiServer::~ApiServer() { stop(); }

void ApiServer::run() {
  auto& impl = *impl_;
  genx::net::listen_on(impl.acceptor, impl.options.bind_address, impl.options.port, "api");
  spdlog::info("api listening on http://{}:{}/", impl.options.bind_address, impl.options.port);
  impl.accept();
  impl.ioc.run();
  impl.slow.shutdown();  // before the caller tears down what slow routes use (monitor, broker)
}

void ApiServer::post(std::function<void()> fn) { net::post(impl_->ioc, std::move(fn)); }

void ApiServer::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<net::steady_timer>(impl_->ioc, delay);
  timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
    if (!ec) fn();
  });
}

void ApiServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->ioc.stop();
  });
}

}  // namespace genx::api
