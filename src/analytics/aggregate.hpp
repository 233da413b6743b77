#pragma once
// Analytics arithmetic: turns stored facts (transactions with their energy register
// readings, connector status history, power samples) into the figures of one time
// bucket. Pure and deterministic: the same facts always give the same figures, which is
// what makes live aggregation, replay and `genx analytics rebuild` agree exactly.
//
// Rules (docs/analytics.md):
// - sessionsStarted counts in the bucket of the start; sessionsCompleted and revenue in
//   the bucket of the stop (completed transactions only).
// - A completed session's energy is spread over time along its register readings:
//   between two readings linearly, in whole Wh, so the buckets of a session always add
//   up to exactly its energy. sessionMs is the transaction's time in the bucket.
// - Status history gives time per status: charging (Charging), occupied (Preparing,
//   Charging, SuspendedEV, SuspendedEVSE, Finishing), faulted (Faulted); an interval
//   lasts until the connector's next status and counts only once it has ended.
//   faults counts entries into Faulted (from another status) in the bucket.
// - peakPowerW is the largest Power.Active.Import sample in the bucket.
// All times are Unix milliseconds, buckets are [start, end).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace genx::analytics {

struct Reading {
  std::int64_t at_ms = 0;
  std::int64_t wh = 0;
};

struct TransactionFact {
  std::int64_t id = 0;
  int connector_id = 0;
  std::int64_t started_ms = 0;
  std::int64_t meter_start = 0;
  std::optional<std::int64_t> stopped_ms;
  std::optional<std::int64_t> meter_stop;
  std::int64_t cost_minor = 0;
  std::vector<Reading> readings;  // energy register, in stored order (timestamp, id)
};

struct StatusFact {
  int connector_id = 0;
  std::int64_t at_ms = 0;
  std::string status;
};

struct PowerFact {
  int connector_id = 0;
  std::int64_t at_ms = 0;
  double watts = 0;
};

struct Facts {
  std::vector<TransactionFact> transactions;
  std::vector<StatusFact> statuses;  // ordered by connector, time, insertion
  std::vector<PowerFact> power;
};

struct Figures {
  std::int64_t sessions_started = 0;
  std::int64_t sessions_completed = 0;
  std::int64_t energy_wh = 0;
  std::int64_t session_ms = 0;
  std::int64_t charging_ms = 0;
  std::int64_t occupied_ms = 0;
  std::int64_t faulted_ms = 0;
  std::int64_t faults = 0;
  std::int64_t revenue_minor = 0;
  double peak_power_w = 0;
  bool empty() const;
  Figures& operator+=(const Figures& other);  // sums, peak = max
};

// Cumulative energy curve of a completed session: (time, Wh delivered so far), starting
// at (started, 0) and ending at (stopped, total). Readings outside the session's time
// are clamped to it.
std::vector<Reading> energy_curve(const TransactionFact& transaction);
// Wh delivered along the curve within [from, to).
std::int64_t energy_between(const std::vector<Reading>& curve, std::int64_t from_ms,
                            std::int64_t to_ms);

// Figures per connector for the bucket [start, end).
std::map<int, Figures> compute_bucket(const Facts& facts, std::int64_t start_ms,
                                      std::int64_t end_ms);

inline constexpr std::int64_t kHourMs = 3'600'000;
inline std::int64_t floor_hour(std::int64_t ms) {
  return (ms >= 0 ? ms : ms - kHourMs + 1) / kHourMs * kHourMs;
}

}  // namespace genx::analytics
