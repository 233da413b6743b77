#pragma once
// OCPP 1.6 payload validation: the constraints of the official 1.6 JSON schemas,
// encoded in our own code (no schema files are read at run time).
// Pure, thread-safe, never throws.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ocpp/frame.hpp"

namespace genx::ocpp::v16 {

struct Violation {
  ErrorCode code;
  std::string description;  // names the offending field, e.g. "connectorId: expected integer"
};

// How the CSMS knows an action name.
enum class ActionKind {
  kUnknown,           // not an OCPP 1.6 action at all          -> NotImplemented
  kChargerToCsms,     // BootNotification, Heartbeat, ...        -> validate and process
  kCsmsToCharger,     // Reset, RemoteStartTransaction, ...      -> NotSupported when a charger calls it
};

ActionKind classify_action(std::string_view action);

// Validates the payload of a CALL the charger sent. Returns nullopt when valid.
// Unknown action -> NotImplemented; CSMS-to-charger action -> NotSupported;
// otherwise the error code OCPP 1.6 prescribes for the first violation found:
//   wrong JSON type                  -> TypeConstraintViolation
//   missing required field           -> OccurenceConstraintViolation
//   enum / maxLength / date-time / additional property / range -> PropertyConstraintViolation
//   payload not a JSON object        -> FormationViolation
std::optional<Violation> validate_request(std::string_view action, const nlohmann::json& payload);

// Validates the payload of a CALLRESULT for `action` (both directions: responses the
// CSMS sends to charger calls, and responses chargers send to CSMS commands).
std::optional<Violation> validate_response(std::string_view action, const nlohmann::json& payload);

// Validates the payload of a CALL the CSMS sends to a charger (commands).
std::optional<Violation> validate_command(std::string_view action, const nlohmann::json& payload);

}  // namespace genx::ocpp::v16
