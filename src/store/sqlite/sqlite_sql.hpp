#pragma once
// SQLite's statement runner for the SQL common to both backends (store/sql_tx.hpp), on
// the connection's open transaction. Used by SqliteStore only.
#include <memory>

#include "store/sql_tx.hpp"

struct sqlite3;

namespace genx::store {

std::unique_ptr<SqlTx> make_sqlite_sql_tx(sqlite3* db);

}  // namespace genx::store
