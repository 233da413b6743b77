#pragma once
// The gateway's Prometheus metrics (process registry, see metrics/metrics.hpp), kept out
// of gateway.cpp so the session code only calls one function per event. Thread-safe.
#include <chrono>
#include <string_view>

namespace genx::gateway {

// A CALL from a charger; unknown actions are counted under "unknown" (bounded labels).
void count_call_received(std::string_view action, bool known_action);
// Every frame sent to a charger; CALLERRORs are counted by error code.
void count_frame_sent(std::string_view frame);
// A publish outcome of a charger's call, with the time from publish() to the outcome.
void observe_publish(std::string_view outcome, std::chrono::steady_clock::duration latency);

}  // namespace genx::gateway
