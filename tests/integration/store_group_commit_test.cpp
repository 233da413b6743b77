// The ocpp-worker's group commit against real SQLite: several deliveries in one
// transaction give the same database and replies as one by one, duplicates inside a
// group are answered from the stored reply, and a message that cannot be processed
// abandons the group so nothing of it is kept.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "app/batch_store.hpp"
#include "store/open_store.hpp"

namespace genx::app {
namespace {

class FixedClock final : public csms::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1767225600000));
  }
};

broker::Delivery delivery(std::uint64_t tag, const std::string& device, const std::string& action,
                          const std::string& unique_id, nlohmann::json payload) {
  csms::Envelope e;
  e.message_id = device + "-" + unique_id;
  e.device_id = device;
  e.gateway_id = "gw-test";
  e.message_type = action;
  e.unique_id = unique_id;
  e.payload = std::move(payload);
  e.timestamp = "2026-01-01T00:00:00.000Z";
  e.raw_data = "[]";
  broker::Delivery d;
  d.generation = 1;
  d.channel = 2;
  d.delivery_tag = tag;
  d.body = csms::serialize(e);
  return d;
}

nlohmann::json boot() {
  return {{"chargePointVendor", "GenX"}, {"chargePointModel", "Test"}};
}
nlohmann::json status(int connector, const std::string& s) {
  return {{"connectorId", connector}, {"errorCode", "NoError"}, {"status", s},
          {"timestamp", "2026-01-01T00:00:00.000Z"}};
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("genx-group-commit-" + std::to_string(std::random_device{}()) + ".db");
    store_ = store::open_store("sqlite://" + path_.string());
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }
  std::filesystem::path path_;
  std::unique_ptr<store::Store> store_;
  FixedClock clock_;
};

TEST_F(GroupCommitTest, OneTransactionGivesTheSameStateAndRepliesAsOneByOne) {
  GroupCommit group(*store_, clock_, csms::Policy{}, 64);
  std::vector<broker::Delivery> all = {
      delivery(1, "GC-1", "BootNotification", "b1", boot()),
      delivery(2, "GC-1", "StatusNotification", "s1", status(1, "Available")),
      delivery(3, "GC-2", "BootNotification", "b2", boot()),
      delivery(4, "GC-1", "StatusNotification", "s2", status(1, "Charging")),
      delivery(5, "GC-1", "StatusNotification", "s2", status(1, "Charging")),  // redelivered copy
  };
  group.run(all[0], {all.begin() + 1, all.end()});
  std::vector<csms::Outcome> outcomes;
  for (const auto& d : all) {
    auto o = group.take(d);
    ASSERT_TRUE(o.has_value()) << "no outcome for tag " << d.delivery_tag;
    outcomes.push_back(std::move(*o));
  }
  EXPECT_FALSE(group.take(all[0]).has_value());  // taken once
  ASSERT_TRUE(outcomes[0].reply.result.has_value());
  EXPECT_EQ((*outcomes[0].reply.result)["status"], "Accepted");
  EXPECT_FALSE(outcomes[3].duplicate);
  EXPECT_TRUE(outcomes[4].duplicate);  // same device + unique id + action: effect once
  EXPECT_FALSE(outcomes[3].events.empty());
  // The redelivered copy publishes the stored events again, with the same ids.
  ASSERT_EQ(outcomes[4].events.size(), outcomes[3].events.size());
  EXPECT_EQ(outcomes[4].events[0].fields["eventId"], outcomes[3].events[0].fields["eventId"]);

  auto chargers = store_->list_chargers();
  ASSERT_EQ(chargers.size(), 2u);
  auto one = store_->charger("GC-1");
  ASSERT_TRUE(one.has_value());
  bool charging = false;
  for (const auto& c : (*one)["connectors"]) {
    if (c["connectorId"] == 1) charging = c["status"] == "Charging";
  }
  EXPECT_TRUE(charging) << one->dump();  // the later status, in delivery order
}

TEST_F(GroupCommitTest, AMessageThatCannotBeProcessedAbandonsTheGroup) {
  GroupCommit group(*store_, clock_, csms::Policy{}, 64);
  std::vector<broker::Delivery> all = {
      delivery(1, "GC-3", "BootNotification", "b1", boot()),
      // connectorId of the wrong type: the rules throw a JSON error for this payload
      delivery(2, "GC-3", "StatusNotification", "s1",
               {{"connectorId", "one"}, {"errorCode", "NoError"}, {"status", "Available"}}),
  };
  group.run(all[0], {all.begin() + 1, all.end()});
  EXPECT_FALSE(group.take(all[0]).has_value());
  EXPECT_FALSE(group.take(all[1]).has_value());
  EXPECT_EQ(store_->list_chargers().size(), 0u);  // rolled back: the worker goes one by one
}

TEST_F(GroupCommitTest, BatchOfOneOrOffDoesNothing) {
  GroupCommit off(*store_, clock_, csms::Policy{}, 1);
  auto a = delivery(1, "GC-4", "BootNotification", "b1", boot());
  auto b = delivery(2, "GC-4", "Heartbeat", "h1", nlohmann::json::object());
  off.run(a, {b});
  EXPECT_FALSE(off.take(a).has_value());
  GroupCommit on(*store_, clock_, csms::Policy{}, 64);
  on.run(a, {});
  EXPECT_FALSE(on.take(a).has_value());  // alone: the one-by-one path is the same
  EXPECT_EQ(store_->list_chargers().size(), 0u);
}

}  // namespace
}  // namespace genx::app
