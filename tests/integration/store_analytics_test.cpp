// Analytics on a real SQLite file: charger messages through the business rules, their
// events through the aggregator; every figure checked to the Wh, ms and cent; replay
// and rebuild give the very same rows (issue 7).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "analytics/aggregator.hpp"
#include "csms/processor.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1705320000000;  // 2024-01-15T12:00:00Z

class ArrivalClock final : public csms::Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return now_; }
  std::chrono::system_clock::time_point now_;
};

class AnalyticsStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("genx-analytics-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<testing::TestDatabase>(GetParam(), dir_);
    store_ = open_store(db_->url(), Schema::migrate);
    policy_.tariff = csms::Tariff{300000, 50000, 500000, "EUR"};  // 0.30/kWh 0.05/min 0.50
  }
  void TearDown() override {
    store_.reset();
    extra_db_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  // A charger message received at `at`; its events are kept as published bodies.
  json send(const std::string& action, json payload, const std::string& at,
            const std::string& device = "CP1") {
    csms::Envelope e;
    e.device_id = device;
    e.message_type = action;
    e.unique_id = "u" + std::to_string(++counter_);
    e.payload = std::move(payload);
    e.timestamp = at;
    clock_.now_ = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(csms::parse_timestamp(at).value()));
    csms::MessageProcessor processor(*store_, clock_, policy_);
    const auto outcome = processor.process(e);
    for (const auto& event : outcome.events) {
      bodies_.push_back(csms::serialize(event, at));
      ids_.push_back("amqp-" + std::to_string(bodies_.size()));
    }
    return outcome.reply.result.value_or(json());
  }

  void status(int connector, const std::string& s, const std::string& at,
              const std::string& device = "CP1") {
    send("StatusNotification",
         {{"connectorId", connector}, {"status", s}, {"errorCode", s == "Faulted" ? "GroundFailure" : "NoError"},
          {"timestamp", at}},
         at, device);
  }

  // The known day: one session of CP1 across an hour boundary, a fault, CP2 idle.
  void drive_known_day() {
    send("BootNotification", {{"chargePointVendor", "Acme"}, {"chargePointModel", "F"}},
         "2024-01-15T09:00:00Z");
    status(1, "Available", "2024-01-15T09:00:00Z");
    status(1, "Preparing", "2024-01-15T10:00:00Z");
    const auto tx = send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG1"},
                                              {"meterStart", 1000},
                                              {"timestamp", "2024-01-15T10:05:00Z"}},
                         "2024-01-15T10:05:00Z")["transactionId"].get<std::int64_t>();
    status(1, "Charging", "2024-01-15T10:05:00Z");
    send("MeterValues",
         {{"connectorId", 1}, {"transactionId", tx},
          {"meterValue", json::array({{{"timestamp", "2024-01-15T10:35:00Z"},
                                       {"sampledValue", json::array({
                                           {{"value", "4000"}, {"measurand", "Energy.Active.Import.Register"}, {"unit", "Wh"}},
                                           {{"value", "7.2"}, {"measurand", "Power.Active.Import"}, {"unit", "kW"}}})}}})}},
         "2024-01-15T10:35:00Z");
    send("MeterValues",
         {{"connectorId", 1}, {"transactionId", tx},
          {"meterValue", json::array({{{"timestamp", "2024-01-15T11:10:00Z"},
                                       {"sampledValue", json::array({
                                           {{"value", "11000"}, {"measurand", "Power.Active.Import"}, {"unit", "W"}}})}}})}},
         "2024-01-15T11:10:00Z");
    status(1, "Finishing", "2024-01-15T11:35:00Z");
    send("StopTransaction", {{"transactionId", tx}, {"meterStop", 9000}, {"reason", "Local"},
                             {"timestamp", "2024-01-15T11:35:00Z"}},
         "2024-01-15T11:35:00Z");
    status(1, "Available", "2024-01-15T11:40:00Z");
    status(0, "Faulted", "2024-01-15T12:00:00Z");
    status(0, "Available", "2024-01-15T12:30:00Z");
    send("BootNotification", {{"chargePointVendor", "Acme"}, {"chargePointModel", "F"}},
         "2024-01-15T09:00:00Z", "CP2");
    status(1, "Available", "2024-01-15T09:00:00Z", "CP2");
  }

  analytics::BatchResult feed(std::size_t batch = 3) {
    analytics::Aggregator aggregator(*store_, analytics::TimeZone(zone_));
    analytics::BatchResult total;
    for (std::size_t i = 0; i < bodies_.size(); i += batch) {
      const auto end = std::min(bodies_.size(), i + batch);
      const auto r = aggregator.process_batch({bodies_.begin() + i, bodies_.begin() + end},
                                              {ids_.begin() + i, ids_.begin() + end},
                                              1705320000000);
      total.counted += r.counted;
      total.duplicates += r.duplicates;
      total.ignored += r.ignored;
      EXPECT_TRUE(r.rejected.empty());
    }
    return total;
  }

  json snapshot() {
    api::StatsQuery hour;
    api::StatsQuery day;
    day.bucket = "day";
    return {{"hour", store_->stats_series(hour)},
            {"day", store_->stats_series(day)},
            {"chargers", store_->stats_by_charger(hour)},
            {"chargersDay", store_->stats_by_charger(day)}};
  }

  static json hour_row(const json& rows, const std::string& bucket) {
    for (const auto& r : rows) {
      if (r["bucket"] == bucket) return r;
    }
    return json();
  }

  fs::path dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<testing::TestDatabase> extra_db_;  // a second database, when a test needs one
  std::unique_ptr<Store> store_;
  csms::Policy policy_;
  ArrivalClock clock_;
  std::string zone_ = "UTC";
  std::vector<std::string> bodies_;
  std::vector<std::string> ids_;
  int counter_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, AnalyticsStoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

