#include "store/postgres/postgres_store.hpp"
#include "store/postgres/postgres_diagnostics.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

#include "csms/envelope.hpp"
#include "csms/tariff.hpp"
#include "store/charger_listing.hpp"
#include "smart/profiles.hpp"
#include "store/migration.hpp"
#include "store/firmware_sql.hpp"
#include "store/postgres/postgres_sql.hpp"

namespace genx::store {
namespace postgres {
// store/postgres/migrations/*.sql, embedded at build time (cmake/embed_migrations.cmake).
extern const Migration kMigrations[];
extern const int kMigrationCount;
extern const int kLatestVersion;  // the highest version (versions may have gaps)
}  // namespace postgres

namespace {

using nlohmann::json;
using Tx = pqxx::transaction_base;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
// Any constant: the key of the advisory lock migrations take.
constexpr std::int64_t kMigrationLock = 0x67656e78;  // "genx"

std::string now_text() {
  return csms::format_timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
}

// A unit that lost a race with a concurrent one (serialization failure, deadlock, a
// unique key committed meanwhile): retrying it at once is the cure.
struct Conflict : TransientStoreError {
  using TransientStoreError::TransientStoreError;
};

// Maps what libpqxx throws to the Store's promise (see postgres_store.hpp).
[[noreturn]] void rethrow_mapped() {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw TransientStoreError(std::string("postgres: connection lost: ") + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    throw TransientStoreError(std::string("postgres: commit outcome unknown: ") + e.what());
  } catch (const pqxx::statement_completion_unknown& e) {  // 40003
    throw TransientStoreError(std::string("postgres: ") + e.what());
  } catch (const pqxx::transaction_rollback& e) {  // 40001, 40P01
    throw Conflict(std::string("postgres: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    // 23505: a unique key another transaction committed meanwhile (the retry sees it);
    // 08xxx connection exceptions; 57P0x the server shutting down; 53xxx resources;
    // 55P03 lock not available.
    if (state == "23505") throw Conflict(std::string("postgres: ") + e.what());
    if (state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0 ||
        state.rfind("53", 0) == 0 || state == "55P03") {
      throw TransientStoreError(std::string("postgres: ") + e.what());
    }
    throw std::runtime_error(std::string("postgres: ") + e.what());
  }
}

// ---- the connection pool (one per process and URL) ----

class Pool {
 public:
  Pool(std::string conninfo, int size) : conninfo_(std::move(conninfo)), size_(std::max(size, 1)) {}

  std::unique_ptr<pqxx::connection> acquire() {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, std::chrono::seconds(30),
                         [&] { return !idle_.empty() || open_ < size_; })) {
      throw TransientStoreError("postgres: no free connection in the pool (DATABASE_POOL_SIZE " +
                                std::to_string(size_) + ") within 30 s");
    }
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    lock.unlock();
    try {
      return std::make_unique<pqxx::connection>(conninfo_);
    } catch (...) {
      lock.lock();
      --open_;
      ready_.notify_one();
      lock.unlock();
      // Failing to connect (unreachable, refused, a TLS certificate that does not verify,
      // a wrong password) reads as such, with libpq's reason, not as a lost connection.
      try {
        throw;
      } catch (const std::exception& e) {
        std::string reason = e.what();
        while (!reason.empty() && std::isspace(static_cast<unsigned char>(reason.back()))) reason.pop_back();
        throw TransientStoreError("postgres: cannot connect: " + reason);
      }
    }
  }

  void release(std::unique_ptr<pqxx::connection> c) {
    std::lock_guard lock(mutex_);
    if (c && c->is_open()) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
    ready_.notify_one();
  }

  int size() const { return size_; }

 private:
  std::string conninfo_;
  int size_;
  int open_ = 0;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::mutex mutex_;
  std::condition_variable ready_;
};

std::shared_ptr<Pool> pool_for(const std::string& conninfo, int size) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<Pool>> pools;
  std::lock_guard lock(mutex);
  auto& slot = pools[conninfo];
  if (auto p = slot.lock()) return p;
  auto p = std::make_shared<Pool>(conninfo, size);
  slot = p;
  return p;
}

// A borrowed connection; a connection whose unit failed on the connection is dropped.
class Lease {
 public:
  explicit Lease(std::shared_ptr<Pool> pool) : pool_(std::move(pool)), conn_(pool_->acquire()) {}
  ~Lease() {
    if (broken_) conn_.reset();
    pool_->release(std::move(conn_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  pqxx::connection& operator*() { return *conn_; }
  void mark_broken() { broken_ = true; }

 private:
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<pqxx::connection> conn_;
  bool broken_ = false;
};

// ---- row helpers ----

std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }
std::optional<std::string> opt_text(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}
std::int64_t integer(const pqxx::field& f) { return f.is_null() ? 0 : f.as<std::int64_t>(); }
std::optional<std::int64_t> opt_integer(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::int64_t>(f.as<std::int64_t>());
}
// sum() of BIGINT is NUMERIC in PostgreSQL: integral here, read through its text.
std::int64_t whole(const pqxx::field& f) {
  if (f.is_null()) return 0;
  const std::string s = f.as<std::string>();
  return static_cast<std::int64_t>(std::stoll(s.substr(0, s.find('.'))));
}
json text_json(const pqxx::field& f) { return f.is_null() ? json(nullptr) : json(f.as<std::string>()); }
json integer_json(const pqxx::field& f) { return f.is_null() ? json(nullptr) : json(f.as<std::int64_t>()); }

std::string str(std::string_view s) { return std::string(s); }

json transaction_json(const pqxx::row& r) {
  json j = {
      {"id", integer(r[0])},
      {"chargePointId", text(r[1])},
      {"connectorId", integer(r[2])},
      {"idTag", text(r[3])},
      {"idTagStatus", text(r[4])},
      {"meterStart", integer(r[5])},
      {"meterStop", integer_json(r[6])},
      {"energyWh", nullptr},
      {"startedAt", text(r[7])},
      {"stoppedAt", text_json(r[8])},
      {"stopReason", text_json(r[9])},
      {"stopIdTag", text_json(r[10])},
      {"reservationId", integer_json(r[11])},
      {"active", r[8].is_null()},
  };
  if (!r[6].is_null() && !r[8].is_null()) j["energyWh"] = integer(r[6]) - integer(r[5]);
  if (!r[12].is_null()) j["energyWh"] = integer(r[12]);
  j["costMinor"] = integer_json(r[13]);
  j["cost"] = r[13].is_null() ? json(nullptr) : json(csms::format_minor(integer(r[13])));
  j["currency"] = text_json(r[14]);
  // OCPP 2.0.1: the station's string transactionId (null for 1.6; docs/ocpp201.md).
  j["ocppTransactionId"] = text_json(r[15]);
  return j;
}

csms::TransactionRecord transaction_record(const pqxx::row& r) {
  csms::TransactionRecord t;
  t.id = integer(r[0]);
  t.charger_id = integer(r[1]);
  t.connector_id = static_cast<int>(integer(r[2]));
  t.id_tag = text(r[3]);
  t.meter_start = integer(r[4]);
  t.started_at = text(r[5]);
  t.meter_stop = opt_integer(r[6]);
  t.stopped_at = opt_text(r[7]);
  t.stop_reason = opt_text(r[8]);
  t.id_tag_status = text(r[9]);
  t.id_tag_info = opt_text(r[10]);
  return t;
}

#define GENX_RESERVATION_COLUMNS                                                                  \
  "r.id, c.charge_point_id, r.connector_id, r.id_tag, r.parent_id_tag, r.expiry_date, r.status, " \
  "r.transaction_id, r.created_at, r.updated_at"
#define GENX_RESERVATION_FROM " FROM reservations r JOIN chargers c ON c.id = r.charger_id "

csms::Reservation reservation_record(const pqxx::row& r) {
  csms::Reservation v;
  v.id = integer(r[0]);
  v.charge_point_id = text(r[1]);
  v.connector_id = static_cast<int>(integer(r[2]));
  v.id_tag = text(r[3]);
  v.parent_id_tag = opt_text(r[4]);
  v.expiry_date = text(r[5]);
  v.status = text(r[6]);
  v.transaction_id = opt_integer(r[7]);
  v.created_at = text(r[8]);
  v.updated_at = text(r[9]);
  return v;
}

std::optional<csms::Reservation> find_reservation_in(Tx& tx, std::int64_t id) {
  auto r = tx.exec_params("SELECT " GENX_RESERVATION_COLUMNS GENX_RESERVATION_FROM "WHERE r.id = $1", id);
  if (r.empty()) return std::nullopt;
  return reservation_record(r[0]);
}

#define GENX_TRANSACTION_COLUMNS                                                            \
  "id, charger_id, connector_id, id_tag, meter_start, started_at, meter_stop, stopped_at, " \
  "stop_reason, id_tag_status, id_tag_info"

json figures_json(const pqxx::row& r, int first) {
  return {{"sessionsStarted", whole(r[first])},     {"sessionsCompleted", whole(r[first + 1])},
          {"energyWh", whole(r[first + 2])},        {"sessionMs", whole(r[first + 3])},
          {"chargingMs", whole(r[first + 4])},      {"occupiedMs", whole(r[first + 5])},
          {"faultedMs", whole(r[first + 6])},       {"faults", whole(r[first + 7])},
          {"revenueMinor", whole(r[first + 8])},
          {"peakPowerW", r[first + 9].is_null() ? 0.0 : r[first + 9].as<double>()}};
}

constexpr std::string_view kIdTagStatuses[] = {"Accepted", "Blocked", "Expired", "Invalid",
                                               "ConcurrentTx"};

// ---- the unit of work: every query of the write and analytics ports on one transaction ----

class Unit final : public csms::UnitOfWork, public analytics::AnalyticsUnit {
 public:
  explicit Unit(Tx& tx) : tx_(tx) {}

  csms::FirmwareUnit* firmware() override {
    if (!firmware_unit_) {
      firmware_sql_ = std::make_unique<PostgresSqlTx>(tx_);
      firmware_unit_ = make_firmware_unit(*firmware_sql_);
    }
    return firmware_unit_.get();
  }

  std::optional<csms::ProcessedMessage> find_processed_reply(const csms::MessageKey& key) override {
    auto r = tx_.exec_params(
        "SELECT reply, events FROM processed_messages WHERE device_id = $1 AND unique_id = $2 "
        "AND action = $3",
        key.device_id, key.unique_id, key.action);
    if (r.empty()) return std::nullopt;
    return csms::ProcessedMessage{text(r[0][0]), text(r[0][1])};
  }

  void save_processed_reply(const csms::MessageKey& key, const csms::ProcessedMessage& processed,
                            std::string_view processed_at) override {
    // A concurrent worker that committed the same key first makes this a unique-key race
    // (TransientStoreError): the retry answers from its stored reply.
    tx_.exec_params(
        "INSERT INTO processed_messages (device_id, unique_id, action, reply, processed_at, "
        "events) VALUES ($1, $2, $3, $4, $5, nullif($6::text, ''))",
        key.device_id, key.unique_id, key.action, processed.reply, str(processed_at),
        processed.events);
  }

  std::int64_t touch_charger(std::string_view charge_point_id, std::string_view seen_at) override {
    auto r = tx_.exec_params(
        "INSERT INTO chargers (charge_point_id, last_seen_at, created_at) VALUES ($1, $2, $2) "
        "ON CONFLICT (charge_point_id) DO UPDATE SET last_seen_at = "
        "GREATEST(coalesce(chargers.last_seen_at, ''), excluded.last_seen_at) RETURNING id",
        str(charge_point_id), str(seen_at));
    return integer(r[0][0]);
  }

  std::optional<csms::ChargerRecord> find_charger(std::string_view charge_point_id) override {
    auto r = tx_.exec_params(
        "SELECT id, charge_point_id, registration_status, pre_registered FROM chargers "
        "WHERE charge_point_id = $1",
        str(charge_point_id));
    if (r.empty()) return std::nullopt;
    return csms::ChargerRecord{integer(r[0][0]), text(r[0][1]), opt_text(r[0][2]),
                               integer(r[0][3]) != 0};
  }

  std::int64_t upsert_charger_boot(const csms::ChargerBoot& b) override {
    auto r = tx_.exec_params(
        "INSERT INTO chargers (charge_point_id, vendor, model, serial_number, "
        "charge_box_serial_number, firmware_version, iccid, imsi, meter_type, "
        "meter_serial_number, registration_status, last_boot_at, last_seen_at, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12) "
        "ON CONFLICT (charge_point_id) DO UPDATE SET vendor = excluded.vendor, "
        "model = excluded.model, serial_number = excluded.serial_number, "
        "charge_box_serial_number = excluded.charge_box_serial_number, "
        "firmware_version = excluded.firmware_version, iccid = excluded.iccid, "
        "imsi = excluded.imsi, meter_type = excluded.meter_type, "
        "meter_serial_number = excluded.meter_serial_number, "
        "registration_status = excluded.registration_status, "
        "last_boot_at = excluded.last_boot_at, "
        "last_seen_at = GREATEST(coalesce(chargers.last_seen_at, ''), excluded.last_seen_at) "
        "RETURNING id",
        b.charge_point_id, b.vendor, b.model, b.serial_number, b.charge_box_serial_number,
        b.firmware_version, b.iccid, b.imsi, b.meter_type, b.meter_serial_number,
        b.registration_status, b.boot_at);
    return integer(r[0][0]);
  }

  void set_diagnostics_status(std::int64_t charger_id, std::string_view status) override {
    tx_.exec_params("UPDATE chargers SET diagnostics_status = $2 WHERE id = $1", charger_id,
                    str(status));
  }

  std::optional<csms::DiagnosticsStatusChange> record_diagnostics_status(
      std::string_view charge_point_id, bool log, std::optional<std::int64_t> request_id, std::string_view status,
      std::string_view at) override {
    return postgres_record_diagnostics_status(tx_, charge_point_id, log, request_id, status, at);
  }

  void set_firmware_status(std::int64_t charger_id, std::string_view status) override {
    tx_.exec_params("UPDATE chargers SET firmware_status = $2 WHERE id = $1", charger_id,
                    str(status));
  }

  std::optional<csms::ConnectorStatus> find_connector_status(std::int64_t charger_id,
                                                             int connector_id) override {
    auto r = tx_.exec_params(
        "SELECT connector_id, status, error_code, info, vendor_error_code, updated_at "
        "FROM connectors WHERE charger_id = $1 AND connector_id = $2",
        charger_id, connector_id);
    if (r.empty()) return std::nullopt;
    return csms::ConnectorStatus{static_cast<int>(integer(r[0][0])), text(r[0][1]), text(r[0][2]),
                                 opt_text(r[0][3]), opt_text(r[0][4]), text(r[0][5])};
  }

  std::optional<csms::ConnectorStatus> upsert_connector_status(
      std::int64_t charger_id, const csms::ConnectorStatus& s) override {
    auto previous = find_connector_status(charger_id, s.connector_id);
    tx_.exec_params(
        "INSERT INTO connectors (charger_id, connector_id, status, error_code, info, "
        "vendor_error_code, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (charger_id, connector_id) DO UPDATE SET status = excluded.status, "
        "error_code = excluded.error_code, info = excluded.info, "
        "vendor_error_code = excluded.vendor_error_code, updated_at = excluded.updated_at",
        charger_id, s.connector_id, s.status, s.error_code, s.info, s.vendor_error_code,
        s.updated_at);
    // Written only when it changes: an unchanged rewrite would leave a dead row version
    // and index entries behind for every StatusNotification (the SQLite store does the same).
    static const std::string derive = "UPDATE chargers SET status = " + derived_status_sql("$1") +
                                      " WHERE id = $1 AND status IS DISTINCT FROM " + derived_status_sql("$1");
    tx_.exec_params(derive, charger_id);
    return previous;
  }

  std::optional<csms::IdTagRecord> find_id_tag(std::string_view id_tag) override {
    auto r = tx_.exec_params(
        "SELECT id_tag, status, expiry_date, parent_id_tag FROM id_tags WHERE id_tag = $1",
        str(id_tag));
    if (r.empty()) return std::nullopt;
    return csms::IdTagRecord{text(r[0][0]), text(r[0][1]), opt_text(r[0][2]), opt_text(r[0][3])};
  }

  std::int64_t create_transaction(const csms::NewTransaction& t) override {
    auto r = tx_.exec_params(
        "INSERT INTO transactions (charger_id, connector_id, id_tag, id_tag_status, "
        "meter_start, started_at, reservation_id, id_tag_info, ocpp_transaction_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        t.charger_id, t.connector_id, t.id_tag, t.id_tag_status, t.meter_start, t.started_at,
        t.reservation_id,
        t.id_tag_info.empty() ? std::optional<std::string>() : std::optional(t.id_tag_info),
        t.ocpp_transaction_id);
    return integer(r[0][0]);
  }

  std::optional<csms::TransactionRecord> find_transaction(std::int64_t transaction_id) override {
    auto r = tx_.exec_params("SELECT " GENX_TRANSACTION_COLUMNS " FROM transactions WHERE id = $1",
                             transaction_id);
    if (r.empty()) return std::nullopt;
    return transaction_record(r[0]);
  }

  std::optional<csms::TransactionRecord> find_active_transaction(std::int64_t charger_id,
                                                                 int connector_id) override {
    auto r = tx_.exec_params("SELECT " GENX_TRANSACTION_COLUMNS
                             " FROM transactions WHERE charger_id = $1 AND connector_id = $2 "
                             "AND stopped_at IS NULL ORDER BY id DESC LIMIT 1",
                             charger_id, connector_id);
    if (r.empty()) return std::nullopt;
    return transaction_record(r[0]);
  }

  std::optional<csms::TransactionRecord> find_transaction_by_start(
      const csms::TransactionStartKey& k) override {
    auto r = tx_.exec_params("SELECT " GENX_TRANSACTION_COLUMNS
                             " FROM transactions WHERE charger_id = $1 AND connector_id = $2 "
                             "AND started_at = $3 AND id_tag = $4 AND meter_start = $5 "
                             "ORDER BY id LIMIT 1",
                             k.charger_id, k.connector_id, k.started_at, k.id_tag, k.meter_start);
    if (r.empty()) return std::nullopt;
    return transaction_record(r[0]);
  }

  void stop_transaction(std::int64_t transaction_id, const csms::TransactionStop& s) override {
    tx_.exec_params(
        "UPDATE transactions SET meter_stop = $2, stopped_at = $3, stop_reason = $4, "
        "stop_id_tag = $5, energy_wh = $6, cost_minor = $7, currency = $8 "
        "WHERE id = $1 AND stopped_at IS NULL",
        transaction_id, s.meter_stop, s.stopped_at, s.reason, s.id_tag, s.energy_wh, s.cost_minor,
        s.currency);
  }

  std::optional<csms::Reservation> use_reservation(std::int64_t reservation_id, std::int64_t charger_id,
                                                   std::int64_t transaction_id, std::string_view at) override {
    auto r = tx_.exec_params(
        "UPDATE reservations SET status = 'Used', transaction_id = $3, updated_at = $4 "
        "WHERE id = $1 AND charger_id = $2 AND status IN ('Requested', 'Accepted', 'Expired')",
        reservation_id, charger_id, transaction_id, str(at));
    if (r.affected_rows() == 0) return std::nullopt;
    return find_reservation_in(tx_, reservation_id);
  }

  std::size_t insert_meter_samples(const std::vector<csms::MeterSample>& samples) override {
    std::size_t stored = 0;
    for (const auto& s : samples) {
      // meter_values_sample (migration 8) makes a sample already stored a no-op.
      auto r = tx_.exec_params(
          "INSERT INTO meter_values (charger_id, transaction_id, connector_id, timestamp, value, "
          "context, format, measurand, phase, location, unit) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
          s.charger_id, s.transaction_id, s.connector_id, s.timestamp, s.value, s.context, s.format,
          s.measurand, s.phase, s.location, s.unit);
      stored += r.affected_rows();
    }
    return stored;
  }

  std::vector<std::int64_t> transaction_register_readings(std::int64_t transaction_id) override {
    std::vector<std::int64_t> readings;
    for (const auto& r : register_readings(transaction_id)) readings.push_back(r.wh);
    return readings;
  }

  std::vector<analytics::Reading> register_readings(std::int64_t transaction_id) {
    std::vector<analytics::Reading> readings;
    auto r = tx_.exec_params(
        "SELECT timestamp, measurand, unit, phase, format, value FROM meter_values "
        "WHERE transaction_id = $1 ORDER BY timestamp, id",
        transaction_id);
    for (const auto& row : r) {
      const auto wh = csms::register_wh(opt_text(row[1]), opt_text(row[2]), opt_text(row[3]),
                                        opt_text(row[4]), text(row[5]));
      const auto at = csms::parse_timestamp(text(row[0]));
      if (wh && at) readings.push_back({*at, *wh});
    }
    return readings;
  }

  void append_status_history(std::int64_t charger_id, const csms::ConnectorStatus& st) override {
    tx_.exec_params(
        "INSERT INTO connector_status_history (charger_id, connector_id, status, error_code, at) "
        "VALUES ($1, $2, $3, $4, $5)",
        charger_id, st.connector_id, st.status, st.error_code, st.updated_at);
  }

  std::optional<csms::Tariff> find_tariff(std::string_view charge_point_id) override {
    auto r = tx_.exec_params(
        "SELECT energy_per_kwh_micro, time_per_minute_micro, session_fee_micro FROM tariffs "
        "WHERE charge_point_id = $1",
        str(charge_point_id));
    if (r.empty()) return std::nullopt;
    csms::Tariff t;
    t.energy_per_kwh_micro = integer(r[0][0]);
    t.time_per_minute_micro = integer(r[0][1]);
    t.session_fee_micro = integer(r[0][2]);
    return t;
  }

  void append_message_log(const csms::MessageLogEntry& e) override {
    tx_.exec_params(
        "INSERT INTO charger_data (device_id, direction, action, unique_id, payload, timestamp) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        e.device_id, e.direction, e.action, e.unique_id, e.payload, e.timestamp);
  }

  // ---- OCPP 2.0.1 ----

  void record_reported_profile(const csms::ReportedProfile& r) override {
    tx_.exec_params(
        "INSERT INTO charging_profiles (charge_point_id, connector_id, action, source, charging_profile_id, "
        "purpose, stack_level, transaction_id, limit_value, request, status, sent_at) VALUES ($1, $2, $3, "
        "'charger', $4, $5, $6, NULL, $7, $8, $9, $10)",
        r.charge_point_id, std::int64_t{r.connector_id}, r.action, r.charging_profile_id, r.purpose, r.stack_level,
        r.limit, r.request, r.status, r.at);
  }

  void set_charger_ocpp_version(std::int64_t charger_id, std::string_view version) override {
    tx_.exec_params("UPDATE chargers SET ocpp_version = $2 WHERE id = $1", charger_id, str(version));
  }

  std::optional<csms::TransactionRecord> find_transaction_by_ocpp_id(
      std::int64_t charger_id, std::string_view ocpp_transaction_id) override {
    auto r = tx_.exec_params("SELECT " GENX_TRANSACTION_COLUMNS
                             " FROM transactions WHERE charger_id = $1 AND ocpp_transaction_id = $2",
                             charger_id, str(ocpp_transaction_id));
    if (r.empty()) return std::nullopt;
    return transaction_record(r[0]);
  }

  bool record_transaction_event(const csms::TransactionEventRecord& e) override {
    auto r = tx_.exec_params(
        "INSERT INTO transaction_events (charger_id, ocpp_transaction_id, seq_no, event_type, "
        "trigger_reason, offline, timestamp, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT DO NOTHING",
        e.charger_id, e.ocpp_transaction_id, e.seq_no, e.event_type, e.trigger_reason,
        static_cast<std::int64_t>(e.offline ? 1 : 0), e.timestamp, e.received_at);
    return r.affected_rows() > 0;
  }

  void update_transaction_start(std::int64_t transaction_id,
                                const csms::TransactionStartUpdate& u) override {
    tx_.exec_params(
        "UPDATE transactions SET connector_id = $2, id_tag = $3, id_tag_status = $4, "
        "meter_start = $5, started_at = $6 WHERE id = $1",
        transaction_id, u.connector_id, u.id_tag, u.id_tag_status, u.meter_start, u.started_at);
  }

  void restate_transaction_stop(std::int64_t transaction_id, const csms::TransactionStop& s) override {
    tx_.exec_params(
        "UPDATE transactions SET meter_stop = $2, stopped_at = $3, stop_reason = $4, "
        "stop_id_tag = $5, energy_wh = $6, cost_minor = $7, currency = $8 WHERE id = $1",
        transaction_id, s.meter_stop, s.stopped_at, s.reason, s.id_tag, s.energy_wh, s.cost_minor,
        s.currency);
  }

  void upsert_device_model(std::int64_t charger_id, const std::vector<csms::DeviceModelEntry>& entries,
                           std::string_view updated_at) override {
    const auto flag = [](const std::optional<bool>& b) {
      return b ? std::optional<std::int64_t>(*b ? 1 : 0) : std::nullopt;
    };
    for (const auto& e : entries) {
      tx_.exec_params(
          "INSERT INTO device_model (charger_id, component, component_instance, evse_id, "
          "connector_id, variable, variable_instance, attribute_type, value, mutability, "
          "persistent, constant, characteristics, updated_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
          "ON CONFLICT (charger_id, component, component_instance, evse_id, connector_id, variable, "
          "variable_instance, attribute_type) DO UPDATE SET value = excluded.value, "
          "mutability = excluded.mutability, persistent = excluded.persistent, "
          "constant = excluded.constant, characteristics = excluded.characteristics, "
          "updated_at = excluded.updated_at",
          charger_id, e.component, e.component_instance, e.evse_id, e.connector_id, e.variable,
          e.variable_instance, e.attribute_type, e.value, e.mutability, flag(e.persistent),
          flag(e.constant), e.characteristics, str(updated_at));
    }
  }

  // ---- AnalyticsUnit ----

  bool mark_event_processed(std::string_view event_id, std::string_view processed_at) override {
    auto r = tx_.exec_params(
        "INSERT INTO analytics_processed_events (event_id, processed_at) VALUES ($1, $2) "
        "ON CONFLICT (event_id) DO NOTHING",
        str(event_id), str(processed_at));
    return r.affected_rows() > 0;
  }

  std::optional<analytics::TransactionSpan> transaction_span(std::int64_t id) override {
    auto r = tx_.exec_params("SELECT charger_id, started_at, stopped_at FROM transactions WHERE id = $1",
                             id);
    if (r.empty()) return std::nullopt;
    const auto started = csms::parse_timestamp(text(r[0][1]));
    if (!started) return std::nullopt;
    analytics::TransactionSpan span{integer(r[0][0]), *started, std::nullopt};
    if (const auto stopped = opt_text(r[0][2])) span.stopped_ms = csms::parse_timestamp(*stopped);
    return span;
  }

  analytics::Facts load_facts(std::int64_t charger_id, std::int64_t from_ms,
                              std::int64_t to_ms) override {
    analytics::Facts facts;
    const std::string from = csms::format_timestamp(from_ms);
    const std::string to = csms::format_timestamp(to_ms);
    for (const auto& row : tx_.exec_params(
             "SELECT id, connector_id, started_at, meter_start, stopped_at, meter_stop, "
             "coalesce(cost_minor, 0) FROM transactions WHERE charger_id = $1 AND started_at < $3 "
             "AND (stopped_at IS NULL OR stopped_at >= $2) ORDER BY id",
             charger_id, from, to)) {
      analytics::TransactionFact t;
      t.id = integer(row[0]);
      t.connector_id = static_cast<int>(integer(row[1]));
      const auto started = csms::parse_timestamp(text(row[2]));
      if (!started) continue;
      t.started_ms = *started;
      t.meter_start = integer(row[3]);
      if (const auto stopped = opt_text(row[4])) t.stopped_ms = csms::parse_timestamp(*stopped);
      t.meter_stop = opt_integer(row[5]);
      t.cost_minor = integer(row[6]);
      facts.transactions.push_back(std::move(t));
    }
    for (auto& t : facts.transactions) {
      if (t.stopped_ms) t.readings = register_readings(t.id);
    }
    for (const auto& row : tx_.exec_params(
             "SELECT h.connector_id, h.at, h.status FROM connector_status_history h "
             "WHERE h.charger_id = $1 "
             "AND h.at >= coalesce((SELECT max(p.at) FROM connector_status_history p "
             "  WHERE p.charger_id = $1 AND p.connector_id = h.connector_id AND p.at <= $2), $2) "
             "AND h.at <= coalesce((SELECT min(n.at) FROM connector_status_history n "
             "  WHERE n.charger_id = $1 AND n.connector_id = h.connector_id AND n.at >= $3), $3) "
             "ORDER BY h.connector_id, h.at, h.id",
             charger_id, from, to)) {
      const auto at = csms::parse_timestamp(text(row[1]));
      if (at) facts.statuses.push_back({static_cast<int>(integer(row[0])), *at, text(row[2])});
    }
    for (const auto& row : tx_.exec_params(
             "SELECT connector_id, timestamp, measurand, unit, format, value FROM meter_values "
             "WHERE charger_id = $1 AND timestamp >= $2 AND timestamp < $3 "
             "AND measurand = 'Power.Active.Import' AND phase IS NULL ORDER BY timestamp, id",
             charger_id, from, to)) {
      const auto w = csms::power_w(opt_text(row[2]), opt_text(row[3]), opt_text(row[4]), text(row[5]));
      const auto at = csms::parse_timestamp(text(row[1]));
      if (w && at) facts.power.push_back({static_cast<int>(integer(row[0])), *at, *w});
    }
    return facts;
  }

  void replace_hourly(std::int64_t charger_id, std::int64_t from_ms, std::int64_t to_ms,
                      const std::map<std::int64_t, std::map<int, analytics::Figures>>& rows) override {
    tx_.exec_params(
        "DELETE FROM analytics_hourly WHERE charger_id = $1 AND bucket_start >= $2 "
        "AND bucket_start < $3",
        charger_id, csms::format_timestamp(from_ms), csms::format_timestamp(to_ms));
    for (const auto& [bucket, connectors] : rows) {
      for (const auto& [connector, f] : connectors) {
        tx_.exec_params(
            "INSERT INTO analytics_hourly (charger_id, connector_id, bucket_start, "
            "sessions_started, sessions_completed, energy_wh, session_ms, charging_ms, "
            "occupied_ms, faulted_ms, faults, revenue_minor, peak_power_w) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            charger_id, connector, csms::format_timestamp(bucket), f.sessions_started,
            f.sessions_completed, f.energy_wh, f.session_ms, f.charging_ms, f.occupied_ms,
            f.faulted_ms, f.faults, f.revenue_minor, f.peak_power_w);
      }
    }
  }

  void replace_daily(std::int64_t charger_id, const std::string& day, std::int64_t start_ms,
                     std::int64_t end_ms, const std::map<int, analytics::Figures>& rows) override {
    tx_.exec_params("DELETE FROM analytics_daily WHERE charger_id = $1 AND day = $2", charger_id, day);
    for (const auto& [connector, f] : rows) {
      tx_.exec_params(
          "INSERT INTO analytics_daily (charger_id, connector_id, day, day_start, day_end, "
          "sessions_started, sessions_completed, energy_wh, session_ms, charging_ms, "
          "occupied_ms, faulted_ms, faults, revenue_minor, peak_power_w) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
          charger_id, connector, day, csms::format_timestamp(start_ms),
          csms::format_timestamp(end_ms), f.sessions_started, f.sessions_completed, f.energy_wh,
          f.session_ms, f.charging_ms, f.occupied_ms, f.faulted_ms, f.faults, f.revenue_minor,
          f.peak_power_w);
    }
  }

  std::vector<std::int64_t> charger_ids() override {
    std::vector<std::int64_t> ids;
    for (const auto& row : tx_.exec("SELECT id FROM chargers ORDER BY id")) ids.push_back(integer(row[0]));
    return ids;
  }

  std::optional<std::pair<std::int64_t, std::int64_t>> fact_range(std::int64_t charger_id) override {
    auto r = tx_.exec_params(
        "SELECT min(a), max(b) FROM ("
        "SELECT min(started_at) AS a, max(GREATEST(started_at, coalesce(stopped_at, ''))) AS b "
        "FROM transactions WHERE charger_id = $1 "
        "UNION ALL SELECT min(at), max(at) FROM connector_status_history WHERE charger_id = $1 "
        "UNION ALL SELECT min(timestamp), max(timestamp) FROM meter_values WHERE charger_id = $1) f",
        charger_id);
    if (r.empty() || r[0][0].is_null() || r[0][1].is_null()) return std::nullopt;
    const auto a = csms::parse_timestamp(text(r[0][0]));
    const auto b = csms::parse_timestamp(text(r[0][1]));
    if (!a || !b) return std::nullopt;
    return std::make_pair(*a, *b);
  }

  void delete_aggregates_from(std::int64_t charger_id, std::int64_t from_ms,
                              const std::string& from_day) override {
    tx_.exec_params("DELETE FROM analytics_hourly WHERE charger_id = $1 AND bucket_start >= $2",
                    charger_id, csms::format_timestamp(from_ms));
    tx_.exec_params("DELETE FROM analytics_daily WHERE charger_id = $1 AND day >= $2", charger_id,
                    from_day);
  }

 private:
  Tx& tx_;
  std::unique_ptr<SqlTx> firmware_sql_;
  std::unique_ptr<csms::FirmwareUnit> firmware_unit_;
};

json connectors_json(Tx& tx, std::int64_t charger_id) {
  json connectors = json::array();
  for (const auto& r : tx.exec_params(
           "SELECT connector_id, status, error_code, info, vendor_error_code, updated_at "
           "FROM connectors WHERE charger_id = $1 ORDER BY connector_id",
           charger_id)) {
    connectors.push_back({{"connectorId", integer(r[0])},
                          {"status", text(r[1])},
                          {"errorCode", text(r[2])},
                          {"info", text_json(r[3])},
                          {"vendorErrorCode", text_json(r[4])},
                          {"updatedAt", text(r[5])}});
  }
  return connectors;
}

json charger_json(const pqxx::row& r) {
  return {{"id", integer(r[0])},
          {"chargePointId", text(r[1])},
          {"vendor", text_json(r[2])},
          {"model", text_json(r[3])},
          {"serialNumber", text_json(r[4])},
          {"chargeBoxSerialNumber", text_json(r[5])},
          {"firmwareVersion", text_json(r[6])},
          {"iccid", text_json(r[7])},
          {"imsi", text_json(r[8])},
          {"meterType", text_json(r[9])},
          {"meterSerialNumber", text_json(r[10])},
          {"registrationStatus", text_json(r[11])},
          {"preRegistered", integer(r[12]) != 0},
          {"lastBootAt", text_json(r[13])},
          {"lastSeenAt", text_json(r[14])},
          {"diagnosticsStatus", text_json(r[15])},
          {"firmwareStatus", text_json(r[16])},
          {"ocppVersion", text(r[17])}};
}

#define GENX_CHARGER_COLUMNS                                                                \
  "id, charge_point_id, vendor, model, serial_number, charge_box_serial_number, "          \
  "firmware_version, iccid, imsi, meter_type, meter_serial_number, registration_status, " \
  "pre_registered, last_boot_at, last_seen_at, diagnostics_status, firmware_status, ocpp_version"

// ---- retention (store/retention.hpp) on PostgreSQL ----

bool cancelled(const std::atomic<bool>* cancel) { return cancel != nullptr && cancel->load(); }

// Meter values / status reports that may go: the same rules as the SQLite backend
// (store/sqlite/sqlite_retention.cpp).
constexpr const char* kMeterValuesDoomed =
    " FROM meter_values m LEFT JOIN transactions t ON t.id = m.transaction_id "
    "WHERE m.charger_id = $1 AND m.timestamp < $2 AND ("
    " (m.transaction_id IS NULL AND NOT EXISTS (SELECT 1 FROM transactions o "
    "   WHERE o.charger_id = m.charger_id AND o.connector_id = m.connector_id "
    "   AND o.stopped_at IS NULL AND o.started_at <= m.timestamp))"
    " OR (t.stopped_at IS NOT NULL AND t.stopped_at < $2))";
constexpr const char* kStatusDoomed =
    " FROM connector_status_history h WHERE h.charger_id = $1 AND h.at < $2 "
    "AND h.at < (SELECT max(p.at) FROM connector_status_history p WHERE p.charger_id = $1 "
    "  AND p.connector_id = h.connector_id AND p.at < $2) "
    "AND NOT EXISTS (SELECT 1 FROM transactions o WHERE o.charger_id = $1 "
    "  AND o.connector_id = h.connector_id AND o.stopped_at IS NULL AND o.started_at <= h.at)";

}  // namespace

class PostgresStore final : public Store {
 public:
  PostgresStore(std::shared_ptr<Pool> pool, PostgresOptions options) : pool_(std::move(pool)) {
    if (options.migrate) {
      migrate();
    } else {
      const int have = schema_version();
      if (have < postgres::kLatestVersion) throw SchemaBehindError(have, postgres::kLatestVersion);
    }
  }

  // Runs fn(tx) in one transaction of isolation level Level on a borrowed connection.
  template <pqxx::isolation_level Level, pqxx::readwrite_policy Rw = pqxx::read_write, typename Fn>
  void run(Fn&& fn) {
    Lease lease(pool_);
    try {
      pqxx::transaction<Level, Rw> tx(*lease);
      fn(static_cast<Tx&>(tx));
      tx.commit();
    } catch (const pqxx::broken_connection&) {
      lease.mark_broken();
      rethrow_mapped();
    } catch (const pqxx::in_doubt_error&) {
      lease.mark_broken();
      rethrow_mapped();
    } catch (const pqxx::pqxx_exception&) {
      rethrow_mapped();
    }
  }
  template <typename Fn>
  void write(Fn&& fn) {
    run<pqxx::serializable>(std::forward<Fn>(fn));
  }
  template <typename Fn>
  void read(Fn&& fn) {
    run<pqxx::repeatable_read, pqxx::read_only>(std::forward<Fn>(fn));
  }

  // ---- WriteStore / AnalyticsStore ----
  // A unit that lost a race (Conflict) is run again at once, a few times, with a short
  // random pause: two workers on one charger then cost milliseconds, not a trip through
  // the delay queues. After the last attempt the TransientStoreError goes to the caller.
  void in_transaction(const std::function<void(csms::UnitOfWork&)>& work) override {
    constexpr int kAttempts = 8;
    for (int attempt = 1;; ++attempt) {
      try {
        write([&](Tx& tx) {
          Unit unit(tx);
          work(unit);
        });
        return;
      } catch (const Conflict&) {
        if (attempt >= kAttempts) throw;
        thread_local std::minstd_rand random(std::random_device{}());
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + random() % (5 * attempt)));
      }
    }
  }
  void in_analytics_transaction(const std::function<void(analytics::AnalyticsUnit&)>& work) override {
    write([&](Tx& tx) {
      Unit unit(tx);
      work(unit);
    });
  }

