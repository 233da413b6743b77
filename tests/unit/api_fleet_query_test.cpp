// The paging contract of the listings (docs/api.md, "Paging"): parameters of
// GET /api/chargers and the X-Total-Count / Link headers.
#include <gtest/gtest.h>

#include "api/fleet_query.hpp"

namespace genx::api {
namespace {

ChargerQuery parsed(const std::map<std::string, std::string>& params) {
  auto result = parse_charger_query(params);
  if (auto* problem = std::get_if<std::string>(&result)) ADD_FAILURE() << *problem;
  return std::get<ChargerQuery>(result);
}

std::string problem(const std::map<std::string, std::string>& params) {
  auto result = parse_charger_query(params);
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "accepted";
}

TEST(FleetQuery, DefaultsAreTheFirstHundredInIdOrder) {
  const auto q = parsed({});
  EXPECT_EQ(q.limit, 100);
  EXPECT_EQ(q.offset, 0);
  EXPECT_EQ(q.sort, ChargerSort::kId);
  EXPECT_FALSE(q.status);
  EXPECT_FALSE(q.q);
}

TEST(FleetQuery, LimitAboveTheMaximumIsCappedAndBadValuesAreRefused) {
  EXPECT_EQ(parsed({{"limit", "5000"}}).limit, 1000);
  EXPECT_EQ(parsed({{"limit", "1"}, {"offset", "20"}}).offset, 20);
  EXPECT_EQ(problem({{"limit", "0"}}), "limit: expected a positive integer (at most 1000; more is capped)");
  EXPECT_EQ(problem({{"limit", "ten"}}), "limit: expected a positive integer (at most 1000; more is capped)");
  EXPECT_EQ(problem({{"offset", "-1"}}), "offset: expected a non-negative integer");
  EXPECT_EQ(problem({{"offset", "1e3"}}), "offset: expected a non-negative integer");
}

TEST(FleetQuery, SortStatusAndSearch) {
  EXPECT_EQ(parsed({{"sort", "lastSeen"}}).sort, ChargerSort::kLastSeen);
  EXPECT_EQ(parsed({{"sort", "status"}}).sort, ChargerSort::kStatus);
  EXPECT_EQ(problem({{"sort", "name"}}), "sort: expected id, lastSeen or status");
  EXPECT_EQ(*parsed({{"status", "faulted"}}).status, "Faulted");   // any case, canonical word
  EXPECT_EQ(*parsed({{"status", "OFFLINE"}}).status, "offline");
  EXPECT_EQ(*parsed({{"status", "unknown"}}).status, "Unknown");
  EXPECT_EQ(*parsed({{"status", "Occupied"}}).status, "Occupied");  // a word of another version
  EXPECT_FALSE(parsed({{"status", ""}}).status);
  EXPECT_EQ(problem({{"status", "Faulted;DROP"}}),
            "status: expected online, offline, Unknown or a status word such as Faulted");
  EXPECT_EQ(*parsed({{"q", "  CP-1 "}}).q, "CP-1");
  EXPECT_FALSE(parsed({{"q", "   "}}).q);
  EXPECT_EQ(problem({{"q", std::string(101, 'x')}}), "q: at most 100 characters");
}

TEST(PagingHeaders, TotalAndRfc8288Links) {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(paging_headers("/api/chargers", {}, 100, 0, 250),
            (Headers{{"X-Total-Count", "250"}, {"Link", "</api/chargers?limit=100&offset=100>; rel=\"next\""}}));
  EXPECT_EQ(paging_headers("/api/chargers", {{"q", "a b&c"}, {"status", "Faulted"}, {"offset", "200"}}, 100, 200, 250),
            (Headers{{"X-Total-Count", "250"},
                     {"Link", "</api/chargers?q=a%20b%26c&status=Faulted&limit=100&offset=100>; rel=\"prev\""}}));
  EXPECT_EQ(paging_headers("/api/chargers", {}, 10, 5, 30),
            (Headers{{"X-Total-Count", "30"},
                     {"Link", "</api/chargers?limit=10&offset=15>; rel=\"next\", </api/chargers?limit=10&offset=0>; rel=\"prev\""}}));
  EXPECT_EQ(paging_headers("/api/transactions", {}, 100, 0, 100), (Headers{{"X-Total-Count", "100"}}));
  EXPECT_EQ(paging_headers("/api/transactions", {}, 100, 0, 0), (Headers{{"X-Total-Count", "0"}}));
}

}  // namespace
}  // namespace genx::api
