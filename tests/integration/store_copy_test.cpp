// genx db copy (store/copy.hpp) between real databases: SQLite to PostgreSQL, back, and
// SQLite to SQLite. What an operator relies on: every row and
// value arrives unchanged, a filled target is refused and left alone, --force gives the
// same target every time, and the next transaction id never reuses an id the source had
// handed out (also one whose row is gone).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <tuple>

#include <pqxx/pqxx>

#include "store/copy.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using testing::TestDatabase;

// Runs sql (any statement) outside the store.
void exec(const TestDatabase& db, const std::string& sql) { db.scalar(sql); }

const char* kTricky = "tab\there\nnew line \\ backslash 'single' \"double\" \xc3\xbc \xf0\x9f\x9a\x97 ,;|";

std::string text_of(const TestDatabase& db, const std::string& sql) {
  if (db.backend() == "postgres") {
    pqxx::connection c(db.url());
    pqxx::nontransaction tx(c);
    return tx.exec(sql)[0][0].as<std::string>();
  }
  sqlite3* handle = nullptr;
  sqlite3_open(db.url().substr(9).c_str(), &handle);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(handle, sql.c_str(), -1, &s, nullptr);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW) {
    out.assign(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
  }
  sqlite3_finalize(s);
  sqlite3_close(handle);
  return out;
}

// A source installation: a charger, a tag, two transactions (41 kept, 50 handed out and
// then removed), a tricky payload, a NULL, a processed message.
void fill(const TestDatabase& db) {
  migrate_database(db.url());
  auto store = open_store(db.url(), Schema::require_current);
  store->register_charger("CP-COPY");
  store->upsert_id_tag("TAG-COPY", "Accepted", std::nullopt, std::nullopt);
  const char* insert_tx =
      "INSERT INTO transactions (id, charger_id, connector_id, id_tag, id_tag_status, meter_start, started_at) "
      "VALUES (%d, (SELECT id FROM chargers WHERE charge_point_id = 'CP-COPY'), 1, 'TAG-COPY', 'Accepted', 10, "
      "'2025-01-01T00:00:00.000Z')";
  char sql[512];
  std::snprintf(sql, sizeof sql, insert_tx, 41);
  exec(db, sql);
  std::snprintf(sql, sizeof sql, insert_tx, 50);
  exec(db, sql);
  exec(db, "DELETE FROM transactions WHERE id = 50");
  if (db.backend() == "postgres") {
    // Explicit ids leave an identity sequence alone: as if the server had handed out 50.
    exec(db, "SELECT setval(pg_get_serial_sequence('transactions', 'id'), 50)");
  }
  exec(db, std::string("INSERT INTO charger_data (device_id, direction, action, unique_id, payload, timestamp) "
                       "VALUES ('CP-COPY', 'in', 'DataTransfer', 'u-1', '") +
               [] {
                 std::string s;
                 for (const char* p = kTricky; *p; ++p) s += (*p == '\'') ? std::string("''") : std::string(1, *p);
                 return s;
               }() +
               "', '2025-01-01T00:00:00.000Z')");
  exec(db, "INSERT INTO processed_messages (device_id, unique_id, action, reply, processed_at) "
           "VALUES ('CP-COPY', 'm-1', 'Heartbeat', '[3,\"m-1\",{}]', '2025-01-01T00:00:00.000Z')");
}

class StoreCopy : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("genx-copy-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_ / "from");
    std::filesystem::create_directories(dir_ / "to");
    from_ = std::make_unique<TestDatabase>(std::get<0>(GetParam()), dir_ / "from");
    to_ = std::make_unique<TestDatabase>(std::get<1>(GetParam()), dir_ / "to");
  }
  void TearDown() override {
    from_.reset();
    to_.reset();
    std::filesystem::remove_all(dir_);
  }
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> from_;
  std::unique_ptr<TestDatabase> to_;
};

const CopiedTable& table(const CopyReport& r, const std::string& name) {
  for (const auto& t : r.tables) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no table " + name + " in the report");
}

