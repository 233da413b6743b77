#pragma once
// The store tests run against every backend (docs/development.md "Tests"): the same test source,
// parameterised by a Backend. Each test gets a database of its own:
//   sqlite    a file in a temp directory
//   postgres  CREATE DATABASE genx_test_<random> on the cluster of
//             GENX_TEST_POSTGRES_URL (scripts/test.sh starts a private one:
//             scripts/postgres-local.sh), dropped at the end of the test.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <pqxx/pqxx>
#include <sqlite3.h>

#include "csms/processor.hpp"
#include "store/open_store.hpp"

namespace genx::store::testing {

inline std::string postgres_admin_url() {
  const char* url = std::getenv("GENX_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "GENX_TEST_POSTGRES_URL is not set: the store tests run on PostgreSQL too. Start a "
        "private cluster (GENX_LOCAL_POSTGRES_PORT=5745 scripts/postgres-local.sh start) and "
        "export GENX_TEST_POSTGRES_URL=$(GENX_LOCAL_POSTGRES_PORT=5745 scripts/postgres-local.sh url), "
        "or run scripts/test.sh, which does both");
  }
  return url;
}

// postgresql://user@host:port/db?params with the database replaced.
inline std::string with_database(const std::string& url, const std::string& db) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme + 3);
  const auto query = url.find('?', scheme + 3);
  const std::string base = url.substr(0, slash == std::string::npos ? query : slash);
  return base + "/" + db + (query == std::string::npos ? "" : url.substr(query));
}

class TestDatabase {
 public:
  TestDatabase(const std::string& backend, const std::filesystem::path& dir) : backend_(backend) {
    if (backend == "sqlite") {
      path_ = (dir / "genx.db").string();
      url_ = "sqlite://" + path_;
      return;
    }
    std::random_device rd;
    name_ = "genx_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000000u);
    admin_ = postgres_admin_url();
    pqxx::connection c(admin_);
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + name_);
    url_ = with_database(admin_, name_);
  }
  ~TestDatabase() {
    if (backend_ != "postgres") return;
    try {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);
      tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not drop " << name_ << ": " << e.what();
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& backend() const { return backend_; }

  // The first column of the first row of `sql`, outside the store (as an operator would).
  std::int64_t scalar(const std::string& sql) const {
    if (backend_ == "sqlite") {
      sqlite3* db = nullptr;
      EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
      std::int64_t first = -1;
      char* error = nullptr;
      const int rc = sqlite3_exec(
          db, sql.c_str(),
          [](void* out, int columns, char** values, char**) {
            if (columns > 0 && values[0] != nullptr) *static_cast<std::int64_t*>(out) = std::stoll(values[0]);
            return 0;
          },
          &first, &error);
      EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
      sqlite3_free(error);
      sqlite3_close(db);
      return first;
    }
    pqxx::connection c(url_);
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null()) return -1;
    return r[0][0].as<std::int64_t>();
  }

 private:
  std::string backend_;
  std::string path_;
  std::string url_;
  std::string admin_;
  std::string name_;
};

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// A clock standing at `now_` (default 2024-01-15T10:30:00Z); a test may move it.
class FixedClock final : public csms::Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return now_; }
  std::chrono::system_clock::time_point now_{std::chrono::milliseconds(1705314600000)};
};

// The fixture of a store test: a database of its own on the backend named by the
// parameter ("sqlite" or "postgres"), migrated, with a store open on it, all removed at
// the end. Instantiate with ::testing::Values("sqlite", "postgres") and backend_name.
class StoreTestBase : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("genx-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = std::make_unique<TestDatabase>(GetParam(), dir_);
    store_ = open_store(db_->url(), Schema::migrate);
  }
  void TearDown() override {
    store_.reset();
    extra_db_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A charger's call as the gateway would have enveloped it.
  static csms::Envelope envelope(const std::string& device, const std::string& action, nlohmann::json payload,
                                 const std::string& unique_id, const std::string& at) {
    csms::Envelope e;
    e.device_id = device;
    e.message_type = action;
    e.unique_id = unique_id;
    e.payload = std::move(payload);
    e.timestamp = at;
    e.raw_data = nlohmann::json::array({2, unique_id, action, e.payload}).dump();
    return e;
  }
  // Runs the call through the real business rules on this test's store.
  csms::Outcome process(const csms::Envelope& e, const csms::Policy& policy = {}) {
    csms::MessageProcessor processor(*store_, clock_, policy);
    return processor.process(e);
  }

  std::filesystem::path dir_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<TestDatabase> extra_db_;  // a second database, when a test needs one
  std::unique_ptr<Store> store_;
  FixedClock clock_;
};

}  // namespace genx::store::testing
