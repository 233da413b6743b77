#include "runtime/handoff.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace genx::runtime {
namespace {

broker::Delivery delivery(std::uint64_t tag) {
  broker::Delivery d;
  d.delivery_tag = tag;
  d.body = "m" + std::to_string(tag);
  return d;
}

TEST(HandOff, DrainsWhatIsWaitingInOneGoInOrder) {
  HandOff h(8);
  for (std::uint64_t t = 1; t <= 5; ++t) ASSERT_TRUE(h.push(delivery(t)));
  auto first = h.pop_batch(3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].delivery_tag, 1u);
  EXPECT_EQ(first[2].delivery_tag, 3u);
  auto rest = h.pop_batch(3);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].body, "m4");
}

TEST(HandOff, RefusesBeyondItsCapacityAndAfterTheStop) {
  HandOff h(2);
  EXPECT_TRUE(h.push(delivery(1)));
  EXPECT_TRUE(h.push(delivery(2)));
  auto refused = delivery(3);
  EXPECT_FALSE(h.push(std::move(refused)));
  EXPECT_EQ(refused.body, "m3");  // not taken: the caller still has it to hand back
  h.stop();
  EXPECT_FALSE(h.push(delivery(4)));
  EXPECT_TRUE(h.pop_batch(10).empty());
  EXPECT_EQ(h.take_all().size(), 2u);
}

TEST(HandOff, PreferredDeliveriesAreTakenFirstEachLaneInOrder) {
  HandOff h(8);
  ASSERT_TRUE(h.push(delivery(1)));
  ASSERT_TRUE(h.push(delivery(2)));
  ASSERT_TRUE(h.push(delivery(3), true));
  ASSERT_TRUE(h.push(delivery(4)));
  ASSERT_TRUE(h.push(delivery(5), true));
  auto first = h.pop_batch(3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].delivery_tag, 3u);  // the preferred ones, in their order
  EXPECT_EQ(first[1].delivery_tag, 5u);
  EXPECT_EQ(first[2].delivery_tag, 1u);  // then the others, in theirs
  auto rest = h.pop_batch(8);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].delivery_tag, 2u);
  EXPECT_EQ(rest[1].delivery_tag, 4u);
}

TEST(HandOff, CapacityCountsBothLanesAndTakeAllReturnsBoth) {
  HandOff h(2);
  ASSERT_TRUE(h.push(delivery(1)));
  ASSERT_TRUE(h.push(delivery(2), true));
  EXPECT_FALSE(h.push(delivery(3), true));
  h.stop();
  EXPECT_EQ(h.take_all().size(), 2u);
}

TEST(HandOff, StopWakesAWaitingWorkThread) {
  HandOff h(4);
  std::size_t got = 99;
  std::thread work([&] { got = h.pop_batch(4).size(); });
  h.stop();
  work.join();
  EXPECT_EQ(got, 0u);
}

TEST(HandOff, WaitsUpToTheFillTimeForABatch) {
  HandOff h(4);
  ASSERT_TRUE(h.push(delivery(1)));
  std::thread producer([&] { h.push(delivery(2)); });
  auto batch = h.pop_batch(2, std::chrono::seconds(30));
  producer.join();
  // The second arrives within the fill time: one batch of both, in order.
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].delivery_tag, 1u);
  EXPECT_EQ(batch[1].delivery_tag, 2u);
}

// A delivery someone awaits (reply_to: a charger waits for its answer) is never held
// back to fill a batch: waiting behind it or arriving during the fill, it ends the wait.
TEST(HandOff, AnAwaitedDeliveryEndsTheFillWaitAtOnce) {
  HandOff h(8);
  auto awaited = delivery(1);
  awaited.reply_to = "genx.gateway.gw.replies";
  ASSERT_TRUE(h.push(std::move(awaited)));
  const auto started = std::chrono::steady_clock::now();
  auto batch = h.pop_batch(4, std::chrono::seconds(30));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ASSERT_EQ(batch.size(), 1u);

  // Telemetry first (nobody awaits it), then an awaited call arrives while it fills.
  ASSERT_TRUE(h.push(delivery(2)));
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto call = delivery(3);
    call.reply_to = "genx.gateway.gw.replies";
    h.push(std::move(call));
  });
  const auto filling = std::chrono::steady_clock::now();
  batch = h.pop_batch(4, std::chrono::seconds(30));
  producer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - filling, std::chrono::seconds(10));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].delivery_tag, 2u);
  EXPECT_EQ(batch[1].delivery_tag, 3u);
}

TEST(HandOff, DeliveriesNobodyAwaitsWaitForTheBatchUpToTheFillTime) {
  HandOff h(8);
  ASSERT_TRUE(h.push(delivery(1)));
  const auto started = std::chrono::steady_clock::now();
  auto batch = h.pop_batch(4, std::chrono::milliseconds(50));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(50));
  EXPECT_EQ(batch.size(), 1u);
}

}  // namespace
}  // namespace genx::runtime