  // ---- ReadStore ----
  void ping() override {
    read([&](Tx& tx) { tx.exec("SELECT count(*) FROM schema_migrations"); });
  }

  api::ChargerPage list_chargers(const api::ChargerQuery& request) override {
    const auto sql = charger_listing_sql(request, Dialect::kPostgres);
    api::ChargerPage page;
    read([&](Tx& tx) {
      const auto params = pqxx::prepare::make_dynamic_params(sql.params);
      std::string ids;
      for (const auto& r : tx.exec_params("SELECT " GENX_CHARGER_COLUMNS ", status FROM chargers" + sql.where +
                                              sql.order + " LIMIT " +
                                              std::to_string(std::clamp(request.limit, 1, 1000)) + " OFFSET " +
                                              std::to_string(std::max(request.offset, 0)),
                                          params)) {
        json c = charger_json(r);
        c["status"] = text_json(r[18]);
        c["connectors"] = json::array();
        ids += (ids.empty() ? "" : ",") + std::to_string(c["id"].get<std::int64_t>());
        page.items.push_back(std::move(c));
      }
      const std::vector<std::string> where_params(sql.params.begin(),
                                                  sql.params.begin() + static_cast<std::ptrdiff_t>(sql.where_params));
      page.total = integer(tx.exec_params("SELECT count(*) FROM chargers" + sql.where,
                                          pqxx::prepare::make_dynamic_params(where_params))[0][0]);
      if (page.items.empty()) return;
      // The connectors of the whole page in one round trip.
      std::map<std::int64_t, json*> by_id;
      for (auto& c : page.items) by_id[c["id"].get<std::int64_t>()] = &c;
      for (const auto& r : tx.exec_params(
               "SELECT charger_id, connector_id, status, error_code, info, vendor_error_code, updated_at "
               "FROM connectors WHERE charger_id = ANY($1::bigint[]) ORDER BY charger_id, connector_id",
               "{" + ids + "}")) {
        (*by_id[integer(r[0])])["connectors"].push_back({{"connectorId", integer(r[1])},
                                                         {"status", text(r[2])},
                                                         {"errorCode", text(r[3])},
                                                         {"info", text_json(r[4])},
                                                         {"vendorErrorCode", text_json(r[5])},
                                                         {"updatedAt", text(r[6])}});
      }
    });
    return page;
  }

