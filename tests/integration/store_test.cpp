#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include <sqlite3.h>

#include "csms/processor.hpp"
#include "store/open_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class FixedClock final : public csms::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1705314600000));
  }
};

TransactionFilter filter(std::optional<std::string> charger, std::optional<bool> active) {
  api::TransactionFilter f;
  f.charger = std::move(charger);
  f.active = active;
  return f;
}

// Every test runs on each backend (store_backends.hpp): its own SQLite file or its own
// PostgreSQL database.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("genx-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<testing::TestDatabase>(GetParam(), dir_);
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  // A connection of the store to this test's database, migrated.
  std::unique_ptr<Store> open() const { return open_store(db_->url(), Schema::migrate); }
  const std::string& url() const { return db_->url(); }
  std::int64_t count(const std::string& sql) const { return db_->scalar(sql); }
  std::string db_path() const { return (dir_ / "genx.db").string(); }

  csms::Outcome send(Store& store, const std::string& action, json payload,
                     const std::string& unique_id, const std::string& device = "CP1",
                     csms::Policy policy = {}) {
    csms::Envelope e;
    e.device_id = device;
    e.message_type = action;
    e.unique_id = unique_id;
    e.payload = std::move(payload);
    e.timestamp = "2024-01-15T10:29:59.000Z";
    e.raw_data = json::array({2, unique_id, action, e.payload}).dump();
    csms::MessageProcessor processor(store, clock_, policy);
    return processor.process(e);
  }

  // send, retrying a unit the database refused for now (TransientStoreError: busy, a
  // serialization failure), as the worker's retry path does.
  csms::Outcome send_retrying(Store& store, const std::string& action, const json& payload,
                              const std::string& unique_id, const std::string& device = "CP1") {
    for (int attempt = 1;; ++attempt) {
      try {
        return send(store, action, payload, unique_id, device);
      } catch (const TransientStoreError&) {
        if (attempt >= 1000) throw;
      }
    }
  }

  fs::path dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  FixedClock clock_;
};

// Behaviour of the SQLite backend only (its file, WAL, busy timeout, URL forms).
class SqliteOnlyTest : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteOnlyTest, ::testing::Values("sqlite"), testing::backend_name);

constexpr int kLatestSchemaVersion = 17;  // store/sqlite/migrations/0017_*.sql
constexpr int kMigrationFiles = 17;

TEST_P(StoreTest, MigrationsApplyOnceAndReopenIsIdempotent) {
  {
    auto store = open();
    EXPECT_EQ(store->schema_version(), kLatestSchemaVersion);
    store->register_charger("CP1");
  }
  auto again = open();
  EXPECT_EQ(again->schema_version(), kLatestSchemaVersion);
  ASSERT_TRUE(again->charger("CP1").has_value());  // data survived the reopen
}

// Runs one statement with the sqlite3 C API; the first column of the first row (below).
std::int64_t sql(const std::string& path, const std::string& statement);

TEST_P(StoreTest, OnlyMigratingOpensMigrateAndTheOthersRefuseABehindSchema) {
  EXPECT_EQ(latest_schema_version(), kLatestSchemaVersion);
  const std::string tables = GetParam() == "sqlite"
                                 ? "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                 : "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'";
  try {
    open_read_store(url());
    FAIL() << "the read port opened a database without schema";
  } catch (const SchemaBehindError& e) {
    EXPECT_EQ(e.have, 0);
    EXPECT_EQ(e.need, kLatestSchemaVersion);
    EXPECT_NE(std::string(e.what()).find("genx db migrate"), std::string::npos);
  }
  EXPECT_THROW(open_token_store(url()), SchemaBehindError);
  EXPECT_THROW(open_credential_store(url()), SchemaBehindError);
  EXPECT_THROW(open_analytics_store(url()), SchemaBehindError);
  EXPECT_THROW(open_command_store(url()), SchemaBehindError);
  EXPECT_THROW(open_admin_store(url()), SchemaBehindError);
  EXPECT_THROW(open_site_store(url()), SchemaBehindError);
  // Refusing created no table: the database is still at version 0.
  EXPECT_EQ(count(tables), 0);

  // The write port (the ocpp-worker's) migrates a fresh database itself; genx db migrate
  // (migrate_database) finds nothing left to do.
  open_write_store(url());
  EXPECT_EQ(open_admin_store(url())->schema_version(), kLatestSchemaVersion);
  EXPECT_EQ(migrate_database(url()), kLatestSchemaVersion);
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), kMigrationFiles);
  open_read_store(url())->ping();
}

