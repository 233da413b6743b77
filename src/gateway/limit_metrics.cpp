#include "gateway/limit_metrics.hpp"

#include "metrics/metrics.hpp"

namespace genx::gateway {

namespace {

struct LimitCounters {
  metrics::Counter& handshake_timeouts;
  metrics::Counter& idle_timeouts;
  metrics::Counter& oversized_frames;
  metrics::Counter& rate_limited_calls;
  metrics::Counter& flood_disconnects;
  metrics::Counter& refused_address;
  metrics::Counter& refused_total;
};

metrics::Counter& counter(const char* name, const char* help) {
  return metrics::registry().counter(name, help).with();
}

LimitCounters& counters() {
  static LimitCounters c{
      counter("genx_gateway_handshake_timeouts_total",
              "connections closed because the WebSocket upgrade did not complete in time"),
      counter("genx_gateway_idle_timeouts_total",
              "WebSockets closed after the idle timeout without a frame or pong"),
      counter("genx_gateway_oversized_frames_total",
              "messages larger than GENX_MAX_FRAME_BYTES (connection closed with 1009)"),
      counter("genx_gateway_rate_limited_calls_total",
              "charger calls refused by the per-charger call rate limit (GenericError)"),
      counter("genx_gateway_flood_disconnects_total",
              "connections closed (1008) for sending calls faster than their rate limit"),
      metrics::registry()
          .counter("genx_gateway_connections_refused_total",
                   "WebSocket handshakes refused by a connection limit, by reason "
                   "(address_limit: HTTP 429, total_limit: HTTP 503)",
                   {"reason"})
          .with({"address_limit"}),
      metrics::registry().counter("genx_gateway_connections_refused_total", "", {"reason"}).with({"total_limit"}),
  };
  return c;
}

}  // namespace

void register_limit_metrics() { counters(); }
void count_handshake_timeout() { counters().handshake_timeouts.inc(); }
void count_idle_timeout() { counters().idle_timeouts.inc(); }
void count_oversized_frame() { counters().oversized_frames.inc(); }
void count_rate_limited_call() { counters().rate_limited_calls.inc(); }
void count_flood_disconnect() { counters().flood_disconnects.inc(); }

void count_connection_refused(Admission reason) {
  switch (reason) {
    case Admission::kAddressLimit: counters().refused_address.inc(); return;
    case Admission::kTotalLimit: counters().refused_total.inc(); return;
    case Admission::kAdmitted: return;
  }
}

}  // namespace genx::gateway
