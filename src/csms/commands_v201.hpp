#pragma once
// Commands to OCPP 2.0.1 stations (docs/ocpp201.md): which commands GenX sends to a
// 2.0.1 station, the convenience endpoints in 2.0.1 form and the api's check of a
// request against the 2.0.1 schemas. The 1.6 side is commands.hpp.
// Pure, thread-safe, never throws.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace genx::csms {

const std::vector<std::string>& supported_commands_v201();
// "start" -> RequestStartTransaction, "stop" -> RequestStopTransaction, "reset" -> Reset,
// "unlock" -> UnlockConnector; nullopt for another name.
std::optional<std::string> convenience_action_v201(std::string_view endpoint);
// The error text for HTTP 400 (naming the field), or nullopt when the command is valid.
std::optional<std::string> check_command_v201(std::string_view action, const nlohmann::json& payload);
// The same check in the charger's version: check_command_v201 for a 2.0.1 station,
// check_command (commands.hpp) for a 1.6 charger.
std::optional<std::string> check_command_for(bool v201, std::string_view action, const nlohmann::json& payload);

}  // namespace genx::csms
