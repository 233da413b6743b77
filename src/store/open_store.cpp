#include "store/open_store.hpp"

#include <stdexcept>
#include <string_view>

#include <cstdlib>

#include "store/postgres/postgres_diagnostics.hpp"
#include "store/postgres/postgres_local_list.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_diagnostics.hpp"
#include "store/sqlite/sqlite_local_list.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace genx::store {
namespace sqlite {
extern const int kLatestVersion;
}  // namespace sqlite

int latest_schema_version() { return sqlite::kLatestVersion; }

SchemaBehindError::SchemaBehindError(int have_version, int need_version)
    : std::runtime_error("database schema is at version " + std::to_string(have_version) +
                         ", this genx needs version " + std::to_string(need_version) +
                         " (run `genx db migrate`, or start an ocpp-worker, which migrates)"),
      have(have_version),
      need(need_version) {}

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::unique_ptr<Store> open_store_with(const std::string& database_url, Schema schema,
                                       const std::string& password_file);

}  // namespace

std::unique_ptr<Store> open_store(const std::string& database_url, Schema schema) {
  return open_store_with(database_url, schema, env("DATABASE_PASSWORD_FILE"));
}

namespace {

std::unique_ptr<Store> open_store_with(const std::string& database_url, Schema schema,
                                       const std::string& password_file) {
  constexpr std::string_view kMemory = "sqlite::memory:";
  constexpr std::string_view kSqlite = "sqlite://";
  const std::string_view url = database_url;
  SqliteOptions options;
  options.migrate = schema == Schema::migrate;
  if (url == kMemory) return open_sqlite_store(":memory:", options);
  if (url.starts_with(kSqlite)) {
    // sqlite://var/genx.db -> "var/genx.db" (relative); sqlite:///var/genx.db -> "/var/genx.db".
    const std::string path(url.substr(kSqlite.size()));
    if (path.empty() || path == "/") {
      throw std::invalid_argument("DATABASE_URL \"" + database_url + "\" names no database file");
    }
    return open_sqlite_store(path, options);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    // Settings of the PostgreSQL backend (docs/configuration.md), validated by app/config.
    PostgresOptions pg;
    pg.migrate = schema == Schema::migrate;
    if (const char* size = std::getenv("DATABASE_POOL_SIZE"); size != nullptr && *size != '\0') {
      pg.pool_size = std::atoi(size);
    }
    return open_postgres_store(database_url, password_file, pg);
  }
  // Name only the scheme: the rest of a URL may carry a password.
  const auto colon = url.find(':');
  const std::string scheme(colon == std::string_view::npos ? std::string_view("(none)")
                                                           : url.substr(0, colon));
  throw std::invalid_argument("DATABASE_URL scheme \"" + scheme +
                              "\" is not supported; use sqlite://relative/path.db, "
                              "sqlite:///absolute/path.db, sqlite::memory: or postgresql://...");
}

}  // namespace

int migrate_database(const std::string& database_url) {
  return open_store(database_url, Schema::migrate)->schema_version();
}

std::unique_ptr<csms::WriteStore> open_write_store(const std::string& database_url) {
  return open_store(database_url, Schema::migrate);
}
std::unique_ptr<api::ReadStore> open_read_store(const std::string& database_url) {
  return open_store(database_url, Schema::require_current);
}
std::unique_ptr<api::CommandStore> open_command_store(const std::string& database_url) {
  return open_store(database_url, Schema::require_current);
}
std::unique_ptr<analytics::AnalyticsStore> open_analytics_store(const std::string& database_url) {
  return open_store(database_url, Schema::require_current);
}
std::unique_ptr<auth::TokenStore> open_token_store(const std::string& database_url) {
  return open_store(database_url, Schema::require_current);
}
std::unique_ptr<security::CredentialStore> open_credential_store(const std::string& database_url) {
  return open_store(database_url, Schema::require_current);
}
std::unique_ptr<AdminStore> open_admin_store(const std::string& database_url) {
  return open_store(database_url, Schema::require_current);
}

std::unique_ptr<smart::SiteStore> open_site_store(const std::string& database_url) {
  return open_store(database_url, Schema::require_current);
}

std::unique_ptr<api::DiagnosticsStore> open_diagnostics_store(const std::string& database_url) {
  // The same checks and schema wait as every other port: opening the Store validates the
  // URL and that the schema is current; the diagnostics port then has its own connection.
  open_store(database_url, Schema::require_current);
  const std::string_view url = database_url;
  if (url == "sqlite::memory:") throw std::invalid_argument("diagnostics uploads need a database file, not sqlite::memory:");
  if (url.starts_with("sqlite://")) return open_sqlite_diagnostics_store(std::string(url.substr(9)));
  return open_postgres_diagnostics_store(postgres_conninfo(database_url, env("DATABASE_PASSWORD_FILE")));
}

std::unique_ptr<api::LocalListStore> open_local_list_store(const std::string& database_url) {
  open_store(database_url, Schema::require_current);  // the URL is valid and the schema current
  const std::string_view url = database_url;
  if (url.starts_with("sqlite://")) return open_sqlite_local_list(std::string(url.substr(9)));
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return open_postgres_local_list(postgres_conninfo(database_url, env("DATABASE_PASSWORD_FILE")));
  }
  throw std::invalid_argument("the local authorization list needs a database file or PostgreSQL, not " +
                              database_url);
}

namespace {
std::unique_ptr<Store> open_read_side(const std::string& database_url, const std::string& read_url) {
  if (read_url.empty()) return open_store(database_url, Schema::require_current);
  std::string password_file = env("DATABASE_READ_PASSWORD_FILE");
  if (password_file.empty()) password_file = env("DATABASE_PASSWORD_FILE");
  return open_store_with(read_url, Schema::require_current, password_file);
}
}  // namespace

std::unique_ptr<api::ReadStore> open_api_read_store(const std::string& database_url, const std::string& read_url) {
  return open_read_side(database_url, read_url);
}
std::unique_ptr<auth::TokenStore> open_api_token_store(const std::string& database_url, const std::string& read_url) {
  return open_read_side(database_url, read_url);
}

}  // namespace genx::store
