#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/sqlite_diagnostics.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include "csms/envelope.hpp"
#include "csms/tariff.hpp"
#include "store/charger_listing.hpp"
#include "smart/profiles.hpp"
#include "store/migration.hpp"
#include "store/sqlite/sqlite_retention.hpp"
#include "store/firmware_sql.hpp"
#include "store/sqlite/sqlite_sql.hpp"

namespace genx::store {
namespace sqlite {
// store/sqlite/migrations/*.sql, embedded at build time (cmake/embed_migrations.cmake).
extern const Migration kMigrations[];
extern const int kMigrationCount;
extern const int kLatestVersion;  // the highest version (versions may have gaps)
}  // namespace sqlite

namespace {

using nlohmann::json;

std::string now_text() {
  return csms::format_timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
}

bool is_transient(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what) + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) + " (" +
                        std::to_string(rc) + ")";
  if (is_transient(rc)) throw TransientStoreError(message);
  throw std::runtime_error(message);
}

// A cached prepared statement in use: binds, steps, reads; resets itself when done.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Query& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Query& bind_real(int index, double value) {
    check(sqlite3_bind_double(stmt_, index, value));
    return *this;
  }
  Query& bind(int index, std::string_view value) {
    check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Query& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Query& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Query& bind(int index, const std::optional<std::string>& value) {
    if (!value) {
      check(sqlite3_bind_null(stmt_, index));
      return *this;
    }
    return bind(index, std::string_view(*value));
  }
  Query& bind(int index, const std::optional<std::int64_t>& value) {
    if (!value) {
      check(sqlite3_bind_null(stmt_, index));
      return *this;
    }
    return bind(index, *value);
  }

  // True when a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, sqlite3_sql(stmt_));
  }
  void run() {
    while (step()) {
    }
  }

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    if (data == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(data),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::optional<std::string> optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::optional<std::int64_t> optional_integer(int column) const {
    if (is_null(column)) return std::nullopt;
    return integer(column);
  }
  json text_json(int column) const { return is_null(column) ? json(nullptr) : json(text(column)); }
  json integer_json(int column) const {
    return is_null(column) ? json(nullptr) : json(integer(column));
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};



json transaction_json(const Query& q) {
  json j = {
      {"id", q.integer(0)},
      {"chargePointId", q.text(1)},
      {"connectorId", q.integer(2)},
      {"idTag", q.text(3)},
      {"idTagStatus", q.text(4)},
      {"meterStart", q.integer(5)},
      {"meterStop", q.integer_json(6)},
      {"energyWh", nullptr},
      {"startedAt", q.text(7)},
      {"stoppedAt", q.text_json(8)},
      {"stopReason", q.text_json(9)},
      {"stopIdTag", q.text_json(10)},
      {"reservationId", q.integer_json(11)},
      {"active", q.is_null(8)},
  };
  if (!q.is_null(6) && !q.is_null(8)) j["energyWh"] = q.integer(6) - q.integer(5);
  // Stopped since migration 2: the billed energy (meter resets handled) and the cost.
  if (!q.is_null(12)) j["energyWh"] = q.integer(12);
  j["costMinor"] = q.integer_json(13);
  j["cost"] = q.is_null(13) ? json(nullptr) : json(csms::format_minor(q.integer(13)));
  j["currency"] = q.text_json(14);
  // OCPP 2.0.1: the station's string transactionId (null for 1.6; docs/ocpp201.md).
  j["ocppTransactionId"] = q.text_json(15);
  return j;
}

csms::TransactionRecord transaction_record(const Query& q) {
  csms::TransactionRecord r;
  r.id = q.integer(0);
  r.charger_id = q.integer(1);
  r.connector_id = static_cast<int>(q.integer(2));
  r.id_tag = q.text(3);
  r.meter_start = q.integer(4);
  r.started_at = q.text(5);
  r.meter_stop = q.optional_integer(6);
  r.stopped_at = q.optional_text(7);
  r.stop_reason = q.optional_text(8);
  r.id_tag_status = q.text(9);
  r.id_tag_info = q.optional_text(10);
  return r;
}

// The columns transaction_record() reads, in its order (a literal: statements are cached
// by their text's address).
#define GENX_TRANSACTION_COLUMNS                                                            \
  "id, charger_id, connector_id, id_tag, meter_start, started_at, meter_stop, stopped_at, " \
  "stop_reason, id_tag_status, id_tag_info"


// Ten aggregate columns starting at `first`, as the API names them.
json figures_json(const Query& q, int first) {
  return {{"sessionsStarted", q.integer(first)},     {"sessionsCompleted", q.integer(first + 1)},
          {"energyWh", q.integer(first + 2)},        {"sessionMs", q.integer(first + 3)},
          {"chargingMs", q.integer(first + 4)},      {"occupiedMs", q.integer(first + 5)},
          {"faultedMs", q.integer(first + 6)},       {"faults", q.integer(first + 7)},
          {"revenueMinor", q.integer(first + 8)},    {"peakPowerW", q.real(first + 9)}};
}

constexpr std::string_view kIdTagStatuses[] = {"Accepted", "Blocked", "Expired", "Invalid",
                                               "ConcurrentTx"};

}  // namespace

#define GENX_RESERVATION_COLUMNS                                                                  \
  "r.id, c.charge_point_id, r.connector_id, r.id_tag, r.parent_id_tag, r.expiry_date, r.status, " \
  "r.transaction_id, r.created_at, r.updated_at"

static csms::Reservation reservation_record(const Query& q) {
  csms::Reservation r;
  r.id = q.integer(0);
  r.charge_point_id = q.text(1);
  r.connector_id = static_cast<int>(q.integer(2));
  r.id_tag = q.text(3);
  r.parent_id_tag = q.optional_text(4);
  r.expiry_date = q.text(5);
  r.status = q.text(6);
  r.transaction_id = q.optional_integer(7);
  r.created_at = q.text(8);
  r.updated_at = q.text(9);
  return r;
}

