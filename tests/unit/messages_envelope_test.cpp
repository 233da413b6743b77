#include <gtest/gtest.h>

#include "messages/actions.hpp"
#include "messages/envelope.hpp"
#include "messages/takeover.hpp"

namespace genx::messages {
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
  e.timestamp = "2024-01-15T10:30:00.000Z";
  e.raw_data = R"([2, "msg-id", "StatusNotification", {"connectorId":1,"status":"Available","errorCode":"NoError"}])";
  return e;
}

// What a gateway before envelope version 2 wrote: the frame twice.
json version_1_envelope() {
  return json{{"version", 1},
              {"messageId", "m-1"},
              {"deviceId", "CHARGER_001"},
              {"chargerId", nullptr},
              {"gatewayId", "gw-old"},
              {"ocppVersion", "1.6"},
              {"messageType", "StatusNotification"},
              {"uniqueId", "msg-id"},
              {"payload", {{"connectorId", 2}, {"status", "Faulted"}, {"errorCode", "NoError"}}},
              {"timestamp", "2024-01-15T10:30:00.000Z"},
              {"rawData", R"([2,"msg-id","StatusNotification",{"connectorId":2,"status":"Faulted","errorCode":"NoError"}])"}};
}

TEST(Envelope, Version2CarriesTheFrameOnceUnderTheDesignFieldNames) {
  const json j = json::parse(encode_envelope(sample_envelope()));
  EXPECT_EQ(j.at("version"), 2);
  EXPECT_EQ(j.at("messageId"), "2f9c0d6e-0000-4000-8000-000000000001");
  EXPECT_EQ(j.at("deviceId"), "CHARGER_001");
  EXPECT_EQ(j.at("chargerId"), 123);
  EXPECT_EQ(j.at("gatewayId"), "gw-a");
  EXPECT_EQ(j.at("ocppVersion"), "1.6");
  EXPECT_EQ(j.at("messageType"), "StatusNotification");
  EXPECT_EQ(j.at("uniqueId"), "msg-id");
  EXPECT_EQ(j.at("timestamp"), "2024-01-15T10:30:00.000Z");
  EXPECT_EQ(j.at("rawData"), sample_envelope().raw_data);
  EXPECT_FALSE(j.contains("payload"));
  EXPECT_EQ(j.size(), 10u);
}

TEST(Envelope, DecodingVersion2ReadsThePayloadOutOfTheFrame) {
  const auto parsed = decode_envelope(encode_envelope(sample_envelope()));
  ASSERT_TRUE(std::holds_alternative<Envelope>(parsed)) << std::get<std::string>(parsed);
  const auto& e = std::get<Envelope>(parsed);
  EXPECT_EQ(e.version, 2);
  EXPECT_EQ(e.device_id, "CHARGER_001");
  EXPECT_EQ(e.charger_id, 123);
  EXPECT_EQ(e.unique_id, "msg-id");
  EXPECT_EQ(e.payload, json::parse(R"({"connectorId":1,"status":"Available","errorCode":"NoError"})"));
  EXPECT_EQ(e.raw_data, sample_envelope().raw_data);
}

TEST(Envelope, Version1EnvelopesLeftInTheQueuesAreStillRead) {
  const auto parsed = decode_envelope(version_1_envelope().dump());
  ASSERT_TRUE(std::holds_alternative<Envelope>(parsed)) << std::get<std::string>(parsed);
  const auto& e = std::get<Envelope>(parsed);
  EXPECT_EQ(e.version, 1);
  EXPECT_EQ(e.gateway_id, "gw-old");
  EXPECT_EQ(e.payload.at("status"), "Faulted");
  EXPECT_EQ(e.raw_data, version_1_envelope().at("rawData"));
  json no_payload = version_1_envelope();
  no_payload.erase("payload");
  EXPECT_TRUE(std::holds_alternative<std::string>(decode_envelope(no_payload.dump())));
}

TEST(Envelope, ReadableFormAddsThePayloadOfAVersion2Body) {
  const json shown = readable_envelope(json::parse(encode_envelope(sample_envelope())));
  EXPECT_EQ(shown.at("payload").at("connectorId"), 1);
  EXPECT_EQ(shown.at("rawData"), sample_envelope().raw_data);
  EXPECT_EQ(readable_envelope(version_1_envelope()), version_1_envelope());
  EXPECT_EQ(readable_envelope(json{{"version", 99}}), (json{{"version", 99}}));
}

