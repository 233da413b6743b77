#pragma once
// SQLite implementation of api::LocalListStore (docs/local-list.md) on its own
// connection to the database file (WAL, busy timeout, foreign keys as SqliteStore).
#include <memory>
#include <string>

#include "api/local_list_store.hpp"

namespace genx::store {

// path: the database file (already migrated by the caller's open_store check).
std::unique_ptr<api::LocalListStore> open_sqlite_local_list(const std::string& path, int busy_timeout_ms = 5000);

}  // namespace genx::store
