// The gateway's abuse-limit settings (docs/security.md "Abuse limits").
#include <gtest/gtest.h>

#include "app/config.hpp"

using genx::app::ConfigError;
using genx::app::load_config;
using genx::app::Variables;

namespace {
Variables env(std::initializer_list<std::pair<const std::string, std::string>> vars) {
  Variables v(vars);
  v.emplace("GENX_ENV_FILE", "");
  return v;
}
}  // namespace

TEST(ConfigLimits, ProductionDefaults) {
  auto c = load_config(env({}), {});
  EXPECT_EQ(c.handshake_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(c.idle_timeout, std::chrono::seconds(900));  // 3 x the 300 s heartbeat
  EXPECT_EQ(c.call_rate, 20u);
  EXPECT_EQ(c.call_burst, 2000u);
  EXPECT_EQ(c.call_flood_close, 200u);
  EXPECT_EQ(c.max_connections_per_address, 1000u);
  EXPECT_EQ(c.max_connections, 10000u);
}

TEST(ConfigLimits, IdleTimeoutFollowsTheHeartbeatUnlessSet) {
  EXPECT_EQ(load_config(env({{"GENX_HEARTBEAT_INTERVAL", "60"}}), {}).idle_timeout, std::chrono::seconds(180));
  EXPECT_EQ(load_config(env({{"GENX_HEARTBEAT_INTERVAL", "60"}, {"GENX_IDLE_TIMEOUT_S", "45"}}), {}).idle_timeout,
            std::chrono::seconds(45));
}

TEST(ConfigLimits, FlagsAndEnvironmentSetEachLimit) {
  auto c = load_config(env({{"GENX_CALL_RATE", "0"}, {"GENX_MAX_CONNECTIONS", "0"}}),
                       {"--handshake-timeout-ms=1500", "--call-burst", "5", "--call-flood-close=0",
                        "--max-connections-per-address=2", "--idle-timeout-s=3"});
  EXPECT_EQ(c.call_rate, 0u);
  EXPECT_EQ(c.max_connections, 0u);
  EXPECT_EQ(c.handshake_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.call_burst, 5u);
  EXPECT_EQ(c.call_flood_close, 0u);
  EXPECT_EQ(c.max_connections_per_address, 2u);
  EXPECT_EQ(c.idle_timeout, std::chrono::seconds(3));
}

TEST(ConfigLimits, OutOfRangeValuesNameTheSetting) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"GENX_HANDSHAKE_TIMEOUT_MS", "10"},
           {"GENX_IDLE_TIMEOUT_S", "1"},
           {"GENX_IDLE_TIMEOUT_S", "soon"},
           {"GENX_CALL_RATE", "-1"},
           {"GENX_CALL_BURST", "0"},
           {"GENX_CALL_FLOOD_CLOSE", "x"},
           {"GENX_MAX_CONNECTIONS_PER_ADDRESS", "-5"},
           {"GENX_MAX_CONNECTIONS", "1e3"}}) {
    try {
      load_config(env({{name, value}}), {});
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
}