class SqliteStore::Impl final : public csms::UnitOfWork, public analytics::AnalyticsUnit {
 public:
  Impl(const std::string& path, SqliteOptions options) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      const std::string text = "sqlite: cannot open " + path + ": " + message;
      if (is_transient(rc)) throw TransientStoreError(text);
      throw std::runtime_error(text);
    }
    try {
      sqlite3_extended_result_codes(db_, 1);
      sqlite3_busy_timeout(db_, options.busy_timeout_ms);
      // WAL lets readers (API) run beside the one writer. synchronous=FULL rather than
      // NORMAL: with NORMAL a commit in WAL mode can be lost on power failure, and a
      // charger is answered right after the commit (DESIGN.md "Delivery guarantees").
      // Switching a new file to WAL takes an exclusive lock and SQLite does not call the
      // busy handler for it: when several processes open a fresh database at once, retry.
      for (int waited_ms = 0;; waited_ms += 10) {
        try {
          exec("PRAGMA journal_mode=WAL");
          break;
        } catch (const TransientStoreError&) {
          if (waited_ms >= options.busy_timeout_ms) throw;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      exec("PRAGMA synchronous=FULL");
      exec("PRAGMA foreign_keys=ON");
      if (options.migrate) {
        migrate();
      } else {
        const int have = current_version();
        if (have < sqlite::kLatestVersion) throw SchemaBehindError(have, sqlite::kLatestVersion);
      }
    } catch (...) {
      close();
      throw;
    }
  }
  ~Impl() override { close(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void exec(const char* sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      const std::string message = error != nullptr ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      const std::string text = "sqlite: " + std::string(sql).substr(0, 60) + ": " + message;
      if (is_transient(rc)) throw TransientStoreError(text);
      throw std::runtime_error(text);
    }
  }

  // exec() of a statement that returns no rows, prepared once: BEGIN and COMMIT run for
  // every unit of work, and sqlite3_exec parses their text every time (bench/callgrind).
  // Fails as exec() does.
  void exec_prepared(const char* sql) {
    sqlite3_stmt* stmt = statement(sql);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
      sqlite3_reset(stmt);
      return;
    }
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt);
    const std::string text = "sqlite: " + std::string(sql).substr(0, 60) + ": " + message;
    if (is_transient(rc)) throw TransientStoreError(text);
    throw std::runtime_error(text);
  }

  Query query(const char* sql) { return Query(db_, statement(sql)); }

  sqlite3_stmt* statement(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) fail(db_, rc, sql);
      it = statements_.emplace(sql, stmt).first;
    }
    return it->second;
  }

  // A statement whose text is built at run time (the fleet listing: a few dozen shapes at
  // most), cached by its text.
  Query built_query(const std::string& sql) {
    auto it = built_statements_.find(sql);
    if (it == built_statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      const int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) fail(db_, rc, sql.c_str());
      it = built_statements_.emplace(sql, stmt).first;
    }
    return Query(db_, it->second);
  }

  // Runs fn inside BEGIN <mode> ... COMMIT; rolls back when fn (or COMMIT) throws.
  template <typename Fn>
  void transaction(const char* begin, Fn&& fn) {
    if (in_transaction_) throw std::logic_error("SqliteStore: nested in_transaction");
    exec_prepared(begin);
    in_transaction_ = true;
    try {
      fn();
      exec_prepared("COMMIT");
    } catch (...) {
      if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      in_transaction_ = false;
      throw;
    }
    in_transaction_ = false;
  }

  sqlite3* db() const { return db_; }
  bool in_transaction() const { return in_transaction_; }

  int schema_version() {
    auto q = query("SELECT coalesce(max(version), 0) FROM schema_migrations");
    q.step();
    return static_cast<int>(q.integer(0));
  }

  // The schema version, 0 for a database no migration touched (no schema_migrations).
  int current_version() {
    int version = 0;
    transaction("BEGIN", [&] {
      auto t = query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
      const bool exists = t.step();
      t.run();
      if (exists) version = schema_version();
    });
    return version;
  }

  // ---- UnitOfWork ----

  csms::FirmwareUnit* firmware() override {
    if (!firmware_unit_) {
      firmware_sql_ = make_sqlite_sql_tx(db_);
      firmware_unit_ = make_firmware_unit(*firmware_sql_);
    }
    return firmware_unit_.get();
  }

  std::optional<csms::ProcessedMessage> find_processed_reply(const csms::MessageKey& key) override {
    auto q = query(
        "SELECT reply, events FROM processed_messages WHERE device_id = ?1 AND unique_id = ?2 "
        "AND action = ?3");
    q.bind(1, key.device_id).bind(2, key.unique_id).bind(3, key.action);
    if (!q.step()) return std::nullopt;
    return csms::ProcessedMessage{q.text(0), q.is_null(1) ? std::string() : q.text(1)};
  }

  void save_processed_reply(const csms::MessageKey& key, const csms::ProcessedMessage& processed,
                            std::string_view processed_at) override {
    auto q = query(
        "INSERT INTO processed_messages (device_id, unique_id, action, reply, processed_at, "
        "events) VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, ''))");
    q.bind(1, key.device_id).bind(2, key.unique_id).bind(3, key.action).bind(4, processed.reply)
        .bind(5, processed_at).bind(6, processed.events);
    q.run();
  }

  // last_seen_at only moves forward: max(coalesce(last_seen_at, ''), seen_at), as the
  // upsert below writes it. A stored charger (every message but a new charger's first) is
  // found by its key and updated by its id: a quarter of the upsert's instructions
  // (bench/callgrind).
  std::int64_t touch_charger(std::string_view charge_point_id, std::string_view seen_at) override {
    std::optional<std::int64_t> id;
    {
      auto find = query("SELECT id FROM chargers WHERE charge_point_id = ?1");
      find.bind(1, charge_point_id);
      if (find.step()) id = find.integer(0);
    }
    if (id) {
      auto seen = query(
          "UPDATE chargers SET last_seen_at = ?2 WHERE id = ?1 AND "
          "(last_seen_at IS NULL OR last_seen_at < ?2)");
      seen.bind(1, *id).bind(2, seen_at);
      seen.run();
      return *id;
    }
    auto q = query(
        "INSERT INTO chargers (charge_point_id, last_seen_at, created_at) VALUES (?1, ?2, ?2) "
        "ON CONFLICT (charge_point_id) DO UPDATE SET last_seen_at = "
        "max(coalesce(last_seen_at, ''), excluded.last_seen_at) RETURNING id");
    q.bind(1, charge_point_id).bind(2, seen_at);
    q.step();
    const std::int64_t created = q.integer(0);
    q.run();
    return created;
  }

  std::optional<csms::ChargerRecord> find_charger(std::string_view charge_point_id) override {
    auto q = query(
        "SELECT id, charge_point_id, registration_status, pre_registered FROM chargers "
        "WHERE charge_point_id = ?1");
    q.bind(1, charge_point_id);
    if (!q.step()) return std::nullopt;
    return csms::ChargerRecord{q.integer(0), q.text(1), q.optional_text(2), q.integer(3) != 0};
  }

  std::int64_t upsert_charger_boot(const csms::ChargerBoot& b) override {
    auto q = query(
        "INSERT INTO chargers (charge_point_id, vendor, model, serial_number, "
        "charge_box_serial_number, firmware_version, iccid, imsi, meter_type, "
        "meter_serial_number, registration_status, last_boot_at, last_seen_at, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?12) "
        "ON CONFLICT (charge_point_id) DO UPDATE SET vendor = excluded.vendor, "
        "model = excluded.model, serial_number = excluded.serial_number, "
        "charge_box_serial_number = excluded.charge_box_serial_number, "
        "firmware_version = excluded.firmware_version, iccid = excluded.iccid, "
        "imsi = excluded.imsi, meter_type = excluded.meter_type, "
        "meter_serial_number = excluded.meter_serial_number, "
        "registration_status = excluded.registration_status, "
        "last_boot_at = excluded.last_boot_at, "
        "last_seen_at = max(coalesce(last_seen_at, ''), excluded.last_seen_at) RETURNING id");
    q.bind(1, b.charge_point_id).bind(2, b.vendor).bind(3, b.model).bind(4, b.serial_number)
        .bind(5, b.charge_box_serial_number).bind(6, b.firmware_version).bind(7, b.iccid)
        .bind(8, b.imsi).bind(9, b.meter_type).bind(10, b.meter_serial_number)
        .bind(11, b.registration_status).bind(12, b.boot_at);
    q.step();
    const std::int64_t id = q.integer(0);
    q.run();
    return id;
  }

  void set_diagnostics_status(std::int64_t charger_id, std::string_view status) override {
    auto q = query("UPDATE chargers SET diagnostics_status = ?2 WHERE id = ?1");
    q.bind(1, charger_id).bind(2, status);
    q.run();
  }

  std::optional<csms::DiagnosticsStatusChange> record_diagnostics_status(
      std::string_view charge_point_id, bool log, std::optional<std::int64_t> request_id, std::string_view status,
      std::string_view at) override {
    return sqlite_record_diagnostics_status(db_, charge_point_id, log, request_id, status, at);
  }

  void set_firmware_status(std::int64_t charger_id, std::string_view status) override {
    auto q = query("UPDATE chargers SET firmware_status = ?2 WHERE id = ?1");
    q.bind(1, charger_id).bind(2, status);
    q.run();
  }

  std::optional<csms::ConnectorStatus> find_connector_status(std::int64_t charger_id,
                                                             int connector_id) override {
    auto q = query(
        "SELECT connector_id, status, error_code, info, vendor_error_code, updated_at "
        "FROM connectors WHERE charger_id = ?1 AND connector_id = ?2");
    q.bind(1, charger_id).bind(2, connector_id);
    if (!q.step()) return std::nullopt;
    return csms::ConnectorStatus{static_cast<int>(q.integer(0)), q.text(1), q.text(2),
                                 q.optional_text(3), q.optional_text(4), q.text(5)};
  }

  std::optional<csms::ConnectorStatus> upsert_connector_status(
      std::int64_t charger_id, const csms::ConnectorStatus& s) override {
    auto previous = find_connector_status(charger_id, s.connector_id);
    auto q = query(
        "INSERT INTO connectors (charger_id, connector_id, status, error_code, info, "
        "vendor_error_code, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (charger_id, connector_id) DO UPDATE SET status = excluded.status, "
        "error_code = excluded.error_code, info = excluded.info, "
        "vendor_error_code = excluded.vendor_error_code, updated_at = excluded.updated_at");
    q.bind(1, charger_id).bind(2, s.connector_id).bind(3, s.status).bind(4, s.error_code)
        .bind(5, s.info).bind(6, s.vendor_error_code).bind(7, s.updated_at);
    q.run();
    {
      // Written only when it changes: a rewrite of the charger's row and its status
      // indexes costs more than the rest of a StatusNotification (bench/callgrind).
      static const std::string derive = "UPDATE chargers SET status = " + store::derived_status_sql("?1") +
                                        " WHERE id = ?1 AND status IS NOT " + store::derived_status_sql("?1");
      auto d = built_query(derive);
      d.bind(1, charger_id);
      d.run();
    }
    return previous;
  }

  std::optional<csms::IdTagRecord> find_id_tag(std::string_view id_tag) override {
    auto q = query(
        "SELECT id_tag, status, expiry_date, parent_id_tag FROM id_tags WHERE id_tag = ?1");
    q.bind(1, id_tag);
    if (!q.step()) return std::nullopt;
    return csms::IdTagRecord{q.text(0), q.text(1), q.optional_text(2), q.optional_text(3)};
  }

  std::int64_t create_transaction(const csms::NewTransaction& t) override {
    auto q = query(
        "INSERT INTO transactions (charger_id, connector_id, id_tag, id_tag_status, "
        "meter_start, started_at, reservation_id, id_tag_info, ocpp_transaction_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id");
    q.bind(1, t.charger_id).bind(2, t.connector_id).bind(3, t.id_tag).bind(4, t.id_tag_status)
        .bind(5, t.meter_start).bind(6, t.started_at).bind(7, t.reservation_id)
        .bind(8, t.id_tag_info.empty() ? std::optional<std::string>() : t.id_tag_info)
        .bind(9, t.ocpp_transaction_id);
    q.step();
    const std::int64_t id = q.integer(0);
    q.run();
    return id;
  }

  std::optional<csms::TransactionRecord> find_transaction(std::int64_t transaction_id) override {
    auto q = query("SELECT " GENX_TRANSACTION_COLUMNS
                   " FROM transactions WHERE id = ?1");
    q.bind(1, transaction_id);
    if (!q.step()) return std::nullopt;
    return transaction_record(q);
  }

  std::optional<csms::TransactionRecord> find_active_transaction(std::int64_t charger_id,
                                                                 int connector_id) override {
    auto q = query("SELECT " GENX_TRANSACTION_COLUMNS
                   " FROM transactions WHERE charger_id = ?1 AND connector_id = ?2 "
                   "AND stopped_at IS NULL ORDER BY id DESC LIMIT 1");
    q.bind(1, charger_id).bind(2, connector_id);
    if (!q.step()) return std::nullopt;
    return transaction_record(q);
  }

  std::optional<csms::TransactionRecord> find_transaction_by_start(
      const csms::TransactionStartKey& k) override {
    auto q = query("SELECT " GENX_TRANSACTION_COLUMNS
                   " FROM transactions WHERE charger_id = ?1 AND connector_id = ?2 "
                   "AND started_at = ?3 AND id_tag = ?4 AND meter_start = ?5 "
                   "ORDER BY id LIMIT 1");
    q.bind(1, k.charger_id).bind(2, k.connector_id).bind(3, k.started_at).bind(4, k.id_tag)
        .bind(5, k.meter_start);
    if (!q.step()) return std::nullopt;
    return transaction_record(q);
  }

  void stop_transaction(std::int64_t transaction_id, const csms::TransactionStop& s) override {
    auto q = query(
        "UPDATE transactions SET meter_stop = ?2, stopped_at = ?3, stop_reason = ?4, "
        "stop_id_tag = ?5, energy_wh = ?6, cost_minor = ?7, currency = ?8 "
        "WHERE id = ?1 AND stopped_at IS NULL");
    q.bind(1, transaction_id).bind(2, s.meter_stop).bind(3, s.stopped_at).bind(4, s.reason)
        .bind(5, s.id_tag).bind(6, s.energy_wh).bind(7, s.cost_minor).bind(8, s.currency);
    q.run();
  }

  std::vector<std::int64_t> transaction_register_readings(std::int64_t transaction_id) override {
    std::vector<std::int64_t> readings;
    for (const auto& r : register_readings(transaction_id)) readings.push_back(r.wh);
    return readings;
  }

  std::vector<analytics::Reading> register_readings(std::int64_t transaction_id) {
    std::vector<analytics::Reading> readings;
    auto q = query(
        "SELECT timestamp, measurand, unit, phase, format, value FROM meter_values "
        "WHERE transaction_id = ?1 ORDER BY timestamp, id");
    q.bind(1, transaction_id);
    while (q.step()) {
      const auto wh = csms::register_wh(q.optional_text(1), q.optional_text(2),
                                        q.optional_text(3), q.optional_text(4), q.text(5));
      const auto at = csms::parse_timestamp(q.text(0));
      if (wh && at) readings.push_back({*at, *wh});
    }
    return readings;
  }

  void append_status_history(std::int64_t charger_id, const csms::ConnectorStatus& st) override {
    auto q = query(
        "INSERT INTO connector_status_history (charger_id, connector_id, status, error_code, at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    q.bind(1, charger_id).bind(2, st.connector_id).bind(3, st.status).bind(4, st.error_code)
        .bind(5, st.updated_at);
    q.run();
  }

  std::optional<csms::Tariff> find_tariff(std::string_view charge_point_id) override {
    auto q = query(
        "SELECT energy_per_kwh_micro, time_per_minute_micro, session_fee_micro FROM tariffs "
        "WHERE charge_point_id = ?1");
    q.bind(1, charge_point_id);
    if (!q.step()) return std::nullopt;
    csms::Tariff t;
    t.energy_per_kwh_micro = q.integer(0);
    t.time_per_minute_micro = q.integer(1);
    t.session_fee_micro = q.integer(2);
    return t;
  }

  // ---- AnalyticsUnit ----

  bool mark_event_processed(std::string_view event_id, std::string_view processed_at) override {
    auto q = query(
        "INSERT INTO analytics_processed_events (event_id, processed_at) VALUES (?1, ?2) "
        "ON CONFLICT (event_id) DO NOTHING");
    q.bind(1, event_id).bind(2, processed_at);
    q.run();
    return sqlite3_changes(db_) > 0;
  }

  std::optional<analytics::TransactionSpan> transaction_span(std::int64_t id) override {
    auto q = query("SELECT charger_id, started_at, stopped_at FROM transactions WHERE id = ?1");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    const auto started = csms::parse_timestamp(q.text(1));
    if (!started) return std::nullopt;
    analytics::TransactionSpan span{q.integer(0), *started, std::nullopt};
    if (const auto stopped = q.optional_text(2)) span.stopped_ms = csms::parse_timestamp(*stopped);
    return span;
  }

  analytics::Facts load_facts(std::int64_t charger_id, std::int64_t from_ms,
                              std::int64_t to_ms) override {
    analytics::Facts facts;
    const std::string from = csms::format_timestamp(from_ms);
    const std::string to = csms::format_timestamp(to_ms);
    {
      auto q = query(
          "SELECT id, connector_id, started_at, meter_start, stopped_at, meter_stop, "
          "coalesce(cost_minor, 0) FROM transactions WHERE charger_id = ?1 AND started_at < ?3 "
          "AND (stopped_at IS NULL OR stopped_at >= ?2) ORDER BY id");
      q.bind(1, charger_id).bind(2, from).bind(3, to);
      while (q.step()) {
        analytics::TransactionFact t;
        t.id = q.integer(0);
        t.connector_id = static_cast<int>(q.integer(1));
        const auto started = csms::parse_timestamp(q.text(2));
        if (!started) continue;
        t.started_ms = *started;
        t.meter_start = q.integer(3);
        if (const auto stopped = q.optional_text(4)) t.stopped_ms = csms::parse_timestamp(*stopped);
        t.meter_stop = q.optional_integer(5);
        t.cost_minor = q.integer(6);
        facts.transactions.push_back(std::move(t));
      }
    }
    for (auto& t : facts.transactions) {
      if (t.stopped_ms) t.readings = register_readings(t.id);
    }
    {
      // Per connector: the report in force at `from`, the reports inside, and the first
      // report at or after `to` (it ends the last interval).
      auto q = query(
          "SELECT h.connector_id, h.at, h.status FROM connector_status_history h "
          "WHERE h.charger_id = ?1 "
          "AND h.at >= coalesce((SELECT max(p.at) FROM connector_status_history p "
          "  WHERE p.charger_id = ?1 AND p.connector_id = h.connector_id AND p.at <= ?2), ?2) "
          "AND h.at <= coalesce((SELECT min(n.at) FROM connector_status_history n "
          "  WHERE n.charger_id = ?1 AND n.connector_id = h.connector_id AND n.at >= ?3), ?3) "
          "ORDER BY h.connector_id, h.at, h.id");
      q.bind(1, charger_id).bind(2, from).bind(3, to);
      while (q.step()) {
        const auto at = csms::parse_timestamp(q.text(1));
        if (at) facts.statuses.push_back({static_cast<int>(q.integer(0)), *at, q.text(2)});
      }
    }
    {
      auto q = query(
          "SELECT connector_id, timestamp, measurand, unit, format, value FROM meter_values "
          "WHERE charger_id = ?1 AND timestamp >= ?2 AND timestamp < ?3 "
          "AND measurand = 'Power.Active.Import' AND phase IS NULL ORDER BY timestamp, id");
      q.bind(1, charger_id).bind(2, from).bind(3, to);
      while (q.step()) {
        const auto w = csms::power_w(q.optional_text(2), q.optional_text(3), q.optional_text(4),
                                     q.text(5));
        const auto at = csms::parse_timestamp(q.text(1));
        if (w && at) facts.power.push_back({static_cast<int>(q.integer(0)), *at, *w});
      }
    }
    return facts;
  }

  void insert_figures(Query& q, int first, const analytics::Figures& f) {
    q.bind(first, f.sessions_started).bind(first + 1, f.sessions_completed)
        .bind(first + 2, f.energy_wh).bind(first + 3, f.session_ms).bind(first + 4, f.charging_ms)
        .bind(first + 5, f.occupied_ms).bind(first + 6, f.faulted_ms).bind(first + 7, f.faults)
        .bind(first + 8, f.revenue_minor).bind_real(first + 9, f.peak_power_w);
  }

  void replace_hourly(std::int64_t charger_id, std::int64_t from_ms, std::int64_t to_ms,
                      const std::map<std::int64_t, std::map<int, analytics::Figures>>& rows) override {
    {
      auto q = query(
          "DELETE FROM analytics_hourly WHERE charger_id = ?1 AND bucket_start >= ?2 "
          "AND bucket_start < ?3");
      q.bind(1, charger_id).bind(2, csms::format_timestamp(from_ms))
          .bind(3, csms::format_timestamp(to_ms));
      q.run();
    }
    for (const auto& [bucket, connectors] : rows) {
      for (const auto& [connector, f] : connectors) {
        auto q = query(
            "INSERT INTO analytics_hourly (charger_id, connector_id, bucket_start, "
            "sessions_started, sessions_completed, energy_wh, session_ms, charging_ms, "
            "occupied_ms, faulted_ms, faults, revenue_minor, peak_power_w) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
        q.bind(1, charger_id).bind(2, connector).bind(3, csms::format_timestamp(bucket));
        insert_figures(q, 4, f);
        q.run();
      }
    }
  }

  void replace_daily(std::int64_t charger_id, const std::string& day, std::int64_t start_ms,
                     std::int64_t end_ms, const std::map<int, analytics::Figures>& rows) override {
    {
      auto q = query("DELETE FROM analytics_daily WHERE charger_id = ?1 AND day = ?2");
      q.bind(1, charger_id).bind(2, day);
      q.run();
    }
    for (const auto& [connector, f] : rows) {
      auto q = query(
          "INSERT INTO analytics_daily (charger_id, connector_id, day, day_start, day_end, "
          "sessions_started, sessions_completed, energy_wh, session_ms, charging_ms, "
          "occupied_ms, faulted_ms, faults, revenue_minor, peak_power_w) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
      q.bind(1, charger_id).bind(2, connector).bind(3, day)
          .bind(4, csms::format_timestamp(start_ms)).bind(5, csms::format_timestamp(end_ms));
      insert_figures(q, 6, f);
      q.run();
    }
  }

  std::vector<std::int64_t> charger_ids() override {
    std::vector<std::int64_t> ids;
    auto q = query("SELECT id FROM chargers ORDER BY id");
    while (q.step()) ids.push_back(q.integer(0));
    return ids;
  }

  std::optional<std::pair<std::int64_t, std::int64_t>> fact_range(std::int64_t charger_id) override {
    auto q = query(
        "SELECT min(a), max(b) FROM ("
        "SELECT min(started_at) AS a, max(max(started_at, coalesce(stopped_at, ''))) AS b "
        "FROM transactions WHERE charger_id = ?1 "
        "UNION ALL SELECT min(at), max(at) FROM connector_status_history WHERE charger_id = ?1 "
        "UNION ALL SELECT min(timestamp), max(timestamp) FROM meter_values WHERE charger_id = ?1)");
    q.bind(1, charger_id);
    if (!q.step() || q.is_null(0) || q.is_null(1)) return std::nullopt;
    const auto a = csms::parse_timestamp(q.text(0));
    const auto b = csms::parse_timestamp(q.text(1));
    if (!a || !b) return std::nullopt;
    return std::make_pair(*a, *b);
  }

  void delete_aggregates_from(std::int64_t charger_id, std::int64_t from_ms,
                              const std::string& from_day) override {
    {
      auto q = query("DELETE FROM analytics_hourly WHERE charger_id = ?1 AND bucket_start >= ?2");
      q.bind(1, charger_id).bind(2, csms::format_timestamp(from_ms));
      q.run();
    }
    auto q = query("DELETE FROM analytics_daily WHERE charger_id = ?1 AND day >= ?2");
    q.bind(1, charger_id).bind(2, from_day);
    q.run();
  }

  std::optional<csms::Reservation> use_reservation(std::int64_t reservation_id, std::int64_t charger_id,
                                                   std::int64_t transaction_id, std::string_view at) override {
    auto q = query(
        "UPDATE reservations SET status = 'Used', transaction_id = ?3, updated_at = ?4 "
        "WHERE id = ?1 AND charger_id = ?2 AND status IN ('Requested', 'Accepted', 'Expired')");
    q.bind(1, reservation_id).bind(2, charger_id).bind(3, transaction_id).bind(4, at);
    q.run();
    if (sqlite3_changes(db_) == 0) return std::nullopt;
    return reservation(reservation_id);
  }

  std::optional<csms::Reservation> reservation(std::int64_t id) {
    auto q = query("SELECT " GENX_RESERVATION_COLUMNS " FROM reservations r JOIN chargers c ON c.id = r.charger_id "
                   "WHERE r.id = ?1");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return reservation_record(q);
  }

  std::int64_t charger_row(std::string_view identity, bool create) {
    if (create) {
      auto insert = query(
          "INSERT INTO chargers (charge_point_id, created_at) VALUES (?1, ?2) "
          "ON CONFLICT (charge_point_id) DO NOTHING");
      insert.bind(1, identity).bind(2, now_text());
      insert.run();
    }
    auto find = query("SELECT id FROM chargers WHERE charge_point_id = ?1");
    find.bind(1, identity);
    if (!find.step()) return 0;
    return find.integer(0);
  }

  std::size_t insert_meter_samples(const std::vector<csms::MeterSample>& samples) override {
    std::size_t stored = 0;
    for (const auto& s : samples) {
      // meter_values_sample (migration 8) makes a sample already stored a no-op.
      auto q = query(
          "INSERT INTO meter_values (charger_id, transaction_id, connector_id, timestamp, value, "
          "context, format, measurand, phase, location, unit) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING");
      q.bind(1, s.charger_id).bind(2, s.transaction_id).bind(3, s.connector_id)
          .bind(4, s.timestamp).bind(5, s.value).bind(6, s.context).bind(7, s.format)
          .bind(8, s.measurand).bind(9, s.phase).bind(10, s.location).bind(11, s.unit);
      q.run();
      stored += static_cast<std::size_t>(sqlite3_changes(db_));
    }
    return stored;
  }

  void append_message_log(const csms::MessageLogEntry& e) override {
    auto q = query(
        "INSERT INTO charger_data (device_id, direction, action, unique_id, payload, timestamp) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    q.bind(1, e.device_id).bind(2, e.direction).bind(3, e.action).bind(4, e.unique_id)
        .bind(5, e.payload).bind(6, e.timestamp);
    q.run();
  }

  // ---- OCPP 2.0.1 ----

  void record_reported_profile(const csms::ReportedProfile& r) override {
    auto q = query(
        "INSERT INTO charging_profiles (charge_point_id, connector_id, action, source, charging_profile_id, "
        "purpose, stack_level, transaction_id, limit_value, request, status, sent_at) VALUES (?1, ?2, ?3, "
        "'charger', ?4, ?5, ?6, NULL, ?7, ?8, ?9, ?10)");
    q.bind(1, r.charge_point_id).bind(2, r.connector_id).bind(3, r.action).bind(4, r.charging_profile_id)
        .bind(5, r.purpose).bind(6, r.stack_level);
    if (r.limit) {
      q.bind_real(7, *r.limit);
    } else {
      q.bind(7, std::optional<std::int64_t>());
    }
    q.bind(8, r.request).bind(9, r.status).bind(10, r.at);
    q.run();
  }

  void set_charger_ocpp_version(std::int64_t charger_id, std::string_view version) override {
    auto q = query("UPDATE chargers SET ocpp_version = ?2 WHERE id = ?1");
    q.bind(1, charger_id).bind(2, version);
    q.run();
  }

  std::optional<csms::TransactionRecord> find_transaction_by_ocpp_id(
      std::int64_t charger_id, std::string_view ocpp_transaction_id) override {
    auto q = query("SELECT " GENX_TRANSACTION_COLUMNS
                   " FROM transactions WHERE charger_id = ?1 AND ocpp_transaction_id = ?2");
    q.bind(1, charger_id).bind(2, ocpp_transaction_id);
    if (!q.step()) return std::nullopt;
    return transaction_record(q);
  }

  bool record_transaction_event(const csms::TransactionEventRecord& e) override {
    auto q = query(
        "INSERT INTO transaction_events (charger_id, ocpp_transaction_id, seq_no, event_type, "
        "trigger_reason, offline, timestamp, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT DO NOTHING");
    q.bind(1, e.charger_id).bind(2, e.ocpp_transaction_id).bind(3, e.seq_no).bind(4, e.event_type)
        .bind(5, e.trigger_reason).bind(6, e.offline ? 1 : 0).bind(7, e.timestamp)
        .bind(8, e.received_at);
    q.run();
    return sqlite3_changes(db_) > 0;
  }

  void update_transaction_start(std::int64_t transaction_id,
                                const csms::TransactionStartUpdate& u) override {
    auto q = query(
        "UPDATE transactions SET connector_id = ?2, id_tag = ?3, id_tag_status = ?4, "
        "meter_start = ?5, started_at = ?6 WHERE id = ?1");
    q.bind(1, transaction_id).bind(2, u.connector_id).bind(3, u.id_tag).bind(4, u.id_tag_status)
        .bind(5, u.meter_start).bind(6, u.started_at);
    q.run();
  }

  void restate_transaction_stop(std::int64_t transaction_id, const csms::TransactionStop& s) override {
    auto q = query(
        "UPDATE transactions SET meter_stop = ?2, stopped_at = ?3, stop_reason = ?4, "
        "stop_id_tag = ?5, energy_wh = ?6, cost_minor = ?7, currency = ?8 WHERE id = ?1");
    q.bind(1, transaction_id).bind(2, s.meter_stop).bind(3, s.stopped_at).bind(4, s.reason)
        .bind(5, s.id_tag).bind(6, s.energy_wh).bind(7, s.cost_minor).bind(8, s.currency);
    q.run();
  }

  void upsert_device_model(std::int64_t charger_id, const std::vector<csms::DeviceModelEntry>& entries,
                           std::string_view updated_at) override {
    for (const auto& e : entries) {
      auto q = query(
          "INSERT INTO device_model (charger_id, component, component_instance, evse_id, "
          "connector_id, variable, variable_instance, attribute_type, value, mutability, "
          "persistent, constant, characteristics, updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
          "ON CONFLICT (charger_id, component, component_instance, evse_id, connector_id, variable, "
          "variable_instance, attribute_type) DO UPDATE SET value = excluded.value, "
          "mutability = excluded.mutability, persistent = excluded.persistent, "
          "constant = excluded.constant, characteristics = excluded.characteristics, "
          "updated_at = excluded.updated_at");
      const auto flag = [](const std::optional<bool>& b) {
        return b ? std::optional<std::int64_t>(*b ? 1 : 0) : std::nullopt;
      };
      q.bind(1, charger_id).bind(2, e.component).bind(3, e.component_instance).bind(4, e.evse_id)
          .bind(5, e.connector_id).bind(6, e.variable).bind(7, e.variable_instance)
          .bind(8, e.attribute_type).bind(9, e.value).bind(10, e.mutability)
          .bind(11, flag(e.persistent)).bind(12, flag(e.constant)).bind(13, e.characteristics)
          .bind(14, updated_at);
      q.run();
    }
  }

  // ---- read side ----

  json connectors_json(std::int64_t charger_id) {
    json connectors = json::array();
    auto q = query(
        "SELECT connector_id, status, error_code, info, vendor_error_code, updated_at "
        "FROM connectors WHERE charger_id = ?1 ORDER BY connector_id");
    q.bind(1, charger_id);
    while (q.step()) {
      connectors.push_back({{"connectorId", q.integer(0)},
                            {"status", q.text(1)},
                            {"errorCode", q.text(2)},
                            {"info", q.text_json(3)},
                            {"vendorErrorCode", q.text_json(4)},
                            {"updatedAt", q.text(5)}});
    }
    return connectors;
  }

  static json charger_json(const Query& q) {
    return {{"id", q.integer(0)},
            {"chargePointId", q.text(1)},
            {"vendor", q.text_json(2)},
            {"model", q.text_json(3)},
            {"serialNumber", q.text_json(4)},
            {"chargeBoxSerialNumber", q.text_json(5)},
            {"firmwareVersion", q.text_json(6)},
            {"iccid", q.text_json(7)},
            {"imsi", q.text_json(8)},
            {"meterType", q.text_json(9)},
            {"meterSerialNumber", q.text_json(10)},
            {"registrationStatus", q.text_json(11)},
            {"preRegistered", q.integer(12) != 0},
            {"lastBootAt", q.text_json(13)},
            {"lastSeenAt", q.text_json(14)},
            {"diagnosticsStatus", q.text_json(15)},
            {"firmwareStatus", q.text_json(16)},
            {"ocppVersion", q.text(17)}};
  }

  static constexpr const char* kChargerSelect =
      "SELECT id, charge_point_id, vendor, model, serial_number, charge_box_serial_number, "
      "firmware_version, iccid, imsi, meter_type, meter_serial_number, registration_status, "
      "pre_registered, last_boot_at, last_seen_at, diagnostics_status, firmware_status, ocpp_version, status "
      "FROM chargers";

  ChargerPage list_chargers(const ChargerQuery& request) {
    const auto sql = store::charger_listing_sql(request, store::Dialect::kSqlite);
    ChargerPage page;
    {
      auto q = built_query(std::string(kChargerSelect) + sql.where + sql.order + " LIMIT " +
                           std::to_string(std::clamp(request.limit, 1, 1000)) + " OFFSET " +
                           std::to_string(std::max(request.offset, 0)));
      for (std::size_t i = 0; i < sql.params.size(); ++i) q.bind(static_cast<int>(i + 1), sql.params[i]);
      while (q.step()) {
        json c = charger_json(q);
        c["status"] = q.text_json(18);
        page.items.push_back(std::move(c));
      }
    }
    {
      auto q = built_query("SELECT count(*) FROM chargers" + sql.where);
      for (std::size_t i = 0; i < sql.where_params; ++i) q.bind(static_cast<int>(i + 1), sql.params[i]);
      q.step();
      page.total = q.integer(0);
    }
    for (auto& c : page.items) c["connectors"] = connectors_json(c["id"].get<std::int64_t>());
    return page;
  }

  json charger_summary(const std::string& online_since) {
    json summary;
    {
      auto q = query("SELECT count(*) FROM chargers");
      q.step();
      summary["total"] = q.integer(0);
    }
    {
      auto q = query("SELECT count(*) FROM chargers WHERE last_seen_at >= ?1");
      q.bind(1, online_since);
      q.step();
      summary["online"] = q.integer(0);
    }
    summary["offline"] = summary["total"].get<std::int64_t>() - summary["online"].get<std::int64_t>();
    json by_status = json::object();
    for (const char* word : kChargerStatuses) by_status[word] = 0;
    auto q = query("SELECT status, count(*) FROM chargers GROUP BY status");
    while (q.step()) by_status[q.is_null(0) ? std::string("Unknown") : q.text(0)] = q.integer(1);
    summary["byStatus"] = std::move(by_status);
    return summary;
  }

  std::optional<json> charger(std::string_view identity) {
    json c;
    {
      auto q = query(
          "SELECT id, charge_point_id, vendor, model, serial_number, charge_box_serial_number, "
          "firmware_version, iccid, imsi, meter_type, meter_serial_number, registration_status, "
          "pre_registered, last_boot_at, last_seen_at, diagnostics_status, firmware_status, ocpp_version, status "
          "FROM chargers WHERE charge_point_id = ?1");
      q.bind(1, identity);
      if (!q.step()) return std::nullopt;
      c = charger_json(q);
      c["status"] = q.text_json(18);
    }
    c["connectors"] = connectors_json(c["id"].get<std::int64_t>());
    return c;
  }

  json list_transactions(const TransactionFilter& filter) {
    auto q = built_query(
        "SELECT t.id, c.charge_point_id, t.connector_id, t.id_tag, t.id_tag_status, "
        "t.meter_start, t.meter_stop, t.started_at, t.stopped_at, t.stop_reason, t.stop_id_tag, "
        "t.reservation_id, t.energy_wh, t.cost_minor, t.currency, t.ocpp_transaction_id "
        "FROM transactions t JOIN chargers c ON c.id = t.charger_id" +
        store::transaction_conditions(filter, store::Dialect::kSqlite) + " ORDER BY t.id DESC LIMIT " +
        std::to_string(std::clamp(filter.limit, 1, 1000)) + " OFFSET " + std::to_string(std::max(filter.offset, 0)));
    if (filter.charger) q.bind(1, *filter.charger);
    json transactions = json::array();
    while (q.step()) transactions.push_back(transaction_json(q));
    return transactions;
  }

  std::int64_t count_transactions(const TransactionFilter& filter) {
    auto q = built_query("SELECT count(*) FROM transactions t" +
                         store::transaction_conditions(filter, store::Dialect::kSqlite));
    if (filter.charger) q.bind(1, *filter.charger);
    q.step();
    return q.integer(0);
  }

  std::optional<json> transaction(std::int64_t id) {
    json t;
    {
      auto q = query(
          "SELECT t.id, c.charge_point_id, t.connector_id, t.id_tag, t.id_tag_status, "
          "t.meter_start, t.meter_stop, t.started_at, t.stopped_at, t.stop_reason, "
          "t.stop_id_tag, t.reservation_id, t.energy_wh, t.cost_minor, t.currency, "
          "t.ocpp_transaction_id "
          "FROM transactions t "
          "JOIN chargers c ON c.id = t.charger_id WHERE t.id = ?1");
      q.bind(1, id);
      if (!q.step()) return std::nullopt;
      t = transaction_json(q);
    }
    json meter_values = json::array();
    auto q = query(
        "SELECT timestamp, measurand, value, unit, phase, context, location, format "
        "FROM meter_values WHERE transaction_id = ?1 ORDER BY timestamp, id");
    q.bind(1, id);
    while (q.step()) {
      meter_values.push_back({{"timestamp", q.text(0)},
                              {"measurand", q.text_json(1)},
                              {"value", q.text(2)},
                              {"unit", q.text_json(3)},
                              {"phase", q.text_json(4)},
                              {"context", q.text_json(5)},
                              {"location", q.text_json(6)},
                              {"format", q.text_json(7)}});
    }
    t["meterValues"] = std::move(meter_values);
    return t;
  }

  json transaction_ids_for(std::string_view ocpp_transaction_id) {
    json ids = json::array();
    auto q = query("SELECT id FROM transactions WHERE ocpp_transaction_id = ?1 ORDER BY id");
    q.bind(1, ocpp_transaction_id);
    while (q.step()) ids.push_back(q.integer(0));
    return ids;
  }

  std::optional<json> device_model(std::string_view identity) {
    std::int64_t charger_id = 0;
    {
      auto q = query("SELECT id FROM chargers WHERE charge_point_id = ?1");
      q.bind(1, identity);
      if (!q.step()) return std::nullopt;
      charger_id = q.integer(0);
    }
    json rows = json::array();
    auto q = query(
        "SELECT component, component_instance, evse_id, connector_id, variable, variable_instance, "
        "attribute_type, value, mutability, persistent, constant, characteristics, updated_at "
        "FROM device_model WHERE charger_id = ?1 ORDER BY component, component_instance, evse_id, "
        "connector_id, variable, variable_instance, attribute_type");
    q.bind(1, charger_id);
    while (q.step()) {
      json row = {{"component", q.text(0)},
                  {"componentInstance", q.is_null(1) || q.text(1).empty() ? json(nullptr) : json(q.text(1))},
                  {"evseId", q.integer(2) < 0 ? json(nullptr) : json(q.integer(2))},
                  {"connectorId", q.integer(3) < 0 ? json(nullptr) : json(q.integer(3))},
                  {"variable", q.text(4)},
                  {"variableInstance", q.text(5).empty() ? json(nullptr) : json(q.text(5))},
                  {"attributeType", q.text(6)},
                  {"value", q.text_json(7)},
                  {"mutability", q.text_json(8)},
                  {"persistent", q.is_null(9) ? json(nullptr) : json(q.integer(9) != 0)},
                  {"constant", q.is_null(10) ? json(nullptr) : json(q.integer(10) != 0)},
                  {"characteristics", q.is_null(11) ? json(nullptr) : json::parse(q.text(11), nullptr, false)},
                  {"updatedAt", q.text(12)}};
      rows.push_back(std::move(row));
    }
    return rows;
  }

  json list_id_tags() {
    json tags = json::array();
    auto q = query(
        "SELECT id_tag, status, expiry_date, parent_id_tag, updated_at FROM id_tags "
        "ORDER BY id_tag");
    while (q.step()) {
      tags.push_back({{"idTag", q.text(0)},
                      {"status", q.text(1)},
                      {"expiryDate", q.text_json(2)},
                      {"parentIdTag", q.text_json(3)},
                      {"updatedAt", q.text(4)}});
    }
    return tags;
  }

 private:
  void migrate() {
    transaction("BEGIN IMMEDIATE", [&] {
      exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      // Each migration applied once, by version (not "above the highest"): migrations
      // written on parallel branches may reach a database in any order.
      for (int i = 0; i < sqlite::kMigrationCount; ++i) {
        const Migration& migration = sqlite::kMigrations[i];
        auto applied = query("SELECT 1 FROM schema_migrations WHERE version = ?1");
        applied.bind(1, migration.version);
        const bool done = applied.step();
        applied.run();
        if (done) continue;
        exec(migration.sql);
        auto q = query("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
        q.bind(1, migration.version).bind(2, now_text());
        q.run();
      }
    });
  }

  void close() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
    for (auto& [sql, stmt] : built_statements_) sqlite3_finalize(stmt);
    built_statements_.clear();
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = nullptr;
  }

  sqlite3* db_ = nullptr;
  bool in_transaction_ = false;
  std::unique_ptr<SqlTx> firmware_sql_;  // firmware(): statements on db_, no cache
  std::unique_ptr<csms::FirmwareUnit> firmware_unit_;
  // Keyed by the SQL text's address: every statement is a string literal in this file.
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
  std::unordered_map<std::string, sqlite3_stmt*> built_statements_;
};

SqliteStore::SqliteStore(const std::string& path, SqliteOptions options)
    : impl_(std::make_unique<Impl>(path, options)) {}

SqliteStore::~SqliteStore() = default;

csms::FirmwareStore& SqliteStore::firmware_store() {
  if (!firmware_store_) {
    firmware_store_ = make_firmware_store([this](bool write, const std::function<void(SqlTx&)>& work) {
      impl_->transaction(write ? "BEGIN IMMEDIATE" : "BEGIN", [&] {
        auto tx = make_sqlite_sql_tx(impl_->db());
        work(*tx);
      });
    });
  }
  return *firmware_store_;
}

void SqliteStore::in_transaction(const std::function<void(csms::UnitOfWork&)>& work) {
  impl_->transaction("BEGIN IMMEDIATE", [&] { work(*impl_); });
}

void SqliteStore::ping() {
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT count(*) FROM schema_migrations");
    q.step();
  });
}

ChargerPage SqliteStore::list_chargers(const ChargerQuery& query) {
  ChargerPage result;
  impl_->transaction("BEGIN", [&] { result = impl_->list_chargers(query); });
  return result;
}

json SqliteStore::charger_summary(const std::string& online_since) {
  json result;
  impl_->transaction("BEGIN", [&] { result = impl_->charger_summary(online_since); });
  return result;
}

std::int64_t SqliteStore::count_transactions(const TransactionFilter& filter) {
  std::int64_t result = 0;
  impl_->transaction("BEGIN", [&] { result = impl_->count_transactions(filter); });
  return result;
}

std::optional<json> SqliteStore::charger(std::string_view identity) {
  std::optional<json> result;
  impl_->transaction("BEGIN", [&] { result = impl_->charger(identity); });
  return result;
}

json SqliteStore::list_transactions(const TransactionFilter& filter) {
  json result;
  impl_->transaction("BEGIN", [&] { result = impl_->list_transactions(filter); });
  return result;
}

json SqliteStore::transaction_ids_for(std::string_view ocpp_transaction_id) {
  json result;
  impl_->transaction("BEGIN", [&] { result = impl_->transaction_ids_for(ocpp_transaction_id); });
  return result;
}

std::optional<json> SqliteStore::device_model(std::string_view identity) {
  std::optional<json> result;
  impl_->transaction("BEGIN", [&] { result = impl_->device_model(identity); });
  return result;
}

std::optional<json> SqliteStore::transaction(std::int64_t id) {
  std::optional<json> result;
  impl_->transaction("BEGIN", [&] { result = impl_->transaction(id); });
  return result;
}

void SqliteStore::upsert_id_tag(std::string_view tag, std::string_view status,
                                std::optional<std::string> expiry,
                                std::optional<std::string> parent) {
  if (tag.empty() || tag.size() > 20) {
    throw std::invalid_argument("id tag must have 1 to 20 characters");
  }
  if (std::find(std::begin(kIdTagStatuses), std::end(kIdTagStatuses), status) ==
      std::end(kIdTagStatuses)) {
    throw std::invalid_argument("id tag status \"" + std::string(status) +
                                "\" is not one of Accepted, Blocked, Expired, Invalid, ConcurrentTx");
  }
  if (expiry) {
    const auto canonical = csms::normalize_timestamp(*expiry);
    if (!canonical) throw std::invalid_argument("expiry \"" + *expiry + "\" is not an ISO 8601 date-time");
    expiry = *canonical;
  }
  if (parent && (parent->empty() || parent->size() > 20)) {
    throw std::invalid_argument("parent id tag must have 1 to 20 characters");
  }
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO id_tags (id_tag, status, expiry_date, parent_id_tag, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, "
        "expiry_date = excluded.expiry_date, parent_id_tag = excluded.parent_id_tag, "
        "updated_at = excluded.updated_at");
    q.bind(1, tag).bind(2, status).bind(3, expiry).bind(4, parent).bind(5, now_text());
    q.run();
  });
}