TEST_P(StoreTest, ADuplicateGetsTheStoredEventsBackFromTheDatabase) {
  auto store = open();
  send(*store, "BootNotification", {{"chargePointVendor", "V"}, {"chargePointModel", "M"}}, "b1");
  const auto first = send(*store, "StartTransaction",
                          {{"connectorId", 1}, {"idTag", "T"}, {"meterStart", 0},
                           {"timestamp", "2024-01-15T10:00:00Z"}},
                          "s1");
  ASSERT_FALSE(first.events.empty());
  // Reopened, as a new worker after a crash would.
  store.reset();
  store = open();
  const auto again = send(*store, "StartTransaction",
                          {{"connectorId", 1}, {"idTag", "T"}, {"meterStart", 0},
                           {"timestamp", "2024-01-15T10:00:00Z"}},
                          "s1");
  EXPECT_TRUE(again.duplicate);
  ASSERT_EQ(again.events.size(), first.events.size());
  EXPECT_EQ(again.events[0].type, first.events[0].type);
  EXPECT_EQ(again.events[0].fields, first.events[0].fields);
  EXPECT_EQ(again.events_timestamp, first.events_timestamp);
  // A message without events stores none (NULL) and gets none back.
  send(*store, "Heartbeat", json::object(), "h1");
  const auto heartbeat = send(*store, "Heartbeat", json::object(), "h1");
  EXPECT_TRUE(heartbeat.duplicate);
  EXPECT_TRUE(heartbeat.events.empty());
}

TEST_P(StoreTest, TwoProcessesOpeningAFreshFileAtOnceBothSucceed) {
  auto open_one = [&] { return open()->schema_version(); };
  auto a = std::async(std::launch::async, open_one);
  auto b = std::async(std::launch::async, open_one);
  EXPECT_EQ(a.get(), kLatestSchemaVersion);
  EXPECT_EQ(b.get(), kLatestSchemaVersion);
}

