#include "store/postgres/postgres_sql.hpp"

namespace genx::store {

std::vector<SqlRow> PostgresSqlTx::exec(const char* sql, const std::vector<SqlValue>& params) {
  std::vector<std::optional<std::string>> values;
  values.reserve(params.size());
  for (const auto& v : params) {
    if (const auto* i64 = std::get_if<std::int64_t>(&v)) {
      values.emplace_back(std::to_string(*i64));
    } else if (const auto* text = std::get_if<std::string>(&v)) {
      values.emplace_back(*text);
    } else {
      values.emplace_back(std::nullopt);
    }
  }
  const pqxx::result result = tx_.exec_params(sql, pqxx::prepare::make_dynamic_params(values));
  std::vector<SqlRow> rows;
  rows.reserve(result.size());
  for (const auto& r : result) {
    SqlRow row(r.size());
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (!r[static_cast<pqxx::row::size_type>(c)].is_null()) row[c] = r[static_cast<pqxx::row::size_type>(c)].c_str();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace genx::store
