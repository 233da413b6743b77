// The analytics role (genx analytics): consumes the `analytics` queue in batches, one
// database transaction per batch, acks a batch only after its commit; and the operator
// command `genx analytics rebuild --from DATE`. Its /health and /metrics listen on
// GENX_HEALTH_PORT + 200 + GENX_ROLE_INDEX (runtime/ops.hpp); the broker connection, ops server,
// signals, hand-off queue and stop order are the role runtime's (runtime/role.hpp).
#include <thread>

#include <spdlog/spdlog.h>

#include "analytics/aggregator.hpp"
#include "runtime/ops.hpp"
#include "app/retention.hpp"
#include "app/roles.hpp"
#include "messages/envelope.hpp"
#include "messages/timestamp.hpp"
#include "runtime/role.hpp"
#include "app/schema_wait.hpp"
#include "csms/store_error.hpp"
#include "store/open_store.hpp"

namespace genx::app {
namespace {

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The role's Prometheus metrics (process registry). Every series exists from the start,
// so a dashboard shows 0 rather than nothing before the first batch.
class AnalyticsMetrics {
 public:
  AnalyticsMetrics()
      : events_(metrics::registry().counter(
            "genx_analytics_events_total",
            "events consumed from the analytics queue, by result (counted, duplicate: an event "
            "id seen before, ignored: nothing to count, rejected: unusable body)",
            {"result"})),
        batches_(metrics::registry().counter(
            "genx_analytics_batches_total",
            "batches by outcome (committed, failed: returned to the queue)", {"outcome"})),
        batch_seconds_(metrics::registry().histogram(
            "genx_analytics_batch_seconds",
            "time to commit a batch (recompute, commit and any retries of a busy database)")),
        last_batch_seconds_(metrics::registry().gauge(
            "genx_analytics_last_batch_seconds", "time to commit the last batch")),
        last_batch_events_(metrics::registry().gauge(
            "genx_analytics_last_batch_events", "events in the last committed batch")),
        last_commit_(metrics::registry().gauge(
            "genx_analytics_last_commit_timestamp_seconds",
            "Unix time of the last committed batch (0 = none yet)")) {
    for (const char* result : {"counted", "duplicate", "ignored", "rejected"}) {
      events_.with({result});
    }
    for (const char* outcome : {"committed", "failed"}) batches_.with({outcome});
    batch_seconds_.with();
    last_batch_seconds_.with();
    last_batch_events_.with();
    last_commit_.with();
  }

  void committed(const analytics::BatchResult& result, std::size_t events, double seconds) {
    events_.with({"counted"}).inc(result.counted);
    events_.with({"duplicate"}).inc(result.duplicates);
    events_.with({"ignored"}).inc(result.ignored);
    events_.with({"rejected"}).inc(static_cast<double>(result.rejected.size()));
    batches_.with({"committed"}).inc();
    batch_seconds_.with().observe(seconds);
    last_batch_seconds_.with().set(seconds);
    last_batch_events_.with().set(static_cast<double>(events));
    last_commit_.with().set(static_cast<double>(now_millis()) / 1000.0);
  }

  void failed() { batches_.with({"failed"}).inc(); }

