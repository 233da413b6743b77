// Data retention on a real SQLite file (docs/operations.md "Data retention"): charger traffic of
// known ages through the business rules, then pruning passes with an injected "now":
// exactly the rows older than their retention go, data of open transactions stays,
// deletes come in batches, the retained horizon makes a too-early rebuild fail while a
// rebuild from the horizon gives the very figures it gave before pruning; and the
// `genx db prune` / `genx analytics rebuild` commands as an operator runs them.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "analytics/aggregator.hpp"
#include "app/retention.hpp"
#include "csms/processor.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::int64_t kHourMs = 3600LL * 1000;
const std::int64_t kNow = csms::parse_timestamp("2024-03-01T12:00:00Z").value();
const std::int64_t kOld = kNow - 40 * kDayMs;     // 2024-01-21T12:00Z: older than 30 days
const std::int64_t kRecent = kNow - 2 * kDayMs;   // kept by every retention below

class FixedClock final : public csms::Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return now_; }
  std::chrono::system_clock::time_point now_;
};

std::string at(std::int64_t ms) { return csms::format_timestamp(ms); }

// Every test runs on both backends (store_backends.hpp).
class RetentionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("genx-retention-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<testing::TestDatabase>(GetParam(), dir_);
    store_ = open_store(db_->url(), Schema::migrate);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  json send(const std::string& action, json payload, std::int64_t when) {
    csms::Envelope e;
    e.device_id = "CP1";
    e.message_type = action;
    e.unique_id = "u" + std::to_string(++sent_);
    e.payload = std::move(payload);
    e.timestamp = at(when);
    clock_.now_ = std::chrono::system_clock::time_point(std::chrono::milliseconds(when));
    csms::MessageProcessor processor(*store_, clock_, policy_);
    const auto outcome = processor.process(e);
    for (const auto& event : outcome.events) {
      bodies_.push_back(csms::serialize(event, at(when)));
      ids_.push_back("event-" + std::to_string(bodies_.size()));
    }
    if (when < kNow - 30 * kDayMs) ++old_messages_;
    return outcome.reply.result.value_or(json());
  }
  void status(int connector, const std::string& s, std::int64_t when) {
    send("StatusNotification",
         {{"connectorId", connector}, {"status", s}, {"errorCode", s == "Faulted" ? "GroundFailure" : "NoError"}, {"timestamp", at(when)}},
         when);
  }
  void meter(int connector, std::int64_t tx, std::int64_t when, const std::string& wh) {
    send("MeterValues",
         {{"connectorId", connector}, {"transactionId", tx},
          {"meterValue", json::array({{{"timestamp", at(when)},
                                       {"sampledValue", json::array({
                                           {{"value", wh}, {"measurand", "Energy.Active.Import.Register"}, {"unit", "Wh"}},
                                           {{"value", "7000"}, {"measurand", "Power.Active.Import"}, {"unit", "W"}}})}}})}},
         when);
  }
  std::int64_t start(int connector, std::int64_t when, int meter_start) {
    return send("StartTransaction", {{"connectorId", connector}, {"idTag", "TAG1"},
                                     {"meterStart", meter_start}, {"timestamp", at(when)}},
                when)["transactionId"].get<std::int64_t>();
  }

  // Old traffic (40 days ago): a finished session on connector 1, a session on connector
  // 2 that is still open; recent traffic (2 days ago): status reports and heartbeats.
  void drive() {
    send("BootNotification", {{"chargePointVendor", "Acme"}, {"chargePointModel", "F"}}, kOld);
    status(1, "Available", kOld);
    status(2, "Available", kOld);
    finished_tx_ = start(1, kOld + kHourMs, 1000);
    status(1, "Charging", kOld + kHourMs);
    meter(1, finished_tx_, kOld + kHourMs + kHourMs / 2, "4000");
    send("StopTransaction", {{"transactionId", finished_tx_}, {"meterStop", 9000}, {"reason", "Local"},
                             {"timestamp", at(kOld + 2 * kHourMs)}},
         kOld + 2 * kHourMs);
    status(1, "Finishing", kOld + 2 * kHourMs);
    status(1, "Faulted", kOld + 2 * kHourMs + kHourMs / 2);  // until the recent reports
    open_tx_ = start(2, kOld + 3 * kHourMs, 500);
    status(2, "Charging", kOld + 3 * kHourMs);
    meter(2, open_tx_, kOld + 4 * kHourMs, "2500");
    status(1, "Preparing", kRecent);
    status(1, "Available", kRecent + kHourMs);
    send("Heartbeat", json::object(), kRecent + 2 * kHourMs);
    meter(2, open_tx_, kRecent + 3 * kHourMs, "30000");
    analytics::Aggregator aggregator(*store_, analytics::TimeZone("UTC"));
    // The analytics processor saw the events when they happened.
    for (std::size_t i = 0; i < bodies_.size(); ++i) {
      const auto when = csms::parse_timestamp(json::parse(bodies_[i]).value("timestamp", "")).value_or(kNow);
      aggregator.process_batch({bodies_[i]}, {ids_[i]}, when);
    }
  }

  std::int64_t count(const std::string& sql) { return db_->scalar(sql); }

  static const PrunedTable& table(const PruneReport& r, const std::string& name) {
    for (const auto& t : r.tables) {
      if (t.table == name) return t;
    }
    throw std::runtime_error("no " + name + " in the report");
  }

  static RetentionPolicy thirty_days(int batch) {
    RetentionPolicy p;
    p.processed_messages_days = 30;
    p.message_log_days = 30;
    p.analytics_events_days = 30;
    p.meter_values_days = 30;
    p.status_history_days = 30;
    p.batch_rows = batch;
    return p;
  }

  json day_figures(const std::string& from_day) {
    api::StatsQuery q;
    q.bucket = "day";
    q.from = from_day;
    return store_->stats_series(q);
  }

  fs::path dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Store> store_;
  csms::Policy policy_;
  FixedClock clock_;
  std::vector<std::string> bodies_;
  std::vector<std::string> ids_;
  int sent_ = 0;
  int old_messages_ = 0;
  std::int64_t finished_tx_ = 0;
  std::int64_t open_tx_ = 0;
};