TEST(Envelope, UnknownChargerIdIsNull) {
  Envelope e = sample_envelope();
  e.charger_id.reset();
  const json j = json::parse(encode_envelope(e));
  EXPECT_TRUE(j.at("chargerId").is_null());
  const auto parsed = decode_envelope(j.dump());
  ASSERT_TRUE(std::holds_alternative<Envelope>(parsed));
  EXPECT_FALSE(std::get<Envelope>(parsed).charger_id.has_value());
}

TEST(Envelope, RejectsOtherVersionsWithAClearMessage) {
  json j = json::parse(encode_envelope(sample_envelope()));
  j["version"] = 3;
  const auto parsed = decode_envelope(j.dump());
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_NE(std::get<std::string>(parsed).find("version 3"), std::string::npos);
}

TEST(Envelope, RejectsBrokenBodies) {
  EXPECT_TRUE(std::holds_alternative<std::string>(decode_envelope("not json")));
  EXPECT_TRUE(std::holds_alternative<std::string>(decode_envelope("[1,2]")));
  json j = json::parse(encode_envelope(sample_envelope()));
  j.erase("deviceId");
  const auto missing = decode_envelope(j.dump());
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_NE(std::get<std::string>(missing).find("deviceId"), std::string::npos);
  j = json::parse(encode_envelope(sample_envelope()));
  j["rawData"] = R"([2,"msg-id","StatusNotification","text"])";
  const auto not_a_call = decode_envelope(j.dump());
  ASSERT_TRUE(std::holds_alternative<std::string>(not_a_call));
  EXPECT_NE(std::get<std::string>(not_a_call).find("rawData"), std::string::npos);
}

// decode_envelope reads the gateway's plain bodies without a DOM and leaves every other
// body (escapes it does not take, non-ASCII text, nested values, a key given twice, bad
// JSON) to the general JSON reader: any body must read to the same envelope or error.
std::string body_with(const std::string& fields) {
  return R"({"version":2,"deviceId":"CP-1","messageType":"Authorize","uniqueId":"u1")" + fields + "}";
}
constexpr const char* kFields =
    R"(,"messageId":"m-1","gatewayId":"gw","ocppVersion":"1.6","timestamp":"2024-01-15T10:30:00.000Z")";
constexpr const char* kRawData = R"(,"rawData":"[2,\"u1\",\"Authorize\",{\"idTag\":\"T1\"}]")";

