// Commands to chargers, the pure parts: messages between api and gateway, the HTTP
// answers an operator sees, request checks, recorded effects and events.
#include "csms/commands.hpp"

#include <gtest/gtest.h>

namespace genx::csms {
namespace {

using nlohmann::json;

TEST(Commands, RequestRoundTrips) {
  CommandRequest r;
  r.command_id = "c-1";
  r.device_id = "CP-1";
  r.action = "Reset";
  r.payload = json{{"type", "Soft"}};
  r.deadline_ms = 1700000000000;
  auto parsed = parse_command_request(serialize(r));
  ASSERT_TRUE(std::holds_alternative<CommandRequest>(parsed)) << std::get<std::string>(parsed);
  const auto& back = std::get<CommandRequest>(parsed);
  EXPECT_EQ(back.command_id, "c-1");
  EXPECT_EQ(back.device_id, "CP-1");
  EXPECT_EQ(back.action, "Reset");
  EXPECT_EQ(back.payload, r.payload);
  EXPECT_EQ(back.deadline_ms, r.deadline_ms);
}

TEST(Commands, BadRequestsAreDescribedNotThrown) {
  EXPECT_EQ(std::get<std::string>(parse_command_request("nope")), "not a JSON object");
  EXPECT_EQ(std::get<std::string>(parse_command_request(R"({"version":2})")), "version 2 not supported");
  EXPECT_EQ(std::get<std::string>(parse_command_request(R"({"version":1,"commandId":"x","deviceId":"d"})")),
            "action: missing");
  EXPECT_EQ(std::get<std::string>(parse_command_request(
                R"({"version":1,"commandId":"x","deviceId":"d","action":"Reset","payload":[]})")),
            "payload: expected an object");
}

TEST(Commands, ReplyRoundTripsWithTheChargersError) {
  CommandReply r;
  r.command_id = "c-2";
  r.device_id = "CP-2";
  r.action = "UnlockConnector";
  r.outcome = CommandOutcome::kCallError;
  r.unique_id = "u-1";
  r.error_code = "NotSupported";
  r.error_description = "no lock";
  auto parsed = parse_command_reply(serialize(r));
  ASSERT_TRUE(std::holds_alternative<CommandReply>(parsed));
  const auto& back = std::get<CommandReply>(parsed);
  EXPECT_EQ(back.outcome, CommandOutcome::kCallError);
  EXPECT_EQ(back.error_code, "NotSupported");
  EXPECT_EQ(back.error_description, "no lock");
  EXPECT_EQ(back.unique_id, "u-1");
}

TEST(Commands, HttpAnswersForEveryOutcome) {
  CommandReply r;
  r.device_id = "CP-3";
  r.action = "Reset";
  r.payload = json{{"status", "Accepted"}};
  auto ok = command_http(r);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, r.payload);

  r.outcome = CommandOutcome::kCallError;
  r.error_code = "InternalError";
  r.error_description = "relay stuck";
  auto error = command_http(r);
  EXPECT_EQ(error.status, 502);
  EXPECT_EQ(error.body["errorCode"], "InternalError");
  EXPECT_EQ(error.body["errorDescription"], "relay stuck");

  r.outcome = CommandOutcome::kInvalidResponse;
  r.error_description = "status: \"Maybe\" is not one of Accepted, Rejected";
  auto invalid = command_http(r);
  EXPECT_EQ(invalid.status, 502);
  EXPECT_NE(invalid.body["error"].get<std::string>().find("status"), std::string::npos);

  r.outcome = CommandOutcome::kTimeout;
  EXPECT_EQ(command_http(r).status, 504);
  r.outcome = CommandOutcome::kBusy;
  EXPECT_EQ(command_http(r).status, 429);
  r.outcome = CommandOutcome::kDisconnected;
  EXPECT_EQ(command_http(r).status, 502);

