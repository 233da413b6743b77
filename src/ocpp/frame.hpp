#pragma once
// OCPP-J RPC framing (OCPP-J 1.6 section 4): CALL [2,id,action,payload],
// CALLRESULT [3,id,payload], CALLERROR [4,id,code,description,details].
// Pure: no I/O. Parsing never throws; a frame that cannot be understood is a
// FrameError value carrying the CALLERROR the receiver must answer with.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace genx::ocpp {

// The OCPP 1.6 error codes (spelling as in the 1.6 spec: "FormationViolation",
// "OccurenceConstraintViolation").
enum class ErrorCode {
  kNotImplemented,
  kNotSupported,
  kInternalError,
  kProtocolError,
  kSecurityError,
  kFormationViolation,
  kPropertyConstraintViolation,
  kOccurenceConstraintViolation,
  kTypeConstraintViolation,
  kGenericError,
};

std::string_view to_string(ErrorCode code);
std::optional<ErrorCode> error_code_from_string(std::string_view name);

struct Call {
  std::string unique_id;
  std::string action;
  nlohmann::json payload;
};

struct CallResult {
  std::string unique_id;
  nlohmann::json payload;
};

struct CallError {
  std::string unique_id;
  ErrorCode code = ErrorCode::kGenericError;
  std::string description;
  nlohmann::json details = nlohmann::json::object();
};

using Frame = std::variant<Call, CallResult, CallError>;

// A frame that could not be parsed. unique_id is the message id when it could be
// read from the frame, otherwise "-1"; answer with a CALLERROR built from it
// (or ignore it when the bad frame was itself a CALLRESULT/CALLERROR, as OCPP-J says).
struct FrameError {
  std::string unique_id;
  ErrorCode code = ErrorCode::kFormationViolation;
  std::string description;
  bool was_call = true;  // false when the frame looked like a CALLRESULT/CALLERROR
};

// Maximum length of the unique id (OCPP-J: at most 36 characters).
inline constexpr std::size_t kMaxUniqueIdLength = 36;

// Deepest nesting of arrays/objects parse_frame accepts (the frame array counts as one
// level; OCPP 1.6 messages need fewer than 10). Deeper input is a FormationViolation,
// so hostile input cannot exhaust the stack.
inline constexpr std::size_t kMaxNestingDepth = 64;

std::variant<Frame, FrameError> parse_frame(std::string_view text);

std::string serialize(const Call& call);
std::string serialize(const CallResult& result);
std::string serialize(const CallError& error);

}  // namespace genx::ocpp