TEST_P(AnalyticsStoreTest, KnownSessionGivesExactFiguresPerHourDayAndCharger) {
  drive_known_day();
  const auto result = feed();
  EXPECT_GT(result.counted, 0);
  EXPECT_EQ(result.duplicates, 0);

  const auto tx = store_->transaction(1).value();
  EXPECT_EQ(tx["energyWh"], 8000);
  // 8 kWh * 0.30 = 2.40; 90 min * 0.05 = 4.50; fee 0.50 -> 7.40
  EXPECT_EQ(tx["costMinor"], 740);
  EXPECT_EQ(tx["cost"], "7.40");
  EXPECT_EQ(tx["currency"], "EUR");

  const auto s = snapshot();
  // Energy: 0 -> 3000 Wh from 10:05 to 10:35, 3000 -> 8000 from 10:35 to 11:35 (linear):
  // by 11:00 3000 + floor(5000 * 25/60) = 5083.
  const json h10 = hour_row(s["hour"], "2024-01-15T10:00:00.000Z");
  const json h11 = hour_row(s["hour"], "2024-01-15T11:00:00.000Z");
  const json h12 = hour_row(s["hour"], "2024-01-15T12:00:00.000Z");
  ASSERT_FALSE(h10.is_null()) << s.dump(1);
  EXPECT_EQ(h10["energyWh"], 5083);
  EXPECT_EQ(h11["energyWh"], 2917);
  EXPECT_EQ(h10["sessionsStarted"], 1);
  EXPECT_EQ(h10["sessionsCompleted"], 0);
  EXPECT_EQ(h11["sessionsCompleted"], 1);
  EXPECT_EQ(h11["revenueMinor"], 740);
  EXPECT_EQ(h10["sessionMs"], 55 * 60000);
  EXPECT_EQ(h11["sessionMs"], 35 * 60000);
  EXPECT_EQ(h10["chargingMs"], 55 * 60000);
  EXPECT_EQ(h11["chargingMs"], 35 * 60000);
  EXPECT_EQ(h10["occupiedMs"], 60 * 60000);   // Preparing 10:00 .. 
  EXPECT_EQ(h11["occupiedMs"], 40 * 60000);   // .. Finishing until 11:40
  EXPECT_EQ(h10["peakPowerW"], 7200.0);
  EXPECT_EQ(h11["peakPowerW"], 11000.0);
  EXPECT_EQ(h12["faults"], 1);
  EXPECT_EQ(h12["faultedMs"], 30 * 60000);

  ASSERT_EQ(s["day"].size(), 1u);
  const json d = s["day"][0];
  EXPECT_EQ(d["bucket"], "2024-01-15");
  EXPECT_EQ(d["energyWh"], 8000);
  EXPECT_EQ(d["sessionsStarted"], 1);
  EXPECT_EQ(d["sessionsCompleted"], 1);
  EXPECT_EQ(d["revenueMinor"], 740);
  EXPECT_EQ(d["chargingMs"], 90 * 60000);
  EXPECT_EQ(d["occupiedMs"], 100 * 60000);
  EXPECT_EQ(d["faults"], 1);

  ASSERT_EQ(s["chargers"].size(), 2u);
  EXPECT_EQ(s["chargers"][0]["chargePointId"], "CP1");
  EXPECT_EQ(s["chargers"][0]["connectors"], 1);
  EXPECT_EQ(s["chargers"][0]["energyWh"], 8000);
  EXPECT_EQ(s["chargers"][1]["chargePointId"], "CP2");
  EXPECT_EQ(s["chargers"][1]["energyWh"], 0);
  EXPECT_EQ(store_->stats_connector_count(std::nullopt), 2);
  api::StatsQuery all;
  EXPECT_EQ(store_->stats_unique_id_tags(all), 1);
}

