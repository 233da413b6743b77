// The notifier's memory of recently forwarded event ids (at-least-once events reach
// Socket.IO clients once).
#include <gtest/gtest.h>

#include <string>

#include "notifier/recent_ids.hpp"

using genx::notifier::RecentIds;

TEST(RecentIds, AnIdSeenBeforeIsADuplicate) {
  RecentIds ids(10);
  EXPECT_TRUE(ids.first_time("CP-1/42/StatusNotification/charger.status.changed"));
  EXPECT_TRUE(ids.first_time("CP-1/43/StatusNotification/charger.status.changed"));
  EXPECT_FALSE(ids.first_time("CP-1/42/StatusNotification/charger.status.changed"));
  EXPECT_FALSE(ids.first_time("CP-1/43/StatusNotification/charger.status.changed"));
  EXPECT_EQ(ids.size(), 2u);
}

TEST(RecentIds, TheEmptyIdIsNeverADuplicate) {
  RecentIds ids(10);
  EXPECT_TRUE(ids.first_time(""));
  EXPECT_TRUE(ids.first_time(""));
  EXPECT_EQ(ids.size(), 0u);
}

TEST(RecentIds, RemembersOnlyTheLastCapacityIdsOldestForgottenFirst) {
  RecentIds ids(3);
  for (const char* id : {"a", "b", "c", "d"}) EXPECT_TRUE(ids.first_time(id));
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids.first_time("b"));
  EXPECT_FALSE(ids.first_time("d"));
  EXPECT_TRUE(ids.first_time("a"));  // forgotten: "a" was the oldest; now "b" goes
  EXPECT_TRUE(ids.first_time("b"));  // and now "c"
  EXPECT_TRUE(ids.first_time("c"));
  EXPECT_EQ(ids.size(), 3u);
}

TEST(RecentIds, StaysBoundedOverManyIdsAndSurvivesRehashing) {
  RecentIds ids(1000);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(ids.first_time("event-" + std::to_string(i)));
  EXPECT_EQ(ids.size(), 1000u);
  for (int i = 99000; i < 100000; ++i) EXPECT_FALSE(ids.first_time("event-" + std::to_string(i)));
  EXPECT_TRUE(ids.first_time("event-98999"));
}

TEST(RecentIds, ZeroCapacityRemembersNothing) {
  RecentIds ids(0);
  EXPECT_TRUE(ids.first_time("a"));
  EXPECT_TRUE(ids.first_time("a"));
}
