#include "app/arguments.hpp"

#include <gtest/gtest.h>

namespace genx::app {
namespace {

TEST(Arguments, SplitsOwnFlagsPositionalsAndConfiguration) {
  auto split = split_arguments({"CP-1", "--name", "ops", "--role=read", "--database-url", "sqlite://x.db",
                                "--log-level=debug", "--dry-run"},
                               {"--name", "--role"}, {"--dry-run"});
  ASSERT_TRUE(std::holds_alternative<SubcommandArgs>(split)) << std::get<std::string>(split);
  const auto& a = std::get<SubcommandArgs>(split);
  EXPECT_EQ(a.positional, std::vector<std::string>{"CP-1"});
  EXPECT_EQ(a.own.at("--name"), "ops");
  EXPECT_EQ(a.own.at("--role"), "read");
  EXPECT_EQ(a.own.at("--dry-run"), "1");
  EXPECT_TRUE(a.has("--dry-run"));
  EXPECT_FALSE(a.has("--generate"));
  EXPECT_EQ(a.config, (std::vector<std::string>{"--database-url", "sqlite://x.db", "--log-level=debug"}));
}

TEST(Arguments, AnOwnFlagWithoutItsValueIsAnError) {
  auto split = split_arguments({"create", "--name"}, {"--name"});
  ASSERT_TRUE(std::holds_alternative<std::string>(split));
  EXPECT_EQ(std::get<std::string>(split), "--name needs a value");
}

TEST(Arguments, ASwitchIsNeverGivenAValue) {
  auto split = split_arguments({"replay", "--all", "--queue", "q1"}, {"--queue"}, {"--all"});
  ASSERT_TRUE(std::holds_alternative<SubcommandArgs>(split));
  const auto& a = std::get<SubcommandArgs>(split);
  EXPECT_EQ(a.positional, std::vector<std::string>{"replay"});
  EXPECT_TRUE(a.has("--all"));
  EXPECT_EQ(a.own.at("--queue"), "q1");
  EXPECT_TRUE(a.config.empty());
}

}  // namespace
}  // namespace genx::app
