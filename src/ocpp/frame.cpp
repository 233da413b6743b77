// OCPP-J 1.6 framing. Which CALLERROR a malformed frame gets (OCPP-J 1.6 section 4.2.3
// gives the codes, not a table per defect; this is our reading, kept in one place):
//   - not JSON, not an array, message type not an integer, unique id not a string,
//     action not a string, payload / details not an object, description not a string,
//     more elements than the message type has               -> FormationViolation
//     ("syntactically incorrect or not conform the PDU structure")
//   - fewer elements than the message type needs             -> ProtocolError
//     ("Payload for Action is incomplete")
//   - unique id longer than 36 characters                     -> FormationViolation
//   - arrays/objects nested deeper than kMaxNestingDepth      -> FormationViolation
//   - an integer message type other than 2, 3 or 4            -> ProtocolError (1.6 has no
//     MessageTypeNotSupported; 2.0.1 answers with that code)
// OCPP 2.0.1 (OCPP-J 2.0.1 section 4.3) names the same defects with its own codes:
//   - not JSON, not an array, message type not an integer, no unique id or one that is
//     not a string or longer than 36 characters                 -> RpcFrameworkError
//     ("not a valid RPC request, e.g. the MessageId could not be read")
//   - action not a string, payload / details not an object       -> FormatViolation
//   - too few or too many elements                                -> ProtocolError
//   - an integer message type other than 2..5                     -> MessageTypeNotSupported
//   - nesting deeper than kMaxNestingDepth                        -> FormatViolation
// and reads CALLRESULTERROR [5, id, code, description, details].
// The unique id is echoed when element 1 is a string, otherwise "-1" (as ocpp-rpc does).
// ocpp-rpc (mikuso/ocpp-rpc) answers the same defects with "RpcFrameworkError", an
// OCPP 2.0.1 code that a 1.6 charger does not know, so it is not followed there.
#include "ocpp/frame.hpp"
#include "ocpp/json_text.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace genx::ocpp {
namespace {

constexpr int kCall = 2;
constexpr int kCallResult = 3;
constexpr int kCallError = 4;
constexpr int kCallResultError = 5;

constexpr std::array<std::pair<ErrorCode, std::string_view>, 14> kNames{{
    {ErrorCode::kNotImplemented, "NotImplemented"},
    {ErrorCode::kNotSupported, "NotSupported"},
    {ErrorCode::kInternalError, "InternalError"},
    {ErrorCode::kProtocolError, "ProtocolError"},
    {ErrorCode::kSecurityError, "SecurityError"},
    {ErrorCode::kFormationViolation, "FormationViolation"},
    {ErrorCode::kPropertyConstraintViolation, "PropertyConstraintViolation"},
    {ErrorCode::kOccurenceConstraintViolation, "OccurenceConstraintViolation"},
    {ErrorCode::kTypeConstraintViolation, "TypeConstraintViolation"},
    {ErrorCode::kGenericError, "GenericError"},
    {ErrorCode::kFormatViolation, "FormatViolation"},
    {ErrorCode::kOccurrenceConstraintViolation, "OccurrenceConstraintViolation"},
    {ErrorCode::kMessageTypeNotSupported, "MessageTypeNotSupported"},
    {ErrorCode::kRpcFrameworkError, "RpcFrameworkError"},
}};

// Never throws: strings that are not valid UTF-8 are replaced, not rejected.
std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// True when arrays/objects nest deeper than `limit` (strings are skipped). Checked before
// parsing because copying and printing a nlohmann::json value recurse per level.
bool nests_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        return true;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++count;
    }
  }
  return count;
}

FrameError error(std::string unique_id, ErrorCode code, std::string description, bool was_call) {
  return FrameError{std::move(unique_id), code, std::move(description), was_call};
}

// Checks the element count of a frame of a known type: fewer is "incomplete"
// (ProtocolError), more is a malformed PDU (FormationViolation).
std::optional<FrameError> check_size(const nlohmann::json& frame, std::size_t expected,
                                     const std::string& unique_id, std::string_view kind,
                                     bool was_call) {
  if (frame.size() < expected) {
    return error(unique_id, ErrorCode::kProtocolError,
                 std::string(kind) + " needs " + std::to_string(expected) + " elements, got " +
                     std::to_string(frame.size()),
                 was_call);
  }
  if (frame.size() > expected) {
    return error(unique_id, ErrorCode::kFormationViolation,
                 std::string(kind) + " has " + std::to_string(expected) + " elements, got " +
                     std::to_string(frame.size()),
                 was_call);
  }
  return std::nullopt;
}

