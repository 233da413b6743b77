#pragma once
// Opening the configured database from DATABASE_URL (DESIGN.md "Configuration").
//
// Every backend implements every port in one class (Store); a process opens only the
// ports it needs through the open_* functions below, each its own connection:
//   ocpp-worker  csms::WriteStore (write), api::ReadStore (health), AdminStore (pruning)
//   api          api::ReadStore, api::CommandStore, api::ReservationStore,
//                security::CredentialStore, auth::TokenStore, smart::SiteStore
//   ocpp-worker  also smart::SiteStore (the site allocation, its own thread)
//   gateway      security::CredentialStore
//   notifier     auth::TokenStore
//   analytics    analytics::AnalyticsStore, api::ReadStore (health)
//   genx ...     AdminStore and the others (operator commands)
//
// Migrations: only `genx db migrate` (migrate_database) and the ocpp-worker
// (open_write_store) apply them. Every other open_* requires the schema to be current
// and throws SchemaBehindError when it is not (the roles wait for it first:
// app/schema_wait.hpp). Errors and threading: see csms/store_error.hpp (one object per
// thread; TransientStoreError when the database is busy, locked or unreachable).
#include <memory>
#include <stdexcept>
#include <string>

#include "analytics/analytics_store.hpp"
#include "api/diagnostics_store.hpp"
#include "api/read_store.hpp"
#include "api/local_list_store.hpp"
#include "api/reservation_store.hpp"
#include "auth/token_store.hpp"
#include "csms/write_store.hpp"
#include "security/credential_store.hpp"
#include "smart/site_store.hpp"
#include "store/admin_store.hpp"

namespace genx::store {

// The schema version this build migrates to (the same numbers in every backend).
int latest_schema_version();

// The database's schema is older than this build needs (migrations not applied yet).
struct SchemaBehindError : std::runtime_error {
  SchemaBehindError(int have_version, int need_version);
  int have;
  int need;
};

class Store : public csms::WriteStore,
              public api::ReadStore,
              public api::CommandStore,
              public api::ReservationStore,
              public analytics::AnalyticsStore,
              public auth::TokenStore,
              public security::CredentialStore,
              public smart::SiteStore,
              public AdminStore {
 public:
  // Firmware management (csms/firmware.hpp): on this object's connection, same thread.
  virtual csms::FirmwareStore& firmware_store() = 0;
};

enum class Schema {
  migrate,          // apply pending migrations at open (genx db migrate, the ocpp-worker)
  require_current,  // throw SchemaBehindError when migrations are pending
};

// Accepts "sqlite://relative/path.db", "sqlite:///absolute/path.db", "sqlite::memory:".
// Creates a SQLite file's parent directory. "postgresql://user@host:port/db?sslmode=..."
// (also postgres://) opens the PostgreSQL backend (store/postgres/postgres_store.hpp) with
// DATABASE_POOL_SIZE and DATABASE_PASSWORD_FILE from the environment. Any other form
// throws std::invalid_argument naming the problem.
// Throws TransientStoreError when the database is busy/locked/unreachable at open.
std::unique_ptr<Store> open_store(const std::string& database_url, Schema schema);

// Applies pending migrations; returns the schema version afterwards.
int migrate_database(const std::string& database_url);

std::unique_ptr<csms::WriteStore> open_write_store(const std::string& database_url);  // migrates
std::unique_ptr<api::ReadStore> open_read_store(const std::string& database_url);
std::unique_ptr<api::CommandStore> open_command_store(const std::string& database_url);
std::unique_ptr<analytics::AnalyticsStore> open_analytics_store(const std::string& database_url);
std::unique_ptr<auth::TokenStore> open_token_store(const std::string& database_url);
std::unique_ptr<security::CredentialStore> open_credential_store(const std::string& database_url);
std::unique_ptr<AdminStore> open_admin_store(const std::string& database_url);
std::unique_ptr<smart::SiteStore> open_site_store(const std::string& database_url);
// Diagnostics uploads (api/diagnostics_store.hpp): a connection of its own, schema current.
std::unique_ptr<api::DiagnosticsStore> open_diagnostics_store(const std::string& database_url);
// The local authorization list port (api/local_list_store.hpp): its own connection
// (store/sqlite/sqlite_local_list.hpp, store/postgres/postgres_local_list.hpp); requires
// the schema to be current. "sqlite::memory:" is refused (a second connection would see
// another database).
std::unique_ptr<api::LocalListStore> open_local_list_store(const std::string& database_url);

// The api's read side (DATABASE_READ_URL, docs/operations.md "PostgreSQL operations"): read_url
// when not empty, with the password of DATABASE_READ_PASSWORD_FILE (else
// DATABASE_PASSWORD_FILE); database_url when read_url is empty. Never migrates.
std::unique_ptr<api::ReadStore> open_api_read_store(const std::string& database_url, const std::string& read_url);
std::unique_ptr<auth::TokenStore> open_api_token_store(const std::string& database_url, const std::string& read_url);

}  // namespace genx::store