TEST_P(StoreCopy, EveryRowArrivesAndTheNextTransactionIdIsFresh) {
  fill(*from_);
  const CopyReport report = copy_database(from_->url(), to_->url(), {});
  EXPECT_EQ(report.schema_version, latest_schema_version());
  EXPECT_EQ(table(report, "transactions").source_rows, 1);
  EXPECT_EQ(table(report, "transactions").target_rows, 1);
  EXPECT_EQ(table(report, "chargers").target_rows, 1);
  EXPECT_EQ(table(report, "charger_data").target_rows, 1);
  EXPECT_EQ(table(report, "processed_messages").target_rows, 1);
  EXPECT_EQ(to_->scalar("SELECT count(*) FROM id_tags WHERE id_tag = 'TAG-COPY'"), 1);
  EXPECT_EQ(text_of(*to_, "SELECT payload FROM charger_data"), kTricky);
  EXPECT_EQ(to_->scalar("SELECT count(*) FROM transactions WHERE reservation_id IS NULL AND meter_stop IS NULL"), 1);
  EXPECT_EQ(to_->scalar("SELECT meter_start FROM transactions WHERE id = 41"), 10);

  // 50 was handed out by the source: the target's next id is above it (a SQLite target
  // keeps it in sqlite_sequence; PostgreSQL in the identity sequence).
  EXPECT_EQ(table(report, "transactions").next_id, 51);
  exec(*to_,
       "INSERT INTO transactions (charger_id, connector_id, id_tag, id_tag_status, meter_start, started_at) "
       "VALUES ((SELECT id FROM chargers), 2, 'TAG-COPY', 'Accepted', 0, '2025-01-02T00:00:00.000Z')");
  EXPECT_EQ(to_->scalar("SELECT max(id) FROM transactions"), 51);

  // The target works as a store.
  auto store = open_store(to_->url(), Schema::require_current);
  EXPECT_TRUE(store->transaction(41).has_value());
  EXPECT_EQ(store->list_chargers(api::ChargerQuery{}).items.size(), 1u);
}

TEST_P(StoreCopy, AFilledTargetIsRefusedAndLeftAloneUnlessReplaced) {
  fill(*from_);
  const CopyReport first = copy_database(from_->url(), to_->url(), {});
  exec(*to_, "UPDATE id_tags SET status = 'Blocked'");
  try {
    copy_database(from_->url(), to_->url(), {});
    FAIL() << "a copy into a filled target must be refused";
  } catch (const CopyError& e) {
    EXPECT_NE(std::string(e.what()).find("not empty"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  EXPECT_EQ(to_->scalar("SELECT count(*) FROM id_tags WHERE status = 'Blocked'"), 1) << "target unchanged";

  CopyOptions replace;
  replace.replace = true;
  for (int run = 0; run < 2; ++run) {
    const CopyReport again = copy_database(from_->url(), to_->url(), replace);
    ASSERT_EQ(again.tables.size(), first.tables.size());
    for (std::size_t i = 0; i < first.tables.size(); ++i) {
      EXPECT_EQ(again.tables[i].target_rows, first.tables[i].target_rows) << first.tables[i].name;
      EXPECT_EQ(again.tables[i].next_id, first.tables[i].next_id) << first.tables[i].name;
    }
    EXPECT_GT(again.replaced_rows, 0);
    EXPECT_EQ(to_->scalar("SELECT count(*) FROM id_tags WHERE status = 'Accepted'"), 1);
  }
}

TEST_P(StoreCopy, ASourceBehindTheSchemaIsRefused) {
  // A database nobody migrated: the copy says what to do and creates nothing.
  if (from_->backend() == "sqlite") {
    exec(*from_, "CREATE TABLE unrelated (x INTEGER)");
  }
  try {
    copy_database(from_->url(), to_->url(), {});
    FAIL() << "a source behind the schema must be refused";
  } catch (const CopyError& e) {
    EXPECT_NE(std::string(e.what()).find("genx db migrate"), std::string::npos) << e.what();
  }
}

std::string pair_name(const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& info) {
  return std::get<0>(info.param) + "_to_" + std::get<1>(info.param);
}

INSTANTIATE_TEST_SUITE_P(Directions, StoreCopy,
                         ::testing::Values(std::make_tuple(std::string("sqlite"), std::string("postgres")),
                                           std::make_tuple(std::string("postgres"), std::string("sqlite")),
                                           std::make_tuple(std::string("sqlite"), std::string("sqlite"))),
                         pair_name);

}  // namespace
}  // namespace genx::store