std::variant<Frame, FrameError> parse_array(const nlohmann::json& frame, Dialect dialect) {
  if (frame.empty()) {
    return error("-1", ErrorCode::kFormationViolation, "message must not be an empty array", true);
  }
  const nlohmann::json& type = frame[0];
  const bool integral_float = type.is_number_float() && std::isfinite(type.get<double>()) &&
                              std::floor(type.get<double>()) == type.get<double>();
  if (!type.is_number_integer() && !integral_float) {
    return error("-1", ErrorCode::kFormationViolation, "message type must be an integer", true);
  }
  const double type_value = type.get<double>();
  const bool result_error_known = dialect == Dialect::kOcpp201 && type_value == kCallResultError;
  const int message_type = (type_value == kCall || type_value == kCallResult ||
                            type_value == kCallError || result_error_known)
                               ? static_cast<int>(type_value)
                               : 0;
  const bool was_call = message_type != kCallResult && message_type != kCallError;

  std::string unique_id = "-1";
  if (frame.size() < 2) {
    return error(unique_id, ErrorCode::kProtocolError, "message has no unique id", was_call);
  }
  if (!frame[1].is_string()) {
    return error(unique_id, ErrorCode::kFormationViolation, "unique id must be a string",
                 was_call);
  }
  unique_id = frame[1].get<std::string>();
  if (utf8_length(unique_id) > kMaxUniqueIdLength) {
    return error(unique_id, ErrorCode::kFormationViolation,
                 "unique id longer than " + std::to_string(kMaxUniqueIdLength) + " characters",
                 was_call);
  }

  switch (message_type) {
    case kCall: {
      if (auto bad = check_size(frame, 4, unique_id, "CALL", true)) {
        return *std::move(bad);
      }
      if (!frame[2].is_string()) {
        return error(unique_id, ErrorCode::kFormationViolation, "action must be a string", true);
      }
      if (!frame[3].is_object()) {
        return error(unique_id, ErrorCode::kFormationViolation, "payload must be a JSON object",
                     true);
      }
      return Frame{Call{unique_id, frame[2].get<std::string>(), frame[3]}};
    }
    case kCallResult: {
      if (auto bad = check_size(frame, 3, unique_id, "CALLRESULT", false)) {
        return *std::move(bad);
      }
      if (!frame[2].is_object()) {
        return error(unique_id, ErrorCode::kFormationViolation, "payload must be a JSON object",
                     false);
      }
      return Frame{CallResult{unique_id, frame[2]}};
    }
    case kCallError:
    case kCallResultError: {
      if (auto bad = check_size(frame, 5, unique_id,
                                message_type == kCallError ? "CALLERROR" : "CALLRESULTERROR",
                                false)) {
        return *std::move(bad);
      }
      if (!frame[2].is_string()) {
        return error(unique_id, ErrorCode::kFormationViolation, "error code must be a string",
                     false);
      }
      if (!frame[3].is_string()) {
        return error(unique_id, ErrorCode::kFormationViolation,
                     "error description must be a string", false);
      }
      if (!frame[4].is_object()) {
        return error(unique_id, ErrorCode::kFormationViolation,
                     "error details must be a JSON object", false);
      }
      // An error code this version does not define is kept as GenericError.
      const ErrorCode code =
          error_code_from_string(frame[2].get<std::string>()).value_or(ErrorCode::kGenericError);
      return Frame{CallError{unique_id, code, frame[3].get<std::string>(), frame[4],
                             message_type == kCallResultError}};
    }
    default:
      return error(unique_id, ErrorCode::kProtocolError,
                   "unknown message type " + dump(type) +
                       (dialect == Dialect::kOcpp201 ? " (expected 2, 3, 4 or 5)"
                                                     : " (expected 2, 3 or 4)"),
                   true);
  }
}

}  // namespace