TEST_P(AnalyticsStoreTest, ReplayingEveryEventChangesNothing) {
  drive_known_day();
  feed(4);
  const auto before = snapshot();
  const auto again = feed(5);  // same events, other batch boundaries
  EXPECT_EQ(again.counted, 0);
  EXPECT_EQ(again.duplicates, static_cast<int>(bodies_.size()));
  EXPECT_EQ(snapshot(), before);
}

TEST_P(AnalyticsStoreTest, RebuildGivesIdenticalRowsAndRecoversLostEvents) {
  drive_known_day();
  feed();
  const auto live = snapshot();
  analytics::Aggregator aggregator(*store_, analytics::TimeZone(zone_));
  EXPECT_GT(aggregator.rebuild(csms::parse_timestamp("2024-01-01T00:00:00Z").value(), kNow), 0);
  EXPECT_EQ(snapshot(), live);
  // Rebuilding only from the next day leaves the 15th as it was.
  aggregator.rebuild(csms::parse_timestamp("2024-01-16T00:00:00Z").value(), kNow);
  EXPECT_EQ(snapshot(), live);
}

TEST_P(AnalyticsStoreTest, RebuildWithoutAnyEventGivesTheLiveFigures) {
  drive_known_day();
  feed();
  const auto live = snapshot();
  // A second database that saw the same charger traffic but never an event.
  fs::create_directories(dir_ / "lost");
  extra_db_ = std::make_unique<testing::TestDatabase>(GetParam(), dir_ / "lost");
  auto lost = open_store(extra_db_->url(), Schema::migrate);
  std::swap(store_, lost);
  bodies_.clear();
  ids_.clear();
  counter_ = 0;
  drive_known_day();
  analytics::Aggregator aggregator(*store_, analytics::TimeZone(zone_));
  aggregator.rebuild(csms::parse_timestamp("2024-01-15T00:00:00Z").value(), kNow);
  EXPECT_EQ(snapshot(), live);
}

TEST_P(AnalyticsStoreTest, ChargerClockYearsAheadDoesNotMakeRebuildEndless) {
  drive_known_day();
  send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG9"}, {"meterStart", 0},
                            {"timestamp", "2099-01-01T00:00:00Z"}},
       "2024-01-15T12:00:00Z", "CP2");
  send("StopTransaction", {{"transactionId", 2}, {"meterStop", 10},
                           {"timestamp", "2099-01-01T01:00:00Z"}},
       "2024-01-15T12:01:00Z", "CP2");
  const auto result = feed();
  EXPECT_TRUE(result.rejected.empty());
  analytics::Aggregator aggregator(*store_, analytics::TimeZone(zone_));
  // CP1: the 15th (its last fact); CP2: the 15th to the day after now, not to 2099.
  EXPECT_EQ(aggregator.rebuild(csms::parse_timestamp("2024-01-15T00:00:00Z").value(), kNow), 3);
}

TEST_P(AnalyticsStoreTest, DailyRowsFollowTheOperatorsTimeZone) {
  zone_ = "America/New_York";  // UTC-5 in January: the 15th local ends at 05:00Z on the 16th
  drive_known_day();
  send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG2"}, {"meterStart", 0},
                            {"timestamp", "2024-01-16T03:00:00Z"}},
       "2024-01-16T03:00:00Z", "CP2");
  send("StopTransaction", {{"transactionId", 2}, {"meterStop", 4000},
                           {"timestamp", "2024-01-16T07:00:00Z"}},
       "2024-01-16T07:00:00Z", "CP2");
  feed();
  const auto s = snapshot();
  ASSERT_EQ(s["day"].size(), 2u) << s["day"].dump(1);
  EXPECT_EQ(s["day"][0]["bucket"], "2024-01-15");
  EXPECT_EQ(s["day"][0]["bucketStart"], "2024-01-15T05:00:00.000Z");
  EXPECT_EQ(s["day"][0]["energyWh"], 8000 + 2000);  // CP2's 03:00-05:00Z half
  EXPECT_EQ(s["day"][1]["bucket"], "2024-01-16");
  EXPECT_EQ(s["day"][1]["energyWh"], 2000);
  EXPECT_EQ(s["day"][1]["sessionsCompleted"], 1);
  analytics::Aggregator aggregator(*store_, analytics::TimeZone(zone_));
  aggregator.rebuild(csms::parse_timestamp("2024-01-01T00:00:00Z").value(), kNow);
  EXPECT_EQ(snapshot(), s);
}

}  // namespace
}  // namespace genx::store
