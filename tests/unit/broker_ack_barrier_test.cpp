// Settling a delivery after its publishes (broker/ack_barrier.hpp): a publish the broker
// refuses is sent again after a backoff and the delivery is acked once it is confirmed,
// instead of being handed back at once (each hand-back spends one of a quorum queue's
// x-delivery-limit attempts); a lost connection or giving up still hands it back.
#include <gtest/gtest.h>

#include <deque>
#include <optional>

#include "broker/ack_barrier.hpp"

namespace genx::broker {
namespace {

using std::chrono::milliseconds;

// A broker that answers each publish with the next scripted outcome, and a scheduler
// that runs tasks when the test says so (no real time passes).
struct FakeWorld {
  std::deque<PublishOutcome> outcomes;  // consumed in publish order; empty = kConfirmed
  std::vector<std::string> published;   // message ids, in publish order
  std::vector<milliseconds> delays;     // scheduled republish delays
  std::vector<DelayedTasks::Task> due;
  bool scheduler_stopped = false;
  std::optional<bool> finished;
  PublishOutcome finished_outcome = PublishOutcome::kConfirmed;
  int finish_calls = 0;
  int republish_calls = 0;

  AckBarrierHooks hooks() {
    AckBarrierHooks h;
    h.publish = [this](Message m, BrokerClient::PublishCallback cb) {
      published.push_back(m.message_id);
      PublishOutcome o = PublishOutcome::kConfirmed;
      if (!outcomes.empty()) {
        o = outcomes.front();
        outcomes.pop_front();
      }
      cb(o);
    };
    h.schedule = [this](milliseconds delay, DelayedTasks::Task task) {
      if (scheduler_stopped) return false;
      delays.push_back(delay);
      due.push_back(std::move(task));
      return true;
    };
    h.finish = [this](bool ok, PublishOutcome o) {
      ++finish_calls;
      finished = ok;
      finished_outcome = o;
    };
    h.on_republish = [this](const Message&, PublishOutcome, int, milliseconds) { ++republish_calls; };
    return h;
  }

  void run_due(bool stopped = false) {
    auto now = std::move(due);
    due.clear();
    for (auto& t : now) t(stopped);
  }
};

std::vector<Message> messages(std::initializer_list<const char*> ids) {
  std::vector<Message> out;
  for (const char* id : ids) {
    Message m;
    m.message_id = id;
    m.body = "{}";
    out.push_back(m);
  }
  return out;
}

TEST(AckBarrier, AcksOnceEveryPublishIsConfirmed) {
  FakeWorld w;
  AckBarrier::publish_all(messages({"reply", "event"}), w.hooks());
  EXPECT_EQ(w.published, (std::vector<std::string>{"reply", "event"}));
  ASSERT_TRUE(w.finished.has_value());
  EXPECT_TRUE(*w.finished);
  EXPECT_EQ(w.finish_calls, 1);
}

TEST(AckBarrier, RefusedPublishIsSentAgainWithBackoffAndTheDeliveryIsNotHandedBack) {
  FakeWorld w;
  // The event is refused three times (a node that refuses publishes after a failover).
  w.outcomes = {PublishOutcome::kConfirmed, PublishOutcome::kNacked, PublishOutcome::kNacked,
                PublishOutcome::kNacked};
  AckBarrier::publish_all(messages({"reply", "event"}), w.hooks());
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(w.finished.has_value()) << "settled while a publish was still refused";
    ASSERT_EQ(w.due.size(), 1u);
    w.run_due();
  }
  ASSERT_TRUE(w.finished.has_value());
  EXPECT_TRUE(*w.finished) << "handed back although the republish was confirmed";
  EXPECT_EQ(w.finish_calls, 1);
  EXPECT_EQ(w.published, (std::vector<std::string>{"reply", "event", "event", "event", "event"}));
  EXPECT_EQ(w.delays, (std::vector<milliseconds>{milliseconds(250), milliseconds(500), milliseconds(1000)}));
  EXPECT_EQ(w.republish_calls, 3);
}

TEST(AckBarrier, BackoffIsCappedAndGivesUpAfterTheLimit) {
  FakeWorld w;
  RepublishPolicy policy{milliseconds(100), milliseconds(400), milliseconds(0)};
  w.outcomes = {PublishOutcome::kNacked};
  AckBarrier::publish_all(messages({"reply"}), w.hooks(), policy);
  // give_up_after 0: the first refusal hands the delivery back.
  ASSERT_TRUE(w.finished.has_value());
  EXPECT_FALSE(*w.finished);
  EXPECT_EQ(w.finished_outcome, PublishOutcome::kNacked);

  FakeWorld capped;
  capped.outcomes.assign(6, PublishOutcome::kNacked);
  AckBarrier::publish_all(messages({"reply"}), capped.hooks(),
                          RepublishPolicy{milliseconds(100), milliseconds(400), milliseconds(600000)});
  while (!capped.due.empty()) capped.run_due();
  EXPECT_EQ(capped.delays, (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400),
                                                        milliseconds(400), milliseconds(400), milliseconds(400)}));
  ASSERT_TRUE(capped.finished.has_value());
  EXPECT_TRUE(*capped.finished);
}

TEST(AckBarrier, LostConnectionHandsTheDeliveryBackAtOnce) {
  FakeWorld w;
  w.outcomes = {PublishOutcome::kConnectionLost, PublishOutcome::kConfirmed};
  AckBarrier::publish_all(messages({"reply", "event"}), w.hooks());
  EXPECT_TRUE(w.due.empty());
  ASSERT_TRUE(w.finished.has_value());
  EXPECT_FALSE(*w.finished);
  EXPECT_EQ(w.finished_outcome, PublishOutcome::kConnectionLost);
  EXPECT_EQ(w.finish_calls, 1);
}

TEST(AckBarrier, StoppingHandsHeldDeliveriesBack) {
  FakeWorld w;
  w.outcomes = {PublishOutcome::kNacked};
  AckBarrier::publish_all(messages({"reply"}), w.hooks());
  ASSERT_FALSE(w.finished.has_value());
  w.run_due(/*stopped=*/true);
  ASSERT_TRUE(w.finished.has_value());
  EXPECT_FALSE(*w.finished);

  FakeWorld refused;
  refused.scheduler_stopped = true;
  refused.outcomes = {PublishOutcome::kNacked};
  AckBarrier::publish_all(messages({"reply"}), refused.hooks());
  ASSERT_TRUE(refused.finished.has_value());
  EXPECT_FALSE(*refused.finished);
}

TEST(DelayedTasks, RunsInTimeOrderAndHandsTheRestOverOnStop) {
  DelayedTasks tasks;
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> ran;
  auto record = [&](std::string what) {
    return [&, what](bool stopped) {
      std::lock_guard lock(m);
      ran.push_back(what + (stopped ? " (stopped)" : ""));
      cv.notify_all();
    };
  };
  ASSERT_TRUE(tasks.schedule(milliseconds(60), record("second")));
  ASSERT_TRUE(tasks.schedule(milliseconds(10), record("first")));
  ASSERT_TRUE(tasks.schedule(std::chrono::hours(1), record("never due")));
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return ran.size() == 2; }));
  }
  tasks.stop();
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second", "never due (stopped)"}));
  EXPECT_FALSE(tasks.schedule(milliseconds(1), record("after stop")));
  EXPECT_EQ(tasks.pending(), 0u);
}

}  // namespace
}  // namespace genx::broker