std::string_view to_string(ErrorCode code) {
  for (const auto& [value, name] : kNames) {
    if (value == code) {
      return name;
    }
  }
  return "GenericError";
}

std::optional<ErrorCode> error_code_from_string(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

namespace {

// A 1.6 frame defect under the 2.0.1 names (see the table at the top).
FrameError as_v201(FrameError e) {
  const std::string_view d = e.description;
  const bool rpc = d.rfind("message is not valid JSON", 0) == 0 ||
                   d.rfind("message must be", 0) == 0 || d.rfind("message type must", 0) == 0 ||
                   d.rfind("message has no unique id", 0) == 0 ||
                   d.rfind("unique id", 0) == 0 || d.rfind("malformed message", 0) == 0;
  if (rpc) {
    e.code = ErrorCode::kRpcFrameworkError;
  } else if (d.rfind("unknown message type", 0) == 0) {
    e.code = ErrorCode::kMessageTypeNotSupported;
  } else if (d.find(" elements, got ") != std::string_view::npos) {
    e.code = ErrorCode::kProtocolError;
  } else if (e.code == ErrorCode::kFormationViolation) {
    e.code = ErrorCode::kFormatViolation;
  }
  return e;
}

std::variant<Frame, FrameError> parse_frame_text(std::string_view text, Dialect dialect) {
  if (nests_deeper_than(text, kMaxNestingDepth)) {
    return error("-1", ErrorCode::kFormationViolation,
                 "message nests deeper than " + std::to_string(kMaxNestingDepth) + " levels",
                 true);
  }
  nlohmann::json frame;
  try {
    frame = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception&) {
    return error("-1", ErrorCode::kFormationViolation, "message is not valid JSON", true);
  }
  if (!frame.is_array()) {
    return error("-1", ErrorCode::kFormationViolation, "message must be a JSON array", true);
  }
  try {
    return parse_array(frame, dialect);
  } catch (const std::exception&) {  // defensive: nothing above is expected to throw
    return error("-1", ErrorCode::kFormationViolation, "malformed message", true);
  }
}

}  // namespace

std::variant<Frame, FrameError> parse_frame(std::string_view text, Dialect dialect) {
  auto parsed = parse_frame_text(text, dialect);
  if (dialect == Dialect::kOcpp201) {
    if (auto* bad = std::get_if<FrameError>(&parsed)) return as_v201(std::move(*bad));
  }
  return parsed;
}

// Written piece by piece (ocpp/json_text.hpp): what dump() of the frame array writes,
// without copying the payload into that array first.
namespace {

constexpr bool kReplaceInvalidUtf8 = true;

void append_payload(std::string& out, const nlohmann::json& payload) {
  if (payload.is_null()) {
    out += "{}";
  } else {
    append_json(out, payload, kReplaceInvalidUtf8);
  }
}

}  // namespace

std::string serialize(const Call& call) {
  std::string out = "[" + std::to_string(kCall) + ",";
  append_json_string(out, call.unique_id, kReplaceInvalidUtf8);
  out += ',';
  append_json_string(out, call.action, kReplaceInvalidUtf8);
  out += ',';
  append_payload(out, call.payload);
  out += ']';
  return out;
}

std::string serialize_result(const std::string& unique_id, const nlohmann::json& payload) {
  std::string out = "[" + std::to_string(kCallResult) + ",";
  append_json_string(out, unique_id, kReplaceInvalidUtf8);
  out += ',';
  append_payload(out, payload);
  out += ']';
  return out;
}

std::string serialize(const CallResult& result) { return serialize_result(result.unique_id, result.payload); }

std::string serialize(const CallError& error) {
  std::string out = "[" + std::to_string(error.about_result ? kCallResultError : kCallError) + ",";
  append_json_string(out, error.unique_id, kReplaceInvalidUtf8);
  out += ',';
  append_json_string(out, to_string(error.code), kReplaceInvalidUtf8);
  out += ',';
  append_json_string(out, error.description, kReplaceInvalidUtf8);
  out += ',';
  if (error.details.is_object()) {
    append_json(out, error.details, kReplaceInvalidUtf8);
  } else {
    out += "{}";
  }
  out += ']';
  return out;
}

}  // namespace genx::ocpp
