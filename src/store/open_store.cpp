#include "store/open_store.hpp"

#include <stdexcept>

#include "store/sqlite_store.hpp"

namespace genx::store {

std::unique_ptr<Store> open_store(const std::string& database_url) {
  constexpr std::string_view kMemory = "sqlite::memory:";
  constexpr std::string_view kSqlite = "sqlite://";
  const std::string_view url = database_url;
  if (url == kMemory) return open_sqlite_store(":memory:");
  if (url.starts_with(kSqlite)) {
    // sqlite://var/genx.db -> "var/genx.db" (relative); sqlite:///var/genx.db -> "/var/genx.db".
    const std::string path(url.substr(kSqlite.size()));
    if (path.empty() || path == "/") {
      throw std::invalid_argument("DATABASE_URL \"" + database_url + "\" names no database file");
    }
    return open_sqlite_store(path);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    throw std::invalid_argument("PostgreSQL backend not built yet");
  }
  // Name only the scheme: the rest of a URL may carry a password.
  const auto colon = url.find(':');
  const std::string scheme(colon == std::string_view::npos ? std::string_view("(none)")
                                                           : url.substr(0, colon));
  throw std::invalid_argument("DATABASE_URL scheme \"" + scheme +
                              "\" is not supported; use sqlite://relative/path.db, "
                              "sqlite:///absolute/path.db, sqlite::memory: or postgresql://...");
}

}  // namespace genx::store