void SqliteStore::register_charger(std::string_view identity) {
  if (identity.empty()) throw std::invalid_argument("charge point identity must not be empty");
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO chargers (charge_point_id, pre_registered, created_at) VALUES (?1, 1, ?2) "
        "ON CONFLICT (charge_point_id) DO UPDATE SET pre_registered = 1");
    q.bind(1, identity).bind(2, now_text());
    q.run();
  });
}

json SqliteStore::list_id_tags() {
  json result;
  impl_->transaction("BEGIN", [&] { result = impl_->list_id_tags(); });
  return result;
}

void SqliteStore::record_command_effect(std::string_view identity, const csms::CommandEffect& effect) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    const std::string now = now_text();
    auto insert = impl_->query(
        "INSERT INTO chargers (charge_point_id, created_at) VALUES (?1, ?2) "
        "ON CONFLICT (charge_point_id) DO NOTHING");
    insert.bind(1, identity).bind(2, now);
    insert.run();
    auto find = impl_->query("SELECT id FROM chargers WHERE charge_point_id = ?1");
    find.bind(1, identity);
    if (!find.step()) throw std::runtime_error("charger row vanished");
    const std::int64_t charger_id = find.integer(0);
    auto upsert_key = [&](const std::string& key, const std::optional<std::string>& value, bool readonly,
                          bool known, bool reboot_required, const char* source) {
      auto q = impl_->query(
          "INSERT INTO charger_configuration (charger_id, key, value, readonly, known, reboot_required, "
          "source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (charger_id, key) DO "
          "UPDATE SET value = excluded.value, readonly = excluded.readonly, known = excluded.known, "
          "reboot_required = excluded.reboot_required, source = excluded.source, "
          "updated_at = excluded.updated_at");
      q.bind(1, charger_id).bind(2, key).bind(3, value).bind(4, readonly ? 1 : 0).bind(5, known ? 1 : 0)
          .bind(6, reboot_required ? 1 : 0).bind(7, source).bind(8, now);
      q.run();
    };
    if (const auto* report = std::get_if<csms::ConfigurationReport>(&effect)) {
      for (const auto& k : report->keys) upsert_key(k.key, k.value, k.readonly, true, false, "GetConfiguration");
      for (const auto& k : report->unknown_keys) upsert_key(k, std::nullopt, false, false, false, "GetConfiguration");
    } else if (const auto* change = std::get_if<csms::ConfigurationChange>(&effect)) {
      upsert_key(change->key, change->value, false, true, change->reboot_required, "ChangeConfiguration");
    } else if (const auto* availability = std::get_if<csms::AvailabilityChange>(&effect)) {
      auto q = impl_->query(
          "INSERT INTO connector_availability (charger_id, connector_id, availability, scheduled, updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (charger_id, connector_id) DO UPDATE SET "
          "availability = excluded.availability, scheduled = excluded.scheduled, updated_at = excluded.updated_at");
      q.bind(1, charger_id).bind(2, availability->connector_id).bind(3, availability->type)
          .bind(4, availability->scheduled ? 1 : 0).bind(5, now);
      q.run();
    }
  });
}

