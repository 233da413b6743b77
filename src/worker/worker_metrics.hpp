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

inline metrics::Family<metrics::Counter>& messages() {
  static auto& c = metrics::registry().counter("genx_worker_messages_total",
                                               "messages processed by this worker, by action and result",
                                               {"action", "result"});
  return c;
}
inline metrics::Family<metrics::Histogram>& processing_latency() {
  static auto& h = metrics::registry().histogram("genx_worker_processing_seconds",
                                                 "processing latency per action (delivery to reply ready)",
                                                 {"action"});
  return h;
}
inline metrics::Histogram& db_commit() {
  static auto& h = metrics::registry().histogram("genx_worker_db_commit_seconds",
                                                 "database transaction time including the commit");
  return h.with();
}

// A message processed (result "processed" or "duplicate") with its processing latency
// (taken from the queue to reply/events ready) and its database transaction time.
inline void processed(const std::string& action, bool duplicate, double processing_seconds,
                      double db_seconds) {
  messages().with({action, duplicate ? "duplicate" : "processed"}).inc();
  processing_latency().with({action}).observe(processing_seconds);
  db_commit().observe(db_seconds);
}

inline metrics::Counter& acks() {
  static auto& c = metrics::registry().counter("genx_worker_acks_total", "deliveries acked");
  return c.with();
}
inline metrics::Family<metrics::Counter>& nacks() {
  static auto& c = metrics::registry().counter("genx_worker_nacks_total",
                                               "deliveries nacked, by requeue", {"requeue"});
  return c;
}
inline metrics::Counter& dead_lettered() {
  static auto& c = metrics::registry().counter("genx_worker_dead_lettered_total",
                                               "messages sent to the dead-letter queue");
  return c.with();
}
inline metrics::Counter& retries() {
  static auto& c = metrics::registry().counter(
      "genx_worker_retries_total", "processing attempts retried after a transient database error");
  return c.with();
}

inline metrics::Counter& republishes() {
  static auto& c = metrics::registry().counter(
      "genx_worker_republished_total",
      "publishes the broker refused that the worker sent again after a backoff (the message held)");
  return c.with();
}

// Registers the counters at start, so /metrics shows them at 0 before the first event
// (an alert on their rate needs the series to exist).
inline void declare() {
  messages();
  processing_latency();
  db_commit();
  acks();
  nacks();
  dead_lettered();
  retries();
  republishes();
}

inline void acked() { acks().inc(); }
inline void republished() { republishes().inc(); }

// requeue=false dead-letters the message (to the DLQ).
inline void nacked(bool requeue) {
  nacks().with({requeue ? "true" : "false"}).inc();
  if (!requeue) dead_lettered().inc();
}

inline void retried() { retries().inc(); }

}  // namespace genx::app::worker_metrics