TEST_P(StoreTest, ExceptionRollsBackTheWholeUnitOfWork) {
  auto store = open();
  EXPECT_THROW(store->in_transaction([](csms::UnitOfWork& uow) {
    uow.touch_charger("CP1", "2024-01-15T10:00:00.000Z");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_FALSE(store->charger("CP1").has_value());
  // the connection is usable afterwards
  store->in_transaction(
      [](csms::UnitOfWork& uow) { uow.touch_charger("CP1", "2024-01-15T10:00:00.000Z"); });
  EXPECT_TRUE(store->charger("CP1").has_value());
}

// Every message touches its charger: it is created on the first, and its lastSeenAt only
// moves forward (a message received earlier but processed later leaves it).
TEST_P(StoreTest, TouchChargerCreatesOnceAndMovesLastSeenForwardOnly) {
  auto store = open();
  auto touch = [&](const std::string& identity, const std::string& at) {
    std::int64_t id = 0;
    store->in_transaction([&](csms::UnitOfWork& uow) { id = uow.touch_charger(identity, at); });
    return id;
  };
  auto last_seen = [&](const std::string& identity) { return store->charger(identity)->at("lastSeenAt"); };
  const auto id = touch("CP1", "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(last_seen("CP1"), "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(touch("CP1", "2024-01-15T09:00:00.000Z"), id);
  EXPECT_EQ(last_seen("CP1"), "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(touch("CP1", "2024-01-15T10:00:00.000Z"), id);
  EXPECT_EQ(touch("CP1", "2024-01-15T11:00:00.000Z"), id);
  EXPECT_EQ(last_seen("CP1"), "2024-01-15T11:00:00.000Z");
  // A pre-registered charger has not been seen until its first message.
  store->register_charger("CP2");
  EXPECT_TRUE(last_seen("CP2").is_null());
  const auto id2 = touch("CP2", "2024-01-15T08:00:00.000Z");
  EXPECT_NE(id2, id);
  EXPECT_EQ(last_seen("CP2"), "2024-01-15T08:00:00.000Z");
  EXPECT_EQ(count("SELECT count(*) FROM chargers"), 2);
}

TEST_P(StoreTest, TwoConnectionsWritingConcurrentlyLoseNoUpdate) {
  auto setup = open();
  std::int64_t charger_id = 0;
  setup->in_transaction([&](csms::UnitOfWork& uow) {
    charger_id = uow.touch_charger("CP1", "2024-01-15T10:00:00.000Z");
  });
  constexpr int kPerThread = 150;
  // Read-modify-write of one counter (kept in the connector's info) from two connections:
  // a lost update would leave the counter below 2 * kPerThread.
  auto writer = [&] {
    auto store = open();
    for (int i = 0; i < kPerThread; ++i) {
      // A unit the database refuses for now (SQLite busy; PostgreSQL serialization
      // failure) is retried whole, as the worker does.
      for (int attempt = 1;; ++attempt) {
        try {
          store->in_transaction([&](csms::UnitOfWork& uow) {
            const auto current = uow.find_connector_status(charger_id, 1);
            const int count = current && current->info ? std::stoi(*current->info) : 0;
            csms::ConnectorStatus next{1, "Available", "NoError", std::to_string(count + 1),
                                       std::nullopt, "2024-01-15T10:00:00.000Z"};
            uow.upsert_connector_status(charger_id, next);
            uow.append_message_log({"CP1", "in", "Test", std::to_string(i), "{}", "x"});
          });
          break;
        } catch (const TransientStoreError&) {
          if (attempt >= 1000) throw;
        }
      }
    }
  };
  auto a = std::async(std::launch::async, writer);
  auto b = std::async(std::launch::async, writer);
  ASSERT_NO_THROW(a.get());
  ASSERT_NO_THROW(b.get());
  const auto charger = setup->charger("CP1");
  ASSERT_TRUE(charger.has_value());
  EXPECT_EQ(charger->at("connectors").at(0).at("info"), std::to_string(2 * kPerThread));
}

TEST_P(SqliteOnlyTest, LockHeldBeyondBusyTimeoutIsTransient) {
  auto holder = open();
  auto waiter = open_sqlite_store(db_path(), SqliteOptions{.busy_timeout_ms = 100});
  std::promise<void> locked;
  std::promise<void> release;
  auto release_future = release.get_future();
  auto hold = std::async(std::launch::async, [&] {
    holder->in_transaction([&](csms::UnitOfWork& uow) {
      uow.touch_charger("CP1", "2024-01-15T10:00:00.000Z");
      locked.set_value();
      release_future.wait();
    });
  });
  locked.get_future().wait();
  EXPECT_THROW(waiter->in_transaction([](csms::UnitOfWork& uow) {
    uow.touch_charger("CP2", "2024-01-15T10:00:00.000Z");
  }),
               TransientStoreError);
  release.set_value();
  hold.get();
  // once the lock is gone, the same unit of work succeeds (what the worker's retry does)
  waiter->in_transaction(
      [](csms::UnitOfWork& uow) { uow.touch_charger("CP2", "2024-01-15T10:00:00.000Z"); });
  EXPECT_TRUE(waiter->charger("CP1").has_value());
  EXPECT_TRUE(waiter->charger("CP2").has_value());
}

TEST_P(StoreTest, ChargerJsonShape) {
  auto store = open();
  send(*store, "BootNotification",
       {{"chargePointVendor", "Acme"}, {"chargePointModel", "Fast-50"},
        {"chargePointSerialNumber", "SN-1"}, {"firmwareVersion", "1.2.3"}},
       "b1");
  send(*store, "StatusNotification",
       {{"connectorId", 1}, {"status", "Faulted"}, {"errorCode", "GroundFailure"},
        {"info", "leak"}, {"vendorErrorCode", "E42"}, {"timestamp", "2024-01-15T10:00:00Z"}},
       "s1");
  send(*store, "StatusNotification",
       {{"connectorId", 0}, {"status", "Available"}, {"errorCode", "NoError"}}, "s0");

  const auto charger = store->charger("CP1");
  ASSERT_TRUE(charger.has_value());
  const json& c = *charger;
  EXPECT_TRUE(c.at("id").is_number_integer());
  EXPECT_EQ(c.at("chargePointId"), "CP1");
  EXPECT_EQ(c.at("vendor"), "Acme");
  EXPECT_EQ(c.at("model"), "Fast-50");
  EXPECT_EQ(c.at("serialNumber"), "SN-1");
  EXPECT_EQ(c.at("firmwareVersion"), "1.2.3");
  EXPECT_EQ(c.at("registrationStatus"), "Accepted");
  EXPECT_EQ(c.at("lastBootAt"), "2024-01-15T10:29:59.000Z");
  EXPECT_EQ(c.at("lastSeenAt"), "2024-01-15T10:29:59.000Z");
  ASSERT_EQ(c.at("connectors").size(), 2u);
  EXPECT_EQ(c.at("connectors")[0],
            json::parse(R"({"connectorId":0,"status":"Available","errorCode":"NoError","info":null,
                            "vendorErrorCode":null,"updatedAt":"2024-01-15T10:29:59.000Z"})"));
  EXPECT_EQ(c.at("connectors")[1],
            json::parse(R"({"connectorId":1,"status":"Faulted","errorCode":"GroundFailure","info":"leak",
                            "vendorErrorCode":"E42","updatedAt":"2024-01-15T10:00:00.000Z"})"));

  EXPECT_EQ(c.at("status"), "Faulted");  // the most urgent of its connectors
  const auto all = store->list_chargers({});
  ASSERT_EQ(all.items.size(), 1u);
  EXPECT_EQ(all.total, 1);
  EXPECT_EQ(all.items[0], c);
  EXPECT_FALSE(store->charger("NOPE").has_value());
}

TEST_P(StoreTest, FullChargingSession) {
  auto store = open();
  store->upsert_id_tag("TAG1", "Accepted", "2030-01-01T00:00:00Z", std::nullopt);
  EXPECT_EQ(send(*store, "BootNotification",
                 {{"chargePointVendor", "Acme"}, {"chargePointModel", "Fast-50"}}, "1")
                .reply.result->at("status"),
            "Accepted");
  send(*store, "StatusNotification",
       {{"connectorId", 1}, {"status", "Preparing"}, {"errorCode", "NoError"}}, "2");
  const auto auth = send(*store, "Authorize", {{"idTag", "TAG1"}}, "3");
  EXPECT_EQ(auth.reply.result->at("idTagInfo"),
            json::parse(R"({"status":"Accepted","expiryDate":"2030-01-01T00:00:00.000Z"})"));
  const auto started = send(*store, "StartTransaction",
                            {{"connectorId", 1}, {"idTag", "TAG1"}, {"meterStart", 1000},
                             {"timestamp", "2024-01-15T10:00:00Z"}},
                            "4");
  const auto id = started.reply.result->at("transactionId").get<std::int64_t>();
  EXPECT_GT(id, 0);

  auto active = store->list_transactions(filter(std::nullopt, true));
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].at("id"), id);
  EXPECT_TRUE(active[0].at("active").get<bool>());
  EXPECT_TRUE(active[0].at("energyWh").is_null());
  EXPECT_TRUE(active[0].at("meterStop").is_null());

  send(*store, "MeterValues", json::parse(R"({"connectorId":1,"transactionId":)" +
                                          std::to_string(id) + R"(,"meterValue":[
        {"timestamp":"2024-01-15T10:15:00Z","sampledValue":[
          {"value":"4.2","measurand":"Energy.Active.Import.Register","unit":"kWh","context":"Sample.Periodic"},
          {"value":"11000","measurand":"Power.Active.Import","unit":"W","phase":"L1","location":"Outlet","format":"Raw"}]}]})"),
       "5");
  const auto stopped = send(*store, "StopTransaction",
                            {{"transactionId", id}, {"meterStop", 9500}, {"idTag", "TAG1"},
                             {"reason", "EVDisconnected"}, {"timestamp", "2024-01-15T10:40:00Z"}},
                            "6");
  EXPECT_EQ(stopped.reply.result->at("idTagInfo").at("status"), "Accepted");
  ASSERT_EQ(stopped.events.size(), 2u);

  const json list = store->list_transactions(filter("CP1", std::nullopt));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0].contains("meterValues"));
  EXPECT_TRUE(store->list_transactions(filter(std::nullopt, true)).empty());
  EXPECT_TRUE(store->list_transactions(filter("OTHER", std::nullopt)).empty());

  const auto t = store->transaction(id);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->at("id"), id);
  EXPECT_EQ(t->at("chargePointId"), "CP1");
  EXPECT_EQ(t->at("connectorId"), 1);
  EXPECT_EQ(t->at("idTag"), "TAG1");
  EXPECT_EQ(t->at("meterStart"), 1000);
  EXPECT_EQ(t->at("meterStop"), 9500);
  EXPECT_EQ(t->at("energyWh"), 8500);
  EXPECT_EQ(t->at("startedAt"), "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(t->at("stoppedAt"), "2024-01-15T10:40:00.000Z");
  EXPECT_EQ(t->at("stopReason"), "EVDisconnected");
  EXPECT_FALSE(t->at("active").get<bool>());
  ASSERT_EQ(t->at("meterValues").size(), 2u);
  EXPECT_EQ(t->at("meterValues")[0],
            json::parse(R"({"timestamp":"2024-01-15T10:15:00.000Z","measurand":"Energy.Active.Import.Register",
                            "value":"4.2","unit":"kWh","phase":null,"context":"Sample.Periodic",
                            "location":null,"format":null})"));
  EXPECT_EQ(t->at("meterValues")[1].at("phase"), "L1");
  EXPECT_FALSE(store->transaction(id + 1000).has_value());

  // A redelivered StopTransaction answers the same and changes nothing.
  const auto redelivered = send(*store, "StopTransaction",
                                {{"transactionId", id}, {"meterStop", 9999},
                                 {"timestamp", "2024-01-15T11:00:00Z"}},
                                "6");
  EXPECT_TRUE(redelivered.duplicate);
  EXPECT_EQ(redelivered.reply.result, stopped.reply.result);
  EXPECT_EQ(store->transaction(id)->at("meterStop"), 9500);
}