std::optional<json> SqliteStore::charger_configuration(std::string_view identity) {
  std::optional<json> result;
  impl_->transaction("BEGIN", [&] {
    auto find = impl_->query("SELECT id FROM chargers WHERE charge_point_id = ?1");
    find.bind(1, identity);
    if (!find.step()) return;
    const std::int64_t charger_id = find.integer(0);
    json keys = json::array();
    json unknown = json::array();
    auto q = impl_->query(
        "SELECT key, value, readonly, known, reboot_required, source, updated_at FROM charger_configuration "
        "WHERE charger_id = ?1 ORDER BY key");
    q.bind(1, charger_id);
    while (q.step()) {
      if (q.integer(3) == 0) {
        unknown.push_back(q.text(0));
        continue;
      }
      auto value = q.optional_text(1);
      keys.push_back(json{{"key", q.text(0)},
                          {"value", value ? json(*value) : json(nullptr)},
                          {"readonly", q.integer(2) != 0},
                          {"rebootRequired", q.integer(4) != 0},
                          {"source", q.text(5)},
                          {"updatedAt", q.text(6)}});
    }
    json availability = json::array();
    auto a = impl_->query(
        "SELECT connector_id, availability, scheduled, updated_at FROM connector_availability "
        "WHERE charger_id = ?1 ORDER BY connector_id");
    a.bind(1, charger_id);
    while (a.step()) {
      availability.push_back(json{{"connectorId", a.integer(0)},
                                  {"availability", a.text(1)},
                                  {"scheduled", a.integer(2) != 0},
                                  {"updatedAt", a.text(3)}});
    }
    result = json{{"chargePointId", std::string(identity)},
                  {"configurationKey", keys},
                  {"unknownKey", unknown},
                  {"availability", availability}};
  });
  return result;
}

