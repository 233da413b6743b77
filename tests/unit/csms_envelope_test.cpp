#include <gtest/gtest.h>

#include "csms/envelope.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

Envelope sample_envelope() {
  Envelope e;
  e.message_id = "2f9c0d6e-0000-4000-8000-000000000001";
  e.device_id = "CHARGER_001";
  e.charger_id = 123;
  e.gateway_id = "gw-a";
  e.message_type = "StatusNotification";
  e.unique_id = "msg-id";
  e.payload = {{"connectorId", 1}, {"status", "Available"}, {"errorCode", "NoError"}};
  e.timestamp = "2024-01-15T10:30:00.000Z";
  e.raw_data = R"([2,"msg-id","StatusNotification",{"connectorId":1}])";
  return e;
}

TEST(Envelope, UsesTheDesignFieldNames) {
  const json j = json::parse(serialize(sample_envelope()));
  EXPECT_EQ(j.at("version"), 1);
  EXPECT_EQ(j.at("messageId"), "2f9c0d6e-0000-4000-8000-000000000001");
  EXPECT_EQ(j.at("deviceId"), "CHARGER_001");
  EXPECT_EQ(j.at("chargerId"), 123);
  EXPECT_EQ(j.at("gatewayId"), "gw-a");
  EXPECT_EQ(j.at("ocppVersion"), "1.6");
  EXPECT_EQ(j.at("messageType"), "StatusNotification");
  EXPECT_EQ(j.at("uniqueId"), "msg-id");
  EXPECT_EQ(j.at("payload").at("status"), "Available");
  EXPECT_EQ(j.at("timestamp"), "2024-01-15T10:30:00.000Z");
  EXPECT_EQ(j.at("rawData"), sample_envelope().raw_data);
  EXPECT_EQ(j.size(), 11u);
}

TEST(Envelope, RoundTrips) {
  const auto parsed = parse_envelope(serialize(sample_envelope()));
  ASSERT_TRUE(std::holds_alternative<Envelope>(parsed)) << std::get<std::string>(parsed);
  const auto& e = std::get<Envelope>(parsed);
  EXPECT_EQ(e.device_id, "CHARGER_001");
  EXPECT_EQ(e.charger_id, 123);
  EXPECT_EQ(e.unique_id, "msg-id");
  EXPECT_EQ(e.payload.at("connectorId"), 1);
  EXPECT_EQ(e.raw_data, sample_envelope().raw_data);
}

TEST(Envelope, UnknownChargerIdIsNull) {
  Envelope e = sample_envelope();
  e.charger_id.reset();
  const json j = json::parse(serialize(e));
  EXPECT_TRUE(j.at("chargerId").is_null());
  const auto parsed = parse_envelope(j.dump());
  ASSERT_TRUE(std::holds_alternative<Envelope>(parsed));
  EXPECT_FALSE(std::get<Envelope>(parsed).charger_id.has_value());
}

TEST(Envelope, RejectsOtherVersionsWithAClearMessage) {
  json j = to_json(sample_envelope());
  j["version"] = 2;
  const auto parsed = parse_envelope(j.dump());
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_NE(std::get<std::string>(parsed).find("version 2"), std::string::npos);
}

TEST(Envelope, RejectsBrokenBodies) {
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_envelope("not json")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_envelope("[1,2]")));
  json j = to_json(sample_envelope());
  j.erase("deviceId");
  const auto missing = parse_envelope(j.dump());
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_NE(std::get<std::string>(missing).find("deviceId"), std::string::npos);
  j = to_json(sample_envelope());
  j["payload"] = "text";
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_envelope(j.dump())));
}

TEST(Reply, ResultWireForm) {
  const Reply reply{"abc", json{{"currentTime", "2024-01-15T10:30:00.000Z"}}, std::nullopt};
  const json j = json::parse(serialize(reply));
  EXPECT_EQ(j, json::parse(R"({"uniqueId":"abc","result":{"currentTime":"2024-01-15T10:30:00.000Z"}})"));
  const auto parsed = parse_reply(serialize(reply));
  ASSERT_TRUE(std::holds_alternative<Reply>(parsed));
  EXPECT_EQ(std::get<Reply>(parsed).result, reply.result);
  EXPECT_FALSE(std::get<Reply>(parsed).error.has_value());
}