TEST_P(StoreTest, DuplicateSeenByAnotherConnectionIsAnsweredFromTheStore) {
  auto a = open();
  auto b = open();
  const auto first = send(*a, "StartTransaction",
                          {{"connectorId", 1}, {"idTag", "T"}, {"meterStart", 0},
                           {"timestamp", "2024-01-15T10:00:00Z"}},
                          "dup");
  const auto second = send(*b, "StartTransaction",
                           {{"connectorId", 1}, {"idTag", "T"}, {"meterStart", 0},
                            {"timestamp", "2024-01-15T10:00:00Z"}},
                           "dup");
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.reply.result, first.reply.result);
  EXPECT_EQ(b->list_transactions({}).size(), 1u);
}

TEST_P(StoreTest, RegisteredChargerIsAcceptedUnderRejectPolicy) {
  auto store = open();
  csms::Policy strict;
  strict.unknown_charger = csms::UnknownChargerPolicy::kReject;
  const json boot = {{"chargePointVendor", "Acme"}, {"chargePointModel", "X"}};
  EXPECT_EQ(send(*store, "BootNotification", boot, "1", "STRANGER", strict).reply.result->at("status"),
            "Rejected");
  EXPECT_EQ(store->charger("STRANGER")->at("registrationStatus"), "Rejected");
  store->register_charger("FRIEND");
  EXPECT_EQ(send(*store, "BootNotification", boot, "1", "FRIEND", strict).reply.result->at("status"),
            "Accepted");
}

