#include "app/retention.hpp"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "analytics/aggregate.hpp"
#include "csms/envelope.hpp"
#include "metrics/metrics.hpp"

namespace genx::app {
namespace {

std::int64_t millis(const csms::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

const char* setting_of(const std::string& table) {
  if (table == "processed_messages") return "GENX_RETENTION_PROCESSED_MESSAGES_DAYS";
  if (table == "charger_data") return "GENX_RETENTION_MESSAGE_LOG_DAYS";
  if (table == "analytics_processed_events") return "GENX_RETENTION_ANALYTICS_EVENTS_DAYS";
  if (table == "meter_values") return "GENX_RETENTION_METER_VALUES_DAYS";
  return "GENX_RETENTION_STATUS_HISTORY_DAYS";
}

}  // namespace

bool prunes_periodically(const Config& config, std::string_view role) {
  return role == "ocpp-worker" && config.role_index == 0 && config.prune_interval.count() > 0;
}

std::string format_prune_report(const store::PruneReport& report) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %12s  %s\n", "table",
                report.dry_run ? "would remove" : "removed", "retention");
  out += line;
  for (const auto& t : report.tables) {
    const std::string retention =
        t.days == 0 ? std::string("kept forever")
                    : std::to_string(t.days) + " days (before " + t.before + ")";
    std::snprintf(line, sizeof line, "%-28s %12" PRId64 "  %s\n", t.table.c_str(), t.rows,
                  retention.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "%-28s %12" PRId64 "%s\n", "total", report.total(),
                report.dry_run ? "  (dry run: nothing removed)" : "");
  out += line;
  return out;
}

void record_prune_metrics(const store::PruneReport& report) {
  auto& rows = metrics::registry().counter(
      "genx_pruned_rows_total", "rows removed by data retention, per table", {"table"});
  for (const auto& t : report.tables) rows.with({t.table}).inc(static_cast<double>(t.rows));
  metrics::registry()
      .counter("genx_prune_runs_total", "pruning passes by outcome (completed, failed)",
               {"outcome"})
      .with({"completed"})
      .inc();
}

void check_rebuild_horizon(const std::optional<store::RetainedHorizon>& horizon,
                           const analytics::TimeZone& zone, std::int64_t from_ms) {
  if (!horizon) return;
  // Aggregator::rebuild recomputes whole local days, reading facts from the hour the
  // day starts in.
  auto first_read = [&](std::int64_t t) { return analytics::floor_hour(zone.day_start(t)); };
  if (first_read(from_ms) >= horizon->from_ms) return;
  std::int64_t earliest = zone.day_start(horizon->from_ms);
  while (analytics::floor_hour(earliest) < horizon->from_ms) earliest = zone.next_day_start(earliest);
  throw std::invalid_argument(
      "--from " + zone.date_of(from_ms) + " is before the retained data: " + horizon->table +
      " before " + csms::format_timestamp(horizon->from_ms) + " was pruned (" +
      setting_of(horizon->table) + "), so a rebuild from there would give different figures; "
      "the earliest possible --from is " + zone.date_of(earliest));
}

Pruner::Pruner(std::unique_ptr<store::AdminStore> store, store::RetentionPolicy policy,
               std::chrono::seconds interval, const csms::Clock& clock)
    : store_(std::move(store)), policy_(policy), interval_(interval), clock_(clock) {
  policy_.cancel = &stopping_;
  // Registered up front so /metrics shows every table from the start.
  auto& rows = metrics::registry().counter(
      "genx_pruned_rows_total", "rows removed by data retention, per table", {"table"});
  for (const char* t : {"processed_messages", "charger_data", "analytics_processed_events",
                        "meter_values", "connector_status_history"}) {
    rows.with({t});
  }
  auto& runs = metrics::registry().counter(
      "genx_prune_runs_total", "pruning passes by outcome (completed, failed)", {"outcome"});
  runs.with({"completed"});
  runs.with({"failed"});
  thread_ = std::thread([this] { run(); });
}

Pruner::~Pruner() { stop(); }

void Pruner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Pruner::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    try {
      const auto report = store_->prune(policy_, millis(clock_), false);
      record_prune_metrics(report);
      if (report.total() > 0) {
        spdlog::info("pruned {} rows older than their retention in {} ms", report.total(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count());
        for (const auto& t : report.tables) {
          if (t.rows > 0) spdlog::info("pruned {}: {} rows before {}", t.table, t.rows, t.before);
        }
      }
    } catch (const std::exception& e) {
      metrics::registry()
          .counter("genx_prune_runs_total", "pruning passes by outcome (completed, failed)",
                   {"outcome"})
          .with({"failed"})
          .inc();
      spdlog::warn("pruning pass failed ({}); next pass in {} s", e.what(), interval_.count());
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [&] { return stopping_.load(); });
  }
}

int run_db_prune(const Config& config, bool dry_run) {
  auto store = store::open_admin_store(config.database_url);
  csms::SystemClock clock;
  const auto report = store->prune(config.retention, millis(clock), dry_run);
  std::fputs(format_prune_report(report).c_str(), stdout);
  return 0;
}

}  // namespace genx::app
