#pragma once
// The api's routes, read from its OpenAPI document (src/api/openapi.json, compiled into
// the binary): the document is the route table. A request to /api/..., /health or
// /metrics whose path and method the document does not name is refused before any
// handler runs (404, or 405 naming the methods the path has), so a route cannot exist
// without being documented; tests/e2e/openapi.test.mjs checks the other direction (every
// documented operation is served).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genx::api {

// The OpenAPI 3.1 document, as served at GET /api/openapi.json.
std::string_view openapi_document();

struct Route {
  std::string method;                  // upper case: GET, POST, PUT, DELETE, PATCH
  std::string path;                    // template: /api/chargers/{chargePointId}
  std::vector<std::string> segments;   // the path split at '/', "{...}" = any one segment
};

// Every operation of the document; throws std::runtime_error when the document is not
// valid JSON or has no paths (a build defect, caught by the unit tests).
const std::vector<Route>& api_routes();

// Whether the router owns this path: /api, /api/..., /health and /metrics (everything
// else is a dashboard file).
bool is_api_path(std::string_view path);

enum class RouteCheck { kFound, kWrongMethod, kNotFound };

struct RouteMatch {
  RouteCheck check = RouteCheck::kNotFound;
  const Route* route = nullptr;       // kFound: the operation
  std::string allowed;                // kWrongMethod: "GET, PUT" (for the Allow header)
};

// Matches a request path (no query string; one trailing '/' ignored) against routes.
// HEAD matches GET. Concrete segments win over "{...}" ones (/api/dlq/replay before
// /api/dlq/{id}).
RouteMatch match_route(const std::vector<Route>& routes, std::string_view method, std::string_view path);

}  // namespace genx::api