void SqliteStore::in_analytics_transaction(
    const std::function<void(analytics::AnalyticsUnit&)>& work) {
  impl_->transaction("BEGIN IMMEDIATE", [&] { work(*impl_); });
}

std::optional<csms::Reservation> SqliteStore::create_reservation(std::string_view charge_point_id,
                                                                 const csms::ReservationRequest& request,
                                                                 std::string_view now) {
  std::optional<csms::Reservation> result;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    const std::int64_t charger_id = impl_->charger_row(charge_point_id, false);
    if (charger_id == 0) return;
    auto q = impl_->query(
        "INSERT INTO reservations (id, charger_id, connector_id, id_tag, parent_id_tag, expiry_date, status, "
        "created_at, updated_at) SELECT coalesce(max(id), 0) + 1, ?1, ?2, ?3, ?4, ?5, 'Requested', ?6, ?6 "
        "FROM reservations");
    q.bind(1, charger_id).bind(2, request.connector_id).bind(3, request.id_tag).bind(4, request.parent_id_tag)
        .bind(5, request.expiry_date).bind(6, now);
    q.run();
    result = impl_->reservation(sqlite3_last_insert_rowid(impl_->db()));
  });
  return result;
}

csms::Reservation SqliteStore::record_reservation(std::string_view charge_point_id, const csms::Reservation& r,
                                                  std::string_view now) {
  csms::Reservation result;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    const std::int64_t charger_id = impl_->charger_row(charge_point_id, true);
    // The same reservation as stored (the answer to our own ReserveNow) keeps its
    // created_at; another one under the same id replaces it.
    auto q = impl_->query(
        "INSERT INTO reservations (id, charger_id, connector_id, id_tag, parent_id_tag, expiry_date, status, "
        "transaction_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?8) "
        "ON CONFLICT (id) DO UPDATE SET created_at = CASE WHEN reservations.charger_id = excluded.charger_id "
        "AND reservations.connector_id = excluded.connector_id AND reservations.id_tag = excluded.id_tag "
        "AND reservations.expiry_date = excluded.expiry_date AND reservations.status = 'Requested' "
        "THEN reservations.created_at ELSE excluded.created_at END, "
        "charger_id = excluded.charger_id, connector_id = excluded.connector_id, id_tag = excluded.id_tag, "
        "parent_id_tag = excluded.parent_id_tag, expiry_date = excluded.expiry_date, status = excluded.status, "
        "transaction_id = NULL, updated_at = excluded.updated_at");
    q.bind(1, r.id).bind(2, charger_id).bind(3, r.connector_id).bind(4, r.id_tag).bind(5, r.parent_id_tag)
        .bind(6, r.expiry_date).bind(7, r.status).bind(8, now);
    q.run();
    result = *impl_->reservation(r.id);
  });
  return result;
}

