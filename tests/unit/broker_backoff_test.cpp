#include <gtest/gtest.h>

#include "broker/broker_client.hpp"

using genx::broker::backoff_delay;
using std::chrono::milliseconds;

TEST(Backoff, FirstAttemptIsTheMinimum) {
  EXPECT_EQ(backoff_delay(0, milliseconds(200), milliseconds(30000), 0.99), milliseconds(200));
}

TEST(Backoff, WindowDoublesPerAttempt) {
  // attempt 3: window = 200 * 8 = 1600; full jitter spans [200, 1600).
  EXPECT_EQ(backoff_delay(3, milliseconds(200), milliseconds(30000), 0.0), milliseconds(200));
  EXPECT_EQ(backoff_delay(3, milliseconds(200), milliseconds(30000), 0.5), milliseconds(900));
  EXPECT_GE(backoff_delay(3, milliseconds(200), milliseconds(30000), 0.999999), milliseconds(1599));
  EXPECT_LT(backoff_delay(3, milliseconds(200), milliseconds(30000), 0.999999), milliseconds(1600));
}

TEST(Backoff, CappedAtMaximumEvenForHugeAttempts) {
  for (std::uint32_t attempt : {10u, 63u, 64u, 1000u, 4000000000u}) {
    const auto d = backoff_delay(attempt, milliseconds(200), milliseconds(30000), 1.0);
    EXPECT_EQ(d, milliseconds(30000)) << attempt;
  }
}

TEST(Backoff, JitterSpreadsDelays) {
  const auto a = backoff_delay(6, milliseconds(100), milliseconds(30000), 0.1);
  const auto b = backoff_delay(6, milliseconds(100), milliseconds(30000), 0.9);
  EXPECT_LT(a, b);
}

TEST(Backoff, MaxBelowMinMeansMin) {
  EXPECT_EQ(backoff_delay(5, milliseconds(500), milliseconds(100), 0.7), milliseconds(500));
}
