#include "gateway/gateway_metrics.hpp"

#include <string>

#include <nlohmann/json.hpp>

#include "metrics/metrics.hpp"

namespace genx::gateway {

void count_call_received(std::string_view action, bool known_action) {
  static auto& family = metrics::registry().counter(
      "genx_gateway_calls_received_total", "OCPP CALLs received from chargers, by action",
      {"action"});
  family.with({known_action ? std::string(action) : std::string("unknown")}).inc();
}

void count_frame_sent(std::string_view frame) {
  static auto& family = metrics::registry().counter(
      "genx_gateway_callerrors_sent_total", "CALLERRORs sent to chargers, by OCPP error code",
      {"code"});
  if (frame.substr(0, 2) != "[4") return;
  auto parsed = nlohmann::json::parse(frame, nullptr, false);
  if (parsed.is_array() && parsed.size() >= 3 && parsed[2].is_string()) {
    family.with({parsed[2].get<std::string>()}).inc();
  }
}

void observe_publish(std::string_view outcome, std::chrono::steady_clock::duration latency) {
  static auto& outcomes = metrics::registry().counter(
      "genx_gateway_publish_outcomes_total",
      "charger calls published to RabbitMQ, by outcome (confirmed, nacked, returned, lost, stopped)",
      {"outcome"});
  static auto& confirm = metrics::registry().histogram(
      "genx_gateway_confirm_latency_seconds",
      "time from publishing a charger's call to RabbitMQ's confirm");
  outcomes.with({std::string(outcome)}).inc();
  if (outcome == "confirmed") {
    confirm.with().observe(std::chrono::duration<double>(latency).count());
  }
}

}  // namespace genx::gateway