std::optional<csms::Reservation> SqliteStore::change_reservation_status(std::int64_t id, std::string_view to,
                                                                        const std::vector<std::string>& from,
                                                                        std::string_view now) {
  std::optional<csms::Reservation> result;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto current = impl_->reservation(id);
    if (!current || std::find(from.begin(), from.end(), current->status) == from.end()) return;
    auto q = impl_->query("UPDATE reservations SET status = ?2, updated_at = ?3 WHERE id = ?1");
    q.bind(1, id).bind(2, to).bind(3, now);
    q.run();
    result = impl_->reservation(id);
  });
  return result;
}

std::optional<csms::Reservation> SqliteStore::find_reservation(std::int64_t id) {
  std::optional<csms::Reservation> result;
  impl_->transaction("BEGIN", [&] { result = impl_->reservation(id); });
  return result;
}

std::vector<csms::Reservation> SqliteStore::list_reservations(const api::ReservationFilter& filter) {
  std::vector<csms::Reservation> result;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT " GENX_RESERVATION_COLUMNS " FROM reservations r JOIN chargers c ON c.id = r.charger_id "
        "WHERE (?1 IS NULL OR c.charge_point_id = ?1) AND (?2 IS NULL OR r.status = ?2) "
        "ORDER BY r.id DESC LIMIT ?3");
    q.bind(1, filter.charger).bind(2, filter.status).bind(3, std::clamp(filter.limit, 1, 1000));
    while (q.step()) result.push_back(reservation_record(q));
  });
  return result;
}

std::vector<csms::Reservation> SqliteStore::expire_reservations(std::string_view now) {
  std::vector<std::int64_t> due;
  // A read first: most sweeps find nothing and need no write lock.
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT id FROM reservations WHERE status = 'Accepted' AND expiry_date <= ?1");
    q.bind(1, now);
    while (q.step()) due.push_back(q.integer(0));
  });
  std::vector<csms::Reservation> expired;
  if (due.empty()) return expired;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    for (const auto id : due) {
      auto q = impl_->query(
          "UPDATE reservations SET status = 'Expired', updated_at = ?2 "
          "WHERE id = ?1 AND status = 'Accepted' AND expiry_date <= ?2");
      q.bind(1, id).bind(2, now);
      q.run();
      if (sqlite3_changes(impl_->db()) == 0) continue;  // used, cancelled or expired by another process
      if (auto r = impl_->reservation(id)) expired.push_back(std::move(*r));
    }
  });
  return expired;
}

void SqliteStore::set_tariff(std::string_view charge_point_id, std::optional<csms::Tariff> tariff) {
  if (charge_point_id.empty()) throw std::invalid_argument("charge point identity must not be empty");
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    if (!tariff) {
      auto q = impl_->query("DELETE FROM tariffs WHERE charge_point_id = ?1");
      q.bind(1, charge_point_id);
      q.run();
      return;
    }
    auto q = impl_->query(
        "INSERT INTO tariffs (charge_point_id, energy_per_kwh_micro, time_per_minute_micro, "
        "session_fee_micro, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (charge_point_id) "
        "DO UPDATE SET energy_per_kwh_micro = excluded.energy_per_kwh_micro, "
        "time_per_minute_micro = excluded.time_per_minute_micro, "
        "session_fee_micro = excluded.session_fee_micro, updated_at = excluded.updated_at");
    q.bind(1, charge_point_id).bind(2, tariff->energy_per_kwh_micro)
        .bind(3, tariff->time_per_minute_micro).bind(4, tariff->session_fee_micro)
        .bind(5, now_text());
    q.run();
  });
}

json SqliteStore::list_tariffs() {
  json result = json::array();
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT charge_point_id, energy_per_kwh_micro, time_per_minute_micro, session_fee_micro, "
        "updated_at FROM tariffs ORDER BY charge_point_id");
    while (q.step()) {
      result.push_back({{"chargePointId", q.text(0)},
                        {"energyPerKwh", csms::format_price_micro(q.integer(1))},
                        {"timePerMinute", csms::format_price_micro(q.integer(2))},
                        {"sessionFee", csms::format_price_micro(q.integer(3))},
                        {"updatedAt", q.text(4)}});
    }
  });
  return result;
}

std::optional<security::ChargerSecurity> SqliteStore::charger_security(std::string_view charge_point_id) {
  std::optional<security::ChargerSecurity> result;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT security_profile, password_hash FROM charger_security WHERE charge_point_id = ?1");
    q.bind(1, charge_point_id);
    if (q.step()) {
      result = security::ChargerSecurity{static_cast<int>(q.integer(0)), q.optional_text(1)};
    }
  });
  return result;
}

std::optional<json> SqliteStore::charger_security_summary(std::string_view charge_point_id) {
  std::optional<json> result;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT security_profile, password_hash IS NOT NULL, updated_at FROM charger_security "
        "WHERE charge_point_id = ?1");
    q.bind(1, charge_point_id);
    if (q.step()) {
      result = json{{"chargePointId", std::string(charge_point_id)},
                    {"securityProfile", q.integer(0)},
                    {"passwordSet", q.integer(1) != 0},
                    {"updatedAt", q.text(2)}};
    }
  });
  return result;
}

void SqliteStore::set_charger_security(std::string_view charge_point_id, std::optional<int> profile,
                                       std::optional<std::string> password_hash) {
  if (charge_point_id.empty()) throw std::invalid_argument("charge point identity must not be empty");
  if (profile && (*profile < 0 || *profile > 3)) {
    throw std::invalid_argument("security profile must be 0, 1, 2 or 3");
  }
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO charger_security (charge_point_id, security_profile, password_hash, updated_at) "
        "VALUES (?1, coalesce(?2, 0), ?3, ?4) ON CONFLICT (charge_point_id) DO UPDATE SET "
        "security_profile = coalesce(?2, security_profile), "
        "password_hash = coalesce(?3, password_hash), updated_at = excluded.updated_at");
    q.bind(1, charge_point_id)
        .bind(2, profile ? std::optional<std::int64_t>(*profile) : std::nullopt)
        .bind(3, password_hash)
        .bind(4, now_text());
    q.run();
  });
}

json SqliteStore::stats_series(const StatsQuery& query) {
  json result = json::array();
  const bool daily = query.bucket == "day";
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        daily ? "SELECT a.day, min(a.day_start), max(a.day_end), sum(sessions_started), "
                "sum(sessions_completed), sum(energy_wh), sum(session_ms), sum(charging_ms), "
                "sum(occupied_ms), sum(faulted_ms), sum(faults), sum(revenue_minor), "
                "max(peak_power_w) FROM analytics_daily a JOIN chargers c ON c.id = a.charger_id "
                "WHERE (?1 IS NULL OR a.day >= ?1) AND (?2 IS NULL OR a.day < ?2) "
                "AND (?3 IS NULL OR c.charge_point_id = ?3) GROUP BY a.day ORDER BY a.day"
              : "SELECT a.bucket_start, a.bucket_start, a.bucket_start, sum(sessions_started), "
                "sum(sessions_completed), sum(energy_wh), sum(session_ms), sum(charging_ms), "
                "sum(occupied_ms), sum(faulted_ms), sum(faults), sum(revenue_minor), "
                "max(peak_power_w) FROM analytics_hourly a JOIN chargers c ON c.id = a.charger_id "
                "WHERE (?1 IS NULL OR a.bucket_start >= ?1) AND (?2 IS NULL OR a.bucket_start < ?2) "
                "AND (?3 IS NULL OR c.charge_point_id = ?3) GROUP BY a.bucket_start "
                "ORDER BY a.bucket_start");
    q.bind(1, query.from).bind(2, query.to).bind(3, query.charger);
    while (q.step()) {
      json row = figures_json(q, 3);
      row["bucket"] = q.text(0);
      row["bucketStart"] = q.text(1);
      if (daily) {
        row["bucketEnd"] = q.text(2);
      } else {
        row["bucketEnd"] = csms::format_timestamp(
            csms::parse_timestamp(q.text(1)).value_or(0) + analytics::kHourMs);
      }
      result.push_back(std::move(row));
    }
  });
  return result;
}