TEST_P(StoreTest, IdTagsAreProvisionedAndValidated) {
  auto store = open();
  store->upsert_id_tag("TAG1", "Blocked", std::nullopt, "PARENT");
  store->upsert_id_tag("TAG1", "Accepted", "2020-01-01T01:00:00+01:00", std::nullopt);
  EXPECT_EQ(store->list_id_tags(),
            json::parse(R"([{"idTag":"TAG1","status":"Accepted","expiryDate":"2020-01-01T00:00:00.000Z",
                             "parentIdTag":null,"updatedAt":")" +
                        store->list_id_tags()[0].at("updatedAt").get<std::string>() + R"("}])"));
  EXPECT_EQ(send(*store, "Authorize", {{"idTag", "TAG1"}}, "a").reply.result->at("idTagInfo").at("status"),
            "Expired");
  EXPECT_THROW(store->upsert_id_tag("TAG2", "Maybe", std::nullopt, std::nullopt),
               std::invalid_argument);
  EXPECT_THROW(store->upsert_id_tag("THIS-TAG-IS-WAY-TOO-LONG", "Accepted", std::nullopt, std::nullopt),
               std::invalid_argument);
  EXPECT_THROW(store->upsert_id_tag("TAG2", "Accepted", "soon", std::nullopt), std::invalid_argument);
}