 private:
  metrics::Family<metrics::Counter>& events_;
  metrics::Family<metrics::Counter>& batches_;
  metrics::Family<metrics::Histogram>& batch_seconds_;
  metrics::Family<metrics::Gauge>& last_batch_seconds_;
  metrics::Family<metrics::Gauge>& last_batch_events_;
  metrics::Family<metrics::Gauge>& last_commit_;
};

}  // namespace

int run_analytics(const Config& config) {
  wait_for_schema(config, "analytics");
  runtime::Role role(config, "analytics");
  role.on_signal_log("finishing the current batch");
  broker::BrokerClient& broker = role.broker();
  auto store = store::open_analytics_store(config.database_url);
  analytics::Aggregator aggregator(*store, analytics::TimeZone(config.time_zone));

  const auto batch_size = static_cast<std::size_t>(config.analytics_batch_size);
  auto& handoff = role.consume_to_handoff(config.names.queue_analytics,
                                          static_cast<std::uint16_t>(batch_size));
  AnalyticsMetrics analytics_metrics;
  // Its own connection: the batch loop holds the other one inside long transactions.
  auto health_store = store::open_read_store(config.database_url);
  role.health(config.names.queue_analytics, [&](metrics::HealthReport& report) {
    report.body["checks"]["database"] = database_check(*health_store, report.healthy);
  });
  spdlog::info("analytics consuming {} (batch {} / {} ms, time zone {})",
               config.names.queue_analytics, batch_size, config.analytics_batch_wait.count(),
               config.time_zone);

  return role.run([&] {
    while (!role.stopping()) {
      auto batch = handoff.pop_batch(batch_size, config.analytics_batch_wait);
      if (batch.empty()) continue;
      std::vector<nlohmann::json> events;
      std::vector<std::string> ids;
      for (const auto& d : batch) {
        // A worker's message carries the events of one group commit (events.batch).
        auto split = messages::split_event_batch(d.body);
        if (!split) {  // not a JSON object: process_events rejects it with its reason
          events.emplace_back(nlohmann::json::value_t::discarded);
          ids.push_back(d.message_id);
          continue;
        }
        for (std::size_t i = 0; i < split->size(); ++i) {
          events.push_back(std::move((*split)[i]));
          ids.push_back(split->size() == 1 ? d.message_id : d.message_id + "#" + std::to_string(i));
        }
      }
      std::optional<analytics::BatchResult> result;
      auto backoff = std::chrono::milliseconds(50);
      const auto started = std::chrono::steady_clock::now();
      while (!role.stopping()) {
        try {
          result = aggregator.process_events(events, ids, now_millis());
          break;
        } catch (const csms::TransientStoreError& e) {
          spdlog::warn("analytics batch of {}: database unavailable ({}), retrying in {} ms",
                       batch.size(), e.what(), backoff.count());
          std::this_thread::sleep_for(backoff);
          backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        } catch (const std::exception& e) {
          spdlog::error("analytics batch of {} failed: {}; returning it to the queue",
                        batch.size(), e.what());
          std::this_thread::sleep_for(std::chrono::seconds(1));
          break;
        }
      }
      if (!result) {
        analytics_metrics.failed();
        for (const auto& d : batch) broker.nack(d, true);
        continue;
      }
      analytics_metrics.committed(*result, events.size(),
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      // Committed: acknowledge the whole batch (acks are pipelined, no round trip each).
      for (const auto& d : batch) broker.ack(d);
      for (const auto& why : result->rejected) spdlog::error("analytics: skipped {}", why);
      spdlog::debug("analytics batch: {} counted, {} duplicates, {} ignored, {} rejected",
                    result->counted, result->duplicates, result->ignored, result->rejected.size());
    }
  });
}

int run_analytics_rebuild(const Config& config, const std::string& from) {
  const analytics::TimeZone zone(config.time_zone);
  std::int64_t from_ms = 0;
  if (from.size() == 10) {
    from_ms = zone.start_of_date(from);
  } else if (const auto parsed = messages::parse_timestamp(from)) {
    from_ms = *parsed;
  } else {
    throw std::invalid_argument("--from \"" + from + "\" is not a date (YYYY-MM-DD) or ISO 8601 time");
  }
  auto store = store::open_store(config.database_url, store::Schema::require_current);
  // Facts older than the retained horizon were pruned: refuse rather than silently
  // produce different figures (docs/operations.md "Data retention").
  check_rebuild_horizon(store->retained_horizon(), zone, from_ms);
  analytics::Aggregator aggregator(*store, zone);
  const int days = aggregator.rebuild(from_ms, now_millis());
  std::printf("analytics rebuilt from %s (%s): %d charger-days recomputed\n",
              zone.date_of(from_ms).c_str(), config.time_zone.c_str(), days);
  return 0;
}

}  // namespace genx::app
