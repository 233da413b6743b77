#pragma once
// Data retention (docs/operations.md "Data retention"): how long each class of growing table keeps
// its rows, and what one pruning pass removed.
//
// A pass deletes in small batches, each its own short write transaction, so SQLite's
// single writer lock is never held for long; other writers interleave between batches.
// Data of open transactions is never removed. Pruning meter values or status history
// moves the "retained horizon": the earliest time from which `genx analytics rebuild`
// still finds every fact it needs (the pass records it; see retained_horizon()).
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace genx::store {

// Days to keep each class of rows; 0 = keep forever.
struct RetentionPolicy {
  int processed_messages_days = 14;  // processed_messages: dedupe records of charger calls
  int message_log_days = 30;         // charger_data: the raw OCPP message log
  int analytics_events_days = 7;     // analytics_processed_events: analytics dedupe ids
  int meter_values_days = 0;         // meter_values (limits genx analytics rebuild)
  int status_history_days = 0;       // connector_status_history (limits rebuild)
  int batch_rows = 1000;             // rows per DELETE transaction
  // When set and true, the pass ends after its current batch (process shutdown).
  const std::atomic<bool>* cancel = nullptr;
};

struct PrunedTable {
  std::string table;
  int days = 0;                  // the retention applied; 0 = kept forever, nothing pruned
  std::string before;            // cutoff (UTC ISO 8601); empty when days == 0
  std::int64_t rows = 0;         // rows removed (dry run: rows that would be removed)
  std::int64_t batches = 0;      // write transactions used (0 in a dry run)
};

struct PruneReport {
  bool dry_run = false;
  std::vector<PrunedTable> tables;  // every table class, in a fixed order
  std::int64_t total() const {
    std::int64_t n = 0;
    for (const auto& t : tables) n += t.rows;
    return n;
  }
};

// The earliest time `genx analytics rebuild` can start from and why; nullopt when no
// meter value or status report was ever pruned.
struct RetainedHorizon {
  std::string table;     // the table whose pruning set it
  std::int64_t from_ms;  // every fact at or after this time is still stored
};

}  // namespace genx::store
