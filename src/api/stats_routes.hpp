#pragma once
// GET /api/stats/{summary,energy,sessions,revenue,utilization} (docs/analytics.md):
// figures read from the aggregates, as JSON or, with `Accept: text/csv` or
// `?format=csv`, as CSV with a header line. Bad parameters answer 400.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_server.hpp"

namespace genx::api {

// nullopt when path is not a stats route.
std::optional<HttpResponse> handle_stats(std::string_view path,
                                         const std::map<std::string, std::string>& params,
                                         std::string_view accept, ReadStore& store,
                                         const ApiOptions& options);

}  // namespace genx::api
