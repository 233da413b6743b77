// OCPP 1.6 payload validation: the CALLERROR code and field a charger is told about.
// (tests/oracle compares the whole schema set with ajv; these pin the behaviour here.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ocpp/v16_validation.hpp"

namespace genx::ocpp::v16 {
namespace {

using nlohmann::json;

const json kStart = {{"connectorId", 1},
                     {"idTag", "TAG-1"},
                     {"meterStart", 1000},
                     {"timestamp", "2024-01-15T10:30:00Z"}};

json meter_values() {
  return json::parse(R"({"connectorId":1,"transactionId":7,"meterValue":[
    {"timestamp":"2024-01-15T10:30:00Z","sampledValue":[
      {"value":"1234","measurand":"Energy.Active.Import.Register","unit":"Wh"},
      {"value":"16.1","measurand":"Current.Import","unit":"A","phase":"L1","context":"Sample.Periodic",
       "location":"Outlet","format":"Raw"}]}]})");
}

struct Good {
  std::string action;
  json payload;
};

// One valid payload for every call a charger sends.
std::vector<Good> good_requests() {
  return {
      {"Authorize", {{"idTag", "ABCDEF0123456789ABCD"}}},
      {"BootNotification",
       {{"chargePointVendor", "VendorX"}, {"chargePointModel", "M1"},
        {"chargePointSerialNumber", "SN-1"}, {"firmwareVersion", "1.2.3"}, {"iccid", ""},
        {"meterType", "DC"}}},
      {"DataTransfer", {{"vendorId", "com.vendor"}, {"messageId", "m"}, {"data", "{\"x\":1}"}}},
      {"DiagnosticsStatusNotification", {{"status", "Uploaded"}}},
      {"FirmwareStatusNotification", {{"status", "Installed"}}},
      {"Heartbeat", json::object()},
      {"MeterValues", meter_values()},
      {"StartTransaction", kStart},
      {"StatusNotification",
       {{"connectorId", 0}, {"errorCode", "NoError"}, {"status", "Available"},
        {"timestamp", "2024-01-15T10:30:00.123+02:00"}, {"info", "ok"}}},
      {"StopTransaction",
       {{"meterStop", 2000}, {"timestamp", "2024-01-15T11:30:00Z"}, {"transactionId", 7},
        {"reason", "EVDisconnected"}, {"idTag", "TAG-1"},
        {"transactionData", meter_values()["meterValue"]}}},
      {"SecurityEventNotification", {{"type", "FirmwareUpdated"}, {"timestamp", "2024-01-15T10:30:00Z"}}},
      {"SignCertificate", {{"csr", "-----BEGIN CERTIFICATE REQUEST-----"}}},
      {"LogStatusNotification", {{"status", "Uploading"}, {"requestId", 3}}},
      {"SignedFirmwareStatusNotification", {{"status", "SignatureVerified"}, {"requestId", 3}}},
  };
}

void expect_violation(const std::optional<Violation>& verdict, ErrorCode code,
                      std::string_view description_start) {
  ASSERT_TRUE(verdict.has_value()) << "expected " << to_string(code);
  EXPECT_EQ(verdict->code, code) << verdict->description;
  EXPECT_EQ(verdict->description.substr(0, description_start.size()), description_start)
      << verdict->description;
}

TEST(OcppValidation, AcceptsValidRequestOfEveryChargerAction) {
  for (const auto& [action, payload] : good_requests()) {
    const auto verdict = validate_request(action, payload);
    EXPECT_FALSE(verdict.has_value()) << action << ": " << verdict->description;
    EXPECT_EQ(classify_action(action), ActionKind::kChargerToCsms) << action;
  }
}

TEST(OcppValidation, MissingRequiredFieldIsOccurenceViolationForEveryAction) {
  for (const auto& [action, payload] : good_requests()) {
    for (const auto& [key, value] : payload.items()) {
      json without = payload;
      without.erase(key);
      const auto verdict = validate_request(action, without);
      if (verdict) {  // only required fields make it invalid
        EXPECT_EQ(verdict->code, ErrorCode::kOccurenceConstraintViolation) << action << "." << key;
        EXPECT_EQ(verdict->description, key + ": required property missing");
      }
    }
  }
  expect_violation(validate_request("StartTransaction", json::object()),
                   ErrorCode::kOccurenceConstraintViolation, "connectorId: required");
}

