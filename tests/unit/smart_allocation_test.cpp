// The site allocation rules (docs/smart-charging.md "Allocation rules") and the change plan.
#include <gtest/gtest.h>

#include <numeric>

#include "smart/allocation.hpp"

using namespace genx::smart;

namespace {

ChargerInput session(std::string id, std::int64_t tx, std::string started = "2026-01-01T00:00:00.000Z") {
  ChargerInput c;
  c.charge_point_id = std::move(id);
  c.transaction_id = tx;
  c.started_at = std::move(started);
  c.status = ProfileStatus::kAccepted;
  c.in_force_a = 6;
  return c;
}

ChargerInput idle(std::string id) {
  ChargerInput c;
  c.charge_point_id = std::move(id);
  c.status = ProfileStatus::kAccepted;
  c.in_force_a = 6;
  return c;
}

double limit_of(const AllocationResult& r, const std::string& id) {
  for (const auto& a : r.chargers) {
    if (a.charge_point_id == id) return a.limit_a;
  }
  ADD_FAILURE() << "no allocation for " << id;
  return -1;
}

}  // namespace

TEST(SmartAllocation, EqualSharesNeverExceedTheSiteLimit) {
  const SiteLimit site{100, 3, 6};
  std::vector<ChargerInput> in = {session("A", 1), session("B", 2), session("C", 3)};
  auto r = allocate(site, in);
  EXPECT_DOUBLE_EQ(limit_of(r, "A"), 32);  // capped at the charger maximum: 3 x 32 = 96
  EXPECT_DOUBLE_EQ(limit_of(r, "C"), 32);
  in.push_back(session("D", 4));
  r = allocate(site, in);
  for (const auto& id : {"A", "B", "C", "D"}) EXPECT_DOUBLE_EQ(limit_of(r, id), 25) << id;
  EXPECT_LE(r.counted_a, 100);
}

TEST(SmartAllocation, RoundsDownToTenthsSoTheSumStaysUnderTheLimit) {
  const SiteLimit site{20, 1, 6};
  auto r = allocate(site, {session("A", 1), session("B", 2), session("C", 3)});
  for (const auto& id : {"A", "B", "C"}) EXPECT_DOUBLE_EQ(limit_of(r, id), 6.6) << id;
  EXPECT_LE(r.counted_a, 20.0);
}

TEST(SmartAllocation, IdleChargersHoldTheirMinimumSoANewSessionNeverOverloads) {
  const SiteLimit site{40, 3, 6};
  auto r = allocate(site, {session("A", 1), idle("B"), idle("C")});
  EXPECT_DOUBLE_EQ(limit_of(r, "B"), 6);
  EXPECT_DOUBLE_EQ(limit_of(r, "C"), 6);
  EXPECT_DOUBLE_EQ(limit_of(r, "A"), 28);  // 40 - 2 x 6 reserved for the idle chargers
}

TEST(SmartAllocation, WhenMinimumsDoNotFitTheNewestLowestPrioritySessionsPauseFirst) {
  const SiteLimit site{13, 3, 6};
  auto old_one = session("OLD", 1, "2026-01-01T08:00:00.000Z");
  auto newer = session("NEW", 2, "2026-01-01T09:00:00.000Z");
  auto newest = session("NEWEST", 3, "2026-01-01T10:00:00.000Z");
  auto r = allocate(site, {newest, old_one, newer, idle("IDLE")});
  EXPECT_GE(limit_of(r, "OLD"), 6);
  EXPECT_GE(limit_of(r, "NEW"), 6);
  EXPECT_DOUBLE_EQ(limit_of(r, "NEWEST"), 0);
  EXPECT_TRUE(r.chargers[0].paused);
  EXPECT_DOUBLE_EQ(limit_of(r, "IDLE"), 0);  // sessions come before idle reservations
  EXPECT_LE(r.counted_a, 13);

  newest.priority = 5;  // a priority session keeps charging, the newest normal one pauses
  r = allocate(site, {newest, old_one, newer});
  EXPECT_GE(limit_of(r, "NEWEST"), 6);
  EXPECT_GE(limit_of(r, "OLD"), 6);
  EXPECT_DOUBLE_EQ(limit_of(r, "NEW"), 0);
}

TEST(SmartAllocation, EveryActiveSessionGetsAtLeastItsMinimumOrZero) {
  for (double limit = 0; limit <= 120; limit += 3.7) {
    std::vector<ChargerInput> in;
    for (int i = 0; i < 10; ++i) {
      if (i % 3 == 0) {
        in.push_back(idle("I" + std::to_string(i)));
      } else {
        in.push_back(session("S" + std::to_string(i), i, "2026-01-01T0" + std::to_string(i) + ":00:00.000Z"));
      }
    }
    auto r = allocate({limit, 3, 6}, in);
    EXPECT_LE(r.counted_a, limit + 1e-9) << limit;
    for (const auto& a : r.chargers) {
      EXPECT_TRUE(a.limit_a == 0 || a.limit_a >= 6) << a.charge_point_id << " at " << limit;
      EXPECT_LE(a.limit_a, 32);
    }
  }
}

