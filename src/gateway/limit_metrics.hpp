#pragma once
// Prometheus counters of the gateway's abuse limits (docs/security.md "Abuse limits"), in the
// process registry (metrics/metrics.hpp); kept apart from gateway_metrics so each limit
// costs the session code one call. Thread-safe.
#include "gateway/limits.hpp"

namespace genx::gateway {

// Creates every series at zero, so /metrics lists them before the first event.
void register_limit_metrics();
// A client that did not finish its WebSocket upgrade within the handshake timeout.
void count_handshake_timeout();
// A WebSocket that sent nothing, not even a pong, for the idle timeout.
void count_idle_timeout();
// A message larger than the frame limit (connection closed with 1009).
void count_oversized_frame();
// A CALL answered with the rate-limit CALLERROR.
void count_rate_limited_call();
// A connection closed (1008) for flooding past its call rate.
void count_flood_disconnect();
// A handshake refused by a connection limit (HTTP 429 per address, 503 in total).
void count_connection_refused(Admission reason);

}  // namespace genx::gateway
