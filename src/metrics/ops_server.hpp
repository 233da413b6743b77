#pragma once
// The per-role operations endpoint: a tiny HTTP server answering
//   GET /health   -> the role's health JSON, 200 when healthy, 503 when not
//   GET /metrics  -> the process Registry in the Prometheus text format
// and 404 for anything else. Nothing here needs a token (probes and scrapers).
//
// Threading: start() binds (throws std::runtime_error naming the address when it
// cannot) and serves on its own thread; the health callback runs on that thread, one
// request at a time, and may block briefly (a passive queue declare). stop() closes the
// listener and joins; the destructor calls it.
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "metrics/metrics.hpp"

namespace genx::metrics {

struct HealthReport {
  bool healthy = true;
  nlohmann::json body;  // {"status":..., "role":..., "checks":{...}}; status is filled in
};

class OpsServer {
 public:
  OpsServer(std::string bind_address, int port, std::function<HealthReport()> health,
            Registry& registry = metrics::registry());
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  void start();
  void stop();
  int port() const;  // the bound port (useful when constructed with 0)

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// GET http://HOST:PORT/PATH with a timeout; the status code (0 when unreachable) and
// body. Used by the api's aggregated health and by `genx health`.
struct HttpResult {
  int status = 0;
  std::string body;
  std::string error;
};
HttpResult http_get(const std::string& url, int timeout_ms = 2000,
                    const std::string& authorization = {});

}  // namespace genx::metrics
