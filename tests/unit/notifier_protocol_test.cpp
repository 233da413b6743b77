// Engine.IO v4 / Socket.IO v4 wire formats, checked against the packets the official
// socket.io-client sends and expects (examples from the protocol specifications).
#include <gtest/gtest.h>

#include "notifier/socketio_protocol.hpp"

using namespace genx::notifier;
using nlohmann::json;

TEST(EngineIo, EncodesAndDecodesSinglePackets) {
  EXPECT_EQ(encode(EioPacket{EioType::kPing, ""}), "2");
  EXPECT_EQ(encode(EioPacket{EioType::kPong, "probe"}), "3probe");
  EXPECT_EQ(encode(EioPacket{EioType::kMessage, "hello"}), "4hello");
  EXPECT_EQ(decode_eio("2probe"), (EioPacket{EioType::kPing, "probe"}));
  EXPECT_EQ(decode_eio("5"), (EioPacket{EioType::kUpgrade, ""}));
  EXPECT_EQ(decode_eio("6"), (EioPacket{EioType::kNoop, ""}));
}

TEST(EngineIo, RefusesEmptyUnknownAndBinaryPackets) {
  EXPECT_FALSE(decode_eio(""));
  EXPECT_FALSE(decode_eio("7"));
  EXPECT_FALSE(decode_eio("bAQID"));  // base64 binary: not supported
  EXPECT_FALSE(decode_eio("x"));
}

TEST(EngineIo, PollingPayloadsAreSeparatedByRecordSeparator) {
  EXPECT_EQ(encode_payload({"4hello", "2", "40{\"sid\":\"a\"}"}), "4hello\x1e" "2\x1e" "40{\"sid\":\"a\"}");
  EXPECT_EQ(encode_payload({"6"}), "6");
  auto packets = decode_payload("4hello\x1e" "3\x1e" "40");
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 3u);
  EXPECT_EQ((*packets)[0], (EioPacket{EioType::kMessage, "hello"}));
  EXPECT_EQ((*packets)[1], (EioPacket{EioType::kPong, ""}));
  EXPECT_EQ((*packets)[2], (EioPacket{EioType::kMessage, "0"}));
  EXPECT_FALSE(decode_payload(""));
  EXPECT_FALSE(decode_payload("4a\x1e"));      // empty trailing packet
  EXPECT_FALSE(decode_payload("4a\x1e" "9"));  // unknown type inside a batch
}

TEST(EngineIo, OpenPacketCarriesTheHandshake) {
  HandshakeParams params;
  params.sid = "lv_VI97HAXpY6yYWAAAC";
  std::string open = open_packet(params);
  ASSERT_EQ(open.front(), '0');
  auto body = json::parse(open.substr(1));
  EXPECT_EQ(body, (json{{"sid", "lv_VI97HAXpY6yYWAAAC"},
                        {"upgrades", {"websocket"}},
                        {"pingInterval", 25000},
                        {"pingTimeout", 20000},
                        {"maxPayload", 1000000}}));
  params.allow_upgrade = false;
  EXPECT_EQ(json::parse(open_packet(params).substr(1))["upgrades"], json::array());
}

TEST(SocketIo, EncodesConnectEventAckAndErrors) {
  EXPECT_EQ(encode(SioPacket{SioType::kConnect, "/", std::nullopt, json{{"sid", "x"}}}),
            "0{\"sid\":\"x\"}");
  EXPECT_EQ(encode(SioPacket{SioType::kConnectError, "/", std::nullopt,
                             json{{"message", "unauthorized"}}}),
            "4{\"message\":\"unauthorized\"}");
  EXPECT_EQ(encode(SioPacket{SioType::kConnectError, "/admin", std::nullopt,
                             json{{"message", "Invalid namespace"}}}),
            "4/admin,{\"message\":\"Invalid namespace\"}");
  EXPECT_EQ(encode(SioPacket{SioType::kAck, "/", 12, json::array({json{{"ok", true}}})}),
            "312[{\"ok\":true}]");
  EXPECT_EQ(encode(SioPacket{SioType::kDisconnect, "/", std::nullopt, std::nullopt}), "1");
}