json SqliteStore::stats_by_charger(const StatsQuery& query) {
  json result = json::array();
  const bool daily = query.bucket == "day";
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        daily ? "SELECT c.charge_point_id, (SELECT count(*) FROM connectors k "
                "WHERE k.charger_id = c.id AND k.connector_id > 0), "
                "coalesce(sum(sessions_started), 0), coalesce(sum(sessions_completed), 0), "
                "coalesce(sum(energy_wh), 0), coalesce(sum(session_ms), 0), "
                "coalesce(sum(charging_ms), 0), coalesce(sum(occupied_ms), 0), "
                "coalesce(sum(faulted_ms), 0), coalesce(sum(faults), 0), "
                "coalesce(sum(revenue_minor), 0), coalesce(max(peak_power_w), 0) "
                "FROM chargers c LEFT JOIN analytics_daily a ON a.charger_id = c.id "
                "AND (?1 IS NULL OR a.day >= ?1) AND (?2 IS NULL OR a.day < ?2) "
                "WHERE (?3 IS NULL OR c.charge_point_id = ?3) GROUP BY c.id "
                "ORDER BY c.charge_point_id"
              : "SELECT c.charge_point_id, (SELECT count(*) FROM connectors k "
                "WHERE k.charger_id = c.id AND k.connector_id > 0), "
                "coalesce(sum(sessions_started), 0), coalesce(sum(sessions_completed), 0), "
                "coalesce(sum(energy_wh), 0), coalesce(sum(session_ms), 0), "
                "coalesce(sum(charging_ms), 0), coalesce(sum(occupied_ms), 0), "
                "coalesce(sum(faulted_ms), 0), coalesce(sum(faults), 0), "
                "coalesce(sum(revenue_minor), 0), coalesce(max(peak_power_w), 0) "
                "FROM chargers c LEFT JOIN analytics_hourly a ON a.charger_id = c.id "
                "AND (?1 IS NULL OR a.bucket_start >= ?1) AND (?2 IS NULL OR a.bucket_start < ?2) "
                "WHERE (?3 IS NULL OR c.charge_point_id = ?3) GROUP BY c.id "
                "ORDER BY c.charge_point_id");
    q.bind(1, query.from).bind(2, query.to).bind(3, query.charger);
    while (q.step()) {
      json row = figures_json(q, 2);
      row["chargePointId"] = q.text(0);
      row["connectors"] = q.integer(1);
      result.push_back(std::move(row));
    }
  });
  return result;
}

std::int64_t SqliteStore::stats_unique_id_tags(const StatsQuery& query) {
  std::int64_t count = 0;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT count(DISTINCT t.id_tag) FROM transactions t JOIN chargers c ON c.id = t.charger_id "
        "WHERE (?1 IS NULL OR t.started_at >= ?1) AND (?2 IS NULL OR t.started_at < ?2) "
        "AND (?3 IS NULL OR c.charge_point_id = ?3)");
    q.bind(1, query.from_utc).bind(2, query.to_utc).bind(3, query.charger);
    q.step();
    count = q.integer(0);
  });
  return count;
}

std::int64_t SqliteStore::stats_connector_count(const std::optional<std::string>& charger) {
  std::int64_t count = 0;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT count(*) FROM connectors k JOIN chargers c ON c.id = k.charger_id "
        "WHERE k.connector_id > 0 AND (?1 IS NULL OR c.charge_point_id = ?1)");
    q.bind(1, charger);
    q.step();
    count = q.integer(0);
  });
  return count;
}

PruneReport SqliteStore::prune(const RetentionPolicy& policy, std::int64_t now_ms, bool dry_run) {
  if (impl_->in_transaction()) throw std::logic_error("SqliteStore: prune inside a transaction");
  return prune_sqlite(impl_->db(), policy, now_ms, dry_run);
}

std::optional<RetainedHorizon> SqliteStore::retained_horizon() {
  if (impl_->in_transaction()) throw std::logic_error("SqliteStore: nested transaction");
  return sqlite_retained_horizon(impl_->db());
}

int SqliteStore::schema_version() {
  int version = 0;
  impl_->transaction("BEGIN", [&] { version = impl_->schema_version(); });
  return version;
}

std::int64_t SqliteStore::create_api_token(std::string_view name, std::string_view role,
                                           std::string_view digest) {
  if (name.empty() || name.size() > 100) throw std::invalid_argument("token name must be 1-100 characters");
  std::int64_t id = 0;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto taken = impl_->query("SELECT 1 FROM api_tokens WHERE name = ?1 AND revoked_at IS NULL");
    taken.bind(1, name);
    const bool exists = taken.step();
    taken.run();
    if (exists) throw std::invalid_argument("an active token named " + std::string(name) + " exists");
    auto q = impl_->query(
        "INSERT INTO api_tokens (name, role, digest, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id");
    q.bind(1, name).bind(2, role).bind(3, digest).bind(4, now_text());
    q.step();
    id = q.integer(0);
    q.run();
  });
  return id;
}

json SqliteStore::list_api_tokens() {
  json tokens = json::array();
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id");
    while (q.step()) {
      tokens.push_back({{"id", q.integer(0)},
                        {"name", q.text(1)},
                        {"role", q.text(2)},
                        {"createdAt", q.text(3)},
                        {"revokedAt", q.text_json(4)}});
    }
  });
  return tokens;
}

bool SqliteStore::revoke_api_token(std::string_view id_or_name) {
  const bool numeric = !id_or_name.empty() && id_or_name.size() < 19 &&
                       std::all_of(id_or_name.begin(), id_or_name.end(),
                                   [](unsigned char c) { return c >= '0' && c <= '9'; });
  bool revoked = false;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "UPDATE api_tokens SET revoked_at = ?3 WHERE revoked_at IS NULL AND "
        "((?1 IS NOT NULL AND id = ?1) OR name = ?2) RETURNING id");
    q.bind(1, numeric ? std::optional<std::int64_t>(std::stoll(std::string(id_or_name))) : std::nullopt)
        .bind(2, id_or_name)
        .bind(3, now_text());
    while (q.step()) revoked = true;
  });
  return revoked;
}

std::optional<ApiTokenRecord> SqliteStore::find_api_token(std::string_view digest) {
  std::optional<ApiTokenRecord> found;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT id, name, role FROM api_tokens WHERE digest = ?1 AND revoked_at IS NULL");
    q.bind(1, digest);
    if (q.step()) found = ApiTokenRecord{q.integer(0), q.text(1), q.text(2)};
    q.run();
  });
  return found;
}

bool SqliteStore::has_active_api_tokens() {
  bool any = false;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL)");
    q.step();
    any = q.integer(0) != 0;
    q.run();
  });
  return any;
}

std::unique_ptr<SqliteStore> open_sqlite_store(const std::string& path, SqliteOptions options) {
  if (path.empty()) throw std::invalid_argument("SQLite database path is empty");
  if (path != ":memory:") {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
      std::error_code error;
      std::filesystem::create_directories(parent, error);
      if (error) {
        throw std::runtime_error("cannot create directory " + parent.string() + " for the database: " +
                                 error.message());
      }
    }
  }
  return std::make_unique<SqliteStore>(path, options);
}

}  // namespace genx::store

// ---- smart::SiteStore (docs/smart-charging.md) ----
namespace genx::store {
namespace {

void bind_real(Query& q, int index, const std::optional<double>& value) {
  if (value) {
    q.bind_real(index, *value);
  } else {
    q.bind(index, std::optional<std::int64_t>());
  }
}

std::optional<double> optional_real(const Query& q, int column) {
  if (q.is_null(column)) return std::nullopt;
  return q.real(column);
}

smart::SiteSettings read_site(const Query& q) {
  return smart::SiteSettings{q.text(0), q.text(1), q.real(2), static_cast<int>(q.integer(3)), q.real(4),
                             optional_real(q, 5)};
}

// The highest phase of the latest Current.Import reading of a transaction.
std::optional<double> latest_current(Query& q) {
  std::optional<double> best;
  std::string at;
  while (q.step()) {
    const std::string timestamp = q.text(1);
    if (!at.empty() && timestamp != at) break;
    at = timestamp;
    try {
      const double value = std::stod(q.text(0));
      best = best ? std::max(*best, value) : value;
    } catch (const std::exception&) {
    }
  }
  return best;
}

}  // namespace

void SqliteStore::put_site(const smart::SiteSettings& site) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO sites (id, name, max_current_a, phases, min_current_a, updated_at, max_power_w) VALUES (?1, "
        "?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
        "max_current_a = excluded.max_current_a, phases = excluded.phases, min_current_a = excluded.min_current_a, "
        "updated_at = excluded.updated_at, max_power_w = excluded.max_power_w");
    q.bind(1, site.id).bind(2, site.name).bind_real(3, site.max_current_a).bind(4, site.phases)
        .bind_real(5, site.min_current_a).bind(6, now_text());
    bind_real(q, 7, site.max_power_w);
    q.run();
  });
}

std::vector<smart::SiteSettings> SqliteStore::list_sites() {
  std::vector<smart::SiteSettings> sites;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT id, name, max_current_a, phases, min_current_a, max_power_w FROM sites ORDER BY id");
    while (q.step()) sites.push_back(read_site(q));
  });
  return sites;
}

std::optional<smart::SiteSettings> SqliteStore::find_site(std::string_view site_id) {
  std::optional<smart::SiteSettings> site;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT id, name, max_current_a, phases, min_current_a, max_power_w FROM sites WHERE id = ?1");
    q.bind(1, site_id);
    if (q.step()) site = read_site(q);
  });
  return site;
}

bool SqliteStore::delete_site(std::string_view site_id) {
  bool deleted = false;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    record_departures(site_id, "site_id = ?1 AND (charge_point_id = ?2 OR ?2 = '')", "");
    for (const char* sql : {"DELETE FROM site_session_limits WHERE site_id = ?1",
                            "DELETE FROM site_leases WHERE site_id = ?1", "DELETE FROM site_chargers WHERE site_id = ?1"}) {
      auto q = impl_->query(sql);
      q.bind(1, site_id);
      q.run();
    }
    auto q = impl_->query("DELETE FROM sites WHERE id = ?1");
    q.bind(1, site_id);
    q.run();
    deleted = sqlite3_changes(impl_->db()) > 0;
  });
  return deleted;
}

void SqliteStore::put_site_member(std::string_view site_id, const smart::SiteMember& member) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    // Moving from another site: that site's profiles are cleared first; back in the same
    // site (or new): nothing to clear any more.
    record_departures(site_id, "charge_point_id = ?2 AND site_id <> ?1", member.charge_point_id);
    {
      auto d = impl_->query("DELETE FROM site_departures WHERE charge_point_id = ?1 AND site_id = ?2");
      d.bind(1, member.charge_point_id).bind(2, site_id);
      d.run();
    }
    // Moving to another site forgets the TxDefaultProfile state: the new site sends its own.
    auto q = impl_->query(
        "INSERT INTO site_chargers (charge_point_id, site_id, max_current_a, min_current_a, priority, joined_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (charge_point_id) DO UPDATE SET "
        "max_current_a = excluded.max_current_a, min_current_a = excluded.min_current_a, "
        "priority = excluded.priority, "
        "default_status = CASE WHEN site_chargers.site_id = excluded.site_id THEN site_chargers.default_status "
        "ELSE 'none' END, "
        "joined_at = CASE WHEN site_chargers.site_id = excluded.site_id THEN site_chargers.joined_at "
        "ELSE excluded.joined_at END, site_id = excluded.site_id");
    q.bind(1, member.charge_point_id).bind(2, site_id);
    bind_real(q, 3, member.max_current_a);
    bind_real(q, 4, member.min_current_a);
    q.bind(5, member.priority).bind(6, now_text());
    q.run();
  });
}

bool SqliteStore::delete_site_member(std::string_view site_id, std::string_view charge_point_id) {
  bool deleted = false;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    record_departures(site_id, "site_id = ?1 AND charge_point_id = ?2", charge_point_id);
    auto q = impl_->query("DELETE FROM site_chargers WHERE site_id = ?1 AND charge_point_id = ?2");
    q.bind(1, site_id).bind(2, charge_point_id);
    q.run();
    deleted = sqlite3_changes(impl_->db()) > 0;
    auto limits = impl_->query("DELETE FROM site_session_limits WHERE site_id = ?1 AND charge_point_id = ?2");
    limits.bind(1, site_id).bind(2, charge_point_id);
    limits.run();
  });
  return deleted;
}

