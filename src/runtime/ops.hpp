#pragma once
// Operations wiring shared by the roles: where each role's /health and /metrics listen,
// the broker metrics every role exports, and the health checks they have in common.
//
// Port layout (one setting, GENX_HEALTH_PORT = base; 0 turns the endpoints off):
//   gateway           base
//   ocpp-worker i     base + 10 + i     (i < 64)
//   notifier i        base + 100 + i
//   analytics i       base + 200 + i
//   api               its own API_PORT (/health aggregates the roles above)
// `genx run` gives every child its GENX_ROLE_INDEX; systemd templates pass %i.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/config.hpp"
#include "broker/broker_client.hpp"
#include "metrics/ops_server.hpp"

namespace genx::store {
class ReadStore;
}

namespace genx::app {

// The ops port of a role instance, or 0 when the endpoints are off or the role has none.
int ops_port(int base, std::string_view role, int index);

// Every role instance this machine's stack runs (per the counts in config) with its
// ops URL, for the api's aggregated health and `genx health`.
struct RoleEndpoint {
  std::string name;  // "gateway.0", "ocpp-worker.2", ...
  std::string url;   // http://127.0.0.1:PORT
};
std::vector<RoleEndpoint> local_role_endpoints(const Config& config,
                                               const std::vector<std::string>& roles);

// Registers callback metrics over the broker's counters (published, confirmed, nacked,
// returned, connection lost, delivered, reconnects, connected). The client must
// outlive every render of the registry: stop the OpsServer before destroying it.
void register_broker_metrics(broker::BrokerClient& broker);

// {"status":"up"|"down", "queue":{name,messages,consumers}, "error"?}; sets healthy=false
// when the connection is down or the queue cannot be checked.
nlohmann::json rabbitmq_check(broker::BrokerClient& broker, const std::string& queue,
                              bool& healthy);

// {"status":"up"} or {"status":"down","error":...} from a database round trip; sets
// healthy=false when it fails.
nlohmann::json database_check(store::ReadStore& store, bool& healthy);

// Starts the ops endpoint for this role. nullptr when GENX_HEALTH_PORT is 0, or when the
// port cannot be bound (logged as an error; the role keeps running without it).
std::unique_ptr<metrics::OpsServer> start_ops_server(const Config& config, std::string_view role,
                                                     std::function<metrics::HealthReport()> health);

// Queries every local role's /health; {"gateway.0": {...health or {status:"unreachable"}}}.
// all_healthy becomes false when a reachable role reports unhealthy (and, if
// strict, when one is unreachable).
nlohmann::json collect_role_health(const std::vector<RoleEndpoint>& endpoints, bool strict,
                                   bool& all_healthy);

}  // namespace genx::app
