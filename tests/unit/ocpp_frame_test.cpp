// OCPP-J 1.6 framing: what a charger gets back for good and bad frames.
#include <gtest/gtest.h>

#include "ocpp/frame.hpp"

namespace genx::ocpp {
namespace {

FrameError expect_error(std::string_view text) {
  auto parsed = parse_frame(text);
  EXPECT_TRUE(std::holds_alternative<FrameError>(parsed)) << text;
  if (auto* error = std::get_if<FrameError>(&parsed)) {
    return *error;
  }
  return {};
}

Frame expect_frame(std::string_view text) {
  auto parsed = parse_frame(text);
  if (auto* error = std::get_if<FrameError>(&parsed)) {
    ADD_FAILURE() << text << " -> " << to_string(error->code) << ": " << error->description;
    return Call{};
  }
  return std::get<Frame>(parsed);
}

TEST(OcppFrame, ParsesCall) {
  const auto frame = expect_frame(
      R"([2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"M1"}])");
  const auto& call = std::get<Call>(frame);
  EXPECT_EQ(call.unique_id, "19223201");
  EXPECT_EQ(call.action, "BootNotification");
  EXPECT_EQ(call.payload["chargePointVendor"], "VendorX");
}

TEST(OcppFrame, ParsesCallResultAndCallError) {
  const auto result = std::get<CallResult>(expect_frame(R"([3,"abc",{"status":"Accepted"}])"));
  EXPECT_EQ(result.unique_id, "abc");
  EXPECT_EQ(result.payload["status"], "Accepted");

  const auto error = std::get<CallError>(
      expect_frame(R"([4,"abc","NotSupported","no such thing",{"hint":1}])"));
  EXPECT_EQ(error.unique_id, "abc");
  EXPECT_EQ(error.code, ErrorCode::kNotSupported);
  EXPECT_EQ(error.description, "no such thing");
  EXPECT_EQ(error.details["hint"], 1);
}

TEST(OcppFrame, CallErrorWithUnknownCodeBecomesGenericError) {
  const auto error = std::get<CallError>(expect_frame(R"([4,"a","Weird","",{}])"));
  EXPECT_EQ(error.code, ErrorCode::kGenericError);
  // A 2.0.1 name is kept as itself (the api shows what the charger said).
  const auto v201 = std::get<CallError>(expect_frame(R"([4,"a","FormatViolation","",{}])"));
  EXPECT_EQ(v201.code, ErrorCode::kFormatViolation);
}

TEST(OcppFrame, InvalidJsonIsFormationViolationWithUnknownId) {
  for (const auto* text : {"", "[2,\"a\",\"Heartbeat\",{}", "not json", "[2,\"a\",\"Heartbeat\",{}]x",
                           "\xff\xfe"}) {
    const auto error = expect_error(text);
    EXPECT_EQ(error.code, ErrorCode::kFormationViolation) << text;
    EXPECT_EQ(error.unique_id, "-1") << text;
    EXPECT_TRUE(error.was_call);
  }
}

TEST(OcppFrame, NonArrayIsFormationViolation) {
  for (const auto* text : {R"({"a":1})", "2", R"("x")", "[]", "null"}) {
    const auto error = expect_error(text);
    EXPECT_EQ(error.code, ErrorCode::kFormationViolation) << text;
    EXPECT_EQ(error.unique_id, "-1");
  }
}

TEST(OcppFrame, MessageTypeMustBeAnInteger) {
  for (const auto* text : {R"(["2","a","Heartbeat",{}])", R"([2.5,"a","Heartbeat",{}])",
                           R"([null,"a","Heartbeat",{}])"}) {
    const auto error = expect_error(text);
    EXPECT_EQ(error.code, ErrorCode::kFormationViolation) << text;
  }
}

TEST(OcppFrame, UnknownMessageTypeIsAnError) {
  const auto error = expect_error(R"([5,"abc","Heartbeat",{}])");
  EXPECT_EQ(error.code, ErrorCode::kProtocolError);
  EXPECT_EQ(error.unique_id, "abc");
}

TEST(OcppFrame, UniqueIdMustBeAShortString) {
  const auto number = expect_error(R"([2,42,"Heartbeat",{}])");
  EXPECT_EQ(number.code, ErrorCode::kFormationViolation);
  EXPECT_EQ(number.unique_id, "-1");

  const std::string id36(36, 'a');
  const auto ok = std::get<Call>(expect_frame(R"([2,")" + id36 + R"(","Heartbeat",{}])"));
  EXPECT_EQ(ok.unique_id, id36);

  const std::string id37(37, 'a');
  const auto too_long = expect_error(R"([2,")" + id37 + R"(","Heartbeat",{}])");
  EXPECT_EQ(too_long.code, ErrorCode::kFormationViolation);
  EXPECT_EQ(too_long.unique_id, id37);  // echoed so the charger can match the answer
}

TEST(OcppFrame, CallPartsAreChecked) {
  const auto action = expect_error(R"([2,"a",7,{}])");
  EXPECT_EQ(action.code, ErrorCode::kFormationViolation);
  EXPECT_EQ(action.unique_id, "a");

  const auto payload = expect_error(R"([2,"a","Heartbeat",[]])");
  EXPECT_EQ(payload.code, ErrorCode::kFormationViolation);
  EXPECT_NE(payload.description.find("payload"), std::string::npos);

  const auto missing = expect_error(R"([2,"a","Heartbeat"])");
  EXPECT_EQ(missing.code, ErrorCode::kProtocolError);
  EXPECT_EQ(missing.unique_id, "a");

  const auto extra = expect_error(R"([2,"a","Heartbeat",{},{}])");
  EXPECT_EQ(extra.code, ErrorCode::kFormationViolation);

  const auto no_id = expect_error(R"([2])");
  EXPECT_EQ(no_id.code, ErrorCode::kProtocolError);
  EXPECT_EQ(no_id.unique_id, "-1");
}

TEST(OcppFrame, BadResultsAndErrorsAreMarkedAsNotCalls) {
  for (const auto* text : {R"([3,"a"])", R"([3,"a",{},1])", R"([3,"a","x"])", R"([4,"a","GenericError","d"])",
                           R"([4,"a",1,"d",{}])", R"([4,"a","GenericError",1,{}])",
                           R"([4,"a","GenericError","d",[]])"}) {
    const auto error = expect_error(text);
    EXPECT_FALSE(error.was_call) << text;
    EXPECT_EQ(error.unique_id, "a") << text;
  }
}

TEST(OcppFrame, DeepNestingIsRefusedNotACrash) {
  const std::size_t depth = 100000;
  const std::string deep =
      R"([2,"a","DataTransfer",{"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}]";
  const auto error = expect_error(deep);
  EXPECT_EQ(error.code, ErrorCode::kFormationViolation);
  EXPECT_NE(error.description.find("nests deeper"), std::string::npos);

