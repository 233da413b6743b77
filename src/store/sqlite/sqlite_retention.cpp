// Retention on SQLite (store/retention.hpp), called by SqliteStore::prune on its own
// connection. Every batch is one short transaction: reads are plain BEGIN (WAL readers
// never block the writer), deletes BEGIN IMMEDIATE with at most batch_rows rows.
#include "store/sqlite/sqlite_retention.hpp"

#include <sqlite3.h>

#include <string_view>
#include <utility>

#include "csms/envelope.hpp"
#include "store/admin_store.hpp"

namespace genx::store {
namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
// Rows of processed_messages, charger_data and analytics_processed_events are appended
// in time order (their time is when the system received or processed them), so they are
// read oldest first by rowid, and the pass ends at the first batch with nothing old in
// it. Rows a little out of order (group commits, several workers, retries) are found
// within their batch or by a later pass; a row written days out of order (a DLQ replay)
// goes with the rows written around it; one row with a wrong future time does not stop
// the pass while the rows around it are old.

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      throw TransientStoreError(message);
    default:
      throw std::runtime_error(message);
  }
}

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db, rc, sql.substr(0, 80));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, sqlite3_sql(stmt_));
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t integer(int c) const { return sqlite3_column_int64(stmt_, c); }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(stmt_, c);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)));
  }
  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, sql);
}

