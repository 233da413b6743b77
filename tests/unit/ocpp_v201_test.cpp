// OCPP 2.0.1: framing under the 2.0.1 RPC framework codes and payload validation (the
// full comparison with the official schemas is tests/oracle; these pin the cases a
// charger meets most).
#include <gtest/gtest.h>

#include "ocpp/frame.hpp"
#include "ocpp/v201_validation.hpp"

namespace genx::ocpp {
namespace {

using nlohmann::json;

FrameError error201(std::string_view text) {
  auto parsed = parse_frame(text, Dialect::kOcpp201);
  EXPECT_TRUE(std::holds_alternative<FrameError>(parsed)) << text;
  if (auto* e = std::get_if<FrameError>(&parsed)) return *e;
  return {};
}

TEST(OcppV201Frame, DefectsGetTheTwoZeroOneCodes) {
  EXPECT_EQ(error201("not json").code, ErrorCode::kRpcFrameworkError);
  EXPECT_EQ(error201("{}").code, ErrorCode::kRpcFrameworkError);
  EXPECT_EQ(error201(R"([2,17,"Heartbeat",{}])").code, ErrorCode::kRpcFrameworkError);
  EXPECT_EQ(error201(R"([7,"a","Heartbeat",{}])").code, ErrorCode::kMessageTypeNotSupported);
  EXPECT_EQ(error201(R"([7,"a","Heartbeat",{}])").unique_id, "a");
  EXPECT_EQ(error201(R"([2,"a","Heartbeat"])").code, ErrorCode::kProtocolError);
  EXPECT_EQ(error201(R"([2,"a","Heartbeat",{},1])").code, ErrorCode::kProtocolError);
  EXPECT_EQ(error201(R"([2,"a","Heartbeat",[]])").code, ErrorCode::kFormatViolation);
  EXPECT_EQ(to_string(ErrorCode::kOccurrenceConstraintViolation), "OccurrenceConstraintViolation");
}

TEST(OcppV201Frame, CallResultErrorIsReadAndWritten) {
  auto parsed = parse_frame(R"([5,"r1","FormatViolation","odd answer",{"x":1}])", Dialect::kOcpp201);
  ASSERT_TRUE(std::holds_alternative<Frame>(parsed));
  const auto& error = std::get<CallError>(std::get<Frame>(parsed));
  EXPECT_TRUE(error.about_result);
  EXPECT_EQ(error.code, ErrorCode::kFormatViolation);
  EXPECT_EQ(serialize(error), R"([5,"r1","FormatViolation","odd answer",{"x":1}])");
  // OCPP 1.6 has no message type 5.
  EXPECT_TRUE(std::holds_alternative<FrameError>(parse_frame(R"([5,"r1","X","",{}])")));
}

TEST(OcppV201Validation, RequestsGetTheTwoZeroOneCodes) {
  const json boot = {{"reason", "PowerUp"}, {"chargingStation", {{"model", "M"}, {"vendorName", "V"}}}};
  EXPECT_FALSE(v201::validate_request("BootNotification", boot).has_value());
  auto missing = v201::validate_request("BootNotification", {{"reason", "PowerUp"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, ErrorCode::kOccurrenceConstraintViolation);
  EXPECT_EQ(missing->description, "chargingStation: required property missing");
  json bad_enum = boot;
  bad_enum["reason"] = "Bored";
  EXPECT_EQ(v201::validate_request("BootNotification", bad_enum)->code, ErrorCode::kPropertyConstraintViolation);
  json bad_type = boot;
  bad_type["chargingStation"]["model"] = 5;
  EXPECT_EQ(v201::validate_request("BootNotification", bad_type)->code, ErrorCode::kTypeConstraintViolation);
  EXPECT_EQ(v201::validate_request("BootNotification", json::array())->code, ErrorCode::kFormatViolation);
  // customData may carry anything besides vendorId (CustomDataType is open).
  json custom = boot;
  custom["customData"] = {{"vendorId", "acme"}, {"anything", {1, 2}}};
  EXPECT_FALSE(v201::validate_request("BootNotification", custom).has_value());
  EXPECT_EQ(v201::validate_request("Reset", {{"type", "Immediate"}})->code, ErrorCode::kNotSupported);
  EXPECT_EQ(v201::validate_request("StartTransaction", json::object())->code, ErrorCode::kNotImplemented);
}

TEST(OcppV201Validation, CommandsNameTheField) {
  const auto empty = v201::validate_command("GetVariables", {{"getVariableData", json::array()}});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->code, ErrorCode::kOccurrenceConstraintViolation);
  EXPECT_EQ(empty->description.rfind("getVariableData:", 0), 0U) << empty->description;
  EXPECT_FALSE(v201::validate_command("Reset", {{"type", "OnIdle"}}).has_value());
}

}  // namespace
}  // namespace genx::ocpp
