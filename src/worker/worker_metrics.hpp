#pragma once
// The ocpp-worker's Prometheus metrics (process registry), one call per event so the
// worker loop stays readable. Thread-safe (acks happen on the broker's I/O thread).
#include <chrono>
#include <string>

#include "metrics/metrics.hpp"

namespace genx::app::worker_metrics {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A message processed (result "processed" or "duplicate") with its processing latency
// (taken from the queue to reply/events ready) and its database transaction time.
inline void processed(const std::string& action, bool duplicate, double processing_seconds,
                      double db_seconds) {
  auto& r = metrics::registry();
  static auto& messages = r.counter("genx_worker_messages_total",
                                    "messages processed by this worker, by action and result",
                                    {"action", "result"});
  static auto& latency = r.histogram("genx_worker_processing_seconds",
                                     "processing latency per action (delivery to reply ready)",
                                     {"action"});
  static auto& db = r.histogram("genx_worker_db_commit_seconds",
                                "database transaction time including the commit");
  messages.with({action, duplicate ? "duplicate" : "processed"}).inc();
  latency.with({action}).observe(processing_seconds);
  db.with().observe(db_seconds);
}

inline void acked() {
  static auto& c = metrics::registry().counter("genx_worker_acks_total", "deliveries acked");
  c.with().inc();
}

// requeue=false dead-letters the message (to the DLQ).
inline void nacked(bool requeue) {
  static auto& c = metrics::registry().counter("genx_worker_nacks_total",
                                               "deliveries nacked, by requeue", {"requeue"});
  static auto& dl = metrics::registry().counter("genx_worker_dead_lettered_total",
                                                "messages sent to the dead-letter queue");
  c.with({requeue ? "true" : "false"}).inc();
  if (!requeue) dl.with().inc();
}

inline void retried() {
  static auto& c = metrics::registry().counter(
      "genx_worker_retries_total", "processing attempts retried after a transient database error");
  c.with().inc();
}

}  // namespace genx::app::worker_metrics
