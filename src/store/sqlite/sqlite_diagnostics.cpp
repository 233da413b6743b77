// Diagnostics uploads on SQLite (api/diagnostics_store.hpp): the api's own connection, and
// the worker's status updates inside its unit of work.
#include "store/sqlite/sqlite_diagnostics.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <vector>

namespace genx::store {

using csms::TransientStoreError;
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      throw TransientStoreError(message);
    default:
      throw std::runtime_error(message);
  }
}

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db, rc, sql.substr(0, 80));
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
  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(stmt_, c);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)));
  }
  std::optional<std::string> optional_text(int c) const {
    if (is_null(c)) return std::nullopt;
    return text(c);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr std::string_view kColumns =
    "id, charge_point_id, kind, status, detail, file_name, file_size, sha256, stored_name, received_at, "
    "token_used, created_at, updated_at";

csms::DiagnosticsFile row(const Statement& q) {
  csms::DiagnosticsFile f;
  f.id = q.integer(0);
  f.charge_point_id = q.text(1);
  f.kind = q.text(2);
  f.status = q.text(3);
  f.detail = q.optional_text(4);
  f.file_name = q.optional_text(5);
  if (!q.is_null(6)) f.file_size = q.integer(6);
  f.sha256 = q.optional_text(7);
  f.stored_name = q.optional_text(8);
  f.received_at = q.optional_text(9);
  f.token_used = q.integer(10) != 0;
  f.created_at = q.text(11);
  f.updated_at = q.text(12);
  return f;
}

std::optional<csms::DiagnosticsFile> find_by(sqlite3* db, std::string_view where, std::int64_t id) {
  Statement q(db, "SELECT " + std::string(kColumns) + " FROM diagnostics_files WHERE " + std::string(where));
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return row(q);
}

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    const std::string text = error != nullptr ? error : "error";
    sqlite3_free(error);
    fail(db, rc, text);
  }
}