  json charger_summary(const std::string& online_since) override {
    json summary;
    read([&](Tx& tx) {
      const auto total = integer(tx.exec("SELECT count(*) FROM chargers")[0][0]);
      const auto online =
          integer(tx.exec_params("SELECT count(*) FROM chargers WHERE last_seen_at >= $1", online_since)[0][0]);
      json by_status = json::object();
      for (const char* word : api::kChargerStatuses) by_status[word] = 0;
      for (const auto& r : tx.exec("SELECT status, count(*) FROM chargers GROUP BY status")) {
        by_status[r[0].is_null() ? std::string("Unknown") : text(r[0])] = integer(r[1]);
      }
      summary = {{"total", total}, {"online", online}, {"offline", total - online}, {"byStatus", by_status}};
    });
    return summary;
  }

  std::optional<json> charger(std::string_view identity) override {
    std::optional<json> result;
    read([&](Tx& tx) {
      auto r = tx.exec_params("SELECT " GENX_CHARGER_COLUMNS ", status FROM chargers WHERE charge_point_id = $1",
                              str(identity));
      if (r.empty()) return;
      json c = charger_json(r[0]);
      c["status"] = text_json(r[0][18]);
      c["connectors"] = connectors_json(tx, c["id"].get<std::int64_t>());
      result = std::move(c);
    });
    return result;
  }

