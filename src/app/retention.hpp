#pragma once
// Data retention in the processes (docs/operations.md "Data retention"): the periodic pruner that
// ocpp-worker 0 runs, `genx db prune`, and the horizon check of `genx analytics rebuild`.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "analytics/time_zone.hpp"
#include "app/config.hpp"
#include "csms/processor.hpp"
#include "store/open_store.hpp"

namespace genx::app {

// Whether this process prunes periodically: ocpp-worker with GENX_ROLE_INDEX 0 only (one
// per machine under genx run, PM2 or systemd; several workers never prune together).
bool prunes_periodically(const Config& config, std::string_view role);

// The operator's table of one pass: one line per table with the rows removed (or, dry
// run, that would be removed), the retention and the cutoff, then the total.
std::string format_prune_report(const store::PruneReport& report);

// Adds one pass to genx_pruned_rows_total{table} and genx_prune_runs_total{outcome}.
void record_prune_metrics(const store::PruneReport& report);

// Throws std::invalid_argument when a rebuild from `from_ms` would read facts from
// before the retained horizon (its first recomputed hour starts at the local day of
// from_ms); the message names the table, the setting and the earliest possible --from.
void check_rebuild_horizon(const std::optional<store::RetainedHorizon>& horizon,
                           const analytics::TimeZone& zone, std::int64_t from_ms);

// A thread that runs a pruning pass at start and then every `interval` on its own
// database connection; a failed pass (database busy) is logged and counted, the next
// one comes at the next interval. stop() (or the destructor) ends it within a batch.
class Pruner {
 public:
  Pruner(std::unique_ptr<store::AdminStore> store, store::RetentionPolicy policy,
         std::chrono::seconds interval, const csms::Clock& clock);
  ~Pruner();
  Pruner(const Pruner&) = delete;
  Pruner& operator=(const Pruner&) = delete;
  void stop();

 private:
  void run();
  std::unique_ptr<store::AdminStore> store_;
  store::RetentionPolicy policy_;
  std::chrono::seconds interval_;
  const csms::Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// genx db prune [--dry-run]: one pass now with the configured retention; prints the
// report. Returns the exit code.
int run_db_prune(const Config& config, bool dry_run);

}  // namespace genx::app