TEST_P(SqliteOnlyTest, OpenStoreUnderstandsDatabaseUrls) {
  const fs::path nested = dir_ / "var" / "lib" / "genx.db";
  auto store = open_store("sqlite://" + nested.string(), Schema::migrate);  // absolute: sqlite:///...
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(fs::exists(nested));
  store->ping();

  auto memory = open_store("sqlite::memory:", Schema::migrate);
  memory->register_charger("CP1");
  EXPECT_TRUE(memory->charger("CP1").has_value());

  // postgresql:// opens the PostgreSQL backend: nothing listens on port 1, so the open
  // is a transient failure, and its message does not carry the password.
  try {
    open_store("postgresql://user:secret@127.0.0.1:1/genx", Schema::migrate);
    FAIL() << "a closed port opened";
  } catch (const TransientStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("postgres"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
  }
  try {
    open_store("mysql://user:secret@db/genx", Schema::migrate);
    FAIL() << "mysql is not a backend";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mysql"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
  }
  EXPECT_THROW(open_store("sqlite://", Schema::migrate), std::invalid_argument);
  EXPECT_THROW(open_store("var/genx.db", Schema::migrate), std::invalid_argument);
}

TEST_P(SqliteOnlyTest, UsesWalJournal) {
  auto store = open();
  store->register_charger("CP1");
  EXPECT_TRUE(fs::exists(db_path() + "-wal"));
}

TEST_P(StoreTest, CommandEffectsAreRememberedPerCharger) {
  auto store = open();
  EXPECT_FALSE(store->charger_configuration("CP-CMD").has_value());
  csms::ConfigurationReport report;
  report.keys.push_back({"HeartbeatInterval", std::string("300"), false});
  report.keys.push_back({"NumberOfConnectors", std::string("2"), true});
  report.unknown_keys.push_back("Bogus");
  store->record_command_effect("CP-CMD", report);
  store->record_command_effect("CP-CMD", csms::ConfigurationChange{"HeartbeatInterval", "60", true});
  store->record_command_effect("CP-CMD", csms::AvailabilityChange{1, "Inoperative", false});
  store->record_command_effect("CP-CMD", csms::AvailabilityChange{1, "Operative", true});

  auto config = store->charger_configuration("CP-CMD");
  ASSERT_TRUE(config.has_value());
  const auto& keys = (*config)["configurationKey"];
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["key"], "HeartbeatInterval");
  EXPECT_EQ(keys[0]["value"], "60");
  EXPECT_EQ(keys[0]["rebootRequired"], true);
  EXPECT_EQ(keys[0]["source"], "ChangeConfiguration");
  EXPECT_EQ(keys[1]["key"], "NumberOfConnectors");
  EXPECT_EQ(keys[1]["readonly"], true);
  EXPECT_EQ((*config)["unknownKey"], nlohmann::json::array({"Bogus"}));
  const auto& availability = (*config)["availability"];
  ASSERT_EQ(availability.size(), 1u);
  EXPECT_EQ(availability[0]["connectorId"], 1);
  EXPECT_EQ(availability[0]["availability"], "Operative");
  EXPECT_EQ(availability[0]["scheduled"], true);
  EXPECT_TRUE(store->charger("CP-CMD").has_value());  // a charger row was created
}


