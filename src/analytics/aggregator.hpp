#pragma once
// The analytics processor's logic, free of the broker: takes a batch of event bodies
// from the `analytics` queue and updates the aggregates in ONE database transaction.
//
// Each event names what it touched (a charger and a time span: the transaction's start
// to stop, the status interval it closed, the meter sample's time). The processor
// recomputes the hourly (UTC) and daily (operator time zone) rows of every local day in
// that span for that charger from the stored facts, with compute_bucket. Because rows are
// recomputed rather than incremented, and event ids are recorded in the same transaction,
// an event delivered twice never counts twice, and rebuild() gives the very same rows.
// A status interval and a session's energy count once they have ended.
//
// Errors: an unreadable body or an event of an unknown version is skipped and reported
// in the result; TransientStoreError propagates (nothing committed: retry the batch).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analytics/analytics_store.hpp"
#include "analytics/time_zone.hpp"

namespace genx::analytics {

struct BatchResult {
  int counted = 0;     // new events that touched aggregates
  int duplicates = 0;  // event ids seen before
  int ignored = 0;     // events with nothing to count (e.g. error.occurred, no chargerId)
  std::vector<std::string> rejected;  // why an event body was skipped
};

class Aggregator {
 public:
  Aggregator(AnalyticsStore& store, TimeZone zone);

  // fallback_ids[i] identifies bodies[i] when it has no "eventId" (the AMQP message id).
  BatchResult process_batch(const std::vector<std::string>& bodies,
                            const std::vector<std::string>& fallback_ids, std::int64_t now_ms);
  // The same with the events already parsed (a value that is not an object is rejected).
  BatchResult process_events(const std::vector<nlohmann::json>& events,
                             const std::vector<std::string>& fallback_ids, std::int64_t now_ms);

  // Recomputes every aggregate from the local day holding from_ms on, from the facts, up
  // to the last fact but never beyond the day after now_ms (a charger clock years ahead
  // must not make a rebuild endless). Returns the number of charger-days recomputed.
  int rebuild(std::int64_t from_ms, std::int64_t now_ms);

 private:
  void recompute_day(AnalyticsUnit& unit, std::int64_t charger_id, std::int64_t day_start);

  AnalyticsStore& store_;
  TimeZone zone_;
};

}  // namespace genx::analytics
