#pragma once
// A statement runner on one open database transaction, the same for both backends, so
// store code whose SQL is common to SQLite and PostgreSQL (store/firmware_sql.cpp) is
// written once. Placeholders are $1, $2, ... (both backends read them); every value comes
// back as text (NULL as nullopt), integers in decimal. Errors as the backend's other
// calls: TransientStoreError when busy or away (csms/store_error.hpp).
// Threading: as the transaction it runs on (one thread).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace genx::store {

using SqlValue = std::variant<std::nullptr_t, std::int64_t, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;

class SqlTx {
 public:
  virtual ~SqlTx() = default;
  // `sql` is a string literal (backends may cache statements by its address).
  virtual std::vector<SqlRow> exec(const char* sql, const std::vector<SqlValue>& params) = 0;
};

// Runs work on a new transaction: write (serializable, retried by the backend after a
// lost race) or read-only.
using SqlRunner = std::function<void(bool write, const std::function<void(SqlTx&)>& work)>;

inline SqlValue sql_text(const std::optional<std::string>& v) {
  return v ? SqlValue(*v) : SqlValue(nullptr);
}
inline SqlValue sql_int(const std::optional<std::int64_t>& v) {
  return v ? SqlValue(*v) : SqlValue(nullptr);
}

}  // namespace genx::store
