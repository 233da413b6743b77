// A site's state as the allocation reads it: inputs from members, sessions and limits,
// and the TxDefaultProfiles kept on members that are charging.
#include <gtest/gtest.h>

#include "smart/site_view.hpp"

using namespace genx::smart;

namespace {

SiteState site_with(std::vector<SiteMember> members, std::vector<SiteSession> sessions,
                    std::vector<SessionLimit> limits) {
  SiteState state;
  state.site = SiteSettings{"depot", "Depot", 100, 3, 6};
  state.members = std::move(members);
  state.sessions = std::move(sessions);
  state.limits = std::move(limits);
  return state;
}

SiteMember member(std::string id, std::optional<double> default_limit, std::string status) {
  SiteMember m;
  m.charge_point_id = std::move(id);
  m.default_limit_a = default_limit;
  m.default_status = std::move(status);
  return m;
}

}  // namespace

// A charger charging since it joined never had a TxDefaultProfile: the site counted it at
// 32 A the moment its session ended (CI saw 121 A on a 100 A site). It gets one now.
TEST(SmartSiteView, ChargingMemberWithoutADefaultGetsOneAtItsMinimum) {
  auto state = site_with({member("A", std::nullopt, "none"), member("B", 6, "accepted")},
                         {{"A", 1, 11, "2026-01-01T00:00:00.000Z", std::nullopt}}, {{"A", 1, 11, 20, "accepted", ""}});
  const auto inputs = allocation_inputs(state);
  const auto result = allocate({100, 3, 6}, inputs);
  const auto changes = session_default_changes(state, inputs, result);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].charge_point_id, "A");
  EXPECT_FALSE(changes[0].transaction_id.has_value());
  EXPECT_DOUBLE_EQ(changes[0].limit_a, 6);

  // Once accepted, nothing more is sent; an idle member's default is the allocation's own.
  state.members[0] = member("A", 6, "accepted");
  EXPECT_TRUE(session_default_changes(state, allocation_inputs(state), result).empty());
}

// A paused session's charger keeps a default of 0: when the session ends it does not
// start drawing the minimum the site has no room for.
TEST(SmartSiteView, PausedSessionsDefaultIsLoweredToZero) {
  auto state = site_with({member("A", 6, "accepted"), member("B", 6, "accepted")},
                         {{"A", 1, 11, "2026-01-01T00:00:00.000Z", std::nullopt},
                          {"B", 1, 12, "2026-01-01T00:01:00.000Z", std::nullopt}},
                         {{"A", 1, 11, 6, "accepted", ""}, {"B", 1, 12, 6, "accepted", ""}});
  state.site.max_current_a = 8;  // room for one minimum: B, the newer session, pauses
  const auto inputs = allocation_inputs(state);
  const auto result = allocate({8, 3, 6}, inputs);
  const auto changes = session_default_changes(state, inputs, result);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].charge_point_id, "B");
  EXPECT_DOUBLE_EQ(changes[0].limit_a, 0);
}

// A charger that rejected its profiles is counted at its worst case and sent nothing.
TEST(SmartSiteView, WorstCaseChargersGetNoDefaultChange) {
  auto state = site_with({member("A", std::nullopt, "rejected")},
                         {{"A", 1, 11, "2026-01-01T00:00:00.000Z", std::nullopt}}, {{"A", 1, 11, 32, "rejected", ""}});
  const auto inputs = allocation_inputs(state);
  EXPECT_TRUE(session_default_changes(state, inputs, allocate({100, 3, 6}, inputs)).empty());
}
