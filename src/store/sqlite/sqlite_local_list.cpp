#include "store/sqlite/sqlite_local_list.hpp"

#include <sqlite3.h>

#include <functional>
#include <stdexcept>

namespace genx::store {

namespace {

using csms::LocalListEntry;
using csms::TransientStoreError;

bool transient(int rc) {
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
  std::string message = "sqlite: " + std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) +
                        " (" + std::to_string(rc) + ")";
  if (transient(rc)) throw TransientStoreError(message);
  throw std::runtime_error(message);
}

// One statement: prepare, bind (1-based), step, read; finalized when it goes.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db, rc, sql);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Statement& bind(int i, const std::optional<std::string>& v) {
    if (v) return bind(i, std::string_view(*v));
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, sqlite3_sql(stmt_));
  }
  void run() {
    while (step()) {
    }
    sqlite3_reset(stmt_);  // ready to run again with new bindings
  }
  bool null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::int64_t integer(int c) const { return sqlite3_column_int64(stmt_, c); }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(stmt_, c);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c));
  }
  std::optional<std::string> opt_text(int c) const { return null(c) ? std::nullopt : std::optional(text(c)); }
  std::optional<std::int64_t> opt_integer(int c) const { return null(c) ? std::nullopt : std::optional(integer(c)); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::optional<std::int64_t> to_integer(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const auto v = std::stoll(*text, &used);
    if (used != text->size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

class SqliteLocalList final : public api::LocalListStore {
 public:
  SqliteLocalList(const std::string& path, int busy_timeout_ms) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string text = "sqlite: cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
      sqlite3_close(db_);
      if (transient(rc)) throw TransientStoreError(text);
      throw std::runtime_error(text);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
  }
  ~SqliteLocalList() override { sqlite3_close(db_); }

  std::vector<api::IdTagRecord> list_id_tags(std::optional<bool> local_list) override {
    std::vector<api::IdTagRecord> out;
    read([&] {
      Statement q(db_,
                  "SELECT id_tag, status, expiry_date, parent_id_tag, local_list, updated_at FROM id_tags "
                  "WHERE ?1 IS NULL OR local_list = ?1 ORDER BY id_tag");
      if (local_list) q.bind(1, std::int64_t{*local_list ? 1 : 0});
      while (q.step()) out.push_back(record(q));
    });
    return out;
  }

  std::optional<api::IdTagRecord> find_id_tag(std::string_view id_tag) override {
    std::optional<api::IdTagRecord> out;
    read([&] {
      Statement q(db_,
                  "SELECT id_tag, status, expiry_date, parent_id_tag, local_list, updated_at FROM id_tags "
                  "WHERE id_tag = ?1");
      q.bind(1, id_tag);
      if (q.step()) out = record(q);
    });
    return out;
  }

  void put_id_tag(const api::IdTagRecord& tag, std::string_view now) override {
    write([&] {
      Statement q(db_,
                  "INSERT INTO id_tags (id_tag, status, expiry_date, parent_id_tag, local_list, updated_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, "
                  "expiry_date = excluded.expiry_date, parent_id_tag = excluded.parent_id_tag, "
                  "local_list = excluded.local_list, updated_at = excluded.updated_at");
      q.bind(1, tag.tag.id_tag).bind(2, tag.tag.status).bind(3, tag.tag.expiry_date).bind(4, tag.tag.parent_id_tag);
      q.bind(5, std::int64_t{tag.local_list ? 1 : 0}).bind(6, now).run();
    });
  }

  std::vector<LocalListEntry> local_list() override {
    std::vector<LocalListEntry> out;
    read([&] {
      Statement q(db_,
                  "SELECT id_tag, status, expiry_date, parent_id_tag FROM id_tags WHERE local_list = 1 ORDER BY id_tag");
      while (q.step()) out.push_back(entry(q));
    });
    return out;
  }

  std::optional<api::LocalListState> local_list_state(std::string_view cp) override {
    std::optional<api::LocalListState> out;
    read([&] {
      Statement c(db_,
                  "SELECT c.id, c.ocpp_version, s.sent_version, s.reported_version, s.status, s.last_answer, "
                  "s.reported_at, s.pushed_at, s.updated_at FROM chargers c "
                  "LEFT JOIN local_list_state s ON s.charger_id = c.id WHERE c.charge_point_id = ?1");
      c.bind(1, cp);
      if (!c.step()) return;
      const auto id = c.integer(0);
      api::LocalListState s;
      s.charge_point_id = std::string(cp);
      s.ocpp_version = c.text(1);
      s.sent_version = c.opt_integer(2);
      s.reported_version = c.opt_integer(3);
      if (!c.null(4)) s.status = c.text(4);
      s.last_answer = c.opt_text(5);
      s.reported_at = c.opt_text(6);
      s.pushed_at = c.opt_text(7);
      s.updated_at = c.opt_text(8);
      Statement e(db_,
                  "SELECT id_tag, status, expiry_date, parent_id_tag FROM local_list_entries WHERE charger_id = ?1 "
                  "ORDER BY id_tag");
      e.bind(1, id);
      while (e.step()) s.held.push_back(entry(e));
      Statement k(db_,
                  "SELECT key, value FROM charger_configuration WHERE charger_id = ?1 AND known = 1 AND key IN "
                  "('LocalAuthListMaxLength', 'SendLocalListMaxLength')");
      k.bind(1, id);
      while (k.step()) {
        const auto v = to_integer(k.opt_text(1));
        (k.text(0) == "LocalAuthListMaxLength" ? s.local_auth_list_max_length : s.send_local_list_max_length) = v;
      }
      if (s.ocpp_version == "2.0.1") {
        csms::LocalListLimits limits;
        Statement d(db_,
                    "SELECT variable, value, characteristics FROM device_model WHERE charger_id = ?1 AND "
                    "component = 'LocalAuthListCtrlr' AND attribute_type = 'Actual' AND "
                    "variable IN ('Entries', 'ItemsPerMessage')");
        d.bind(1, id);
        while (d.step()) csms::add_device_model_limit(limits, d.text(0), d.opt_text(1), d.opt_text(2));
        s.local_auth_list_max_length = limits.max_entries;
        s.send_local_list_max_length = limits.max_per_send;
      }
      out = std::move(s);
    });
    return out;
  }

  std::vector<std::string> local_list_chargers(std::string_view online_since) override {
    std::vector<std::string> out;
    read([&] {
      Statement q(db_,
                  "SELECT charge_point_id FROM chargers WHERE ocpp_version IN ('1.6', '2.0.1') AND "
                  "(?1 = '' OR last_seen_at >= ?1) ORDER BY charge_point_id");
      q.bind(1, online_since);
      while (q.step()) out.push_back(q.text(0));
    });
    return out;
  }

  void record_reported_version(std::string_view cp, std::int64_t version, std::string_view now) override {
    write([&] {
      const auto id = ensure_state(cp, now);
      if (!id) return;
      Statement q(db_,
                  "UPDATE local_list_state SET reported_version = ?2, reported_at = ?3, asked_at = ?3, updated_at = ?3, "
                  "status = CASE WHEN status = 'InSync' AND sent_version IS NOT ?2 THEN 'OutOfDate' ELSE status END "
                  "WHERE charger_id = ?1");
      q.bind(1, *id).bind(2, version).bind(3, now).run();
    });
  }

  void record_list_sent(std::string_view cp, std::int64_t version, const std::vector<LocalListEntry>& held,
                        std::string_view now) override {
    write([&] {
      const auto id = ensure_state(cp, now);
      if (!id) return;
      Statement u(db_,
                  "UPDATE local_list_state SET sent_version = ?2, reported_version = ?2, pushed_at = ?3, "
                  "updated_at = ?3 WHERE charger_id = ?1");
      u.bind(1, *id).bind(2, version).bind(3, now).run();
      Statement d(db_, "DELETE FROM local_list_entries WHERE charger_id = ?1");
      d.bind(1, *id).run();
      Statement i(db_,
                  "INSERT INTO local_list_entries (charger_id, id_tag, status, expiry_date, parent_id_tag) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)");
      for (const auto& e : held) {
        i.bind(1, *id).bind(2, e.id_tag).bind(3, e.status).bind(4, e.expiry_date).bind(5, e.parent_id_tag).run();
      }
    });
  }

  std::string set_local_list_status(std::string_view cp, std::string_view status, std::string_view last_answer,
                                    std::string_view now) override {
    std::string before = "Unknown";
    write([&] {
      const auto id = ensure_state(cp, now);
      if (!id) return;
      Statement s(db_, "SELECT status FROM local_list_state WHERE charger_id = ?1");
      s.bind(1, *id);
      if (s.step()) before = s.text(0);
      Statement u(db_,
                  "UPDATE local_list_state SET status = ?2, last_answer = CASE WHEN ?3 = '' THEN last_answer ELSE ?3 "
                  "END, updated_at = ?4 WHERE charger_id = ?1");
      u.bind(1, *id).bind(2, status).bind(3, last_answer).bind(4, now).run();
    });
    return before;
  }

  std::vector<std::string> mark_local_lists_out_of_date(std::string_view now) override {
    std::vector<std::string> out;
    write([&] {
      Statement q(db_,
                  "SELECT c.charge_point_id FROM local_list_state s JOIN chargers c ON c.id = s.charger_id "
                  "WHERE s.status = 'InSync' ORDER BY c.charge_point_id");
      while (q.step()) out.push_back(q.text(0));
      Statement u(db_, "UPDATE local_list_state SET status = 'OutOfDate', updated_at = ?1 WHERE status = 'InSync'");
      u.bind(1, now).run();
    });
    return out;
  }

  std::vector<std::string> claim_version_checks(std::string_view online_since, std::string_view now,
                                                int limit) override {
    std::vector<std::string> out;
    write([&] {
      Statement q(db_,
                  "SELECT c.id, c.charge_point_id FROM chargers c LEFT JOIN local_list_state s ON s.charger_id = c.id "
                  "WHERE c.ocpp_version IN ('1.6', '2.0.1') AND c.last_seen_at >= ?1 AND c.last_boot_at IS NOT NULL "
                  "AND (s.asked_at IS NULL OR s.asked_at < c.last_boot_at) "
                  "AND (s.charger_id IS NOT NULL OR EXISTS (SELECT 1 FROM id_tags WHERE local_list = 1)) "
                  "ORDER BY c.id LIMIT ?2");
      q.bind(1, online_since).bind(2, std::int64_t{limit});
      std::vector<std::pair<std::int64_t, std::string>> found;
      while (q.step()) found.emplace_back(q.integer(0), q.text(1));
      for (const auto& [id, cp] : found) {
        ensure_state(cp, now);
        Statement u(db_, "UPDATE local_list_state SET asked_at = ?2 WHERE charger_id = ?1");
        u.bind(1, id).bind(2, now).run();
        out.push_back(cp);
      }
    });
    return out;
  }

 private:
  static api::IdTagRecord record(const Statement& q) {
    api::IdTagRecord r;
    r.tag = entry(q);
    r.local_list = q.integer(4) != 0;
    r.updated_at = q.text(5);
    return r;
  }
  static LocalListEntry entry(const Statement& q) {
    return LocalListEntry{q.text(0), q.text(1), q.opt_text(2), q.opt_text(3)};
  }

  // The charger's id, with a state row (status Unknown) created when missing; nullopt
  // for an unknown charger.
  std::optional<std::int64_t> ensure_state(std::string_view cp, std::string_view now) {
    Statement c(db_, "SELECT id FROM chargers WHERE charge_point_id = ?1");
    c.bind(1, cp);
    if (!c.step()) return std::nullopt;
    const auto id = c.integer(0);
    Statement i(db_,
                "INSERT INTO local_list_state (charger_id, status, updated_at) VALUES (?1, 'Unknown', ?2) "
                "ON CONFLICT (charger_id) DO NOTHING");
    i.bind(1, id).bind(2, now).run();
    return id;
  }

  void exec(const char* sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      const std::string text = error != nullptr ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      fail(nullptr, rc, std::string(sql) + ": " + text);
    }
  }
  void unit(const char* begin, const std::function<void()>& work) {
    exec(begin);
    try {
      work();
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
  void read(const std::function<void()>& work) { unit("BEGIN", work); }
  void write(const std::function<void()>& work) { unit("BEGIN IMMEDIATE", work); }

  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<api::LocalListStore> open_sqlite_local_list(const std::string& path, int busy_timeout_ms) {
  return std::make_unique<SqliteLocalList>(path, busy_timeout_ms);
}

}  // namespace genx::store
