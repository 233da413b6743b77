// The ocpp-worker's group commit against real SQLite: several deliveries in one
// transaction give the same database and replies as one by one, duplicates inside a
// group are answered from the stored reply, and a message that cannot be processed
// abandons the group so nothing of it is kept.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "worker/group_commit.hpp"
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
  e.timestamp = "2026-01-01T00:00:00.000Z";
  // The frame as the gateway received it: the envelope (version 2) carries it once.
  e.raw_data = ocpp::serialize(ocpp::Call{unique_id, action, std::move(payload)});
  broker::Delivery d;
  d.generation = 1;
  d.channel = 2;
  d.delivery_tag = tag;
  d.body = messages::encode_envelope(e);
  return d;
}

// Every row of every table of the SQLite database at `path`, as text: table name ->
// sorted rows, each row "col=value|col=value|...". Columns in `skip`
// ("table.column") are left out.
using Dump = std::map<std::string, std::vector<std::string>>;
Dump dump_database(const std::filesystem::path& path, const std::set<std::string>& skip) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto rows = [&](const std::string& sql) {
    std::vector<std::vector<std::pair<std::string, std::string>>> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::pair<std::string, std::string>> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const auto* text = sqlite3_column_text(st, i);
        row.emplace_back(sqlite3_column_name(st, i),
                         text == nullptr ? "NULL" : "'" + std::string(reinterpret_cast<const char*>(text)) + "'");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return out;
  };
  Dump dump;
  for (const auto& t : rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
    const std::string table = t[0].second.substr(1, t[0].second.size() - 2);
    auto& lines = dump[table];
    for (const auto& row : rows("SELECT * FROM \"" + table + "\"")) {
      std::string line;
      for (const auto& [column, value] : row) {
        if (skip.count(table + "." + column) == 0) line += column + "=" + value + "|";
      }
      lines.push_back(line);
    }
    // Sorted, so only content counts; generated ids are columns like any other.
    std::sort(lines.begin(), lines.end());
  }
  sqlite3_close(db);
  return dump;
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
    store_ = store::open_store("sqlite://" + path_.string(), store::Schema::migrate);
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }
  std::filesystem::path path_;
  std::unique_ptr<store::Store> store_;
  FixedClock clock_;
};