std::vector<smart::SiteMember> SqliteStore::site_members(std::string_view site_id) {
  std::vector<smart::SiteMember> members;
  impl_->transaction("BEGIN", [&] { members = read_members(site_id); });
  return members;
}

std::vector<smart::SiteMember> SqliteStore::read_members(std::string_view site_id) {
  std::vector<smart::SiteMember> members;
  {
    auto q = impl_->query(
        "SELECT s.charge_point_id, s.max_current_a, s.min_current_a, s.priority, s.default_limit_a, "
        "s.default_status, cc.value, c.ocpp_version FROM site_chargers s "
        "LEFT JOIN chargers c ON c.charge_point_id = s.charge_point_id "
        "LEFT JOIN charger_configuration cc ON cc.charger_id = c.id "
        "AND cc.key = 'ChargingScheduleAllowedChargingRateUnit' AND cc.known = 1 "
        "WHERE s.site_id = ?1 ORDER BY s.charge_point_id");
    q.bind(1, site_id);
    while (q.step()) {
      smart::SiteMember m{q.text(0), optional_real(q, 1), optional_real(q, 2),
                          static_cast<int>(q.integer(3)), optional_real(q, 4), q.text(5)};
      if (!q.is_null(6)) m.allowed_rate_units = q.text(6);
      if (!q.is_null(7)) m.ocpp_version = q.text(7);
      members.push_back(std::move(m));
    }
  }
  return members;
}

std::vector<smart::SiteSession> SqliteStore::site_sessions(std::string_view site_id) {
  std::vector<smart::SiteSession> sessions;
  impl_->transaction("BEGIN", [&] { sessions = read_sessions(site_id); });
  return sessions;
}

std::vector<smart::SiteSession> SqliteStore::read_sessions(std::string_view site_id) {
  std::vector<smart::SiteSession> sessions;
  {
    auto q = impl_->query(
        "SELECT c.charge_point_id, t.connector_id, t.id, t.started_at, t.id_tag, p.priority, "
        "t.ocpp_transaction_id FROM site_chargers s "
        "JOIN chargers c ON c.charge_point_id = s.charge_point_id "
        "JOIN transactions t ON t.charger_id = c.id AND t.stopped_at IS NULL "
        "LEFT JOIN tag_priorities p ON p.id_tag = t.id_tag "
        "WHERE s.site_id = ?1 ORDER BY c.charge_point_id, t.connector_id");
    q.bind(1, site_id);
    while (q.step()) {
      smart::SiteSession session{q.text(0), static_cast<int>(q.integer(1)), q.integer(2), q.text(3), {}};
      session.id_tag = q.text(4);
      if (!q.is_null(5)) session.tag_priority = static_cast<int>(q.integer(5));
      if (!q.is_null(6)) session.ocpp_transaction_id = q.text(6);
      sessions.push_back(std::move(session));
    }
    for (auto& session : sessions) {
      auto m = impl_->query(
          "SELECT value, timestamp FROM meter_values WHERE transaction_id = ?1 AND measurand = 'Current.Import' "
          "ORDER BY timestamp DESC, id DESC LIMIT 3");
      m.bind(1, session.transaction_id);
      session.measured_a = latest_current(m);
    }
  }
  return sessions;
}

std::vector<smart::SessionLimit> SqliteStore::session_limits(std::string_view site_id) {
  std::vector<smart::SessionLimit> limits;
  impl_->transaction("BEGIN", [&] { limits = read_limits(site_id); });
  return limits;
}

std::optional<smart::SiteState> SqliteStore::site_state(std::string_view site_id) {
  std::optional<smart::SiteState> state;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT id, name, max_current_a, phases, min_current_a, max_power_w FROM sites WHERE id = ?1");
    q.bind(1, site_id);
    if (!q.step()) return;
    smart::SiteSettings site = read_site(q);
    q.run();
    state = smart::SiteState{site, read_members(site_id), read_sessions(site_id), read_limits(site_id)};
  });
  return state;
}

std::vector<smart::SessionLimit> SqliteStore::read_limits(std::string_view site_id) {
  std::vector<smart::SessionLimit> limits;
  {
    auto q = impl_->query(
        "SELECT l.charge_point_id, l.connector_id, l.transaction_id, l.limit_a, l.status, l.updated_at "
        "FROM site_session_limits l JOIN transactions t ON t.id = l.transaction_id AND t.stopped_at IS NULL "
        "WHERE l.site_id = ?1 ORDER BY l.charge_point_id, l.connector_id");
    q.bind(1, site_id);
    while (q.step()) {
      limits.push_back(smart::SessionLimit{q.text(0), static_cast<int>(q.integer(1)), q.integer(2), q.real(3),
                                           q.text(4), q.text(5)});
    }
  }
  return limits;
}

void SqliteStore::set_default_limit(std::string_view charge_point_id, double limit_a, std::string_view status) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "UPDATE site_chargers SET default_limit_a = ?2, default_status = ?3 WHERE charge_point_id = ?1");
    q.bind(1, charge_point_id).bind_real(2, limit_a).bind(3, status);
    q.run();
  });
}

void SqliteStore::set_session_limit(std::string_view site_id, const smart::SessionLimit& limit) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO site_session_limits (transaction_id, site_id, charge_point_id, connector_id, limit_a, status, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (transaction_id) DO UPDATE SET "
        "site_id = excluded.site_id, limit_a = excluded.limit_a, status = excluded.status, "
        "updated_at = excluded.updated_at");
    q.bind(1, limit.transaction_id).bind(2, site_id).bind(3, limit.charge_point_id).bind(4, limit.connector_id)
        .bind_real(5, limit.limit_a).bind(6, limit.status).bind(7, now_text());
    q.run();
  });
}

void SqliteStore::record_profile(const smart::ProfileRecord& record) {
  const auto s = smart::summarize_profile_command(record.action, record.request);
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO charging_profiles (charge_point_id, connector_id, action, source, charging_profile_id, "
        "purpose, stack_level, transaction_id, limit_value, request, status, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, "
        "?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    q.bind(1, record.charge_point_id).bind(2, record.connector_id).bind(3, record.action).bind(4, record.source)
        .bind(5, s.charging_profile_id).bind(6, s.purpose).bind(7, s.stack_level).bind(8, s.transaction_id);
    bind_real(q, 9, s.limit);
    q.bind(10, record.request.dump()).bind(11, record.status).bind(12, now_text());
    q.run();
  });
}

json SqliteStore::charging_profiles(std::string_view charge_point_id, int limit) {
  json profiles = json::array();
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT id, connector_id, action, source, charging_profile_id, purpose, stack_level, transaction_id, "
        "limit_value, request, status, sent_at FROM charging_profiles WHERE charge_point_id = ?1 "
        "ORDER BY id DESC LIMIT ?2");
    q.bind(1, charge_point_id).bind(2, limit);
    while (q.step()) {
      auto nullable_int = [&](int c) { return q.is_null(c) ? json() : json(q.integer(c)); };
      profiles.push_back(json{{"id", q.integer(0)},
                              {"connectorId", q.integer(1)},
                              {"action", q.text(2)},
                              {"source", q.text(3)},
                              {"chargingProfileId", nullable_int(4)},
                              {"purpose", q.is_null(5) ? json() : json(q.text(5))},
                              {"stackLevel", nullable_int(6)},
                              {"transactionId", nullable_int(7)},
                              {"limit", q.is_null(8) ? json() : json(q.real(8))},
                              {"request", json::parse(q.text(9), nullptr, false)},
                              {"status", q.text(10)},
                              {"sentAt", q.text(11)}});
    }
  });
  return json{{"chargePointId", charge_point_id}, {"profiles", profiles}};
}

bool SqliteStore::acquire_site_lease(std::string_view site_id, std::string_view holder, std::int64_t now_ms,
                                     std::int64_t ttl_ms) {
  bool acquired = false;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO site_leases (site_id, holder, expires_at_ms) VALUES (?1, ?2, ?3) ON CONFLICT (site_id) DO "
        "UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms "
        "WHERE site_leases.holder = excluded.holder OR site_leases.expires_at_ms <= ?4");
    q.bind(1, site_id).bind(2, holder).bind(3, now_ms + ttl_ms).bind(4, now_ms);
    q.run();
    acquired = sqlite3_changes(impl_->db()) > 0;
  });
  return acquired;
}

void SqliteStore::record_departures(std::string_view site_id, std::string_view where,
                                    std::string_view charge_point_id) {
  auto q = impl_->built_query(
      "INSERT INTO site_departures (charge_point_id, site_id, left_at) SELECT charge_point_id, site_id, ?3 "
      "FROM site_chargers WHERE " +
      std::string(where) +
      " ON CONFLICT (charge_point_id) DO UPDATE SET site_id = excluded.site_id, left_at = excluded.left_at");
  q.bind(1, site_id).bind(2, charge_point_id).bind(3, now_text());
  q.run();
}

void SqliteStore::put_tag_priority(std::string_view id_tag, int priority) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query(
        "INSERT INTO tag_priorities (id_tag, priority, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (id_tag) DO "
        "UPDATE SET priority = excluded.priority, updated_at = excluded.updated_at");
    q.bind(1, id_tag).bind(2, priority).bind(3, now_text());
    q.run();
  });
}

bool SqliteStore::delete_tag_priority(std::string_view id_tag) {
  bool deleted = false;
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query("DELETE FROM tag_priorities WHERE id_tag = ?1");
    q.bind(1, id_tag);
    q.run();
    deleted = sqlite3_changes(impl_->db()) > 0;
  });
  return deleted;
}

std::vector<smart::TagPriority> SqliteStore::tag_priorities() {
  std::vector<smart::TagPriority> out;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query("SELECT id_tag, priority, updated_at FROM tag_priorities ORDER BY id_tag");
    while (q.step()) out.push_back({q.text(0), static_cast<int>(q.integer(1)), q.text(2)});
  });
  return out;
}

std::vector<smart::SiteDeparture> SqliteStore::site_departures() {
  std::vector<smart::SiteDeparture> out;
  impl_->transaction("BEGIN", [&] {
    auto q = impl_->query(
        "SELECT d.charge_point_id, d.site_id, d.left_at, c.ocpp_version, s.site_id FROM site_departures d "
        "LEFT JOIN chargers c ON c.charge_point_id = d.charge_point_id "
        "LEFT JOIN site_chargers s ON s.charge_point_id = d.charge_point_id ORDER BY d.left_at, d.charge_point_id");
    while (q.step()) {
      out.push_back({q.text(0), q.text(1), q.text(2), q.is_null(3) ? std::string() : q.text(3),
                     q.is_null(4) ? std::string() : q.text(4)});
    }
  });
  return out;
}

void SqliteStore::forget_departure(std::string_view charge_point_id, std::string_view left_at) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query("DELETE FROM site_departures WHERE charge_point_id = ?1 AND left_at = ?2");
    q.bind(1, charge_point_id).bind(2, left_at);
    q.run();
  });
}

void SqliteStore::release_site_lease(std::string_view site_id, std::string_view holder) {
  impl_->transaction("BEGIN IMMEDIATE", [&] {
    auto q = impl_->query("DELETE FROM site_leases WHERE site_id = ?1 AND holder = ?2");
    q.bind(1, site_id).bind(2, holder);
    q.run();
  });
}

}  // namespace genx::store