TEST(OcppValidation, ExtraPropertyIsPropertyViolationForEveryAction) {
  for (const auto& [action, payload] : good_requests()) {
    json extra = payload;
    extra["surprise"] = 1;
    expect_violation(validate_request(action, extra), ErrorCode::kPropertyConstraintViolation,
                     "surprise: property not allowed");
  }
}

TEST(OcppValidation, WrongTypeIsTypeViolationForEveryField) {
  for (const auto& [action, payload] : good_requests()) {
    for (const auto& [key, value] : payload.items()) {
      json wrong = payload;
      wrong[key] = value.is_string() ? json(12) : json("12");
      expect_violation(validate_request(action, wrong), ErrorCode::kTypeConstraintViolation,
                       key + ": expected ");
    }
  }
}

TEST(OcppValidation, IntegerNumberAndBooleanAreDistinct) {
  json payload = kStart;
  payload["meterStart"] = 10.5;
  expect_violation(validate_request("StartTransaction", payload),
                   ErrorCode::kTypeConstraintViolation, "meterStart: expected integer");
  payload["meterStart"] = 10.0;  // JSON Schema: 10.0 is an integer
  EXPECT_FALSE(validate_request("StartTransaction", payload));
  payload["meterStart"] = true;
  expect_violation(validate_request("StartTransaction", payload),
                   ErrorCode::kTypeConstraintViolation, "meterStart: expected integer");

  const json config = json::parse(R"({"configurationKey":[{"key":"K","readonly":"yes"}]})");
  expect_violation(validate_response("GetConfiguration", config),
                   ErrorCode::kTypeConstraintViolation,
                   "configurationKey[0].readonly: expected boolean");
}

TEST(OcppValidation, MaxLengthCountsCharactersNotBytes) {
  EXPECT_FALSE(validate_request("Authorize", {{"idTag", std::string(20, 'A')}}));
  expect_violation(validate_request("Authorize", {{"idTag", std::string(21, 'A')}}),
                   ErrorCode::kPropertyConstraintViolation, "idTag: longer than 20 characters");
  std::string twenty_euros;
  for (int i = 0; i < 20; ++i) {
    twenty_euros += "\xe2\x82\xac";  // U+20AC, three bytes
  }
  EXPECT_FALSE(validate_request("Authorize", {{"idTag", twenty_euros}}));
  expect_violation(validate_request("Authorize", {{"idTag", twenty_euros + "x"}}),
                   ErrorCode::kPropertyConstraintViolation, "idTag:");
}

TEST(OcppValidation, EnumViolationNamesTheNestedField) {
  json payload = meter_values();
  payload["meterValue"][0]["sampledValue"][1]["measurand"] = "Energy.Imported";
  expect_violation(validate_request("MeterValues", payload),
                   ErrorCode::kPropertyConstraintViolation,
                   "meterValue[0].sampledValue[1].measurand: not one of the allowed values");
  expect_violation(validate_request("StatusNotification",
                                    {{"connectorId", 1}, {"errorCode", "NoError"}, {"status", "available"}}),
                   ErrorCode::kPropertyConstraintViolation, "status: not one of");
}

TEST(OcppValidation, SchemaDifferencesBetweenMeterValuesAndStopTransactionAreKept) {
  // "Hertz" is a unit in MeterValues but not in StopTransaction.transactionData (1.6 schemas).
  json mv = meter_values();
  mv["meterValue"][0]["sampledValue"][0]["unit"] = "Hertz";
  EXPECT_FALSE(validate_request("MeterValues", mv));
  json stop = good_requests()[9].payload;
  stop["transactionData"][0]["sampledValue"][0]["unit"] = "Hertz";
  expect_violation(validate_request("StopTransaction", stop),
                   ErrorCode::kPropertyConstraintViolation,
                   "transactionData[0].sampledValue[0].unit");
}

