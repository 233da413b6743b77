#include "api/routes.hpp"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace genx::api {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    const auto end = path.find('/', start);
    const auto stop = end == std::string_view::npos ? path.size() : end;
    out.emplace_back(path.substr(start, stop - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

bool is_parameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// How well a route's segments fit the request's: -1 when they do not, else the number of
// concrete segments (more = more specific).
int fit(const Route& route, const std::vector<std::string>& request) {
  if (route.segments.size() != request.size()) return -1;
  int concrete = 0;
  for (std::size_t i = 0; i < request.size(); ++i) {
    if (is_parameter(route.segments[i])) {
      if (request[i].empty()) return -1;
      continue;
    }
    if (route.segments[i] != request[i]) return -1;
    ++concrete;
  }
  return concrete;
}

std::vector<Route> load_routes() {
  const auto doc = nlohmann::json::parse(openapi_document(), nullptr, false);
  if (doc.is_discarded() || !doc.contains("paths") || !doc["paths"].is_object() || doc["paths"].empty()) {
    throw std::runtime_error("the built-in OpenAPI document is not valid JSON or has no paths");
  }
  std::vector<Route> routes;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const char* method : {"get", "put", "post", "delete", "patch"}) {
      if (!item.contains(method)) continue;
      Route r;
      r.method = method;
      std::transform(r.method.begin(), r.method.end(), r.method.begin(),
                     [](unsigned char c) { return static_cast<char>(c - 'a' + 'A'); });
      r.path = path;
      r.segments = split_path(path);
      routes.push_back(std::move(r));
    }
  }
  return routes;
}

}  // namespace

const std::vector<Route>& api_routes() {
  static const std::vector<Route> routes = load_routes();
  return routes;
}

bool is_api_path(std::string_view path) {
  return path == "/api" || path.substr(0, 5) == "/api/" || path == "/health" || path == "/metrics";
}

RouteMatch match_route(const std::vector<Route>& routes, std::string_view method, std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const auto request = split_path(path);
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  // The most specific path template that fits decides; its methods answer.
  int best = -1;
  for (const auto& r : routes) best = std::max(best, fit(r, request));
  RouteMatch match;
  if (best < 0) return match;
  for (const auto& r : routes) {
    if (fit(r, request) != best) continue;
    if (r.method == wanted) {
      match.check = RouteCheck::kFound;
      match.route = &r;
      match.allowed.clear();
      return match;
    }
    if (match.allowed.find(r.method) == std::string::npos) {
      match.allowed += (match.allowed.empty() ? "" : ", ") + r.method;
    }
  }
  match.check = RouteCheck::kWrongMethod;
  return match;
}

}  // namespace genx::api
