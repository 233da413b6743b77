#pragma once
// The analytics port of the database: reads the stored facts, writes aggregates and
// remembers processed event ids. Implemented by store::SqliteStore.
//
// Promises: in_analytics_transaction(work) runs work in one database transaction
// (commit on return, rollback when work throws); TransientStoreError when the database
// is busy or unreachable (nothing committed; retry the whole unit). Aggregates written
// in a unit and the event ids marked in it commit together: that is what makes counting
// exactly-once. One object per thread.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/aggregate.hpp"

namespace genx::analytics {

struct TransactionSpan {
  std::int64_t charger_id = 0;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> stopped_ms;
};

class AnalyticsUnit {
 public:
  virtual ~AnalyticsUnit() = default;
  // Records the event id; false when it was recorded before (the event was counted).
  virtual bool mark_event_processed(std::string_view event_id, std::string_view processed_at) = 0;
  virtual std::optional<TransactionSpan> transaction_span(std::int64_t transaction_id) = 0;
  // Facts of one charger needed for buckets inside [from, to): transactions overlapping
  // it, every status report in it plus the one before and the one after per connector,
  // power samples in it.
  virtual Facts load_facts(std::int64_t charger_id, std::int64_t from_ms, std::int64_t to_ms) = 0;
  // Replaces the charger's hourly rows with bucket_start in [from, to) by `rows`
  // (bucket start ms -> connector -> figures).
  virtual void replace_hourly(std::int64_t charger_id, std::int64_t from_ms, std::int64_t to_ms,
                              const std::map<std::int64_t, std::map<int, Figures>>& rows) = 0;
  // Replaces the charger's daily rows of local date `day` ([start, end) in UTC ms).
  virtual void replace_daily(std::int64_t charger_id, const std::string& day,
                             std::int64_t start_ms, std::int64_t end_ms,
                             const std::map<int, Figures>& rows) = 0;
  // For rebuild: every charger id, the earliest and latest fact time of a charger.
  virtual std::vector<std::int64_t> charger_ids() = 0;
  virtual std::optional<std::pair<std::int64_t, std::int64_t>> fact_range(std::int64_t charger_id) = 0;
  // For rebuild: deletes every aggregate row of the charger from `from` on.
  virtual void delete_aggregates_from(std::int64_t charger_id, std::int64_t from_ms,
                                      const std::string& from_day) = 0;
};

class AnalyticsStore {
 public:
  virtual ~AnalyticsStore() = default;
  virtual void in_analytics_transaction(const std::function<void(AnalyticsUnit&)>& work) = 0;
};

}  // namespace genx::analytics
