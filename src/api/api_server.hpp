#pragma once
// The REST API role (read side): health, metrics, chargers and transactions as JSON.
//
// Threading: run() serves on one I/O thread; requests are handled one at a time against
// a Store opened by the caller for that thread. stop() is safe from any thread.
// Authentication: when api_token is set, /api/* requires "Authorization: Bearer TOKEN";
// /health, /metrics, /api/config and the dashboard files stay open (the dashboard asks
// the operator for the token).
// Dead letters: GET /api/dlq?queue=Q&limit=N, GET /api/dlq/{id}?queue=Q,
// POST /api/dlq/replay {"id":ID} or {"all":true}, DELETE /api/dlq?queue=Q.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/broker_client.hpp"
#include "store/store.hpp"

namespace genx::api {

struct ApiOptions {
  std::string bind_address = "0.0.0.0";
  int port = 8080;
  std::optional<std::string> api_token;
  std::string ocpp_queue = "ocpp_messages";
  int notify_port = 8081;  // told to the dashboard by GET /api/config
  int gateway_port = 9000;
  std::string web_dir;     // dashboard files; empty = no dashboard
  // Operations hooks (src/app/ops.hpp, src/api/queue_monitor.hpp); unset = not served.
  // queues: the body of GET /api/queues. roles_health: the other roles' /health, merged
  // into this /health under "roles"; it clears `healthy` when one reports unhealthy.
  std::function<nlohmann::json()> queues;
  std::function<nlohmann::json(bool& healthy)> roles_health;
  std::string time_zone = "UTC";  // GENX_TIMEZONE: dates in stats queries, daily buckets
  std::string currency = "EUR";   // GENX_TARIFF_CURRENCY
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Routing and rendering, free of sockets so it can be tested directly.
class ApiHandler {
 public:
  ApiHandler(ApiOptions options, store::ReadStore& store, broker::BrokerClient* broker);
  HttpResponse handle(std::string_view method, std::string_view target,
                      std::string_view authorization, std::string_view accept = {},
                      std::string_view body = {});

 private:
  HttpResponse health();
  HttpResponse metrics();
  // /api/dlq...: dead-letter tools (broker/dead_letters.hpp); blocks this thread while
  // it talks to RabbitMQ (bounded by a timeout per round trip).
  HttpResponse dead_letters(std::string_view method, std::string_view path,
                            const std::map<std::string, std::string>& params, std::string_view body);
  ApiOptions options_;
  store::ReadStore& store_;
  broker::BrokerClient* broker_;
  std::uint64_t requests_ = 0;
};

class ApiServer {
 public:
  ApiServer(ApiOptions options, ApiHandler& handler);
  ~ApiServer();
  void run();  // binds (throws std::runtime_error naming the address) and serves until stop()
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace genx::api