  json list_transactions(const api::TransactionFilter& filter) override {
    json transactions = json::array();
    read([&](Tx& tx) {
      const std::string sql =
          "SELECT t.id, c.charge_point_id, t.connector_id, t.id_tag, t.id_tag_status, "
          "t.meter_start, t.meter_stop, t.started_at, t.stopped_at, t.stop_reason, t.stop_id_tag, "
          "t.reservation_id, t.energy_wh, t.cost_minor, t.currency, t.ocpp_transaction_id "
          "FROM transactions t JOIN chargers c ON c.id = t.charger_id" +
          transaction_conditions(filter, Dialect::kPostgres) + " ORDER BY t.id DESC LIMIT " +
          std::to_string(std::clamp(filter.limit, 1, 1000)) + " OFFSET " + std::to_string(std::max(filter.offset, 0));
      for (const auto& r : filter.charger ? tx.exec_params(sql, *filter.charger) : tx.exec(sql)) {
        transactions.push_back(transaction_json(r));
      }
    });
    return transactions;
  }

  std::int64_t count_transactions(const api::TransactionFilter& filter) override {
    std::int64_t count = 0;
    read([&](Tx& tx) {
      const std::string sql = "SELECT count(*) FROM transactions t" + transaction_conditions(filter, Dialect::kPostgres);
      count = integer(filter.charger ? tx.exec_params(sql, *filter.charger)[0][0] : tx.exec(sql)[0][0]);
    });
    return count;
  }

  std::optional<json> transaction(std::int64_t id) override {
    std::optional<json> result;
    read([&](Tx& tx) {
      auto r = tx.exec_params(
          "SELECT t.id, c.charge_point_id, t.connector_id, t.id_tag, t.id_tag_status, "
          "t.meter_start, t.meter_stop, t.started_at, t.stopped_at, t.stop_reason, "
          "t.stop_id_tag, t.reservation_id, t.energy_wh, t.cost_minor, t.currency, "
          "t.ocpp_transaction_id "
          "FROM transactions t JOIN chargers c ON c.id = t.charger_id WHERE t.id = $1",
          id);
      if (r.empty()) return;
      json t = transaction_json(r[0]);
      json meter_values = json::array();
      for (const auto& m : tx.exec_params(
               "SELECT timestamp, measurand, value, unit, phase, context, location, format "
               "FROM meter_values WHERE transaction_id = $1 ORDER BY timestamp, id",
               id)) {
        meter_values.push_back({{"timestamp", text(m[0])},
                                {"measurand", text_json(m[1])},
                                {"value", text(m[2])},
                                {"unit", text_json(m[3])},
                                {"phase", text_json(m[4])},
                                {"context", text_json(m[5])},
                                {"location", text_json(m[6])},
                                {"format", text_json(m[7])}});
      }
      t["meterValues"] = std::move(meter_values);
      result = std::move(t);
    });
    return result;
  }

  json transaction_ids_for(std::string_view ocpp_transaction_id) override {
    json ids = json::array();
    read([&](Tx& tx) {
      for (const auto& r : tx.exec_params("SELECT id FROM transactions WHERE ocpp_transaction_id = $1 ORDER BY id",
                                          str(ocpp_transaction_id))) {
        ids.push_back(integer(r[0]));
      }
    });
    return ids;
  }