  // Brackets inside strings do not count; nesting up to the limit is accepted.
  const std::string brackets(1000, '[');
  EXPECT_TRUE(std::holds_alternative<Frame>(
      parse_frame(R"([2,"a","DataTransfer",{"data":")" + brackets + R"(\"["}])")));
  const std::size_t inner = kMaxNestingDepth - 2;  // the frame and the payload are two levels
  EXPECT_TRUE(std::holds_alternative<Frame>(parse_frame(
      R"([2,"a","DataTransfer",{"x":)" + std::string(inner, '[') + std::string(inner, ']') + "}]")));
  EXPECT_TRUE(std::holds_alternative<FrameError>(parse_frame(
      R"([2,"a","DataTransfer",{"x":)" + std::string(inner + 1, '[') + std::string(inner + 1, ']') +
      "}]")));
}

TEST(OcppFrame, SerializeRoundTrips) {
  const Call call{"id-1", "Heartbeat", nlohmann::json::object()};
  EXPECT_EQ(serialize(call), R"([2,"id-1","Heartbeat",{}])");
  EXPECT_EQ(std::get<Call>(expect_frame(serialize(call))).action, "Heartbeat");

  const CallResult result{"id-2", {{"currentTime", "2024-01-15T10:30:00Z"}}};
  EXPECT_EQ(serialize(result), R"([3,"id-2",{"currentTime":"2024-01-15T10:30:00Z"}])");

  const CallError error{"id-3", ErrorCode::kOccurenceConstraintViolation, "idTag: missing", {}};
  EXPECT_EQ(serialize(error), R"([4,"id-3","OccurenceConstraintViolation","idTag: missing",{}])");
  const auto parsed = std::get<CallError>(expect_frame(serialize(error)));
  EXPECT_EQ(parsed.code, ErrorCode::kOccurenceConstraintViolation);
}

TEST(OcppFrame, SerializeNeverThrowsOnBadUtf8) {
  const CallError error{"id", ErrorCode::kGenericError, std::string("bad \xff byte"), {}};
  std::string text;
  EXPECT_NO_THROW(text = serialize(error));
  EXPECT_TRUE(std::holds_alternative<Frame>(parse_frame(text)));
}

TEST(OcppFrame, ErrorCodeNamesRoundTrip) {
  for (const auto code :
       {ErrorCode::kNotImplemented, ErrorCode::kNotSupported, ErrorCode::kInternalError,
        ErrorCode::kProtocolError, ErrorCode::kSecurityError, ErrorCode::kFormationViolation,
        ErrorCode::kPropertyConstraintViolation, ErrorCode::kOccurenceConstraintViolation,
        ErrorCode::kTypeConstraintViolation, ErrorCode::kGenericError}) {
    EXPECT_EQ(error_code_from_string(to_string(code)), code) << to_string(code);
  }
  EXPECT_EQ(to_string(ErrorCode::kFormationViolation), "FormationViolation");
  EXPECT_EQ(to_string(ErrorCode::kOccurenceConstraintViolation), "OccurenceConstraintViolation");
  EXPECT_FALSE(error_code_from_string("NoSuchCode").has_value());
}

}  // namespace
}  // namespace genx::ocpp
