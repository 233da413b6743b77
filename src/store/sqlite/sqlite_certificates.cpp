// security::CertificateStore on SQLite (migration 0016): its own connection to the
// database file, each call one short transaction (writes BEGIN IMMEDIATE).
#include "store/sqlite/sqlite_certificates.hpp"

#include <sqlite3.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "csms/store_error.hpp"

namespace genx::store {
namespace {

using csms::TransientStoreError;

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      throw TransientStoreError(message);
    default:
      throw std::runtime_error(message);
  }
}

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db, rc, sql.substr(0, 60));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::optional<std::string>& v) {
    if (!v) {
      sqlite3_bind_null(stmt_, i);
      return *this;
    }
    return bind(i, std::string_view(*v));
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, sqlite3_sql(stmt_));
  }
  std::int64_t integer(int c) const { return sqlite3_column_int64(stmt_, c); }
  std::string text(int c) const {
    const auto* data = sqlite3_column_text(stmt_, c);
    if (data == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)));
  }
  std::optional<std::string> optional_text(int c) const {
    if (sqlite3_column_type(stmt_, c) == SQLITE_NULL) return std::nullopt;
    return text(c);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kEventColumns =
    "id, charge_point_id, type, timestamp, tech_info, source, message_id, received_at";
constexpr const char* kIssuedColumns =
    "id, charge_point_id, request_id, serial_number, subject, not_before, not_after, certificate_chain, status, "
    "created_at, updated_at";
constexpr const char* kInstalledColumns =
    "charge_point_id, certificate_type, hash_algorithm, issuer_name_hash, issuer_key_hash, serial_number, updated_at";

security::SecurityEvent read_event(const Statement& q) {
  return {q.integer(0), q.text(1), q.text(2), q.text(3), q.optional_text(4), q.text(5), q.text(6), q.text(7)};
}

security::IssuedCertificate read_issued(const Statement& q) {
  return {q.integer(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5),
          q.text(6),    q.text(7), q.text(8), q.text(9), q.text(10)};
}

security::InstalledCertificate read_installed(const Statement& q) {
  return {q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6)};
}

class SqliteCertificateStore final : public security::CertificateStore {
 public:
  explicit SqliteCertificateStore(const std::string& path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = "sqlite: cannot open " + path + ": " + sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw TransientStoreError(message);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA synchronous = FULL");
  }
  ~SqliteCertificateStore() override { sqlite3_close(db_); }