TEST(SmartAllocation, UnusedCapacityOfACarDrawingLessIsRedistributed) {
  const SiteLimit site{60, 3, 6};
  auto slow = session("SLOW", 1);
  slow.in_force_a = 30;
  slow.measured_a = 10;  // the car takes only 10 A of its 30
  auto fast = session("FAST", 2);
  fast.in_force_a = 30;
  fast.measured_a = 29.8;
  auto r = allocate(site, {slow, fast});
  EXPECT_DOUBLE_EQ(limit_of(r, "SLOW"), 12);  // draw + 2 A margin
  EXPECT_DOUBLE_EQ(limit_of(r, "FAST"), 32);  // its maximum; 16 A stay unused
}

TEST(SmartAllocation, PriorityTierIsServedBeforeTheOthers) {
  const SiteLimit site{50, 3, 6};
  auto vip = session("VIP", 1);
  vip.priority = 1;
  auto r = allocate(site, {session("A", 2), vip, session("B", 3)});
  EXPECT_DOUBLE_EQ(limit_of(r, "VIP"), 32);
  EXPECT_DOUBLE_EQ(limit_of(r, "A"), 9);
  EXPECT_DOUBLE_EQ(limit_of(r, "B"), 9);
}

TEST(SmartAllocation, RejectedAndOfflineChargersCountAtTheirWorstCase) {
  const SiteLimit site{64, 3, 6};
  auto rejected = session("REJ", 1);
  rejected.status = ProfileStatus::kRejected;  // draws whatever it likes: its maximum
  auto offline = session("OFF", 2);
  offline.status = ProfileStatus::kOffline;  // keeps the last limit it accepted
  offline.in_force_a = 10;
  auto r = allocate(site, {rejected, offline, session("OK", 3)});
  EXPECT_TRUE(r.chargers[0].worst_case);
  EXPECT_DOUBLE_EQ(r.chargers[0].counted_a, 32);
  EXPECT_DOUBLE_EQ(r.chargers[1].counted_a, 10);
  EXPECT_DOUBLE_EQ(limit_of(r, "OK"), 22);  // 64 - 32 - 10
  const auto plan = plan_changes({rejected, offline, session("OK", 3)}, r);
  ASSERT_EQ(plan.raises.size(), 1u);  // nothing goes to the chargers that cannot be steered
  EXPECT_EQ(plan.raises[0].charge_point_id, "OK");
  EXPECT_TRUE(plan.lowerings.empty());
}

TEST(SmartAllocation, PerChargerMinimumAndMaximum) {
  SiteLimit site{16, 1, 6};
  auto small = session("SMALL", 1);
  small.max_current_a = 10;
  small.min_current_a = 8;
  auto r = allocate(site, {small, session("BIG", 2)});
  EXPECT_DOUBLE_EQ(limit_of(r, "SMALL"), 9);  // its own minimum 8 + half of the 2 A left
  EXPECT_DOUBLE_EQ(limit_of(r, "BIG"), 7);
  site.max_current_a = 40;
  r = allocate(site, {small, session("BIG", 2)});
  EXPECT_DOUBLE_EQ(limit_of(r, "SMALL"), 10);
  EXPECT_DOUBLE_EQ(limit_of(r, "BIG"), 30);
}

TEST(SmartAllocation, ChangePlanLowersBeforeItRaises) {
  const SiteLimit site{50, 3, 6};
  auto a = session("A", 1);
  auto b = session("B", 2);
  auto c = session("C", 3);  // a new session under its TxDefaultProfile (6 A)
  // Before C started: C idle with 6 A reserved, A and B sharing 44.
  a.in_force_a = 22;
  b.in_force_a = 22;
  std::vector<ChargerInput> in = {a, b, c};
  auto r = allocate(site, in);
  auto plan = plan_changes(in, r);
  ASSERT_EQ(plan.lowerings.size(), 2u);  // A and B go down to 16.6 first
  ASSERT_EQ(plan.raises.size(), 1u);     // then C goes up
  EXPECT_EQ(plan.raises[0].charge_point_id, "C");
  EXPECT_EQ(plan.raises[0].transaction_id, 3);
  // During the change the sum never exceeds the limit: after the lowerings...
  double during = c.in_force_a.value();
  for (const auto& l : plan.lowerings) during += l.limit_a;
  EXPECT_LE(during, 50);
  // ...and after the raises.
  EXPECT_LE(r.counted_a, 50);
  // A charger already at its target gets nothing.
  for (std::size_t i = 0; i < in.size(); ++i) {
    in[i].in_force_a = r.chargers[i].limit_a;
  }
  EXPECT_TRUE(plan_changes(in, allocate(site, in)).empty());
}

TEST(SmartAllocation, UnknownLimitInForceIsSentAsALowering) {
  auto fresh = idle("NEW");
  fresh.status = ProfileStatus::kNone;
  fresh.in_force_a.reset();
  auto r = allocate({30, 3, 6}, {fresh});
  auto plan = plan_changes({fresh}, r);
  ASSERT_EQ(plan.lowerings.size(), 1u);
  EXPECT_FALSE(plan.lowerings[0].transaction_id.has_value());  // a TxDefaultProfile
  EXPECT_DOUBLE_EQ(plan.lowerings[0].limit_a, 6);
}
