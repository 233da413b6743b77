#pragma once
// OCPP-J RPC framing (OCPP-J 1.6 section 4, OCPP-J 2.0.1 section 4): CALL
// [2,id,action,payload], CALLRESULT [3,id,payload], CALLERROR [4,id,code,description,details],
// and in 2.0.1 CALLRESULTERROR [5,id,code,description,details] (a CallError with
// about_result set).
// Pure: no I/O. Parsing never throws; a frame that cannot be understood is a
// FrameError value carrying the CALLERROR the receiver must answer with.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace genx::ocpp {

// The RPC error codes of both versions, each spelled as its version spells it. 1.6:
// "FormationViolation", "OccurenceConstraintViolation"; 2.0.1: "FormatViolation",
// "OccurrenceConstraintViolation", "MessageTypeNotSupported", "RpcFrameworkError"; the
// rest are shared. A 1.6 session never sends a 2.0.1-only code and the reverse.
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
  // OCPP 2.0.1 only.
  kFormatViolation,
  kOccurrenceConstraintViolation,
  kMessageTypeNotSupported,
  kRpcFrameworkError,
};

// Which version's framing rules apply (the subprotocol the session negotiated).
enum class Dialect { kOcpp16, kOcpp201 };

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
  // 2.0.1 CALLRESULTERROR (message type 5): the peer could not handle our CALLRESULT.
  bool about_result = false;
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

// 1.6 (the default) answers defects with the 1.6 codes; 2.0.1 with its own (see
// frame.cpp) and also reads CALLRESULTERROR.
std::variant<Frame, FrameError> parse_frame(std::string_view text,
                                            Dialect dialect = Dialect::kOcpp16);

// The frame as nlohmann::json::dump() writes it, invalid UTF-8 replaced (never throws).
std::string serialize(const Call& call);
std::string serialize(const CallResult& result);
std::string serialize(const CallError& error);
// serialize(CallResult{unique_id, payload}) without copying the payload.
std::string serialize_result(const std::string& unique_id, const nlohmann::json& payload);

}  // namespace genx::ocpp