TEST(OcppValidation, EmptyArrayWhereOneIsRequiredIsOccurenceViolation) {
  json payload = meter_values();
  payload["meterValue"] = json::array();
  expect_violation(validate_request("MeterValues", payload),
                   ErrorCode::kOccurenceConstraintViolation, "meterValue: needs at least 1");
  payload = meter_values();
  payload["meterValue"][0]["sampledValue"] = json::array();
  expect_violation(validate_request("MeterValues", payload),
                   ErrorCode::kOccurenceConstraintViolation, "meterValue[0].sampledValue:");
}

TEST(OcppValidation, DateTimeMustBeRfc3339WithOffset) {
  for (const auto* good : {"2024-01-15T10:30:00Z", "2024-01-15T10:30:00.5+01:00",
                           "2024-02-29T23:59:59-05:30", "2016-12-31T23:59:60Z",
                           "2024-01-15t10:30:00z", "2024-01-15 10:30:00Z"}) {
    json payload = kStart;
    payload["timestamp"] = good;
    EXPECT_FALSE(validate_request("StartTransaction", payload)) << good;
  }
  for (const auto* bad : {"2024-01-15T10:30:00", "2024-01-15", "15/01/2024 10:30",
                          "2023-02-29T10:00:00Z", "2024-04-31T10:00:00Z", "2024-01-15T24:00:00Z",
                          "2024-01-15T10:30:00.Z", "2024-01-15T10:30:00+24:00",
                          "2016-12-31T22:59:60Z", "2024-01-15T10:30:00ZZ", ""}) {
    json payload = kStart;
    payload["timestamp"] = bad;
    expect_violation(validate_request("StartTransaction", payload),
                     ErrorCode::kPropertyConstraintViolation,
                     "timestamp: not an RFC 3339 date-time");
  }
}

TEST(OcppValidation, PayloadMustBeAnObject) {
  expect_violation(validate_request("Heartbeat", json::array()), ErrorCode::kFormationViolation,
                   "payload:");
  expect_violation(validate_response("Heartbeat", "x"), ErrorCode::kFormationViolation,
                   "payload:");
}

TEST(OcppValidation, UnknownAndWrongDirectionActions) {
  EXPECT_EQ(classify_action("FlyToTheMoon"), ActionKind::kUnknown);
  EXPECT_EQ(classify_action("heartbeat"), ActionKind::kUnknown);  // names are case-sensitive
  expect_violation(validate_request("FlyToTheMoon", json::object()),
                   ErrorCode::kNotImplemented, "action");
  for (const auto* command : {"RemoteStartTransaction", "RemoteStopTransaction", "Reset",
                              "UnlockConnector", "ChangeAvailability", "ChangeConfiguration",
                              "GetConfiguration", "ClearCache", "TriggerMessage",
                              "SetChargingProfile", "ReserveNow", "UpdateFirmware"}) {
    EXPECT_EQ(classify_action(command), ActionKind::kCsmsToCharger) << command;
    const auto verdict = validate_request(command, json::object());
    ASSERT_TRUE(verdict) << command;
    EXPECT_EQ(verdict->code, ErrorCode::kNotSupported) << command;
  }
  expect_violation(validate_command("Heartbeat", json::object()), ErrorCode::kNotSupported, "");
  EXPECT_FALSE(validate_command("DataTransfer", {{"vendorId", "v"}}));  // both directions
}

TEST(OcppValidation, ResponsesToChargerCalls) {
  EXPECT_FALSE(validate_response("BootNotification",
                                 {{"status", "Accepted"}, {"currentTime", "2024-01-15T10:30:00Z"},
                                  {"interval", 300}}));
  expect_violation(validate_response("BootNotification",
                                     {{"status", "Accepted"}, {"currentTime", "now"}, {"interval", 300}}),
                   ErrorCode::kPropertyConstraintViolation, "currentTime:");
  expect_violation(validate_response("BootNotification", {{"status", "Accepted"}, {"interval", 300}}),
                   ErrorCode::kOccurenceConstraintViolation, "currentTime:");
  EXPECT_FALSE(validate_response("Authorize", {{"idTagInfo", {{"status", "Accepted"}}}}));
  expect_violation(validate_response("Authorize", {{"idTagInfo", {{"status", "Maybe"}}}}),
                   ErrorCode::kPropertyConstraintViolation, "idTagInfo.status:");
  expect_violation(validate_response("StartTransaction", {{"idTagInfo", {{"status", "Accepted"}}}}),
                   ErrorCode::kOccurenceConstraintViolation, "transactionId:");
  EXPECT_FALSE(validate_response("StopTransaction", json::object()));
  EXPECT_FALSE(validate_response("Heartbeat", {{"currentTime", "2024-01-15T10:30:00Z"}}));
  expect_violation(validate_response("MeterValues", {{"x", 1}}),
                   ErrorCode::kPropertyConstraintViolation, "x: property not allowed");
  EXPECT_FALSE(validate_response("SignCertificate", {{"status", "Rejected"}}));
}