TEST(Envelope, EveryJsonFormOfABodyReadsTheSame) {
  auto decoded = [](const std::string& body) {
    auto parsed = decode_envelope(body);
    EXPECT_TRUE(std::holds_alternative<Envelope>(parsed)) << body << ": " << std::get<std::string>(parsed);
    return std::holds_alternative<Envelope>(parsed) ? std::get<Envelope>(parsed) : Envelope{};
  };
  auto error = [](const std::string& body) {
    auto parsed = decode_envelope(body);
    EXPECT_TRUE(std::holds_alternative<std::string>(parsed)) << body;
    return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : std::string();
  };
  const std::string raw = kRawData;
  const auto plain = decoded(body_with(kFields + raw + R"(,"chargerId":null)"));
  EXPECT_EQ(plain.device_id, "CP-1");
  EXPECT_EQ(plain.message_type, "Authorize");
  EXPECT_EQ(plain.unique_id, "u1");
  EXPECT_EQ(plain.message_id, "m-1");
  EXPECT_EQ(plain.gateway_id, "gw");
  EXPECT_EQ(plain.ocpp_version, "1.6");
  EXPECT_EQ(plain.timestamp, "2024-01-15T10:30:00.000Z");
  EXPECT_FALSE(plain.charger_id.has_value());
  EXPECT_EQ(plain.raw_data, R"([2,"u1","Authorize",{"idTag":"T1"}])");
  EXPECT_EQ(plain.payload, (json{{"idTag", "T1"}}));
  // Optional fields absent, null or "".
  const auto bare = decoded(body_with(raw + R"(,"messageId":null,"ocppVersion":"")"));
  EXPECT_EQ(bare.message_id, "");
  EXPECT_EQ(bare.gateway_id, "");
  EXPECT_EQ(bare.ocpp_version, "1.6");

  // Escapes, \u escapes and UTF-8 text.
  const auto escaped =
      decoded(body_with(R"(,"rawData":"[2,\"u1\",\"Authorize\",{\"idTag\":\"a\\\\\/\"}]\n\t","gatewayId":"g\r\bw\f")"));
  EXPECT_EQ(escaped.raw_data, "[2,\"u1\",\"Authorize\",{\"idTag\":\"a\\\\/\"}]\n\t");
  EXPECT_EQ(escaped.payload.at("idTag"), "a\\/");
  EXPECT_EQ(escaped.gateway_id, "g\r\bw\f");
  const auto unicode = decoded(body_with(R"(,"rawData":"[2,\"u1\",\"Authorize\",{\"idTag\":\"\u00e9t\u00e9\"}]")"));
  EXPECT_EQ(unicode.payload.at("idTag"), "\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(decoded(body_with(raw + ",\"gatewayId\":\"caf\xc3\xa9\"")).gateway_id, "caf\xc3\xa9");
  // Whitespace, unknown fields of any kind, the charger id as a number.
  EXPECT_EQ(decoded(" \n" + body_with(raw + R"( , "chargerId" : 42, "note" : "x" , "n" : 0, "z": null)") + "\r\n\t ")
                .charger_id,
            42);
  EXPECT_EQ(decoded(body_with(raw + R"(,"extra":[1,{"a":true,"b":1.5e3}],"chargerId":7)")).charger_id, 7);
  EXPECT_EQ(decoded(body_with(raw + R"(,"chargerId":-7)")).charger_id, -7);
  // A key given twice: the last one counts.
  EXPECT_EQ(decoded(body_with(raw + R"(,"deviceId":"CP-2")")).device_id, "CP-2");

  EXPECT_EQ(error(body_with(raw) + "x"), "envelope is not valid JSON");
  EXPECT_EQ(error(body_with(raw + ",\"note\":\"a\tb\"")), "envelope is not valid JSON");
  EXPECT_EQ(error(body_with(raw + R"(,"chargerId":007)")), "envelope is not valid JSON");
  EXPECT_EQ(error(body_with(raw + R"(,"note":"\x")")), "envelope is not valid JSON");
  EXPECT_EQ(error(body_with(raw + R"(,"note":"unterminated)")), "envelope is not valid JSON");
  EXPECT_EQ(error(body_with(raw + ",\"note\":\"\xff\"")), "envelope is not valid JSON");
  EXPECT_EQ(error(body_with(raw + R"(,"chargerId":7.0)")), "envelope field \"chargerId\" must be an integer or null");
  EXPECT_EQ(error(body_with(raw + R"(,"chargerId":"7")")), "envelope field \"chargerId\" must be an integer or null");
  EXPECT_EQ(error(R"({"version":2.0,"deviceId":"CP-1","messageType":"Authorize","uniqueId":"u1"})" ),
            "envelope has no integer \"version\"");
  EXPECT_EQ(error(R"({"version":"2","deviceId":"CP-1","messageType":"Authorize","uniqueId":"u1"})" ),
            "envelope has no integer \"version\"");
  EXPECT_EQ(error(body_with(raw + R"(,"gatewayId":1)")), "envelope field \"gatewayId\" must be a string");
  EXPECT_EQ(error(R"({"version":2,"deviceId":"CP-1","messageType":"Authorize","uniqueId":""})"),
            "envelope field \"uniqueId\" is missing or not a non-empty string");
  EXPECT_EQ(error(body_with(R"(,"rawData":"[2,\"u1\",\"Authorize\"]")")),
            "envelope field \"rawData\" is not an OCPP CALL with an object payload");
  EXPECT_EQ(error(body_with("")), "envelope field \"rawData\" is not an OCPP CALL with an object payload");
}

TEST(Reply, TheWorkerSendsTheReadyFrame) {
  EXPECT_EQ(reply_frame(Reply{"abc", json{{"currentTime", "2024-01-15T10:30:00.000Z"}}, std::nullopt}),
            R"([3,"abc",{"currentTime":"2024-01-15T10:30:00.000Z"}])");
  ocpp::CallError error{"abc", ocpp::ErrorCode::kInternalError, "database down", json::object()};
  EXPECT_EQ(reply_frame(Reply{"abc", std::nullopt, error}), R"([4,"abc","InternalError","database down",{}])");
}

TEST(Reply, TheGatewayForwardsAFrameAndConvertsTheOlderForm) {
  std::string error;
  EXPECT_EQ(reply_body_to_frame(R"([3,"abc",{}])", error), R"([3,"abc",{}])");
  EXPECT_EQ(reply_body_to_frame(R"({"uniqueId":"abc","result":{"status":"Accepted"}})", error),
            R"([3,"abc",{"status":"Accepted"}])");
  EXPECT_EQ(reply_body_to_frame(R"({"uniqueId":"abc","error":{"code":"InternalError","description":"x"}})", error),
            R"([4,"abc","InternalError","x",{}])");
  EXPECT_FALSE(reply_body_to_frame(R"({"uniqueId":"abc"})", error).has_value());
  EXPECT_NE(error.find("exactly one"), std::string::npos);
}

TEST(Reply, StoredResultForm) {
  const Reply reply{"abc", json{{"currentTime", "2024-01-15T10:30:00.000Z"}}, std::nullopt};
  const json j = json::parse(encode_stored_reply(reply));
  EXPECT_EQ(j, json::parse(R"({"uniqueId":"abc","result":{"currentTime":"2024-01-15T10:30:00.000Z"}})"));
  const auto parsed = decode_stored_reply(encode_stored_reply(reply));
  ASSERT_TRUE(std::holds_alternative<Reply>(parsed));
  EXPECT_EQ(std::get<Reply>(parsed).result, reply.result);
  EXPECT_FALSE(std::get<Reply>(parsed).error.has_value());
}

TEST(Reply, StoredErrorForm) {
  ocpp::CallError error{"abc", ocpp::ErrorCode::kInternalError, "database down", json::object()};
  const Reply reply{"abc", std::nullopt, error};
  const json j = json::parse(encode_stored_reply(reply));
  EXPECT_EQ(j, json::parse(R"({"uniqueId":"abc","error":{"code":"InternalError","description":"database down","details":{}}})"));
  const auto parsed = decode_stored_reply(encode_stored_reply(reply));
  ASSERT_TRUE(std::holds_alternative<Reply>(parsed));
  const auto& back = std::get<Reply>(parsed);
  ASSERT_TRUE(back.error.has_value());
  EXPECT_EQ(back.error->code, ocpp::ErrorCode::kInternalError);
  EXPECT_EQ(back.error->description, "database down");
  EXPECT_EQ(back.error->unique_id, "abc");
}

TEST(Reply, RejectsAmbiguousOrUnknownCodes) {
  EXPECT_TRUE(std::holds_alternative<std::string>(
      decode_stored_reply(R"({"uniqueId":"a","result":{},"error":{"code":"InternalError"}})")));
  EXPECT_TRUE(std::holds_alternative<std::string>(decode_stored_reply(R"({"uniqueId":"a"})")));
  EXPECT_TRUE(std::holds_alternative<std::string>(
      decode_stored_reply(R"({"uniqueId":"a","error":{"code":"NoSuchCode"}})")));
}

TEST(DomainEvent, CarriesVersionTypeDeviceAndTimestamp) {
  const DomainEvent event{"charger.status.changed", "CHARGER_001",
                          json{{"connectorId", 1}, {"status", "Charging"}}};
  const json j = json::parse(encode_event(event, "2024-01-15T10:30:00.000Z"));
  EXPECT_EQ(j.at("version"), 1);
  EXPECT_EQ(j.at("type"), "charger.status.changed");
  EXPECT_EQ(j.at("deviceId"), "CHARGER_001");
  EXPECT_EQ(j.at("timestamp"), "2024-01-15T10:30:00.000Z");
  EXPECT_EQ(j.at("connectorId"), 1);
  EXPECT_EQ(j.at("status"), "Charging");
  EXPECT_EQ(event_routing_key(event.type), "notification.charger.status.changed");
}

// The bodies on the broker and in the database are the text dump() wrote for the same
// JSON before these encoders wrote it piece by piece: byte for byte.
TEST(DomainEvent, EncodedTextIsWhatDumpOfTheMergedObjectWrites) {
  auto dumped = [](const DomainEvent& event, const std::string& timestamp) {
    json j = event.fields.is_object() ? event.fields : json::object();
    j["version"] = kEventVersion;
    j["type"] = event.type;
    j["deviceId"] = event.device_id;
    j["timestamp"] = timestamp;
    return j.dump();
  };
  const std::vector<json> fields = {
      json::object(),
      json(nullptr),
      json::array({1, 2}),
      json{{"connectorId", 1}, {"status", "Charging"}, {"timestamp", "2024-01-01T00:00:00.000Z"}},
      json{{"a", 1}, {"deviceId", "spoofed"}, {"type", "x"}, {"version", 9}, {"zz", {{"n", nullptr}}}},
      json{{"\xc3\xa9", "caf\xc3\xa9"}, {"A", "line\nbreak"}, {"powerW", 7400.5}, {"u", 18446744073709551615u}},
      json{{"deviceIc", 1}, {"deviceIe", 2}, {"timestamp", -1}, {"types", true}, {"v", false}},
  };
  for (const auto& f : fields) {
    const DomainEvent event{"meter.values", "CP \"1\"", f};
    EXPECT_EQ(encode_event(event, "2024-01-15T10:30:00.000Z"), dumped(event, "2024-01-15T10:30:00.000Z"));
  }
}

TEST(Reply, StoredTextIsWhatDumpWrites) {
  auto dumped = [](const Reply& reply) {
    json j = {{"uniqueId", reply.unique_id}};
    if (reply.error) {
      j["error"] = {{"code", std::string(ocpp::to_string(reply.error->code))},
                    {"description", reply.error->description},
                    {"details", reply.error->details.is_object() ? reply.error->details : json::object()}};
    } else {
      j["result"] = reply.result.value_or(json::object());
    }
    return j.dump();
  };
  ocpp::CallError error{"u-2", ocpp::ErrorCode::kFormationViolation, "bad \"payload\"\n", {{"why", "x"}}};
  ocpp::CallError no_details = error;
  no_details.details = json::array();
  for (const Reply& reply :
       {Reply{"u-1", json{{"idTagInfo", {{"status", "Accepted"}, {"expiryDate", nullptr}}}}, std::nullopt},
        Reply{"u-1", json::object(), std::nullopt}, Reply{"u-1", json(nullptr), std::nullopt},
        Reply{"u-1", std::nullopt, std::nullopt}, Reply{"u-2", std::nullopt, error},
        Reply{"u-2", std::nullopt, no_details}}) {
    EXPECT_EQ(encode_stored_reply(reply), dumped(reply));
  }
}

TEST(DomainEvent, AGroupsEventsTravelInOneBatchThatSplitsBackIntoTheSameEvents) {
  const std::vector<std::string> events = {
      encode_event({"charger.status.changed", "CP-1", json{{"eventId", "m1.status"}, {"connectorId", 1}}},
                   "2024-01-15T10:30:00.000Z"),
      encode_event({"meter.values", "CP-2", json{{"eventId", "m2.meter"}, {"note", "a \"quoted\" ],{ text"}}},
                   "2024-01-15T10:30:01.000Z")};
  const std::string body = encode_event_batch(events);
  const json j = json::parse(body);
  EXPECT_EQ(j.at("version"), 1);
  EXPECT_EQ(j.at("type"), "events.batch");
  ASSERT_EQ(j.at("events").size(), 2u);
  const auto back = split_event_batch(body);
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->size(), 2u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ((*back)[i], json::parse(events[i])) << i;
  }
  // An earlier worker's single event is one event; a body that is not JSON is refused.
  const auto single = split_event_batch(events[0]);
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(*single, std::vector<json>{json::parse(events[0])});
  EXPECT_FALSE(split_event_batch("not json").has_value());
  EXPECT_FALSE(split_event_batch("[1,2]").has_value());
  EXPECT_EQ(split_event_batch(encode_event_batch({}))->size(), 0u);
}

TEST(Takeover, RoundTripsAndRefusesOtherBodies) {
  const auto back = decode_takeover(encode_takeover({"CP-1", "gw-b", 1705314600123}));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->device_id, "CP-1");
  EXPECT_EQ(back->gateway_id, "gw-b");
  EXPECT_EQ(back->connected_at, 1705314600123);
  EXPECT_EQ(json::parse(encode_takeover({"CP-1", "gw-b", 5})),
            json::parse(R"({"version":1,"deviceId":"CP-1","gatewayId":"gw-b","connectedAt":5})"));
  EXPECT_FALSE(decode_takeover(R"({"deviceId":"CP-1"})").has_value());
  EXPECT_FALSE(decode_takeover("nope").has_value());
}

TEST(Actions, TelemetryIsAnsweredOnConfirmAndCallsThatNeedADecisionAreNot) {
  for (const char* action : {"Heartbeat", "StatusNotification", "MeterValues", "DiagnosticsStatusNotification",
                             "FirmwareStatusNotification"}) {
    EXPECT_TRUE(answered_on_confirm(action)) << action;
  }
  for (const char* action : {"BootNotification", "Authorize", "StartTransaction", "StopTransaction", "DataTransfer"}) {
    EXPECT_FALSE(answered_on_confirm(action)) << action;
  }
  EXPECT_EQ(confirm_result("Heartbeat", "2024-01-15T10:30:00.000Z"),
            (json{{"currentTime", "2024-01-15T10:30:00.000Z"}}));
  EXPECT_EQ(confirm_result("StatusNotification", "x"), json::object());
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
}  // namespace genx::messages