// The same deliveries through the worker's two paths: the group commit on store_ and
// one by one (MessageProcessor::process, one transaction each) on a second store. The
// replies, the events and every table of the two databases must be the same.
TEST_F(GroupCommitTest, OneTransactionGivesTheSameStateAndRepliesAsOneByOne) {
  const auto at = [](int minute) { return "2026-01-01T00:0" + std::to_string(minute) + ":00.000Z"; };
  std::vector<broker::Delivery> all = {
      delivery(1, "GC-1", "BootNotification", "b1", boot()),
      delivery(2, "GC-1", "StatusNotification", "s1", status(1, "Available")),
      delivery(3, "GC-2", "BootNotification", "b2", boot()),
      delivery(4, "GC-1", "Authorize", "a1", {{"idTag", "TAG-1"}}),
      delivery(5, "GC-1", "StartTransaction", "t1",
               {{"connectorId", 1}, {"idTag", "TAG-1"}, {"meterStart", 1000}, {"timestamp", at(1)}}),
      delivery(6, "GC-1", "StatusNotification", "s2", status(1, "Charging")),
      delivery(7, "GC-1", "StatusNotification", "s2", status(1, "Charging")),  // redelivered copy
      delivery(8, "GC-1", "MeterValues", "m1",
               {{"connectorId", 1},
                {"transactionId", 1},
                {"meterValue",
                 {{{"timestamp", at(2)},
                   {"sampledValue",
                    {{{"value", "1500"}, {"measurand", "Energy.Active.Import.Register"}, {"unit", "Wh"}},
                     {{"value", "7.2"}, {"measurand", "Power.Active.Import"}, {"unit", "kW"}}}}}}}}),
      delivery(9, "GC-2", "Heartbeat", "h1", nlohmann::json::object()),
      delivery(10, "GC-1", "StopTransaction", "t2",
               {{"transactionId", 1}, {"idTag", "TAG-1"}, {"meterStop", 3000}, {"timestamp", at(3)},
                {"reason", "Local"}}),
      delivery(11, "GC-1", "StatusNotification", "s3", status(1, "Finishing")),
      delivery(12, "GC-2", "StatusNotification", "s1", status(2, "Faulted")),
  };

  GroupCommit group(*store_, clock_, csms::Policy{}, 64);
  group.run(all[0], {all.begin() + 1, all.end()});
  std::vector<csms::Outcome> grouped;
  for (const auto& d : all) {
    auto o = group.take(d);
    ASSERT_TRUE(o.has_value()) << "no outcome for tag " << d.delivery_tag << ": the group was not committed";
    grouped.push_back(std::move(*o));
  }
  EXPECT_FALSE(group.take(all[0]).has_value());  // taken once

  const auto other_path = std::filesystem::path(path_.string() + "-one-by-one.db");
  auto other = store::open_store("sqlite://" + other_path.string(), store::Schema::migrate);
  std::vector<csms::Outcome> single;
  {
    csms::MessageProcessor processor(*other, clock_, csms::Policy{});
    for (const auto& d : all) {
      auto parsed = messages::decode_envelope(d.body);
      ASSERT_TRUE(std::holds_alternative<csms::Envelope>(parsed));
      single.push_back(processor.process(std::get<csms::Envelope>(parsed)));
    }
  }

  // What the charger and the event consumers get.
  ASSERT_EQ(grouped.size(), single.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    SCOPED_TRACE("delivery " + std::to_string(all[i].delivery_tag));
    EXPECT_EQ(messages::encode_stored_reply(grouped[i].reply), messages::encode_stored_reply(single[i].reply));
    EXPECT_EQ(grouped[i].duplicate, single[i].duplicate);
    EXPECT_EQ(grouped[i].events_timestamp, single[i].events_timestamp);
    ASSERT_EQ(grouped[i].events.size(), single[i].events.size());
    for (std::size_t e = 0; e < grouped[i].events.size(); ++e) {
      EXPECT_EQ(csms::serialize(grouped[i].events[e], grouped[i].events_timestamp),
                csms::serialize(single[i].events[e], single[i].events_timestamp));
    }
  }
  // The scenario did what it is meant to: a session with its id, a duplicate, events.
  ASSERT_TRUE(grouped[4].reply.result.has_value());
  EXPECT_EQ((*grouped[4].reply.result)["transactionId"], 1);
  EXPECT_FALSE(grouped[5].duplicate);
  EXPECT_TRUE(grouped[6].duplicate);  // same device + unique id + action: effect once
  EXPECT_FALSE(grouped[5].events.empty());
  // The redelivered copy publishes the stored events again, with the same ids.
  ASSERT_EQ(grouped[6].events.size(), grouped[5].events.size());
  EXPECT_EQ(grouped[6].events[0].fields["eventId"], grouped[5].events[0].fields["eventId"]);

  // Every table, every column. Left out, because they hold the wall-clock time of the
  // run rather than anything derived from the messages or the processor's clock:
  // schema_migrations.applied_at (when each store was created and migrated).
  const std::set<std::string> wall_clock = {"schema_migrations.applied_at"};
  store_.reset();
  other.reset();
  const Dump grouped_db = dump_database(path_, wall_clock);
  const Dump single_db = dump_database(other_path, wall_clock);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(other_path.string() + suffix);
  // The tables this scenario writes, so an empty comparison cannot pass for a real one.
  for (const char* table : {"chargers", "connectors", "transactions", "meter_values", "connector_status_history",
                            "processed_messages", "charger_data"}) {
    ASSERT_EQ(grouped_db.count(table), 1u) << table;
    EXPECT_FALSE(grouped_db.at(table).empty()) << table << " has no rows";
  }
  EXPECT_EQ(grouped_db.at("processed_messages").size(), all.size() - 1);  // the copy is not stored twice
  ASSERT_EQ(grouped_db.size(), single_db.size());
  for (const auto& [table, rows] : grouped_db) {
    ASSERT_EQ(single_db.count(table), 1u) << table;
    EXPECT_EQ(rows, single_db.at(table)) << "table " << table << " differs between group commit and one by one";
  }
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
  EXPECT_EQ(store_->list_chargers({}).total, 0);  // rolled back: the worker goes one by one
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
  EXPECT_EQ(store_->list_chargers({}).total, 0);
}

}  // namespace
}  // namespace genx::app