TEST(OcppValidation, CommandsAndTheirResponses) {
  EXPECT_FALSE(validate_command("Reset", {{"type", "Soft"}}));
  expect_violation(validate_command("Reset", {{"type", "Medium"}}),
                   ErrorCode::kPropertyConstraintViolation, "type:");
  EXPECT_FALSE(validate_command("RemoteStopTransaction", {{"transactionId", 7}}));
  expect_violation(validate_command("RemoteStopTransaction", {{"transactionId", "7"}}),
                   ErrorCode::kTypeConstraintViolation, "transactionId: expected integer");
  EXPECT_FALSE(validate_command("UnlockConnector", {{"connectorId", 1}}));
  EXPECT_FALSE(validate_command("ChangeAvailability", {{"connectorId", 0}, {"type", "Inoperative"}}));
  expect_violation(validate_command("ChangeConfiguration", {{"key", std::string(51, 'k')}, {"value", "v"}}),
                   ErrorCode::kPropertyConstraintViolation, "key: longer than 50");
  EXPECT_FALSE(validate_command("GetConfiguration", {{"key", {"HeartbeatInterval"}}}));
  expect_violation(validate_command("GetConfiguration", {{"key", {"HeartbeatInterval", 3}}}),
                   ErrorCode::kTypeConstraintViolation, "key[1]: expected string");
  EXPECT_FALSE(validate_command("ClearCache", json::object()));
  EXPECT_FALSE(validate_command("TriggerMessage", {{"requestedMessage", "StatusNotification"}, {"connectorId", 1}}));
  expect_violation(validate_command("TriggerMessage", {{"requestedMessage", "SignChargePointCertificate"}}),
                   ErrorCode::kPropertyConstraintViolation, "requestedMessage:");

  const auto remote_start = json::parse(R"({"idTag":"TAG","connectorId":1,"chargingProfile":{
    "chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",
    "chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.1}]}}})");
  EXPECT_FALSE(validate_command("RemoteStartTransaction", remote_start));
  json bad_limit = remote_start;
  bad_limit["chargingProfile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 16.05;
  expect_violation(validate_command("RemoteStartTransaction", bad_limit),
                   ErrorCode::kPropertyConstraintViolation,
                   "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit: not a multiple of 0.1");

  EXPECT_FALSE(validate_response("RemoteStartTransaction", {{"status", "Accepted"}}));
  EXPECT_FALSE(validate_response("UnlockConnector", {{"status", "Unlocked"}}));
  expect_violation(validate_response("ChangeConfiguration", json::object()),
                   ErrorCode::kOccurenceConstraintViolation, "status:");
  EXPECT_FALSE(validate_response("GetConfiguration",
                                 json::parse(R"({"configurationKey":[{"key":"K","readonly":true,"value":"1"}],"unknownKey":["X"]})")));
  EXPECT_FALSE(validate_response("TriggerMessage", {{"status", "NotImplemented"}}));
  expect_violation(validate_response("DataTransfer", {{"status", "Accepted"}, {"data", 1}}),
                   ErrorCode::kTypeConstraintViolation, "data: expected string");
}

TEST(OcppValidation, UriFormat) {
  EXPECT_FALSE(validate_command("GetDiagnostics", {{"location", "ftp://user:pw@host/path/"}}));
  expect_violation(validate_command("GetDiagnostics", {{"location", "not a uri"}}),
                   ErrorCode::kPropertyConstraintViolation, "location: not a URI");
}

}  // namespace
}  // namespace genx::ocpp::v16
