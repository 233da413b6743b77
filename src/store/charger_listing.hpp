#pragma once
// The SQL of the fleet listing (GET /api/chargers), shared by both backends so that they
// filter, rank and sort alike. Pure: builds text and parameters, runs nothing.
//
// Every condition and sort key matches an index of migration 0009 (docs/api.md,
// "What is indexed"): natural order of ids (chargers_natural), status (chargers_status),
// last seen (chargers_last_seen). The substring search reads every row's id, vendor,
// model and serial (no b-tree helps a substring); at 50,000 chargers that is a few
// milliseconds.
#include <string>
#include <string_view>
#include <vector>

#include "api/read_store.hpp"

namespace genx::store {

enum class Dialect { kSqlite, kPostgres };

struct ListingSql {
  std::string where;                // "" or " WHERE ..."
  std::string order;                // " ORDER BY ..."
  std::vector<std::string> params;  // text parameters, numbered 1.. in order
  std::size_t where_params = 0;     // how many of them `where` uses (the first ones): a count binds only these
};

ListingSql charger_listing_sql(const api::ChargerQuery& query, Dialect dialect);

// The charger's state from its connectors, most urgent first (the same ranking as
// migration 0009): an SQL expression over connectors c of the charger `charger_id_sql`.
std::string derived_status_sql(std::string_view charger_id_sql);

// " WHERE ..." of the transactions listing and its count over transactions t (or ""):
// one shape per filter so that each walks its index (transactions_charger,
// transactions_open, the primary key) newest first. The charger, when filtered, is
// parameter 1.
std::string transaction_conditions(const api::TransactionFilter& filter, Dialect dialect);

// `q` as a LIKE pattern matching it anywhere, with \ % _ escaped (ESCAPE '\').
std::string like_anywhere(std::string_view q);

}  // namespace genx::store