  bool record_security_event(const security::SecurityEvent& e) override {
    bool stored = false;
    write([&] {
      Statement q(db_,
                  "INSERT INTO security_events (charge_point_id, type, timestamp, tech_info, source, message_id, "
                  "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                  "ON CONFLICT (charge_point_id, message_id, source) DO NOTHING");
      q.bind(1, e.charge_point_id).bind(2, e.type).bind(3, e.timestamp).bind(4, e.tech_info);
      q.bind(5, e.source).bind(6, e.message_id).bind(7, e.received_at);
      q.step();
      stored = sqlite3_changes(db_) > 0;
    });
    return stored;
  }

  security::SecurityEventPage list_security_events(const security::SecurityEventFilter& f) override {
    security::SecurityEventPage page;
    const std::string where =
        " WHERE (?1 IS NULL OR charge_point_id = ?1) AND (?2 IS NULL OR type = ?2) "
        "AND (?3 IS NULL OR timestamp >= ?3) AND (?4 IS NULL OR timestamp < ?4)";
    auto bind = [&](Statement& q) { q.bind(1, f.charger).bind(2, f.type).bind(3, f.from).bind(4, f.to); };
    read([&] {
      Statement count(db_, "SELECT count(*) FROM security_events" + where);
      bind(count);
      if (count.step()) page.total = count.integer(0);
      Statement q(db_, std::string("SELECT ") + kEventColumns + " FROM security_events" + where +
                           " ORDER BY timestamp DESC, id DESC LIMIT ?5 OFFSET ?6");
      bind(q);
      q.bind(5, static_cast<std::int64_t>(f.limit)).bind(6, static_cast<std::int64_t>(f.offset));
      while (q.step()) page.items.push_back(read_event(q));
    });
    return page;
  }

  std::optional<security::IssuedCertificate> find_issued(std::string_view cp, std::string_view request_id) override {
    std::optional<security::IssuedCertificate> out;
    read([&] { out = issued_by_request(cp, request_id); });
    return out;
  }

  security::IssuedCertificate record_issued(const security::IssuedCertificate& c) override {
    security::IssuedCertificate out;
    write([&] {
      Statement q(db_,
                  "INSERT INTO issued_certificates (charge_point_id, request_id, serial_number, subject, not_before, "
                  "not_after, certificate_chain, status, created_at, updated_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
                  "ON CONFLICT (charge_point_id, request_id) DO NOTHING");
      q.bind(1, c.charge_point_id).bind(2, c.request_id).bind(3, c.serial_number).bind(4, c.subject);
      q.bind(5, c.not_before).bind(6, c.not_after).bind(7, c.certificate_chain).bind(8, c.status);
      q.bind(9, c.created_at);
      q.step();
      out = *issued_by_request(c.charge_point_id, c.request_id);
    });
    return out;
  }

  void set_issued_status(std::int64_t id, std::string_view status, std::string_view now) override {
    write([&] {
      Statement q(db_, "UPDATE issued_certificates SET status = ?2, updated_at = ?3 WHERE id = ?1");
      q.bind(1, id).bind(2, status).bind(3, now);
      q.step();
    });
  }

  std::vector<security::IssuedCertificate> list_issued(std::string_view cp) override {
    std::vector<security::IssuedCertificate> out;
    read([&] {
      Statement q(db_, std::string("SELECT ") + kIssuedColumns +
                           " FROM issued_certificates WHERE charge_point_id = ?1 ORDER BY id DESC LIMIT 100");
      q.bind(1, cp);
      while (q.step()) out.push_back(read_issued(q));
    });
    return out;
  }

  void replace_installed(std::string_view cp, std::string_view type,
                         const std::vector<security::InstalledCertificate>& list, std::string_view now) override {
    write([&] {
      {
        Statement q(db_, "DELETE FROM installed_certificates WHERE charge_point_id = ?1 AND certificate_type = ?2");
        q.bind(1, cp).bind(2, type);
        q.step();
      }
      for (auto c : list) {
        c.charge_point_id = std::string(cp);
        c.certificate_type = std::string(type);
        c.updated_at = std::string(now);
        insert_installed(c);
      }
    });
  }

  void add_installed(const security::InstalledCertificate& c) override {
    write([&] { insert_installed(c); });
  }

  bool remove_installed(std::string_view cp, std::string_view issuer_name_hash,
                        std::string_view serial_number) override {
    bool removed = false;
    write([&] {
      Statement q(db_,
                  "DELETE FROM installed_certificates WHERE charge_point_id = ?1 AND lower(issuer_name_hash) = "
                  "lower(?2) AND lower(serial_number) = lower(?3)");
      q.bind(1, cp).bind(2, issuer_name_hash).bind(3, serial_number);
      q.step();
      removed = sqlite3_changes(db_) > 0;
    });
    return removed;
  }

  std::vector<security::InstalledCertificate> list_installed(std::string_view cp) override {
    std::vector<security::InstalledCertificate> out;
    read([&] {
      Statement q(db_, std::string("SELECT ") + kInstalledColumns +
                           " FROM installed_certificates WHERE charge_point_id = ?1 "
                           "ORDER BY certificate_type, serial_number");
      q.bind(1, cp);
      while (q.step()) out.push_back(read_installed(q));
    });
    return out;
  }

 private:
  sqlite3* db_ = nullptr;

  void exec(const char* sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
    sqlite3_free(error);
    if (rc != SQLITE_OK) fail(db_, rc, sql);
  }

  void transaction(const char* begin, const std::function<void()>& work) {
    exec(begin);
    try {
      work();
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
  void write(const std::function<void()>& work) { transaction("BEGIN IMMEDIATE", work); }
  void read(const std::function<void()>& work) { transaction("BEGIN", work); }

  std::optional<security::IssuedCertificate> issued_by_request(std::string_view cp, std::string_view request_id) {
    Statement q(db_, std::string("SELECT ") + kIssuedColumns +
                         " FROM issued_certificates WHERE charge_point_id = ?1 AND request_id = ?2");
    q.bind(1, cp).bind(2, request_id);
    if (!q.step()) return std::nullopt;
    return read_issued(q);
  }

  void insert_installed(const security::InstalledCertificate& c) {
    Statement q(db_,
                "INSERT INTO installed_certificates (charge_point_id, certificate_type, hash_algorithm, "
                "issuer_name_hash, issuer_key_hash, serial_number, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                "ON CONFLICT (charge_point_id, certificate_type, issuer_name_hash, serial_number) DO UPDATE SET "
                "hash_algorithm = excluded.hash_algorithm, issuer_key_hash = excluded.issuer_key_hash, "
                "updated_at = excluded.updated_at");
    q.bind(1, c.charge_point_id).bind(2, c.certificate_type).bind(3, c.hash_algorithm);
    q.bind(4, c.issuer_name_hash).bind(5, c.issuer_key_hash).bind(6, c.serial_number).bind(7, c.updated_at);
    q.step();
  }
};

}  // namespace

std::unique_ptr<security::CertificateStore> open_sqlite_certificate_store(const std::string& path) {
  return std::make_unique<SqliteCertificateStore>(path);
}

}  // namespace genx::store
