#include "store/charger_listing.hpp"

namespace genx::store {

namespace {

constexpr std::string_view kRank =
    "CASE %s WHEN 'Faulted' THEN 0 WHEN 'Unavailable' THEN 1 WHEN 'Charging' THEN 2 "
    "WHEN 'SuspendedEVSE' THEN 3 WHEN 'SuspendedEV' THEN 4 WHEN 'Finishing' THEN 5 "
    "WHEN 'Preparing' THEN 6 WHEN 'Reserved' THEN 7 WHEN 'Available' THEN 8 ELSE 9 END";

std::string rank_of(std::string_view column) {
  std::string out(kRank);
  out.replace(out.find("%s"), 2, column);
  return out;
}

// The expressions of index chargers_natural, exactly as migration 0009 declares them.
std::string natural_order(Dialect d) {
  if (d == Dialect::kPostgres) {
    return "rtrim(charge_point_id, '0123456789') COLLATE \"C\", "
           "length(charge_point_id) - length(rtrim(charge_point_id, '0123456789')), "
           "charge_point_id COLLATE \"C\"";
  }
  return "rtrim(charge_point_id, '0123456789'), "
         "length(charge_point_id) - length(rtrim(charge_point_id, '0123456789')), "
         "charge_point_id";
}

}  // namespace

std::string like_anywhere(std::string_view q) {
  std::string out = "%";
  for (char c : q) {
    if (c == '\\' || c == '%' || c == '_') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

std::string derived_status_sql(std::string_view charger_id_sql) {
  return "(SELECT c.status FROM connectors c WHERE c.charger_id = " + std::string(charger_id_sql) +
         " ORDER BY " + rank_of("c.status") + ", c.status, c.connector_id LIMIT 1)";
}

std::string transaction_conditions(const api::TransactionFilter& filter, Dialect dialect) {
  std::vector<std::string> conditions;
  if (filter.charger) {
    conditions.push_back(std::string("t.charger_id = (SELECT id FROM chargers WHERE charge_point_id = ") +
                         (dialect == Dialect::kPostgres ? "$1" : "?1") + ")");
  }
  if (filter.active) conditions.push_back(*filter.active ? "t.stopped_at IS NULL" : "t.stopped_at IS NOT NULL");
  std::string where;
  for (std::size_t i = 0; i < conditions.size(); ++i) where += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  return where;
}

ListingSql charger_listing_sql(const api::ChargerQuery& query, Dialect dialect) {
  ListingSql out;
  auto param = [&](std::string value) {
    out.params.push_back(std::move(value));
    return (dialect == Dialect::kPostgres ? "$" : "?") + std::to_string(out.params.size());
  };
  std::vector<std::string> conditions;
  if (query.status) {
    if (*query.status == "online") {
      conditions.push_back("last_seen_at >= " + param(query.online_since));
    } else if (*query.status == "offline") {
      conditions.push_back("(last_seen_at IS NULL OR last_seen_at < " + param(query.online_since) + ")");
    } else if (*query.status == "Unknown") {
      conditions.push_back("status IS NULL");
    } else {
      conditions.push_back("status = " + param(*query.status));
    }
  }
  std::string exact_first;
  out.where_params = out.params.size();
  if (query.q && !query.q->empty()) {
    // Case folds ASCII letters only on both backends (SQLite's LIKE does; on PostgreSQL
    // ILIKE under the "C" collation does, and costs half of ILIKE under a locale).
    const std::string like = dialect == Dialect::kPostgres ? " COLLATE \"C\" ILIKE " : " LIKE ";
    const std::string p = param(like_anywhere(*query.q));
    std::string any;
    for (const char* column : {"charge_point_id", "vendor", "model", "serial_number", "charge_box_serial_number"}) {
      if (!any.empty()) any += " OR ";
      any += std::string(column) + like + p + " ESCAPE '\\'";
    }
    conditions.push_back("(" + any + ")");
    out.where_params = out.params.size();
    exact_first = "CASE WHEN charge_point_id = " + param(*query.q) + " THEN 0 ELSE 1 END, ";
  }
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    out.where += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  }
  const std::string natural = natural_order(dialect);
  switch (query.sort) {
    case api::ChargerSort::kId:
      out.order = " ORDER BY " + exact_first + natural;
      break;
    case api::ChargerSort::kLastSeen:
      out.order = " ORDER BY " + exact_first + "last_seen_at DESC NULLS LAST, " + natural;
      break;
    case api::ChargerSort::kStatus:
      out.order = " ORDER BY " + exact_first + "status IS NULL, " + rank_of("status") + ", status, " + natural;
      break;
  }
  return out;
}

}  // namespace genx::store