// ---- Resent transaction messages (docs/design.md "Resent calls") on the real database.

// Runs SQL on the file outside the store (as an older GenX or an operator would).
std::int64_t sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::int64_t first = -1;
  char* error = nullptr;
  const int rc = sqlite3_exec(
      db, statement.c_str(),
      [](void* out, int columns, char** values, char**) {
        if (columns > 0 && values[0] != nullptr) *static_cast<std::int64_t*>(out) = std::stoll(values[0]);
        return 0;
      },
      &first, &error);
  EXPECT_EQ(rc, SQLITE_OK) << statement << ": " << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
  return first;
}

const json kStart = {{"connectorId", 1}, {"idTag", "T"}, {"meterStart", 100},
                     {"timestamp", "2024-01-15T10:00:00Z"}};

TEST_P(StoreTest, AResentStartFindsTheStoredTransactionAcrossConnections) {
  auto first_worker = open();
  auto second_worker = open();
  const auto a = send(*first_worker, "StartTransaction", kStart, "start-a");
  const auto b = send(*second_worker, "StartTransaction", kStart, "start-b");
  ASSERT_TRUE(a.reply.result && b.reply.result);
  EXPECT_EQ(*b.reply.result, *a.reply.result);
  EXPECT_TRUE(b.events.empty());
  EXPECT_EQ(count("SELECT count(*) FROM transactions"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM transactions WHERE id_tag_info IS NOT NULL"), 1);
}

TEST_P(StoreTest, TwoWorkersRacingOnTheSameStartsCreateEachTransactionOnce) {
  open();  // migrated before the race
  constexpr int kChargers = 60;
  auto worker = [&](const std::string& prefix) {
    auto store = open();
    std::vector<json> answers;
    for (int i = 0; i < kChargers; ++i) {
      const auto outcome = send_retrying(*store, "StartTransaction", kStart,
                                         prefix + std::to_string(i), "RACE" + std::to_string(i));
      answers.push_back(outcome.reply.result.value_or(json()));
    }
    return answers;
  };
  auto a = std::async(std::launch::async, worker, "w1-");
  auto b = std::async(std::launch::async, worker, "w2-");
  const auto from_a = a.get();
  const auto from_b = b.get();
  EXPECT_EQ(from_a, from_b);
  EXPECT_EQ(count("SELECT count(*) FROM transactions"), kChargers);
}

TEST_P(StoreTest, AMeterSampleIsStoredOnceAlsoWithoutTransactionOrOptionalFields) {
  auto store = open();
  const json bare = {{"connectorId", 2},
                     {"meterValue", json::array({{{"timestamp", "2024-01-15T10:05:00Z"},
                                                  {"sampledValue", json::array({{{"value", "42"}}})}}})}};
  send(*store, "MeterValues", bare, "mv-1");
  send(*store, "MeterValues", bare, "mv-2");
  EXPECT_EQ(count("SELECT count(*) FROM meter_values"), 1);
  json other_phase = bare;
  other_phase["meterValue"][0]["sampledValue"][0]["phase"] = "L1";
  send(*store, "MeterValues", other_phase, "mv-3");
  EXPECT_EQ(count("SELECT count(*) FROM meter_values"), 2);
}

// Back from version 9 to 8 (migration 0009_fleet_listing.sql undone).
const std::string kUndoNine =
    "DROP INDEX chargers_natural; DROP INDEX chargers_status; DROP INDEX chargers_urgency; "
    "DROP INDEX chargers_last_seen; "
    "DROP INDEX transactions_charger; DROP INDEX transactions_open; "
    "ALTER TABLE chargers DROP COLUMN status; DELETE FROM schema_migrations WHERE version = 9; ";

TEST_P(SqliteOnlyTest, SchemaNineGivesChargersStoredBeforeItTheirStatus) {
  {
    auto store = open();
    send(*store, "BootNotification", {{"chargePointVendor", "Acme"}, {"chargePointModel", "M"}}, "b1");
    send(*store, "StatusNotification", {{"connectorId", 0}, {"status", "Available"}, {"errorCode", "NoError"}}, "s0");
    send(*store, "StatusNotification", {{"connectorId", 2}, {"status", "Faulted"}, {"errorCode", "GroundFailure"}}, "s2");
    send(*store, "BootNotification", {{"chargePointVendor", "Acme"}, {"chargePointModel", "M"}}, "b2", "CP2");
  }
  sql(db_path(), kUndoNine);
  auto store = open();
  EXPECT_EQ(store->schema_version(), kLatestSchemaVersion);
  EXPECT_EQ(store->charger("CP1")->at("status"), "Faulted");
  EXPECT_TRUE(store->charger("CP2")->at("status").is_null());
  EXPECT_EQ(store->charger_summary("2024-01-01T00:00:00.000Z").at("byStatus").at("Faulted"), 1);
}

TEST_P(SqliteOnlyTest, SchemaEightRemovesCopiesOfSamplesStoredBeforeIt) {
  {
    auto store = open();
    send(*store, "StartTransaction", kStart, "s1");
  }
  // Back to a version 7 database holding what resent MeterValues stored before the fix:
  // three copies of one sample and a distinct one.
  sql(db_path(),
      kUndoNine +
      "DROP INDEX meter_values_sample; DROP INDEX transactions_start; "
      "ALTER TABLE transactions DROP COLUMN id_tag_info; "
      "DELETE FROM schema_migrations WHERE version = 8; "
      "INSERT INTO meter_values (charger_id, transaction_id, connector_id, timestamp, value, measurand) "
      "VALUES (1, 1, 1, '2024-01-15T10:10:00.000Z', '150', 'Energy.Active.Import.Register'), "
      "(1, 1, 1, '2024-01-15T10:10:00.000Z', '150', 'Energy.Active.Import.Register'), "
      "(1, 1, 1, '2024-01-15T10:10:00.000Z', '150', 'Energy.Active.Import.Register'), "
      "(1, 1, 1, '2024-01-15T10:20:00.000Z', '200', 'Energy.Active.Import.Register');");
  ASSERT_EQ(sql(db_path(), "SELECT count(*) FROM meter_values"), 4);
  auto store = open();
  EXPECT_EQ(store->schema_version(), kLatestSchemaVersion);  // 8 and every later one
  EXPECT_EQ(sql(db_path(), "SELECT count(*) FROM meter_values"), 2);
  EXPECT_EQ(sql(db_path(), "SELECT min(id) FROM meter_values"), 1);  // the first copy stays
  // A start stored before version 8 (no idTagInfo kept) is answered with its status.
  const auto again = send(*store, "StartTransaction", kStart, "s2");
  ASSERT_TRUE(again.reply.result.has_value());
  EXPECT_EQ(*again.reply.result, json({{"transactionId", 1}, {"idTagInfo", {{"status", "Accepted"}}}}));
}

}  // namespace
}  // namespace genx::store
