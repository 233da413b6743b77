#include "store/sqlite/sqlite_sql.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <string_view>

#include "csms/store_error.hpp"

namespace genx::store {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what.substr(0, 80)) + ": " + sqlite3_errmsg(db);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      throw csms::TransientStoreError(message);
    default:
      throw std::runtime_error(message);
  }
}

class SqliteSqlTx final : public SqlTx {
 public:
  explicit SqliteSqlTx(sqlite3* db) : db_(db) {}

  std::vector<SqlRow> exec(const char* sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, sql);
    struct Finalize {
      sqlite3_stmt* s;
      ~Finalize() { sqlite3_finalize(s); }
    } finalize{stmt};
    // $n placeholders are named parameters to SQLite: bind each by its number.
    const int count = sqlite3_bind_parameter_count(stmt);
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      if (name == nullptr || name[0] != '$') throw std::logic_error(std::string("sql: placeholder not $n in ") + sql);
      const auto n = static_cast<std::size_t>(std::stoi(name + 1));
      if (n < 1 || n > params.size()) throw std::logic_error(std::string("sql: no value for ") + name + " in " + sql);
      const SqlValue& v = params[n - 1];
      if (const auto* i64 = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, i, *i64);
      } else if (const auto* text = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(stmt, i, text->data(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, i);
      }
      if (rc != SQLITE_OK) fail(db_, rc, "bind");
    }
    std::vector<SqlRow> rows;
    while (true) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(db_, rc, sql);
      const int columns = sqlite3_column_count(stmt);
      SqlRow row(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) continue;
        const auto* data = sqlite3_column_text(stmt, c);
        row[static_cast<std::size_t>(c)] =
            std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(stmt, c)));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  sqlite3* db_;
};

}  // namespace

std::unique_ptr<SqlTx> make_sqlite_sql_tx(sqlite3* db) { return std::make_unique<SqliteSqlTx>(db); }

}  // namespace genx::store
