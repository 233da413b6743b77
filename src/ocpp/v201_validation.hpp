#pragma once
// OCPP 2.0.1 payload validation: the constraints of the official 2.0.1 JSON schemas,
// encoded in our own code (tables generated into v201_schemas.cpp; no schema file is
// read at run time). Same shape as v16_validation.hpp, with the 2.0.1 RPC framework's
// error codes. Pure, thread-safe, never throws.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ocpp/frame.hpp"
#include "ocpp/v16_validation.hpp"

namespace genx::ocpp::v201 {

using v16::ActionKind;
using v16::Violation;

ActionKind classify_action(std::string_view action);

// Error codes (OCPP-J 2.0.1 section 4.3) for the first violation found:
//   payload not a JSON object                                  -> FormatViolation
//   wrong JSON type                                            -> TypeConstraintViolation
//   missing required field, fewer/more array items than allowed -> OccurrenceConstraintViolation
//   enum, maxLength, date-time, minimum/maximum, unknown property -> PropertyConstraintViolation
//   unknown action -> NotImplemented; an action of the other direction -> NotSupported
std::optional<Violation> validate_request(std::string_view action, const nlohmann::json& payload);
std::optional<Violation> validate_response(std::string_view action, const nlohmann::json& payload);
std::optional<Violation> validate_command(std::string_view action, const nlohmann::json& payload);

}  // namespace genx::ocpp::v201