class SqliteDiagnosticsStore final : public api::DiagnosticsStore {
 public:
  explicit SqliteDiagnosticsStore(const std::string& path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw std::runtime_error("sqlite: cannot open " + path + ": " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~SqliteDiagnosticsStore() override { sqlite3_close(db_); }

  csms::DiagnosticsFile create_diagnostics(std::string_view charge_point_id, std::string_view kind,
                                           std::string_view token_digest, std::string_view now) override {
    exec(db_, "BEGIN IMMEDIATE");
    try {
      Statement q(db_,
                  "INSERT INTO diagnostics_files (id, charge_point_id, kind, token_digest, status, created_at, "
                  "updated_at) SELECT COALESCE(MAX(id), 0) + 1, ?1, ?2, ?3, 'Requested', ?4, ?4 "
                  "FROM diagnostics_files RETURNING id");
      q.bind(1, charge_point_id).bind(2, kind).bind(3, token_digest).bind(4, now);
      if (!q.step()) throw std::runtime_error("sqlite: diagnostics request not inserted");
      const auto id = q.integer(0);
      while (q.step()) {
      }
      auto stored = find_by(db_, "id = ?1", id);
      exec(db_, "COMMIT");
      return *stored;
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::optional<csms::DiagnosticsFile> find_diagnostics(std::int64_t id) override {
    return find_by(db_, "id = ?1", id);
  }

  std::optional<csms::DiagnosticsFile> find_diagnostics_by_token(std::string_view token_digest) override {
    Statement q(db_, "SELECT " + std::string(kColumns) + " FROM diagnostics_files WHERE token_digest = ?1");
    q.bind(1, token_digest);
    if (!q.step()) return std::nullopt;
    return row(q);
  }

  std::vector<csms::DiagnosticsFile> list_diagnostics(const std::optional<std::string>& charger,
                                                      int limit) override {
    Statement q(db_, "SELECT " + std::string(kColumns) +
                         " FROM diagnostics_files WHERE (?1 IS NULL OR charge_point_id = ?1) ORDER BY id DESC "
                         "LIMIT ?2");
    q.bind(1, charger).bind(2, static_cast<std::int64_t>(limit));
    std::vector<csms::DiagnosticsFile> out;
    while (q.step()) out.push_back(row(q));
    return out;
  }

  std::optional<csms::DiagnosticsFile> set_diagnostics_status(std::int64_t id, std::string_view status,
                                                              const std::optional<std::string>& detail,
                                                              const std::optional<std::string>& file_name,
                                                              std::string_view now) override {
    Statement q(db_,
                "UPDATE diagnostics_files SET status = ?2, detail = ?3, file_name = COALESCE(?4, file_name), "
                "updated_at = ?5 WHERE id = ?1");
    q.bind(1, id).bind(2, status).bind(3, detail).bind(4, file_name).bind(5, now);
    q.step();
    return find_diagnostics(id);
  }

  bool claim_upload(std::int64_t id, std::string_view now) override {
    Statement q(db_, "UPDATE diagnostics_files SET token_used = 1, updated_at = ?2 WHERE id = ?1 AND token_used = 0");
    q.bind(1, id).bind(2, now);
    q.step();
    return sqlite3_changes(db_) == 1;
  }

  std::optional<csms::DiagnosticsFile> record_upload(std::int64_t id, const api::DiagnosticsUpload& u,
                                                     std::string_view now) override {
    Statement q(db_,
                "UPDATE diagnostics_files SET file_name = CASE WHEN ?2 = '' THEN file_name ELSE ?2 END, "
                "file_size = ?3, sha256 = ?4, stored_name = ?5, received_at = ?6, status = 'Uploaded', "
                "detail = NULL, updated_at = ?6 WHERE id = ?1");
    q.bind(1, id).bind(2, std::string_view(u.file_name)).bind(3, u.size).bind(4, std::string_view(u.sha256));
    q.bind(5, std::string_view(u.stored_name)).bind(6, now);
    q.step();
    return find_diagnostics(id);
  }

  std::vector<csms::DiagnosticsFile> diagnostics_created_before(std::string_view before, int limit) override {
    Statement q(db_, "SELECT " + std::string(kColumns) +
                         " FROM diagnostics_files WHERE created_at < ?1 ORDER BY created_at, id LIMIT ?2");
    q.bind(1, before).bind(2, static_cast<std::int64_t>(limit));
    std::vector<csms::DiagnosticsFile> out;
    while (q.step()) out.push_back(row(q));
    return out;
  }

  void delete_diagnostics(std::int64_t id) override {
    Statement q(db_, "DELETE FROM diagnostics_files WHERE id = ?1");
    q.bind(1, id);
    q.step();
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

std::optional<csms::DiagnosticsStatusChange> sqlite_record_diagnostics_status(
    sqlite3* db, std::string_view charge_point_id, bool log, std::optional<std::int64_t> request_id,
    std::string_view status, std::string_view at) {
  std::optional<csms::DiagnosticsFile> current;
  {
    Statement q(db, "SELECT " + std::string(kColumns) +
                        " FROM diagnostics_files WHERE charge_point_id = ?1 AND "
                        "(CASE WHEN ?2 = 1 THEN kind IN ('DiagnosticsLog', 'SecurityLog') ELSE kind = 'Diagnostics' END) "
                        "AND (?3 IS NULL OR id = ?3) ORDER BY id DESC LIMIT 1");
    q.bind(1, charge_point_id).bind(2, static_cast<std::int64_t>(log ? 1 : 0));
    if (request_id) {
      q.bind(3, *request_id);
    }
    if (q.step()) current = row(q);
  }
  if (!current || current->status == status) return std::nullopt;
  const std::string previous = current->status;
  {
    Statement q(db, "UPDATE diagnostics_files SET status = ?2, updated_at = ?3 WHERE id = ?1");
    q.bind(1, current->id).bind(2, status).bind(3, at);
    q.step();
  }
  current->status = std::string(status);
  current->updated_at = std::string(at);
  return csms::DiagnosticsStatusChange{std::move(*current), previous};
}

std::unique_ptr<api::DiagnosticsStore> open_sqlite_diagnostics_store(const std::string& path) {
  return std::make_unique<SqliteDiagnosticsStore>(path);
}

}  // namespace genx::store
