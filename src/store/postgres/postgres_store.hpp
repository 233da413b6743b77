#pragma once
// The PostgreSQL backend of Store (DESIGN.md "Storage"; docs/design.md "Reliability"): one
// database shared by every process on every host, through libpqxx (Debian 12's
// libpqxx-dev 6.4, the C++ wrapper of libpq).
//
// - Connections: a pool per process and database URL (DATABASE_POOL_SIZE, default 4),
//   shared by every PostgresStore object of the process; a unit of work borrows one for
//   its duration. A connection that broke is dropped and replaced on the next borrow.
// - Write units (csms::WriteStore, analytics, provisioning) run at SERIALIZABLE: two
//   workers processing the same charger's messages (or the same resent StartTransaction)
//   at once behave as if one ran after the other; the loser gets a serialization failure.
//   Read units run at REPEATABLE READ READ ONLY (one snapshot per document).
// - Serialization failures (40001), deadlocks (40P01), a unique-key race lost to a
//   concurrent commit (23505), a lost connection or an unknown commit outcome throw
//   TransientStoreError: nothing (or, for an unknown outcome, an idempotent unit) was
//   committed; the worker retries the whole unit through its existing retry path.
// - Migrations (store/postgres/migrations/NNNN_name.sql, embedded at build time) run at
//   open when PostgresOptions::migrate, in one transaction under an advisory lock, so
//   several processes migrating at once apply each version once.
// Threading: one PostgresStore object per thread at a time (the pool is thread-safe).
#include <memory>
#include <string>

#include "store/open_store.hpp"

namespace genx::store {

struct PostgresOptions {
  bool migrate = true;  // false: require the schema to be current (never migrate)
  int pool_size = 4;    // connections per process and URL (the first open sets it)
};

// "postgresql://user@host:port/db?sslmode=..." (also postgres://); the password from
// password_file when not empty (its first line), else from the URL or libpq's defaults.
std::unique_ptr<Store> open_postgres_store(const std::string& url, const std::string& password_file,
                                           PostgresOptions options = {});

// The libpq connection string of url with the password of password_file (when not
// empty) added: what open_postgres_store connects with (genx db copy opens its own).
std::string postgres_conninfo(const std::string& url, const std::string& password_file);

}  // namespace genx::store