  auto offline = command_offline_http("CP-9");
  EXPECT_EQ(offline.status, 404);
  EXPECT_EQ(offline.body, json({{"error", "charger CP-9 offline"}}));
}

TEST(Commands, ChecksNameTheField) {
  EXPECT_FALSE(check_command("Reset", json{{"type", "Hard"}}).has_value());
  auto bad = check_command("Reset", json{{"type", "Sideways"}});
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rfind("type", 0), 0u) << *bad;
  auto missing = check_command("RemoteStartTransaction", json::object());
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->find("idTag"), std::string::npos) << *missing;
  auto unsupported = check_command("UpdateFirmware", json::object());
  ASSERT_TRUE(unsupported.has_value());
  EXPECT_NE(unsupported->find("unsupported command UpdateFirmware"), std::string::npos);
  EXPECT_TRUE(check_command("ClearCache", json::array()).has_value());
  // Connector numbers as the specification has them (the schemas allow any integer).
  auto unlock_zero = check_command("UnlockConnector", json{{"connectorId", 0}});
  ASSERT_TRUE(unlock_zero.has_value());
  EXPECT_EQ(unlock_zero->rfind("connectorId: must be 1 or more", 0), 0u) << *unlock_zero;
  EXPECT_TRUE(check_command("RemoteStartTransaction", json{{"connectorId", 0}, {"idTag", "T"}}).has_value());
  EXPECT_TRUE(check_command("TriggerMessage", json{{"requestedMessage", "Heartbeat"}, {"connectorId", -1}}).has_value());
  EXPECT_FALSE(check_command("TriggerMessage", json{{"requestedMessage", "Heartbeat"}}).has_value());
  EXPECT_FALSE(check_command("UnlockConnector", json{{"connectorId", 2}}).has_value());
  EXPECT_FALSE(check_command("ChangeAvailability", json{{"connectorId", 0}, {"type", "Operative"}}).has_value());
  auto negative = check_command("ChangeAvailability", json{{"connectorId", -1}, {"type", "Operative"}});
  ASSERT_TRUE(negative.has_value());
  EXPECT_EQ(negative->rfind("connectorId:", 0), 0u) << *negative;
  for (const auto& action : supported_commands()) EXPECT_TRUE(is_supported_command(action));
  EXPECT_EQ(supported_commands().size(), 10u);
}

TEST(Commands, ConvenienceEndpoints) {
  EXPECT_EQ(convenience_action("start"), "RemoteStartTransaction");
  EXPECT_EQ(convenience_action("stop"), "RemoteStopTransaction");
  EXPECT_EQ(convenience_action("reset"), "Reset");
  EXPECT_EQ(convenience_action("unlock"), "UnlockConnector");
  EXPECT_FALSE(convenience_action("configuration").has_value());
}

TEST(Commands, EffectsOfAcceptedAnswersOnly) {
  auto report = command_effect(
      "GetConfiguration", json::object(),
      json{{"configurationKey", json::array({json{{"key", "A"}, {"readonly", true}, {"value", "1"}},
                                             json{{"key", "B"}, {"readonly", false}}})},
           {"unknownKey", json::array({"C"})}});
  ASSERT_TRUE(report.has_value());
  const auto& r = std::get<ConfigurationReport>(*report);
  ASSERT_EQ(r.keys.size(), 2u);
  EXPECT_EQ(r.keys[0].value, "1");
  EXPECT_TRUE(r.keys[0].readonly);
  EXPECT_FALSE(r.keys[1].value.has_value());
  EXPECT_EQ(r.unknown_keys, std::vector<std::string>{"C"});

  auto change = command_effect("ChangeConfiguration", json{{"key", "K"}, {"value", "V"}},
                               json{{"status", "RebootRequired"}});
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(std::get<ConfigurationChange>(*change).value, "V");
  EXPECT_TRUE(std::get<ConfigurationChange>(*change).reboot_required);
  EXPECT_FALSE(command_effect("ChangeConfiguration", json{{"key", "K"}, {"value", "V"}},
                              json{{"status", "Rejected"}})
                   .has_value());

  auto availability = command_effect("ChangeAvailability", json{{"connectorId", 2}, {"type", "Inoperative"}},
                                     json{{"status", "Scheduled"}});
  ASSERT_TRUE(availability.has_value());
  EXPECT_EQ(std::get<AvailabilityChange>(*availability).connector_id, 2);
  EXPECT_TRUE(std::get<AvailabilityChange>(*availability).scheduled);
  EXPECT_FALSE(command_effect("Reset", json{{"type", "Soft"}}, json{{"status", "Accepted"}}).has_value());
}

TEST(Commands, EventsCarryTheCommand) {
  CommandRequest r;
  r.command_id = "c-5";
  r.device_id = "CP-5";
  r.action = "Reset";
  r.payload = json{{"type", "Soft"}};
  auto sent = json::parse(serialize(command_sent_event(r, "u-5"), "2024-01-15T10:30:00.000Z"));
  EXPECT_EQ(sent["type"], "command.sent");
  EXPECT_EQ(sent["deviceId"], "CP-5");
  EXPECT_EQ(sent["commandId"], "c-5");
  EXPECT_EQ(sent["uniqueId"], "u-5");
  EXPECT_EQ(sent["payload"]["type"], "Soft");

  auto done = json::parse(serialize(
      command_completed_event("CP-5", "c-5", "Reset", "result", CommandHttp{200, json{{"status", "Accepted"}}}),
      "2024-01-15T10:30:01.000Z"));
  EXPECT_EQ(done["type"], "command.completed");
  EXPECT_EQ(done["httpStatus"], 200);
  EXPECT_EQ(done["response"]["status"], "Accepted");
  auto failed = json::parse(serialize(
      command_completed_event("CP-5", "c-6", "Reset", "offline", command_offline_http("CP-5")), "t"));
  EXPECT_EQ(failed["httpStatus"], 404);
  EXPECT_EQ(failed["error"], "charger CP-5 offline");
}

}  // namespace
}  // namespace genx::csms