  std::optional<json> device_model(std::string_view identity) override {
    std::optional<json> result;
    read([&](Tx& tx) {
      auto c = tx.exec_params("SELECT id FROM chargers WHERE charge_point_id = $1", str(identity));
      if (c.empty()) return;
      json rows = json::array();
      for (const auto& r : tx.exec_params(
               "SELECT component, component_instance, evse_id, connector_id, variable, variable_instance, "
               "attribute_type, value, mutability, persistent, constant, characteristics, updated_at "
               "FROM device_model WHERE charger_id = $1 ORDER BY component, component_instance, evse_id, "
               "connector_id, variable, variable_instance, attribute_type",
               integer(c[0][0]))) {
        rows.push_back({{"component", text(r[0])},
                        {"componentInstance", text(r[1]).empty() ? json(nullptr) : json(text(r[1]))},
                        {"evseId", integer(r[2]) < 0 ? json(nullptr) : json(integer(r[2]))},
                        {"connectorId", integer(r[3]) < 0 ? json(nullptr) : json(integer(r[3]))},
                        {"variable", text(r[4])},
                        {"variableInstance", text(r[5]).empty() ? json(nullptr) : json(text(r[5]))},
                        {"attributeType", text(r[6])},
                        {"value", text_json(r[7])},
                        {"mutability", text_json(r[8])},
                        {"persistent", r[9].is_null() ? json(nullptr) : json(integer(r[9]) != 0)},
                        {"constant", r[10].is_null() ? json(nullptr) : json(integer(r[10]) != 0)},
                        {"characteristics",
                         r[11].is_null() ? json(nullptr) : json::parse(text(r[11]), nullptr, false)},
                        {"updatedAt", text(r[12])}});
      }
      result = std::move(rows);
    });
    return result;
  }

  json stats_series(const api::StatsQuery& query) override {
    json result = json::array();
    const bool daily = query.bucket == "day";
    read([&](Tx& tx) {
      const char* sql =
          daily ? "SELECT a.day, min(a.day_start), max(a.day_end), sum(sessions_started), "
                  "sum(sessions_completed), sum(energy_wh), sum(session_ms), sum(charging_ms), "
                  "sum(occupied_ms), sum(faulted_ms), sum(faults), sum(revenue_minor), "
                  "max(peak_power_w) FROM analytics_daily a JOIN chargers c ON c.id = a.charger_id "
                  "WHERE ($1::text IS NULL OR a.day >= $1::text) AND ($2::text IS NULL OR a.day < $2::text) "
                  "AND ($3::text IS NULL OR c.charge_point_id = $3::text) GROUP BY a.day ORDER BY a.day"
                : "SELECT a.bucket_start, a.bucket_start, a.bucket_start, sum(sessions_started), "
                  "sum(sessions_completed), sum(energy_wh), sum(session_ms), sum(charging_ms), "
                  "sum(occupied_ms), sum(faulted_ms), sum(faults), sum(revenue_minor), "
                  "max(peak_power_w) FROM analytics_hourly a JOIN chargers c ON c.id = a.charger_id "
                  "WHERE ($1::text IS NULL OR a.bucket_start >= $1::text) "
                  "AND ($2::text IS NULL OR a.bucket_start < $2::text) "
                  "AND ($3::text IS NULL OR c.charge_point_id = $3::text) GROUP BY a.bucket_start "
                  "ORDER BY a.bucket_start";
      for (const auto& r : tx.exec_params(sql, query.from, query.to, query.charger)) {
        json row = figures_json(r, 3);
        row["bucket"] = text(r[0]);
        row["bucketStart"] = text(r[1]);
        if (daily) {
          row["bucketEnd"] = text(r[2]);
        } else {
          row["bucketEnd"] = csms::format_timestamp(csms::parse_timestamp(text(r[1])).value_or(0) +
                                                    analytics::kHourMs);
        }
        result.push_back(std::move(row));
      }
    });
    return result;
  }

  json stats_by_charger(const api::StatsQuery& query) override {
    json result = json::array();
    const bool daily = query.bucket == "day";
    read([&](Tx& tx) {
      const char* sql =
          daily ? "SELECT c.charge_point_id, (SELECT count(*) FROM connectors k "
                  "WHERE k.charger_id = c.id AND k.connector_id > 0), "
                  "coalesce(sum(sessions_started), 0), coalesce(sum(sessions_completed), 0), "
                  "coalesce(sum(energy_wh), 0), coalesce(sum(session_ms), 0), "
                  "coalesce(sum(charging_ms), 0), coalesce(sum(occupied_ms), 0), "
                  "coalesce(sum(faulted_ms), 0), coalesce(sum(faults), 0), "
                  "coalesce(sum(revenue_minor), 0), coalesce(max(peak_power_w), 0) "
                  "FROM chargers c LEFT JOIN analytics_daily a ON a.charger_id = c.id "
                  "AND ($1::text IS NULL OR a.day >= $1::text) AND ($2::text IS NULL OR a.day < $2::text) "
                  "WHERE ($3::text IS NULL OR c.charge_point_id = $3::text) GROUP BY c.id "
                  "ORDER BY c.charge_point_id"
                : "SELECT c.charge_point_id, (SELECT count(*) FROM connectors k "
                  "WHERE k.charger_id = c.id AND k.connector_id > 0), "
                  "coalesce(sum(sessions_started), 0), coalesce(sum(sessions_completed), 0), "
                  "coalesce(sum(energy_wh), 0), coalesce(sum(session_ms), 0), "
                  "coalesce(sum(charging_ms), 0), coalesce(sum(occupied_ms), 0), "
                  "coalesce(sum(faulted_ms), 0), coalesce(sum(faults), 0), "
                  "coalesce(sum(revenue_minor), 0), coalesce(max(peak_power_w), 0) "
                  "FROM chargers c LEFT JOIN analytics_hourly a ON a.charger_id = c.id "
                  "AND ($1::text IS NULL OR a.bucket_start >= $1::text) "
                  "AND ($2::text IS NULL OR a.bucket_start < $2::text) "
                  "WHERE ($3::text IS NULL OR c.charge_point_id = $3::text) GROUP BY c.id "
                  "ORDER BY c.charge_point_id";
      for (const auto& r : tx.exec_params(sql, query.from, query.to, query.charger)) {
        json row = figures_json(r, 2);
        row["chargePointId"] = text(r[0]);
        row["connectors"] = integer(r[1]);
        result.push_back(std::move(row));
      }
    });
    return result;
  }

  std::int64_t stats_unique_id_tags(const api::StatsQuery& query) override {
    std::int64_t count = 0;
    read([&](Tx& tx) {
      auto r = tx.exec_params(
          "SELECT count(DISTINCT t.id_tag) FROM transactions t JOIN chargers c ON c.id = t.charger_id "
          "WHERE ($1::text IS NULL OR t.started_at >= $1::text) AND ($2::text IS NULL OR t.started_at < $2::text) "
          "AND ($3::text IS NULL OR c.charge_point_id = $3::text)",
          query.from_utc, query.to_utc, query.charger);
      count = integer(r[0][0]);
    });
    return count;
  }

  std::int64_t stats_connector_count(const std::optional<std::string>& charger) override {
    std::int64_t count = 0;
    read([&](Tx& tx) {
      auto r = tx.exec_params(
          "SELECT count(*) FROM connectors k JOIN chargers c ON c.id = k.charger_id "
          "WHERE k.connector_id > 0 AND ($1::text IS NULL OR c.charge_point_id = $1::text)",
          charger);
      count = integer(r[0][0]);
    });
    return count;
  }

  // ---- CommandStore ----
  void record_command_effect(std::string_view identity, const csms::CommandEffect& effect) override {
    write([&](Tx& tx) {
      const std::string now = now_text();
      tx.exec_params(
          "INSERT INTO chargers (charge_point_id, created_at) VALUES ($1, $2) "
          "ON CONFLICT (charge_point_id) DO NOTHING",
          str(identity), now);
      auto found = tx.exec_params("SELECT id FROM chargers WHERE charge_point_id = $1", str(identity));
      if (found.empty()) throw std::runtime_error("charger row vanished");
      const std::int64_t charger_id = integer(found[0][0]);
      auto upsert_key = [&](const std::string& key, const std::optional<std::string>& value,
                            bool readonly, bool known, bool reboot_required, const char* source) {
        tx.exec_params(
            "INSERT INTO charger_configuration (charger_id, key, value, readonly, known, "
            "reboot_required, source, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (charger_id, key) DO UPDATE SET value = excluded.value, "
            "readonly = excluded.readonly, known = excluded.known, "
            "reboot_required = excluded.reboot_required, source = excluded.source, "
            "updated_at = excluded.updated_at",
            charger_id, key, value, std::int64_t{readonly ? 1 : 0}, std::int64_t{known ? 1 : 0},
            std::int64_t{reboot_required ? 1 : 0}, std::string(source), now);
      };
      if (const auto* report = std::get_if<csms::ConfigurationReport>(&effect)) {
        for (const auto& k : report->keys) upsert_key(k.key, k.value, k.readonly, true, false, "GetConfiguration");
        for (const auto& k : report->unknown_keys) upsert_key(k, std::nullopt, false, false, false, "GetConfiguration");
      } else if (const auto* change = std::get_if<csms::ConfigurationChange>(&effect)) {
        upsert_key(change->key, change->value, false, true, change->reboot_required, "ChangeConfiguration");
      } else if (const auto* availability = std::get_if<csms::AvailabilityChange>(&effect)) {
        tx.exec_params(
            "INSERT INTO connector_availability (charger_id, connector_id, availability, scheduled, "
            "updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (charger_id, connector_id) DO UPDATE "
            "SET availability = excluded.availability, scheduled = excluded.scheduled, "
            "updated_at = excluded.updated_at",
            charger_id, availability->connector_id, availability->type,
            std::int64_t{availability->scheduled ? 1 : 0}, now);
      }
    });
  }

  // ---- ReservationStore ----
  std::optional<csms::Reservation> create_reservation(std::string_view charge_point_id,
                                                      const csms::ReservationRequest& request,
                                                      std::string_view now) override {
    std::optional<csms::Reservation> result;
    write([&](Tx& tx) {
      auto found = tx.exec_params("SELECT id FROM chargers WHERE charge_point_id = $1", str(charge_point_id));
      if (found.empty()) return;
      auto r = tx.exec_params(
          "INSERT INTO reservations (id, charger_id, connector_id, id_tag, parent_id_tag, expiry_date, status, "
          "created_at, updated_at) SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, 'Requested', $6, $6 "
          "FROM reservations RETURNING id",
          integer(found[0][0]), request.connector_id, request.id_tag, request.parent_id_tag, request.expiry_date,
          str(now));
      result = find_reservation_in(tx, integer(r[0][0]));
    });
    return result;
  }

