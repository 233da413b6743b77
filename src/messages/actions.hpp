#pragma once
// How the path treats each charger action (DESIGN.md "RabbitMQ topology", README
// "Delivery guarantees"): its priority on ocpp_messages and whether the gateway answers
// it as soon as RabbitMQ confirms it. Pure.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace genx::messages {

// Priority of an action on ocpp_messages (0..9): actions a person waits for outrank telemetry.
std::uint8_t priority_for_action(std::string_view action);

// The actions of the high class (priority_for_action 8: BootNotification, Authorize,
// StartTransaction, StopTransaction): with quorum queues they go to "<ocpp_messages>.high".
const std::vector<std::string>& high_class_actions();

// Calls that only need to be stored: answered as soon as RabbitMQ confirms them, without
// waiting for a worker.
bool answered_on_confirm(std::string_view action);

// The CALLRESULT payload for such a call (Heartbeat: {"currentTime": now}).
nlohmann::json confirm_result(std::string_view action, std::string_view now);

}  // namespace genx::messages
