// Commands to chargers, the pure parts: messages between api and gateway, the HTTP
// answers an operator sees, request checks, recorded effects and events.
#include "csms/commands.hpp"

#include <gtest/gtest.h>

namespace genx::csms {
namespace {

using nlohmann::json;

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
  EXPECT_EQ(supported_commands().size(), 13u);  // Core + TriggerMessage + Smart Charging
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

}  // namespace
}  // namespace genx::csms
