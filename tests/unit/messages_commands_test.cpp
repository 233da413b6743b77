#include "messages/commands.hpp"

#include <gtest/gtest.h>

namespace genx::messages {
namespace {

using nlohmann::json;

TEST(Commands, RequestRoundTrips) {
  CommandRequest r;
  r.command_id = "c-1";
  r.device_id = "CP-1";
  r.action = "Reset";
  r.payload = json{{"type", "Soft"}};
  r.deadline_ms = 1700000000000;
  auto parsed = decode_command_request(encode_command_request(r));
  ASSERT_TRUE(std::holds_alternative<CommandRequest>(parsed)) << std::get<std::string>(parsed);
  const auto& back = std::get<CommandRequest>(parsed);
  EXPECT_EQ(back.command_id, "c-1");
  EXPECT_EQ(back.device_id, "CP-1");
  EXPECT_EQ(back.action, "Reset");
  EXPECT_EQ(back.payload, r.payload);
  EXPECT_EQ(back.deadline_ms, r.deadline_ms);
}

TEST(Commands, BadRequestsAreDescribedNotThrown) {
  EXPECT_EQ(std::get<std::string>(decode_command_request("nope")), "not a JSON object");
  EXPECT_EQ(std::get<std::string>(decode_command_request(R"({"version":2})")), "version 2 not supported");
  EXPECT_EQ(std::get<std::string>(decode_command_request(R"({"version":1,"commandId":"x","deviceId":"d"})")),
            "action: missing");
  EXPECT_EQ(std::get<std::string>(decode_command_request(
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
  auto parsed = decode_command_reply(encode_command_reply(r));
  ASSERT_TRUE(std::holds_alternative<CommandReply>(parsed));
  const auto& back = std::get<CommandReply>(parsed);
  EXPECT_EQ(back.outcome, CommandOutcome::kCallError);
  EXPECT_EQ(back.error_code, "NotSupported");
  EXPECT_EQ(back.error_description, "no lock");
  EXPECT_EQ(back.unique_id, "u-1");
}

TEST(Commands, EventsCarryTheCommand) {
  CommandRequest r;
  r.command_id = "c-5";
  r.device_id = "CP-5";
  r.action = "Reset";
  r.payload = json{{"type", "Soft"}};
  auto sent = json::parse(encode_event(command_sent_event(r, "u-5"), "2024-01-15T10:30:00.000Z"));
  EXPECT_EQ(sent["type"], "command.sent");
  EXPECT_EQ(sent["deviceId"], "CP-5");
  EXPECT_EQ(sent["commandId"], "c-5");
  EXPECT_EQ(sent["uniqueId"], "u-5");
  EXPECT_EQ(sent["payload"]["type"], "Soft");

  auto done = json::parse(encode_event(
      command_completed_event("CP-5", "c-5", "Reset", "result", 200, json{{"status", "Accepted"}}),
      "2024-01-15T10:30:01.000Z"));
  EXPECT_EQ(done["type"], "command.completed");
  EXPECT_EQ(done["httpStatus"], 200);
  EXPECT_EQ(done["response"]["status"], "Accepted");
  auto failed = json::parse(encode_event(
      command_completed_event("CP-5", "c-6", "Reset", "offline", 404, json{{"error", "charger CP-5 offline"}}), "t"));
  EXPECT_EQ(failed["httpStatus"], 404);
  EXPECT_EQ(failed["error"], "charger CP-5 offline");
}

}  // namespace
}  // namespace genx::messages