TEST(Reply, ErrorWireForm) {
  ocpp::CallError error{"abc", ocpp::ErrorCode::kInternalError, "database down", json::object()};
  const Reply reply{"abc", std::nullopt, error};
  const json j = json::parse(serialize(reply));
  EXPECT_EQ(j, json::parse(R"({"uniqueId":"abc","error":{"code":"InternalError","description":"database down","details":{}}})"));
  const auto parsed = parse_reply(serialize(reply));
  ASSERT_TRUE(std::holds_alternative<Reply>(parsed));
  const auto& back = std::get<Reply>(parsed);
  ASSERT_TRUE(back.error.has_value());
  EXPECT_EQ(back.error->code, ocpp::ErrorCode::kInternalError);
  EXPECT_EQ(back.error->description, "database down");
  EXPECT_EQ(back.error->unique_id, "abc");
}

TEST(Reply, RejectsAmbiguousOrUnknownCodes) {
  EXPECT_TRUE(std::holds_alternative<std::string>(
      parse_reply(R"({"uniqueId":"a","result":{},"error":{"code":"InternalError"}})")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_reply(R"({"uniqueId":"a"})")));
  EXPECT_TRUE(std::holds_alternative<std::string>(
      parse_reply(R"({"uniqueId":"a","error":{"code":"NoSuchCode"}})")));
}

TEST(DomainEvent, CarriesVersionTypeDeviceAndTimestamp) {
  const DomainEvent event{"charger.status.changed", "CHARGER_001",
                          json{{"connectorId", 1}, {"status", "Charging"}}};
  const json j = json::parse(serialize(event, "2024-01-15T10:30:00.000Z"));
  EXPECT_EQ(j.at("version"), 1);
  EXPECT_EQ(j.at("type"), "charger.status.changed");
  EXPECT_EQ(j.at("deviceId"), "CHARGER_001");
  EXPECT_EQ(j.at("timestamp"), "2024-01-15T10:30:00.000Z");
  EXPECT_EQ(j.at("connectorId"), 1);
  EXPECT_EQ(j.at("status"), "Charging");
}

TEST(Priority, PeopleWaitingOutrankTelemetry) {
  for (const char* action : {"BootNotification", "Authorize", "StartTransaction", "StopTransaction"}) {
    EXPECT_EQ(priority_for_action(action), 8) << action;
  }
  for (const char* action : {"DataTransfer", "StatusNotification", "FirmwareStatusNotification",
                             "DiagnosticsStatusNotification"}) {
    EXPECT_EQ(priority_for_action(action), 5) << action;
  }
  EXPECT_EQ(priority_for_action("MeterValues"), 1);
  EXPECT_EQ(priority_for_action("Heartbeat"), 1);
}

TEST(Timestamp, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(1705314600123), "2024-01-15T10:30:00.123Z");
  EXPECT_EQ(format_timestamp(951782400000), "2000-02-29T00:00:00.000Z");
}

TEST(Timestamp, ParsesWhatChargersSend) {
  EXPECT_EQ(parse_timestamp("2024-01-15T10:30:00.123Z"), 1705314600123);
  EXPECT_EQ(parse_timestamp("2024-01-15T10:30:00Z"), 1705314600000);
  EXPECT_EQ(parse_timestamp("2024-01-15T12:30:00+02:00"), 1705314600000);
  EXPECT_EQ(parse_timestamp("2024-01-15T10:30:00.5Z"), 1705314600500);
  EXPECT_EQ(parse_timestamp("2024-01-15T10:30:00.123456Z"), 1705314600123);
  EXPECT_EQ(normalize_timestamp("2024-01-15T05:30:00-05:00"), "2024-01-15T10:30:00.000Z");
  EXPECT_FALSE(parse_timestamp("yesterday").has_value());
  EXPECT_FALSE(parse_timestamp("2024-13-15T10:30:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("2024-01-15T10:30:00Zjunk").has_value());
}

}  // namespace
}  // namespace genx::csms
