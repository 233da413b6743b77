#pragma once
// The paging contract of the api's listings (docs/api.md, "Paging"): reading
// limit/offset/sort/status/q of GET /api/chargers, and the X-Total-Count and RFC 8288
// Link headers of every paged answer. Pure.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/read_store.hpp"

namespace genx::api {

// A charger seen this recently is online (the dashboard's rule before the api knew it).
inline constexpr std::chrono::minutes kOnlineWindow{10};

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// The query of GET /api/chargers from its parameters, or the 400 message naming the bad
// one. limit above kMaxPageSize is capped; status words are matched in any case.
// online_since is left for the caller (it depends on the clock).
std::variant<ChargerQuery, std::string> parse_charger_query(const std::map<std::string, std::string>& params);

// Headers of one page: X-Total-Count, and Link with rel="next" when more follow (and
// rel="prev" when this is not the first page). `path` is the route; `params` the query
// as received (offset is replaced, the rest kept).
std::vector<std::pair<std::string, std::string>> paging_headers(std::string_view path,
                                                               const std::map<std::string, std::string>& params,
                                                               int limit, int offset, std::int64_t total);

}  // namespace genx::api
