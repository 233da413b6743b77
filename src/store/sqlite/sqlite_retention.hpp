#pragma once
// SQLite side of retention (store/retention.hpp); used by SqliteStore only.
#include <cstdint>
#include <optional>

#include "store/retention.hpp"

struct sqlite3;

namespace genx::store {

// One pruning pass on `db` (autocommit, no transaction open). Throws TransientStoreError
// when a batch cannot get the write lock within the busy timeout; batches committed
// before stay committed.
PruneReport prune_sqlite(sqlite3* db, const RetentionPolicy& policy, std::int64_t now_ms,
                         bool dry_run);
std::optional<RetainedHorizon> sqlite_retained_horizon(sqlite3* db);

}  // namespace genx::store