template <typename Fn>
void transaction(sqlite3* db, const char* begin, Fn&& fn) {
  exec(db, begin);
  try {
    fn();
    exec(db, "COMMIT");
  } catch (...) {
    if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

// processed_messages, charger_data, analytics_processed_events: see the comment on top.
bool cancelled(const std::atomic<bool>* cancel) { return cancel != nullptr && cancel->load(); }

void prune_in_rowid_order(sqlite3* db, const char* table, const char* time_column,
                          std::int64_t cutoff_ms, int batch_rows, bool dry_run,
                          const std::atomic<bool>* policy_cancel, PrunedTable& out) {
  const std::string select = std::string("SELECT rowid, ") + time_column + " FROM " + table +
                             " WHERE rowid > ?1 ORDER BY rowid LIMIT ?2";
  const std::string remove = std::string("DELETE FROM ") + table + " WHERE rowid = ?1";
  Statement read(db, select);
  Statement del(db, remove);
  std::int64_t last = 0;
  for (bool more = true; more && !cancelled(policy_cancel);) {
    std::vector<std::int64_t> doomed;
    int seen = 0;
    transaction(db, "BEGIN", [&] {
      read.bind(1, last).bind(2, static_cast<std::int64_t>(batch_rows));
      while (read.step()) {
        ++seen;
        last = read.integer(0);
        const auto at = csms::parse_timestamp(read.text(1));
        if (!at) continue;  // undatable: kept
        if (*at < cutoff_ms) doomed.push_back(last);
      }
      read.reset();
    });
    if (seen < batch_rows || doomed.empty()) more = false;
    if (doomed.empty()) continue;
    if (dry_run) {
      out.rows += static_cast<std::int64_t>(doomed.size());
      continue;
    }
    transaction(db, "BEGIN IMMEDIATE", [&] {
      for (const auto id : doomed) {
        del.bind(1, id);
        del.step();
        out.rows += sqlite3_changes(db);
        del.reset();
      }
    });
    ++out.batches;
  }
}

// Repeats `remove` (a DELETE of at most ?LIMIT rows, binding charger ?1, cutoff ?2,
// limit ?3) per charger until a batch comes back short, moving the table's retained
// horizon to the cutoff; a dry run counts with `count`.
void prune_per_charger(sqlite3* db, const std::string& count, const std::string& remove,
                       const std::string& cutoff, int batch_rows, bool dry_run,
                       const std::atomic<bool>* cancel, PrunedTable& out) {
  std::vector<std::int64_t> chargers;
  transaction(db, "BEGIN", [&] {
    Statement q(db, "SELECT id FROM chargers ORDER BY id");
    while (q.step()) chargers.push_back(q.integer(0));
  });
  if (dry_run) {
    transaction(db, "BEGIN", [&] {
      Statement q(db, count);
      for (const auto charger : chargers) {
        q.bind(1, charger).bind(2, cutoff);
        if (q.step()) out.rows += q.integer(0);
        q.reset();
      }
    });
    return;
  }
  Statement del(db, remove);
  // The horizon moves in the same transaction as the rows go: a rebuild never sees the
  // rows gone without the horizon that refuses it.
  Statement horizon(db,
                    "INSERT INTO retention_horizon (table_name, pruned_before) VALUES (?1, ?2) "
                    "ON CONFLICT (table_name) DO UPDATE SET pruned_before = "
                    "max(pruned_before, excluded.pruned_before)");
  for (const auto charger : chargers) {
    while (!cancelled(cancel)) {
      int removed = 0;
      transaction(db, "BEGIN IMMEDIATE", [&] {
        del.bind(1, charger).bind(2, cutoff).bind(3, static_cast<std::int64_t>(batch_rows));
        del.step();
        removed = sqlite3_changes(db);
        del.reset();
        if (removed > 0) {
          horizon.bind(1, out.table).bind(2, cutoff);
          horizon.step();
          horizon.reset();
        }
      });
      if (removed > 0) ++out.batches;
      out.rows += removed;
      if (removed < batch_rows) break;
    }
  }
}

// Meter values older than the cutoff, unless they belong to a transaction still open or
// stopped at or after the cutoff (a rebuild from the cutoff on reads all of those), or,
// sent without a transaction id, fall inside an open transaction of their connector.
constexpr const char* kMeterValuesDoomed =
    " FROM meter_values m LEFT JOIN transactions t ON t.id = m.transaction_id "
    "WHERE m.charger_id = ?1 AND m.timestamp < ?2 AND ("
    " (m.transaction_id IS NULL AND NOT EXISTS (SELECT 1 FROM transactions o "
    "   WHERE o.charger_id = m.charger_id AND o.connector_id = m.connector_id "
    "   AND o.stopped_at IS NULL AND o.started_at <= m.timestamp))"
    " OR (t.stopped_at IS NOT NULL AND t.stopped_at < ?2))";

// Status reports older than the cutoff, except the last one before it per connector
// (the status in force at the cutoff, which a rebuild from there starts with) and those
// inside an open transaction of their connector.
constexpr const char* kStatusDoomed =
    " FROM connector_status_history h WHERE h.charger_id = ?1 AND h.at < ?2 "
    "AND h.at < (SELECT max(p.at) FROM connector_status_history p WHERE p.charger_id = ?1 "
    "  AND p.connector_id = h.connector_id AND p.at < ?2) "
    "AND NOT EXISTS (SELECT 1 FROM transactions o WHERE o.charger_id = ?1 "
    "  AND o.connector_id = h.connector_id AND o.stopped_at IS NULL AND o.started_at <= h.at)";

}  // namespace

PruneReport prune_sqlite(sqlite3* db, const RetentionPolicy& policy, std::int64_t now_ms,
                         bool dry_run) {
  PruneReport report;
  report.dry_run = dry_run;
  const int batch = policy.batch_rows < 1 ? 1 : policy.batch_rows;
  auto start = [&](const char* table, int days) -> PrunedTable& {
    PrunedTable t;
    t.table = table;
    t.days = days;
    report.tables.push_back(std::move(t));
    return report.tables.back();
  };
  auto cutoff_of = [&](int days) { return now_ms - static_cast<std::int64_t>(days) * kDayMs; };

  struct RowidTable {
    const char* table;
    const char* column;
    int days;
  };
  for (const auto& r : {RowidTable{"processed_messages", "processed_at", policy.processed_messages_days},
                        RowidTable{"charger_data", "timestamp", policy.message_log_days},
                        RowidTable{"analytics_processed_events", "processed_at",
                                   policy.analytics_events_days}}) {
    auto& t = start(r.table, r.days);
    if (r.days <= 0) continue;
    t.before = csms::format_timestamp(cutoff_of(r.days));
    prune_in_rowid_order(db, r.table, r.column, cutoff_of(r.days), batch, dry_run,
                         policy.cancel, t);
  }
  {
    auto& t = start("meter_values", policy.meter_values_days);
    if (policy.meter_values_days > 0) {
      t.before = csms::format_timestamp(cutoff_of(policy.meter_values_days));
      prune_per_charger(db, std::string("SELECT count(*)") + kMeterValuesDoomed,
                        std::string("DELETE FROM meter_values WHERE id IN (SELECT m.id") +
                            kMeterValuesDoomed + " LIMIT ?3)",
                        t.before, batch, dry_run, policy.cancel, t);
    }
  }
  {
    auto& t = start("connector_status_history", policy.status_history_days);
    if (policy.status_history_days > 0) {
      t.before = csms::format_timestamp(cutoff_of(policy.status_history_days));
      prune_per_charger(db, std::string("SELECT count(*)") + kStatusDoomed,
                        std::string("DELETE FROM connector_status_history WHERE id IN (SELECT h.id") +
                            kStatusDoomed + " LIMIT ?3)",
                        t.before, batch, dry_run, policy.cancel, t);
    }
  }
  return report;
}

std::optional<RetainedHorizon> sqlite_retained_horizon(sqlite3* db) {
  std::optional<RetainedHorizon> result;
  transaction(db, "BEGIN", [&] {
    Statement q(db,
                "SELECT table_name, pruned_before FROM retention_horizon "
                "ORDER BY pruned_before DESC LIMIT 1");
    if (!q.step()) return;
    if (const auto at = csms::parse_timestamp(q.text(1))) result = RetainedHorizon{q.text(0), *at};
  });
  return result;
}

}  // namespace genx::store