  csms::Reservation record_reservation(std::string_view charge_point_id, const csms::Reservation& v,
                                       std::string_view now) override {
    csms::Reservation result;
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO chargers (charge_point_id, created_at) VALUES ($1, $2) "
          "ON CONFLICT (charge_point_id) DO NOTHING",
          str(charge_point_id), str(now));
      auto found = tx.exec_params("SELECT id FROM chargers WHERE charge_point_id = $1", str(charge_point_id));
      if (found.empty()) throw std::runtime_error("charger row vanished");
      // The same reservation as stored (the answer to our own ReserveNow) keeps its
      // created_at; another one under the same id replaces it.
      tx.exec_params(
          "INSERT INTO reservations (id, charger_id, connector_id, id_tag, parent_id_tag, expiry_date, status, "
          "transaction_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $8) "
          "ON CONFLICT (id) DO UPDATE SET created_at = CASE WHEN reservations.charger_id = excluded.charger_id "
          "AND reservations.connector_id = excluded.connector_id AND reservations.id_tag = excluded.id_tag "
          "AND reservations.expiry_date = excluded.expiry_date AND reservations.status = 'Requested' "
          "THEN reservations.created_at ELSE excluded.created_at END, "
          "charger_id = excluded.charger_id, connector_id = excluded.connector_id, id_tag = excluded.id_tag, "
          "parent_id_tag = excluded.parent_id_tag, expiry_date = excluded.expiry_date, status = excluded.status, "
          "transaction_id = NULL, updated_at = excluded.updated_at",
          v.id, integer(found[0][0]), v.connector_id, v.id_tag, v.parent_id_tag, v.expiry_date, v.status, str(now));
      result = *find_reservation_in(tx, v.id);
    });
    return result;
  }

  std::optional<csms::Reservation> change_reservation_status(std::int64_t id, std::string_view to,
                                                             const std::vector<std::string>& from,
                                                             std::string_view now) override {
    std::optional<csms::Reservation> result;
    write([&](Tx& tx) {
      auto current = find_reservation_in(tx, id);
      if (!current || std::find(from.begin(), from.end(), current->status) == from.end()) return;
      tx.exec_params("UPDATE reservations SET status = $2, updated_at = $3 WHERE id = $1", id, str(to), str(now));
      result = find_reservation_in(tx, id);
    });
    return result;
  }

  std::optional<csms::Reservation> find_reservation(std::int64_t id) override {
    std::optional<csms::Reservation> result;
    read([&](Tx& tx) { result = find_reservation_in(tx, id); });
    return result;
  }

  std::vector<csms::Reservation> list_reservations(const api::ReservationFilter& filter) override {
    std::vector<csms::Reservation> result;
    read([&](Tx& tx) {
      auto rows = tx.exec_params(
          "SELECT " GENX_RESERVATION_COLUMNS GENX_RESERVATION_FROM
          "WHERE ($1::text IS NULL OR c.charge_point_id = $1) AND ($2::text IS NULL OR r.status = $2) "
          "ORDER BY r.id DESC LIMIT $3",
          filter.charger, filter.status, std::int64_t{std::clamp(filter.limit, 1, 1000)});
      for (const auto& row : rows) result.push_back(reservation_record(row));
    });
    return result;
  }

  std::vector<csms::Reservation> expire_reservations(std::string_view now) override {
    std::vector<std::int64_t> due;
    // A read first: most sweeps find nothing and need no serializable write.
    read([&](Tx& tx) {
      auto rows = tx.exec_params(
          "SELECT id FROM reservations WHERE status = 'Accepted' AND expiry_date <= $1", str(now));
      for (const auto& row : rows) due.push_back(integer(row[0]));
    });
    std::vector<csms::Reservation> expired;
    if (due.empty()) return expired;
    write([&](Tx& tx) {
      expired.clear();
      auto rows = tx.exec_params(
          "UPDATE reservations SET status = 'Expired', updated_at = $1 "
          "WHERE status = 'Accepted' AND expiry_date <= $1 RETURNING id",
          str(now));
      for (const auto& row : rows) {
        if (auto r = find_reservation_in(tx, integer(row[0]))) expired.push_back(std::move(*r));
      }
    });
    return expired;
  }

  std::optional<json> charger_configuration(std::string_view identity) override {
    std::optional<json> result;
    read([&](Tx& tx) {
      auto found = tx.exec_params("SELECT id FROM chargers WHERE charge_point_id = $1", str(identity));
      if (found.empty()) return;
      const std::int64_t charger_id = integer(found[0][0]);
      json keys = json::array();
      json unknown = json::array();
      for (const auto& r : tx.exec_params(
               "SELECT key, value, readonly, known, reboot_required, source, updated_at "
               "FROM charger_configuration WHERE charger_id = $1 ORDER BY key",
               charger_id)) {
        if (integer(r[3]) == 0) {
          unknown.push_back(text(r[0]));
          continue;
        }
        keys.push_back(json{{"key", text(r[0])},
                            {"value", text_json(r[1])},
                            {"readonly", integer(r[2]) != 0},
                            {"rebootRequired", integer(r[4]) != 0},
                            {"source", text(r[5])},
                            {"updatedAt", text(r[6])}});
      }
      json availability = json::array();
      for (const auto& a : tx.exec_params(
               "SELECT connector_id, availability, scheduled, updated_at FROM connector_availability "
               "WHERE charger_id = $1 ORDER BY connector_id",
               charger_id)) {
        availability.push_back(json{{"connectorId", integer(a[0])},
                                    {"availability", text(a[1])},
                                    {"scheduled", integer(a[2]) != 0},
                                    {"updatedAt", text(a[3])}});
      }
      result = json{{"chargePointId", std::string(identity)},
                    {"configurationKey", keys},
                    {"unknownKey", unknown},
                    {"availability", availability}};
    });
    return result;
  }

  // ---- TokenStore ----
  std::int64_t create_api_token(std::string_view name, std::string_view role,
                                std::string_view digest) override {
    if (name.empty() || name.size() > 100) throw std::invalid_argument("token name must be 1-100 characters");
    std::int64_t id = 0;
    write([&](Tx& tx) {
      if (!tx.exec_params("SELECT 1 FROM api_tokens WHERE name = $1 AND revoked_at IS NULL", str(name))
               .empty()) {
        throw std::invalid_argument("an active token named " + std::string(name) + " exists");
      }
      auto r = tx.exec_params(
          "INSERT INTO api_tokens (name, role, digest, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
          str(name), str(role), str(digest), now_text());
      id = integer(r[0][0]);
    });
    return id;
  }

  json list_api_tokens() override {
    json tokens = json::array();
    read([&](Tx& tx) {
      for (const auto& r : tx.exec("SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id")) {
        tokens.push_back({{"id", integer(r[0])},
                          {"name", text(r[1])},
                          {"role", text(r[2])},
                          {"createdAt", text(r[3])},
                          {"revokedAt", text_json(r[4])}});
      }
    });
    return tokens;
  }

  bool revoke_api_token(std::string_view id_or_name) override {
    const bool numeric = !id_or_name.empty() && id_or_name.size() < 19 &&
                         std::all_of(id_or_name.begin(), id_or_name.end(),
                                     [](unsigned char c) { return c >= '0' && c <= '9'; });
    bool revoked = false;
    write([&](Tx& tx) {
      auto r = tx.exec_params(
          "UPDATE api_tokens SET revoked_at = $3 WHERE revoked_at IS NULL AND "
          "(($1::bigint IS NOT NULL AND id = $1::bigint) OR name = $2) RETURNING id",
          numeric ? std::optional<std::int64_t>(std::stoll(std::string(id_or_name))) : std::nullopt,
          str(id_or_name), now_text());
      revoked = !r.empty();
    });
    return revoked;
  }

  std::optional<auth::ApiTokenRecord> find_api_token(std::string_view digest) override {
    std::optional<auth::ApiTokenRecord> found;
    read([&](Tx& tx) {
      auto r = tx.exec_params("SELECT id, name, role FROM api_tokens WHERE digest = $1 AND revoked_at IS NULL",
                              str(digest));
      if (!r.empty()) found = auth::ApiTokenRecord{integer(r[0][0]), text(r[0][1]), text(r[0][2])};
    });
    return found;
  }

  bool has_active_api_tokens() override {
    bool any = false;
    read([&](Tx& tx) {
      any = tx.exec("SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL)")[0][0].as<bool>();
    });
    return any;
  }

  // ---- CredentialStore ----
  std::optional<security::ChargerSecurity> charger_security(std::string_view charge_point_id) override {
    std::optional<security::ChargerSecurity> result;
    read([&](Tx& tx) {
      auto r = tx.exec_params(
          "SELECT security_profile, password_hash FROM charger_security WHERE charge_point_id = $1",
          str(charge_point_id));
      if (!r.empty()) result = security::ChargerSecurity{static_cast<int>(integer(r[0][0])), opt_text(r[0][1])};
    });
    return result;
  }

  std::optional<json> charger_security_summary(std::string_view charge_point_id) override {
    std::optional<json> result;
    read([&](Tx& tx) {
      auto r = tx.exec_params(
          "SELECT security_profile, password_hash IS NOT NULL, updated_at FROM charger_security "
          "WHERE charge_point_id = $1",
          str(charge_point_id));
      if (r.empty()) return;
      result = json{{"chargePointId", std::string(charge_point_id)},
                    {"securityProfile", integer(r[0][0])},
                    {"passwordSet", r[0][1].as<bool>()},
                    {"updatedAt", text(r[0][2])}};
    });
    return result;
  }

  void set_charger_security(std::string_view charge_point_id, std::optional<int> profile,
                            std::optional<std::string> password_hash) override {
    if (charge_point_id.empty()) throw std::invalid_argument("charge point identity must not be empty");
    if (profile && (*profile < 0 || *profile > 3)) {
      throw std::invalid_argument("security profile must be 0, 1, 2 or 3");
    }
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO charger_security (charge_point_id, security_profile, password_hash, updated_at) "
          "VALUES ($1, coalesce($2::bigint, 0), $3::text, $4) ON CONFLICT (charge_point_id) DO UPDATE SET "
          "security_profile = coalesce($2::bigint, charger_security.security_profile), "
          "password_hash = coalesce($3::text, charger_security.password_hash), "
          "updated_at = excluded.updated_at",
          str(charge_point_id), profile ? std::optional<std::int64_t>(*profile) : std::nullopt,
          password_hash, now_text());
    });
  }

  // ---- AdminStore ----
  void upsert_id_tag(std::string_view tag, std::string_view status, std::optional<std::string> expiry,
                     std::optional<std::string> parent) override {
    if (tag.empty() || tag.size() > 20) throw std::invalid_argument("id tag must have 1 to 20 characters");
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
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO id_tags (id_tag, status, expiry_date, parent_id_tag, updated_at) "
          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, "
          "expiry_date = excluded.expiry_date, parent_id_tag = excluded.parent_id_tag, "
          "updated_at = excluded.updated_at",
          str(tag), str(status), expiry, parent, now_text());
    });
  }

  void register_charger(std::string_view identity) override {
    if (identity.empty()) throw std::invalid_argument("charge point identity must not be empty");
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO chargers (charge_point_id, pre_registered, created_at) VALUES ($1, 1, $2) "
          "ON CONFLICT (charge_point_id) DO UPDATE SET pre_registered = 1",
          str(identity), now_text());
    });
  }

  json list_id_tags() override {
    json tags = json::array();
    read([&](Tx& tx) {
      for (const auto& r : tx.exec(
               "SELECT id_tag, status, expiry_date, parent_id_tag, updated_at FROM id_tags ORDER BY id_tag")) {
        tags.push_back({{"idTag", text(r[0])},
                        {"status", text(r[1])},
                        {"expiryDate", text_json(r[2])},
                        {"parentIdTag", text_json(r[3])},
                        {"updatedAt", text(r[4])}});
      }
    });
    return tags;
  }

  void set_tariff(std::string_view charge_point_id, std::optional<csms::Tariff> tariff) override {
    if (charge_point_id.empty()) throw std::invalid_argument("charge point identity must not be empty");
    write([&](Tx& tx) {
      if (!tariff) {
        tx.exec_params("DELETE FROM tariffs WHERE charge_point_id = $1", str(charge_point_id));
        return;
      }
      tx.exec_params(
          "INSERT INTO tariffs (charge_point_id, energy_per_kwh_micro, time_per_minute_micro, "
          "session_fee_micro, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (charge_point_id) "
          "DO UPDATE SET energy_per_kwh_micro = excluded.energy_per_kwh_micro, "
          "time_per_minute_micro = excluded.time_per_minute_micro, "
          "session_fee_micro = excluded.session_fee_micro, updated_at = excluded.updated_at",
          str(charge_point_id), tariff->energy_per_kwh_micro, tariff->time_per_minute_micro,
          tariff->session_fee_micro, now_text());
    });
  }

  json list_tariffs() override {
    json result = json::array();
    read([&](Tx& tx) {
      for (const auto& r : tx.exec(
               "SELECT charge_point_id, energy_per_kwh_micro, time_per_minute_micro, session_fee_micro, "
               "updated_at FROM tariffs ORDER BY charge_point_id")) {
        result.push_back({{"chargePointId", text(r[0])},
                          {"energyPerKwh", csms::format_price_micro(integer(r[1]))},
                          {"timePerMinute", csms::format_price_micro(integer(r[2]))},
                          {"sessionFee", csms::format_price_micro(integer(r[3]))},
                          {"updatedAt", text(r[4])}});
      }
    });
    return result;
  }

  PruneReport prune(const RetentionPolicy& policy, std::int64_t now_ms, bool dry_run) override {
    PruneReport report;
    report.dry_run = dry_run;
    const std::int64_t batch = policy.batch_rows < 1 ? 1 : policy.batch_rows;
    auto start = [&](const char* table, int days) -> PrunedTable& {
      PrunedTable t;
      t.table = table;
      t.days = days;
      report.tables.push_back(std::move(t));
      return report.tables.back();
    };
    auto cutoff_of = [&](int days) { return now_ms - static_cast<std::int64_t>(days) * kDayMs; };
    struct IdTable {
      const char* table;
      const char* column;
      int days;
    };
    // Rows appended in time order: read oldest first by id; the pass ends at the first
    // batch with nothing old in it (as on SQLite, store/sqlite/sqlite_retention.cpp).
    for (const auto& r : {IdTable{"processed_messages", "processed_at", policy.processed_messages_days},
                          IdTable{"charger_data", "timestamp", policy.message_log_days},
                          IdTable{"analytics_processed_events", "processed_at", policy.analytics_events_days}}) {
      auto& t = start(r.table, r.days);
      if (r.days <= 0) continue;
      const std::int64_t cutoff = cutoff_of(r.days);
      t.before = csms::format_timestamp(cutoff);
      const std::string select = std::string("SELECT id, ") + r.column + " FROM " + r.table +
                                 " WHERE id > $1 ORDER BY id LIMIT $2";
      const std::string remove = std::string("DELETE FROM ") + r.table + " WHERE id = ANY($1::bigint[])";
      std::int64_t last = 0;
      for (bool more = true; more && !cancelled(policy.cancel);) {
        std::vector<std::int64_t> doomed;
        std::int64_t seen = 0;
        read([&](Tx& tx) {
          for (const auto& row : tx.exec_params(select, last, batch)) {
            ++seen;
            last = integer(row[0]);
            const auto at = csms::parse_timestamp(text(row[1]));
            if (at && *at < cutoff) doomed.push_back(last);
          }
        });
        if (seen < batch || doomed.empty()) more = false;
        if (doomed.empty()) continue;
        if (dry_run) {
          t.rows += static_cast<std::int64_t>(doomed.size());
          continue;
        }
        std::string array = "{";
        for (std::size_t i = 0; i < doomed.size(); ++i) array += (i ? "," : "") + std::to_string(doomed[i]);
        array += "}";
        write([&](Tx& tx) { t.rows += static_cast<std::int64_t>(tx.exec_params(remove, array).affected_rows()); });
        ++t.batches;
      }
    }
    auto per_charger = [&](PrunedTable& t, const std::string& doomed) {
      std::vector<std::int64_t> chargers;
      read([&](Tx& tx) {
        for (const auto& row : tx.exec("SELECT id FROM chargers ORDER BY id")) chargers.push_back(integer(row[0]));
      });
      if (dry_run) {
        read([&](Tx& tx) {
          for (const auto c : chargers) t.rows += integer(tx.exec_params("SELECT count(*)" + doomed, c, t.before)[0][0]);
        });
        return;
      }
      const std::string remove = "DELETE FROM " + t.table + " WHERE id IN (SELECT " +
                                 (t.table == "meter_values" ? "m" : "h") + ".id" + doomed + " LIMIT $3)";
      for (const auto c : chargers) {
        while (!cancelled(policy.cancel)) {
          std::int64_t removed = 0;
          // The horizon moves in the same transaction as the rows go.
          write([&](Tx& tx) {
            removed = static_cast<std::int64_t>(tx.exec_params(remove, c, t.before, batch).affected_rows());
            if (removed > 0) {
              tx.exec_params(
                  "INSERT INTO retention_horizon (table_name, pruned_before) VALUES ($1, $2) "
                  "ON CONFLICT (table_name) DO UPDATE SET pruned_before = "
                  "GREATEST(retention_horizon.pruned_before, excluded.pruned_before)",
                  t.table, t.before);
            }
          });
          if (removed > 0) ++t.batches;
          t.rows += removed;
          if (removed < batch) break;
        }
      }
    };
    {
      auto& t = start("meter_values", policy.meter_values_days);
      if (policy.meter_values_days > 0) {
        t.before = csms::format_timestamp(cutoff_of(policy.meter_values_days));
        per_charger(t, kMeterValuesDoomed);
      }
    }
    {
      auto& t = start("connector_status_history", policy.status_history_days);
      if (policy.status_history_days > 0) {
        t.before = csms::format_timestamp(cutoff_of(policy.status_history_days));
        per_charger(t, kStatusDoomed);
      }
    }
    return report;
  }

  std::optional<RetainedHorizon> retained_horizon() override {
    std::optional<RetainedHorizon> result;
    read([&](Tx& tx) {
      auto r = tx.exec(
          "SELECT table_name, pruned_before FROM retention_horizon ORDER BY pruned_before DESC LIMIT 1");
      if (r.empty()) return;
      if (const auto at = csms::parse_timestamp(text(r[0][1]))) result = RetainedHorizon{text(r[0][0]), *at};
    });
    return result;
  }

  // ---- smart::SiteStore (docs/smart-charging.md) ----
  static std::optional<double> opt_real(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<double>(f.as<double>());
  }
  static smart::SiteSettings site_row(const pqxx::row& r) {
    return smart::SiteSettings{text(r[0]), text(r[1]), r[2].as<double>(), static_cast<int>(integer(r[3])),
                               r[4].as<double>(), opt_real(r[5])};
  }

  void put_site(const smart::SiteSettings& site) override {
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO sites (id, name, max_current_a, phases, min_current_a, updated_at, max_power_w) VALUES ($1, "
          "$2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
          "max_current_a = excluded.max_current_a, phases = excluded.phases, "
          "min_current_a = excluded.min_current_a, updated_at = excluded.updated_at, "
          "max_power_w = excluded.max_power_w",
          site.id, site.name, site.max_current_a, std::int64_t{site.phases}, site.min_current_a, now_text(),
          site.max_power_w);
    });
  }

  std::vector<smart::SiteSettings> list_sites() override {
    std::vector<smart::SiteSettings> sites;
    read([&](Tx& tx) {
      for (const auto& r : tx.exec("SELECT id, name, max_current_a, phases, min_current_a, max_power_w FROM sites ORDER BY id")) {
        sites.push_back(site_row(r));
      }
    });
    return sites;
  }

  std::optional<smart::SiteSettings> find_site(std::string_view site_id) override {
    std::optional<smart::SiteSettings> site;
    read([&](Tx& tx) {
      auto r = tx.exec_params("SELECT id, name, max_current_a, phases, min_current_a, max_power_w FROM sites WHERE id = $1",
                              str(site_id));
      if (!r.empty()) site = site_row(r[0]);
    });
    return site;
  }

  bool delete_site(std::string_view site_id) override {
    bool deleted = false;
    write([&](Tx& tx) {
      record_departures(tx, "site_id = $1 AND (charge_point_id = $2 OR $2 = '')", site_id, "");
      tx.exec_params("DELETE FROM site_session_limits WHERE site_id = $1", str(site_id));
      tx.exec_params("DELETE FROM site_leases WHERE site_id = $1", str(site_id));
      tx.exec_params("DELETE FROM site_chargers WHERE site_id = $1", str(site_id));
      deleted = tx.exec_params("DELETE FROM sites WHERE id = $1", str(site_id)).affected_rows() > 0;
    });
    return deleted;
  }

  void put_site_member(std::string_view site_id, const smart::SiteMember& member) override {
    write([&](Tx& tx) {
      // Moving from another site: that site's profiles are cleared first; back in the
      // same site (or new): nothing to clear any more.
      record_departures(tx, "charge_point_id = $2 AND site_id <> $1", site_id, member.charge_point_id);
      tx.exec_params("DELETE FROM site_departures WHERE charge_point_id = $1 AND site_id = $2",
                     member.charge_point_id, str(site_id));
      tx.exec_params(
          "INSERT INTO site_chargers (charge_point_id, site_id, max_current_a, min_current_a, priority, joined_at) "
          "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (charge_point_id) DO UPDATE SET "
          "max_current_a = excluded.max_current_a, min_current_a = excluded.min_current_a, "
          "priority = excluded.priority, "
          "default_status = CASE WHEN site_chargers.site_id = excluded.site_id THEN site_chargers.default_status "
          "ELSE 'none' END, "
          "joined_at = CASE WHEN site_chargers.site_id = excluded.site_id THEN site_chargers.joined_at "
          "ELSE excluded.joined_at END, site_id = excluded.site_id",
          member.charge_point_id, str(site_id), member.max_current_a, member.min_current_a,
          std::int64_t{member.priority}, now_text());
    });
  }

  bool delete_site_member(std::string_view site_id, std::string_view charge_point_id) override {
    bool deleted = false;
    write([&](Tx& tx) {
      record_departures(tx, "site_id = $1 AND charge_point_id = $2", site_id, charge_point_id);
      deleted = tx.exec_params("DELETE FROM site_chargers WHERE site_id = $1 AND charge_point_id = $2",
                               str(site_id), str(charge_point_id))
                    .affected_rows() > 0;
      tx.exec_params("DELETE FROM site_session_limits WHERE site_id = $1 AND charge_point_id = $2", str(site_id),
                     str(charge_point_id));
    });
    return deleted;
  }

  std::vector<smart::SiteMember> site_members(std::string_view site_id) override {
    std::vector<smart::SiteMember> members;
    read([&](Tx& tx) { members = read_members(tx, site_id); });
    return members;
  }

  static std::vector<smart::SiteMember> read_members(Tx& tx, std::string_view site_id) {
    std::vector<smart::SiteMember> members;
    {
      for (const auto& r : tx.exec_params(
               "SELECT s.charge_point_id, s.max_current_a, s.min_current_a, s.priority, s.default_limit_a, "
               "s.default_status, cc.value, c.ocpp_version FROM site_chargers s "
               "LEFT JOIN chargers c ON c.charge_point_id = s.charge_point_id "
               "LEFT JOIN charger_configuration cc ON cc.charger_id = c.id "
               "AND cc.key = 'ChargingScheduleAllowedChargingRateUnit' AND cc.known = 1 "
               "WHERE s.site_id = $1 ORDER BY s.charge_point_id",
               str(site_id))) {
        smart::SiteMember m{text(r[0]), opt_real(r[1]), opt_real(r[2]), static_cast<int>(integer(r[3])),
                            opt_real(r[4]), text(r[5])};
        if (!r[6].is_null()) m.allowed_rate_units = text(r[6]);
        if (!r[7].is_null()) m.ocpp_version = text(r[7]);
        members.push_back(std::move(m));
      }
    }
    return members;
  }

  std::vector<smart::SiteSession> site_sessions(std::string_view site_id) override {
    std::vector<smart::SiteSession> sessions;
    read([&](Tx& tx) { sessions = read_sessions(tx, site_id); });
    return sessions;
  }

  static std::vector<smart::SiteSession> read_sessions(Tx& tx, std::string_view site_id) {
    std::vector<smart::SiteSession> sessions;
    {
      for (const auto& r : tx.exec_params(
               "SELECT c.charge_point_id, t.connector_id, t.id, t.started_at, t.id_tag, p.priority, "
               "t.ocpp_transaction_id FROM site_chargers s "
               "JOIN chargers c ON c.charge_point_id = s.charge_point_id "
               "JOIN transactions t ON t.charger_id = c.id AND t.stopped_at IS NULL "
               "LEFT JOIN tag_priorities p ON p.id_tag = t.id_tag "
               "WHERE s.site_id = $1 ORDER BY c.charge_point_id, t.connector_id",
               str(site_id))) {
        smart::SiteSession session{text(r[0]), static_cast<int>(integer(r[1])), integer(r[2]), text(r[3]), {}};
        session.id_tag = text(r[4]);
        if (!r[5].is_null()) session.tag_priority = static_cast<int>(integer(r[5]));
        if (!r[6].is_null()) session.ocpp_transaction_id = text(r[6]);
        sessions.push_back(std::move(session));
      }
      for (auto& session : sessions) {
        std::string at;
        for (const auto& r : tx.exec_params(
                 "SELECT value, timestamp FROM meter_values WHERE transaction_id = $1 "
                 "AND measurand = 'Current.Import' ORDER BY timestamp DESC, id DESC LIMIT 3",
                 session.transaction_id)) {
          if (!at.empty() && text(r[1]) != at) break;
          at = text(r[1]);
          try {
            const double value = std::stod(text(r[0]));
            session.measured_a = session.measured_a ? std::max(*session.measured_a, value) : value;
          } catch (const std::exception&) {
          }
        }
      }
    }
    return sessions;
  }

  std::vector<smart::SessionLimit> session_limits(std::string_view site_id) override {
    std::vector<smart::SessionLimit> limits;
    read([&](Tx& tx) { limits = read_limits(tx, site_id); });
    return limits;
  }

  static std::vector<smart::SessionLimit> read_limits(Tx& tx, std::string_view site_id) {
    std::vector<smart::SessionLimit> limits;
    {
      for (const auto& r : tx.exec_params(
               "SELECT l.charge_point_id, l.connector_id, l.transaction_id, l.limit_a, l.status, l.updated_at "
               "FROM site_session_limits l JOIN transactions t ON t.id = l.transaction_id AND t.stopped_at IS NULL "
               "WHERE l.site_id = $1 ORDER BY l.charge_point_id, l.connector_id",
               str(site_id))) {
        limits.push_back(smart::SessionLimit{text(r[0]), static_cast<int>(integer(r[1])), integer(r[2]),
                                             r[3].as<double>(), text(r[4]), text(r[5])});
      }
    }
    return limits;
  }

  std::optional<smart::SiteState> site_state(std::string_view site_id) override {
    std::optional<smart::SiteState> state;
    read([&](Tx& tx) {
      auto r = tx.exec_params("SELECT id, name, max_current_a, phases, min_current_a, max_power_w FROM sites WHERE id = $1",
                              str(site_id));
      if (r.empty()) return;
      state = smart::SiteState{site_row(r[0]), read_members(tx, site_id), read_sessions(tx, site_id),
                               read_limits(tx, site_id)};
    });
    return state;
  }

  void set_default_limit(std::string_view charge_point_id, double limit_a, std::string_view status) override {
    write([&](Tx& tx) {
      tx.exec_params("UPDATE site_chargers SET default_limit_a = $2, default_status = $3 WHERE charge_point_id = $1",
                     str(charge_point_id), limit_a, str(status));
    });
  }

  void set_session_limit(std::string_view site_id, const smart::SessionLimit& limit) override {
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO site_session_limits (transaction_id, site_id, charge_point_id, connector_id, limit_a, "
          "status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (transaction_id) DO UPDATE SET "
          "site_id = excluded.site_id, limit_a = excluded.limit_a, status = excluded.status, "
          "updated_at = excluded.updated_at",
          limit.transaction_id, str(site_id), limit.charge_point_id, std::int64_t{limit.connector_id}, limit.limit_a,
          limit.status, now_text());
    });
  }

  void record_profile(const smart::ProfileRecord& record) override {
    const auto s = smart::summarize_profile_command(record.action, record.request);
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO charging_profiles (charge_point_id, connector_id, action, source, charging_profile_id, "
          "purpose, stack_level, transaction_id, limit_value, request, status, sent_at) VALUES ($1, $2, $3, $4, "
          "$5, $6, $7, $8, $9, $10, $11, $12)",
          record.charge_point_id, std::int64_t{record.connector_id}, record.action, record.source,
          s.charging_profile_id, s.purpose, s.stack_level, s.transaction_id, s.limit, record.request.dump(),
          record.status, now_text());
    });
  }

  json charging_profiles(std::string_view charge_point_id, int limit) override {
    json profiles = json::array();
    read([&](Tx& tx) {
      for (const auto& r : tx.exec_params(
               "SELECT id, connector_id, action, source, charging_profile_id, purpose, stack_level, transaction_id, "
               "limit_value, request, status, sent_at FROM charging_profiles WHERE charge_point_id = $1 "
               "ORDER BY id DESC LIMIT $2",
               str(charge_point_id), std::int64_t{limit})) {
        profiles.push_back(json{{"id", integer(r[0])},
                                {"connectorId", integer(r[1])},
                                {"action", text(r[2])},
                                {"source", text(r[3])},
                                {"chargingProfileId", integer_json(r[4])},
                                {"purpose", text_json(r[5])},
                                {"stackLevel", integer_json(r[6])},
                                {"transactionId", integer_json(r[7])},
                                {"limit", r[8].is_null() ? json() : json(r[8].as<double>())},
                                {"request", json::parse(text(r[9]), nullptr, false)},
                                {"status", text(r[10])},
                                {"sentAt", text(r[11])}});
      }
    });
    return json{{"chargePointId", charge_point_id}, {"profiles", profiles}};
  }

  bool acquire_site_lease(std::string_view site_id, std::string_view holder, std::int64_t now_ms,
                          std::int64_t ttl_ms) override {
    bool acquired = false;
    write([&](Tx& tx) {
      acquired = tx.exec_params(
                       "INSERT INTO site_leases (site_id, holder, expires_at_ms) VALUES ($1, $2, $3) "
                       "ON CONFLICT (site_id) DO UPDATE SET holder = excluded.holder, "
                       "expires_at_ms = excluded.expires_at_ms "
                       "WHERE site_leases.holder = excluded.holder OR site_leases.expires_at_ms <= $4",
                       str(site_id), str(holder), now_ms + ttl_ms, now_ms)
                     .affected_rows() > 0;
    });
    return acquired;
  }

  void record_departures(Tx& tx, const std::string& where, std::string_view site_id,
                         std::string_view charge_point_id) {
    tx.exec_params(
        "INSERT INTO site_departures (charge_point_id, site_id, left_at) SELECT charge_point_id, site_id, $3 "
        "FROM site_chargers WHERE " +
            where + " ON CONFLICT (charge_point_id) DO UPDATE SET site_id = excluded.site_id, "
                    "left_at = excluded.left_at",
        str(site_id), str(charge_point_id), now_text());
  }

  void put_tag_priority(std::string_view id_tag, int priority) override {
    write([&](Tx& tx) {
      tx.exec_params(
          "INSERT INTO tag_priorities (id_tag, priority, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id_tag) DO "
          "UPDATE SET priority = excluded.priority, updated_at = excluded.updated_at",
          str(id_tag), std::int64_t{priority}, now_text());
    });
  }

  bool delete_tag_priority(std::string_view id_tag) override {
    bool deleted = false;
    write([&](Tx& tx) {
      deleted = tx.exec_params("DELETE FROM tag_priorities WHERE id_tag = $1", str(id_tag)).affected_rows() > 0;
    });
    return deleted;
  }

  std::vector<smart::TagPriority> tag_priorities() override {
    std::vector<smart::TagPriority> out;
    read([&](Tx& tx) {
      for (const auto& r : tx.exec("SELECT id_tag, priority, updated_at FROM tag_priorities ORDER BY id_tag")) {
        out.push_back({text(r[0]), static_cast<int>(integer(r[1])), text(r[2])});
      }
    });
    return out;
  }

  std::vector<smart::SiteDeparture> site_departures() override {
    std::vector<smart::SiteDeparture> out;
    read([&](Tx& tx) {
      for (const auto& r : tx.exec(
               "SELECT d.charge_point_id, d.site_id, d.left_at, c.ocpp_version, s.site_id FROM site_departures d "
               "LEFT JOIN chargers c ON c.charge_point_id = d.charge_point_id "
               "LEFT JOIN site_chargers s ON s.charge_point_id = d.charge_point_id "
               "ORDER BY d.left_at, d.charge_point_id")) {
        out.push_back({text(r[0]), text(r[1]), text(r[2]), r[3].is_null() ? std::string() : text(r[3]),
                       r[4].is_null() ? std::string() : text(r[4])});
      }
    });
    return out;
  }

  void forget_departure(std::string_view charge_point_id, std::string_view left_at) override {
    write([&](Tx& tx) {
      tx.exec_params("DELETE FROM site_departures WHERE charge_point_id = $1 AND left_at = $2",
                     str(charge_point_id), str(left_at));
    });
  }

  void release_site_lease(std::string_view site_id, std::string_view holder) override {
    write([&](Tx& tx) {
      tx.exec_params("DELETE FROM site_leases WHERE site_id = $1 AND holder = $2", str(site_id), str(holder));
    });
  }


  csms::FirmwareStore& firmware_store() override {
    if (!firmware_store_) {
      firmware_store_ = make_firmware_store([this](bool is_write, const std::function<void(SqlTx&)>& work) {
        if (!is_write) {
          read([&](Tx& tx) {
            PostgresSqlTx sql(tx);
            work(sql);
          });
          return;
        }
        // As in_transaction: a unit that lost a race is run again at once, a few times.
        for (int attempt = 1;; ++attempt) {
          try {
            write([&](Tx& tx) {
              PostgresSqlTx sql(tx);
              work(sql);
            });
            return;
          } catch (const Conflict&) {
            if (attempt >= 8) throw;
            thread_local std::minstd_rand random(std::random_device{}());
            std::this_thread::sleep_for(std::chrono::milliseconds(1 + random() % (5 * attempt)));
          }
        }
      });
    }
    return *firmware_store_;
  }

  int schema_version() override {
    int version = 0;
    read([&](Tx& tx) {
      if (tx.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) return;
      version = static_cast<int>(integer(tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0]));
    });
    return version;
  }

 private:
  void migrate() {
    // A current schema needs no lock and no DDL: a role without CREATE on the schema (the
    // worker's least-privilege role, docs/operations.md "PostgreSQL operations") opens it too.
    if (schema_version() >= postgres::kMigrationCount) return;
    // READ COMMITTED, not SERIALIZABLE: the snapshot of a serializable transaction is
    // taken at its first statement, before the lock below is granted, so a migrator that
    // waited would not see the versions the first one committed and apply them again.
    run<pqxx::read_committed>([&](Tx& tx) {
      // One migrator at a time across processes and hosts; the others wait here, then
      // find every version applied.
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      tx.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)");
      for (int i = 0; i < postgres::kMigrationCount; ++i) {
        const Migration& m = postgres::kMigrations[i];
        if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty()) continue;
        tx.exec(m.sql);
        tx.exec_params("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", m.version,
                       now_text());
      }
    });
  }

  std::shared_ptr<Pool> pool_;
  std::unique_ptr<csms::FirmwareStore> firmware_store_;
};

namespace {

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string postgres_conninfo(const std::string& url, const std::string& password_file) {
  std::string conninfo = url;
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    if (!in) throw std::runtime_error("DATABASE_PASSWORD_FILE " + password_file + " cannot be read");
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&");
    conninfo += "password=" + percent_encode(password);
  }
  return conninfo;
}

std::unique_ptr<Store> open_postgres_store(const std::string& url, const std::string& password_file,
                                           PostgresOptions options) {
  return std::make_unique<PostgresStore>(pool_for(postgres_conninfo(url, password_file), options.pool_size),
                                         options);
}

}  // namespace genx::store