TEST(SocketIo, EventMessageIsTheEngineMessageOfAnEvent) {
  EXPECT_EQ(event_message("charger.status.changed", R"({"deviceId":"CP-1"})"),
            R"(42["charger.status.changed",{"deviceId":"CP-1"}])");
  EXPECT_EQ(event_message("a\"b", "1"), R"(42["a\"b",1])");
}

TEST(SocketIo, DecodesWhatTheOfficialClientSends) {
  auto connect = std::get<SioPacket>(decode_sio("0"));
  EXPECT_EQ(connect.type, SioType::kConnect);
  EXPECT_EQ(connect.nsp, "/");
  EXPECT_FALSE(connect.data);

  auto with_auth = std::get<SioPacket>(decode_sio(R"(0{"token":"s3cret"})"));
  EXPECT_EQ((*with_auth.data)["token"], "s3cret");

  auto event = std::get<SioPacket>(decode_sio(R"(2["subscribe","CP-1"])"));
  EXPECT_EQ(event.type, SioType::kEvent);
  EXPECT_FALSE(event.id);
  EXPECT_EQ(*event.data, json::array({"subscribe", "CP-1"}));

  auto with_ack = std::get<SioPacket>(decode_sio(R"(227["join",{"chargePointId":"CP-2"}])"));
  EXPECT_EQ(with_ack.id, 27u);
  EXPECT_EQ((*with_ack.data)[1]["chargePointId"], "CP-2");

  auto admin = std::get<SioPacket>(decode_sio(R"(0/admin,{"token":"x"})"));
  EXPECT_EQ(admin.nsp, "/admin");
  EXPECT_EQ((*admin.data)["token"], "x");

  auto ns_event = std::get<SioPacket>(decode_sio(R"(2/admin,5["x"])"));
  EXPECT_EQ(ns_event.nsp, "/admin");
  EXPECT_EQ(ns_event.id, 5u);

  EXPECT_EQ(std::get<SioPacket>(decode_sio("1")).type, SioType::kDisconnect);
}

TEST(SocketIo, RefusesMalformedPackets) {
  for (const char* bad : {"", "9", "2", "2{}", "2[]", "2[1,2]", "2[\"x\"", "0[1]", "0\"s\"",
                          "51-[\"x\",{\"_placeholder\":true,\"num\":0}]", "3[1]", "x"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(decode_sio(bad))) << bad;
  }
}

TEST(Notifier, EventNamesComeFromRoutingKeys) {
  EXPECT_EQ(event_name_for_routing_key("notification.charger.status.changed"),
            "charger.status.changed");
  EXPECT_EQ(event_name_for_routing_key("notification.meter.values"), "meter.values");
  EXPECT_FALSE(event_name_for_routing_key("notification."));
  EXPECT_FALSE(event_name_for_routing_key("ocpp.message.Heartbeat"));
}

TEST(Notifier, CorsAllowsTheDashboardOriginByDefault) {
  EXPECT_TRUE(origin_allowed("http://localhost:8080", {}, 8080, "localhost:8081"));
  EXPECT_TRUE(origin_allowed("http://OPS.example.com:8080", {}, 8080, "ops.example.com:8081"));
  EXPECT_FALSE(origin_allowed("http://evil.example:8080", {}, 8080, "localhost:8081"));
  EXPECT_TRUE(origin_allowed("http://localhost:8080", {"https://ops.example.com"}, 8080, "localhost:8081"));
  EXPECT_FALSE(origin_allowed("http://evil.example:8080", {"https://ops.example.com"}, 8080, "localhost:8081"));
  EXPECT_TRUE(origin_allowed("http://localhost:8080", {}, 8080));
  EXPECT_TRUE(origin_allowed("https://ops.example.com:8080", {}, 8080));
  EXPECT_FALSE(origin_allowed("http://evil.example:9999", {}, 8080));
  EXPECT_FALSE(origin_allowed("http://localhost:80800", {}, 8080));
  EXPECT_FALSE(origin_allowed("null", {}, 8080));
  EXPECT_FALSE(origin_allowed("http://a:8080/x", {}, 8080));

  std::vector<std::string> list = {"https://ops.example.com"};
  EXPECT_TRUE(origin_allowed("https://ops.example.com", list, 8080));
  EXPECT_FALSE(origin_allowed("http://localhost:9090", list, 8080));
  EXPECT_TRUE(origin_allowed("http://anything:1", {"*"}, 8080));
}
