#include <gtest/gtest.h>

#include "gateway/limits.hpp"

using namespace std::chrono_literals;
using genx::gateway::Admission;
using genx::gateway::CallRateLimiter;
using genx::gateway::CallRateSettings;
using genx::gateway::ConnectionCounter;
using genx::gateway::ConnectionLimits;
using genx::gateway::FloodGuard;
using genx::gateway::LimitClock;
using genx::gateway::TokenBucket;

namespace {

// A fake clock: time moves only when the test says so.
struct FakeClock {
  LimitClock::time_point now{LimitClock::duration(1'000'000'000)};
  void advance(LimitClock::duration d) { now += d; }
};

int take_all(TokenBucket& bucket, const FakeClock& clock, int at_most = 100000) {
  int taken = 0;
  while (taken < at_most && bucket.try_take(clock.now)) ++taken;
  return taken;
}

}  // namespace

TEST(TokenBucket, StartsFullWithTheBurstThenRefusesUntilRefilled) {
  FakeClock clock;
  TokenBucket bucket(5, 3, clock.now);
  EXPECT_EQ(take_all(bucket, clock), 3);
  EXPECT_FALSE(bucket.try_take(clock.now));
  EXPECT_EQ(bucket.time_to_token(clock.now), 200ms);  // 5 per second: one every 200 ms

  clock.advance(199ms);
  EXPECT_FALSE(bucket.try_take(clock.now));
  EXPECT_EQ(bucket.time_to_token(clock.now), 1ms);
  clock.advance(1ms);
  EXPECT_TRUE(bucket.try_take(clock.now));
  EXPECT_FALSE(bucket.try_take(clock.now));
}

TEST(TokenBucket, RefillsAtTheRateAndNeverAboveTheBurst) {
  FakeClock clock;
  TokenBucket bucket(10, 4, clock.now);
  EXPECT_EQ(take_all(bucket, clock), 4);
  clock.advance(250ms);  // 2.5 tokens
  EXPECT_EQ(take_all(bucket, clock), 2);
  clock.advance(50ms);  // the half token left plus half a token
  EXPECT_EQ(take_all(bucket, clock), 1);
  EXPECT_FALSE(bucket.full(clock.now));

  clock.advance(1h);
  EXPECT_TRUE(bucket.full(clock.now));
  EXPECT_EQ(take_all(bucket, clock), 4);
}

TEST(TokenBucket, SustainedRateOverAMinuteIsTheConfiguredRate) {
  FakeClock clock;
  TokenBucket bucket(20, 1, clock.now);
  int accepted = 0;
  // A client trying every millisecond for 60 s.
  for (int ms = 0; ms < 60000; ++ms) {
    if (bucket.try_take(clock.now)) ++accepted;
    clock.advance(1ms);
  }
  EXPECT_EQ(accepted, 1 + 20 * 60 - 1);  // the first token, then one every 50 ms
}

TEST(TokenBucket, AClockThatDoesNotMoveForwardAddsNothing) {
  FakeClock clock;
  TokenBucket bucket(1000, 2, clock.now);
  EXPECT_EQ(take_all(bucket, clock), 2);
  auto earlier = clock.now - 10s;
  EXPECT_FALSE(bucket.try_take(earlier));
  EXPECT_FALSE(bucket.try_take(clock.now));
}

TEST(CallRateLimiter, OneBucketPerChargerKeptAcrossReconnections) {
  FakeClock clock;
  CallRateLimiter limiter(CallRateSettings{2, 3, 0});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.try_call("CP-A", clock.now));
  EXPECT_FALSE(limiter.try_call("CP-A", clock.now));
  // Another charger has its own bucket.
  EXPECT_TRUE(limiter.try_call("CP-B", clock.now));
  // The limiter does not know connections: "CP-A" after a reconnect is still empty.
  EXPECT_FALSE(limiter.try_call("CP-A", clock.now));
  EXPECT_EQ(limiter.time_to_token("CP-A", clock.now), 500ms);
  EXPECT_EQ(limiter.time_to_token("CP-NEW", clock.now), 0ms);
  clock.advance(500ms);
  EXPECT_TRUE(limiter.try_call("CP-A", clock.now));
}

TEST(CallRateLimiter, SweepForgetsOnlyBucketsThatAreFullAgain) {
  FakeClock clock;
  CallRateLimiter limiter(CallRateSettings{10, 10, 0});
  for (int i = 0; i < 10; ++i) limiter.try_call("BUSY", clock.now);
  limiter.try_call("QUIET", clock.now);
  EXPECT_EQ(limiter.tracked(), 2u);
  clock.advance(200ms);  // QUIET is full again (1 token missing, 2 refilled); BUSY is not
  limiter.sweep(clock.now);
  EXPECT_EQ(limiter.tracked(), 1u);
  EXPECT_EQ(limiter.time_to_token("QUIET", clock.now), 0ms);
  clock.advance(1s);
  limiter.sweep(clock.now);
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(CallRateLimiter, RateZeroMeansUnlimited) {
  FakeClock clock;
  CallRateLimiter limiter(CallRateSettings{0, 1, 5});
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(limiter.try_call("CP", clock.now));
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(FloodGuard, ClosesWhenRejectionsOutnumberAcceptedCallsByTheLimit) {
  FloodGuard guard(3);
  EXPECT_FALSE(guard.record(false));
  EXPECT_FALSE(guard.record(false));
  EXPECT_FALSE(guard.record(true));  // 1 strike left
  EXPECT_FALSE(guard.record(false));
  EXPECT_TRUE(guard.record(false));  // 3 strikes
  EXPECT_EQ(guard.strikes(), 3u);
}

TEST(FloodGuard, AcceptedCallsNeverBankCredit) {
  FloodGuard guard(2);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(guard.record(true));
  EXPECT_EQ(guard.strikes(), 0u);
  EXPECT_FALSE(guard.record(false));
  EXPECT_TRUE(guard.record(false));
}

TEST(FloodGuard, ZeroNeverCloses) {
  FloodGuard guard(0);
  for (int i = 0; i < 10000; ++i) ASSERT_FALSE(guard.record(false));
}

TEST(FloodGuard, AFloodAtManyTimesTheRateIsClosedThoughSomeCallsPass) {
  // 1000 attempts per second against 20 per second: a call passes every 50 ms, which
  // must not reset the count (a "consecutive rejections" rule would never close it).
  FakeClock clock;
  TokenBucket bucket(20, 1, clock.now);
  FloodGuard guard(100);
  int attempts = 0;
  bool closed = false;
  while (!closed && attempts < 10000) {
    closed = guard.record(bucket.try_take(clock.now));
    ++attempts;
    clock.advance(1ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(attempts, 200);
}

TEST(RateLimitError, GenericErrorNamingTheLimitAndWhenToRetry) {
  auto error = genx::gateway::rate_limit_error("id-7", CallRateSettings{20, 60, 0}, 50ms);
  EXPECT_EQ(error.unique_id, "id-7");
  EXPECT_EQ(error.code, genx::ocpp::ErrorCode::kGenericError);
  EXPECT_EQ(error.description, "rate limit exceeded: 20 calls/s (burst 60)");
  EXPECT_EQ(error.details, (nlohmann::json{{"callsPerSecond", 20}, {"burst", 60}, {"retryAfterMs", 50}}));
}

TEST(ConnectionCounter, PerAddressLimitCountsDownOnRelease) {
  ConnectionCounter counter(ConnectionLimits{2, 0});
  EXPECT_EQ(counter.admit("10.0.0.1"), Admission::kAdmitted);
  EXPECT_EQ(counter.admit("10.0.0.1"), Admission::kAdmitted);
  EXPECT_EQ(counter.admit("10.0.0.1"), Admission::kAddressLimit);
  EXPECT_EQ(counter.admit("10.0.0.2"), Admission::kAdmitted);  // another address is unaffected
  EXPECT_EQ(counter.from("10.0.0.1"), 2u);
  EXPECT_EQ(counter.total(), 3u);

  counter.release("10.0.0.1");
  EXPECT_EQ(counter.from("10.0.0.1"), 1u);
  EXPECT_EQ(counter.admit("10.0.0.1"), Admission::kAdmitted);
}

TEST(ConnectionCounter, TotalLimitAcrossAddresses) {
  ConnectionCounter counter(ConnectionLimits{0, 3});
  EXPECT_EQ(counter.admit("a"), Admission::kAdmitted);
  EXPECT_EQ(counter.admit("b"), Admission::kAdmitted);
  EXPECT_EQ(counter.admit("c"), Admission::kAdmitted);
  EXPECT_EQ(counter.admit("d"), Admission::kTotalLimit);
  counter.release("b");
  EXPECT_EQ(counter.admit("d"), Admission::kAdmitted);
  EXPECT_EQ(counter.total(), 3u);
}

TEST(ConnectionCounter, AddressLimitIsCheckedFirstAndRefusalsAreNotCounted) {
  ConnectionCounter counter(ConnectionLimits{1, 1});
  EXPECT_EQ(counter.admit("a"), Admission::kAdmitted);
  EXPECT_EQ(counter.admit("a"), Admission::kAddressLimit);
  EXPECT_EQ(counter.admit("b"), Admission::kTotalLimit);
  EXPECT_EQ(counter.total(), 1u);
  EXPECT_EQ(counter.from("b"), 0u);
  counter.release("a");
  EXPECT_EQ(counter.total(), 0u);
  EXPECT_EQ(counter.from("a"), 0u);
  EXPECT_EQ(counter.admit("b"), Admission::kAdmitted);
}

TEST(ConnectionCounter, ReleaseOfAnUnknownAddressChangesNothing) {
  ConnectionCounter counter(ConnectionLimits{0, 0});
  EXPECT_EQ(counter.admit("a"), Admission::kAdmitted);
  counter.release("zzz");
  EXPECT_EQ(counter.total(), 1u);
}
