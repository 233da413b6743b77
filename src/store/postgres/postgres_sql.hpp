#pragma once
// PostgreSQL's statement runner for the SQL common to both backends (store/sql_tx.hpp),
// on an open libpqxx transaction. Used by PostgresStore only (errors pass through to its
// mapping of libpqxx exceptions).
#include <pqxx/pqxx>

#include "store/sql_tx.hpp"

namespace genx::store {

class PostgresSqlTx final : public SqlTx {
 public:
  explicit PostgresSqlTx(pqxx::transaction_base& tx) : tx_(tx) {}
  std::vector<SqlRow> exec(const char* sql, const std::vector<SqlValue>& params) override;

 private:
  pqxx::transaction_base& tx_;
};

}  // namespace genx::store