const std::string kCutoff = at(kNow - 30 * kDayMs);

INSTANTIATE_TEST_SUITE_P(Backends, RetentionTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

TEST_P(RetentionTest, RemovesExactlyTheOldRowsAndKeepsOpenTransactionsData) {
  drive();
  const auto messages = count("SELECT count(*) FROM processed_messages");
  const auto log = count("SELECT count(*) FROM charger_data");
  const auto recent_log = count("SELECT count(*) FROM charger_data WHERE timestamp >= '" + kCutoff + "'");
  const auto events = count("SELECT count(*) FROM analytics_processed_events");
  const auto old_events =
      count("SELECT count(*) FROM analytics_processed_events WHERE processed_at < '" + kCutoff + "'");
  ASSERT_GT(old_messages_, 5);
  ASSERT_GT(old_events, 0);
  ASSERT_LT(old_events, events);

  const auto dry = store_->prune(thirty_days(2), kNow, true);
  EXPECT_TRUE(dry.dry_run);
  EXPECT_EQ(count("SELECT count(*) FROM processed_messages"), messages);  // nothing removed
  EXPECT_EQ(count("SELECT count(*) FROM charger_data"), log);
  EXPECT_FALSE(store_->retained_horizon());

  const auto report = store_->prune(thirty_days(2), kNow, false);
  // Every old call's dedupe record and both of its log lines go; every recent one stays.
  EXPECT_EQ(table(report, "processed_messages").rows, old_messages_);
  EXPECT_EQ(count("SELECT count(*) FROM processed_messages"), messages - old_messages_);
  EXPECT_EQ(count("SELECT count(*) FROM processed_messages WHERE processed_at < '" + kCutoff + "'"), 0);
  EXPECT_EQ(table(report, "charger_data").rows, 2 * old_messages_);
  EXPECT_EQ(count("SELECT count(*) FROM charger_data"), recent_log);
  EXPECT_EQ(table(report, "analytics_processed_events").rows, old_events);
  EXPECT_EQ(count("SELECT count(*) FROM analytics_processed_events"), events - old_events);
  // Meter values: the finished session's (2 samples) go, the open session's all stay,
  // even the one 40 days old.
  EXPECT_EQ(table(report, "meter_values").rows, 2);
  EXPECT_EQ(count("SELECT count(*) FROM meter_values WHERE transaction_id = " + std::to_string(finished_tx_)), 0);
  EXPECT_EQ(count("SELECT count(*) FROM meter_values WHERE transaction_id = " + std::to_string(open_tx_)), 4);
  // Status history, connector 1: of Available, Charging, Finishing, Faulted (all old)
  // only the last stays, the status in force at the cutoff; connector 2: the old
  // Available goes, Charging of the open session stays.
  EXPECT_EQ(table(report, "connector_status_history").rows, 4);
  EXPECT_EQ(count("SELECT count(*) FROM connector_status_history WHERE connector_id = 1 AND at < '" + kCutoff + "'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM connector_status_history WHERE connector_id = 1 AND at < '" + kCutoff +
                  "' AND status = 'Faulted' AND at = '" + at(kOld + 2 * kHourMs + kHourMs / 2) + "'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM connector_status_history WHERE connector_id = 2"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM connector_status_history WHERE connector_id = 1 AND at >= '" + kCutoff + "'"), 2);
  // Transactions themselves are never pruned.
  EXPECT_EQ(count("SELECT count(*) FROM transactions"), 2);
  // The dry run counted exactly what the real pass removed.
  for (const auto& t : report.tables) EXPECT_EQ(table(dry, t.table).rows, t.rows) << t.table;
  EXPECT_EQ(dry.total(), report.total());

  // A second pass at the same time finds nothing more.
  EXPECT_EQ(store_->prune(thirty_days(2), kNow, false).total(), 0);
}

TEST_P(RetentionTest, DeletesInBatchesOfTheConfiguredSize) {
  drive();
  const auto report = store_->prune(thirty_days(3), kNow, false);
  for (const auto& t : report.tables) {
    ASSERT_GT(t.rows, 0) << t.table;
    // At most 3 rows per write transaction.
    EXPECT_GE(t.batches * 3, t.rows) << t.table;
  }
  EXPECT_EQ(table(report, "processed_messages").batches, (old_messages_ + 2) / 3);
  EXPECT_EQ(table(report, "meter_values").batches, 1);
  // Nothing old is left to find.
  EXPECT_EQ(store_->prune(thirty_days(3), kNow, true).total(), 0);
}

TEST_P(RetentionTest, OrderedTablesAreReadOldestFirstUntilABatchHasNothingOld) {
  auto insert = [&](const std::string& id, std::int64_t when) {
    db_->scalar("INSERT INTO processed_messages (device_id, unique_id, action, reply, processed_at) "
                "VALUES ('CP9', '" + id + "', 'Heartbeat', '[3]', '" + at(when) + "')");
  };
  // A row stamped a year ahead (a wrong clock) among old rows does not end the pass.
  insert("a", kOld);
  insert("b", kOld);
  insert("future", kNow + 365 * kDayMs);
  insert("c", kOld);
  insert("d", kOld);
  insert("e", kOld);
  // Recent rows, then one written days out of order (a DLQ replay): it waits for its
  // neighbours, the pass ends at the first batch with nothing old.
  insert("f", kRecent);
  insert("g", kRecent);
  insert("late", kOld);
  auto policy = thirty_days(2);
  const auto report = store_->prune(policy, kNow, false);
  EXPECT_EQ(table(report, "processed_messages").rows, 5);
  EXPECT_EQ(count("SELECT count(*) FROM processed_messages WHERE unique_id IN ('future', 'f', 'g', 'late')"), 4);
  EXPECT_EQ(count("SELECT count(*) FROM processed_messages"), 4);
}

TEST_P(RetentionTest, ZeroDaysKeepsForeverAndDefaultsKeepRebuildFacts) {
  drive();
  const auto meter_values = count("SELECT count(*) FROM meter_values");
  const auto statuses = count("SELECT count(*) FROM connector_status_history");
  RetentionPolicy keep;  // defaults: meter values and status history kept forever
  const auto report = store_->prune(keep, kNow, false);
  EXPECT_EQ(table(report, "meter_values").rows, 0);
  EXPECT_EQ(table(report, "meter_values").days, 0);
  EXPECT_EQ(count("SELECT count(*) FROM meter_values"), meter_values);
  EXPECT_EQ(count("SELECT count(*) FROM connector_status_history"), statuses);
  EXPECT_GT(table(report, "processed_messages").rows, 0);  // 14 days
  EXPECT_FALSE(store_->retained_horizon());
  EXPECT_NO_THROW(app::check_rebuild_horizon(store_->retained_horizon(), analytics::TimeZone("UTC"),
                                             kOld - 100 * kDayMs));
}

TEST_P(RetentionTest, RebuildRefusesBeforeTheHorizonAndMatchesFromIt) {
  drive();
  const analytics::TimeZone utc("UTC");
  analytics::Aggregator aggregator(*store_, utc);
  aggregator.rebuild(csms::parse_timestamp("2024-02-01T00:00:00Z").value(), kNow);
  const auto before = day_figures("2024-02-01");
  ASSERT_FALSE(before.empty());
  // Connector 1 is faulted from before the cutoff until the recent reports.
  EXPECT_EQ(before[0]["faultedMs"], kDayMs);

  store_->prune(thirty_days(2), kNow, false);
  const auto horizon = store_->retained_horizon();
  ASSERT_TRUE(horizon);
  EXPECT_EQ(at(horizon->from_ms), kCutoff);  // 2024-01-31T12:00:00.000Z

  try {
    app::check_rebuild_horizon(horizon, utc, csms::parse_timestamp("2024-01-31T00:00:00Z").value());
    FAIL() << "a rebuild from 2024-01-31 must be refused";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("--from 2024-01-31 is before the retained data"), std::string::npos) << message;
    EXPECT_NE(message.find("GENX_RETENTION_"), std::string::npos) << message;
    EXPECT_NE(message.find("the earliest possible --from is 2024-02-01"), std::string::npos) << message;
  }
  // An ISO time later that same day still recomputes the whole day: refused too.
  EXPECT_THROW(app::check_rebuild_horizon(horizon, utc, csms::parse_timestamp("2024-01-31T18:00:00Z").value()),
               std::invalid_argument);
  // From the horizon's next day on, the rebuild reads only retained facts and gives the
  // very figures it gave before pruning (the status in force at the cutoff was kept).
  const auto from = csms::parse_timestamp("2024-02-01T00:00:00Z").value();
  EXPECT_NO_THROW(app::check_rebuild_horizon(horizon, utc, from));
  aggregator.rebuild(from, kNow);
  EXPECT_EQ(day_figures("2024-02-01"), before);
}

TEST_P(RetentionTest, TimeZoneMovesTheEarliestRebuildDay) {
  // Horizon 2024-01-31T12:00Z; in Berlin (UTC+1) 2024-02-01 starts at 2024-01-31T23:00Z.
  const RetainedHorizon horizon{"meter_values", csms::parse_timestamp("2024-01-31T23:30:00Z").value()};
  const analytics::TimeZone berlin("Europe/Berlin");
  try {
    app::check_rebuild_horizon(horizon, berlin, csms::parse_timestamp("2024-02-01T00:00:00+01:00").value());
    FAIL() << "2024-02-01 in Berlin starts before the horizon";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("earliest possible --from is 2024-02-02"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("GENX_RETENTION_METER_VALUES_DAYS"), std::string::npos) << e.what();
  }
}

// The commands, run as an operator runs them (the real binary, its real clock: every
// row of 2024 is older than any retention).
std::string run(const std::string& command, int& status) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  char buffer[512];
  while (p != nullptr && std::fgets(buffer, sizeof buffer, p) != nullptr) out += buffer;
  status = p == nullptr ? -1 : ::pclose(p);
  return out;
}

TEST_P(RetentionTest, DbPruneCommandPrintsWhatItRemovesPerTable) {
  drive();
  store_.reset();
  const auto messages = count("SELECT count(*) FROM processed_messages");
  const auto meter_values = count("SELECT count(*) FROM meter_values");
  // From the test's own directory (no .env there), with nothing of this shell's environment.
  const std::string env = "cd " + dir_.string() + " && env -i DATABASE_URL=" + db_->url() + " ";
  int status = 0;
  const auto dry = run(env + GENX_BINARY " db prune --dry-run", status);
  EXPECT_EQ(status, 0) << dry;
  EXPECT_NE(dry.find("would remove"), std::string::npos) << dry;
  char line[128];
  std::snprintf(line, sizeof line, "processed_messages %22lld  14 days (before ",
                static_cast<long long>(messages));
  EXPECT_NE(dry.find(line), std::string::npos) << dry;
  std::snprintf(line, sizeof line, "meter_values %28d  kept forever", 0);
  EXPECT_NE(dry.find(line), std::string::npos) << dry;
  EXPECT_NE(dry.find("(dry run: nothing removed)"), std::string::npos) << dry;
  EXPECT_EQ(count("SELECT count(*) FROM processed_messages"), messages);

  const auto real = run(env + GENX_BINARY " db prune", status);
  EXPECT_EQ(status, 0) << real;
  std::snprintf(line, sizeof line, "processed_messages %22lld  14 days", static_cast<long long>(messages));
  EXPECT_NE(real.find(line), std::string::npos) << real;
  EXPECT_EQ(count("SELECT count(*) FROM processed_messages"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM meter_values"), meter_values);

  // With meter values pruned, a rebuild from before them is refused with exit code 1.
  const auto meter = run(env + "GENX_RETENTION_METER_VALUES_DAYS=1 " GENX_BINARY " db prune", status);
  EXPECT_EQ(status, 0) << meter;
  EXPECT_EQ(count("SELECT count(*) FROM meter_values"), 4);  // the open session's only
  const auto rebuild = run(env + GENX_BINARY " analytics rebuild --from 2024-01-01", status);
  EXPECT_NE(status, 0) << rebuild;
  EXPECT_NE(rebuild.find("--from 2024-01-01 is before the retained data: meter_values before "),
            std::string::npos) << rebuild;
  EXPECT_NE(rebuild.find("GENX_RETENTION_METER_VALUES_DAYS"), std::string::npos) << rebuild;
}

}  // namespace
}  // namespace genx::store
