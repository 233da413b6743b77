#include "store/copy.hpp"

#include <sqlite3.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "store/open_store.hpp"
#include "store/postgres/postgres_store.hpp"

namespace genx::store {
namespace {

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

// Every table of the schema, parents before children (foreign keys). schema_migrations is
// not copied: the target is migrated to the same version first.
const std::vector<std::string> kTables = {
    "chargers",          "connectors",       "id_tags",
    "transactions",      "meter_values",     "charger_data",
    "processed_messages", "connector_status_history", "tariffs",
    "analytics_hourly",  "analytics_daily",  "analytics_processed_events",
    "charger_configuration", "connector_availability", "charger_security",
    "api_tokens",        "retention_horizon", "transaction_events", "device_model",
    "reservations",      "sites",            "site_chargers",
    "site_session_limits", "site_leases",    "charging_profiles",
    "tag_priorities",    "site_departures",  "diagnostics_files",
    "local_list_state",  "local_list_entries", "security_events",
    "issued_certificates", "installed_certificates",
    "firmware_state",    "firmware_history", "firmware_campaigns", "firmware_campaign_targets"};

// Tables whose arrival order is the SQLite rowid and a PostgreSQL identity column "id"
// (retention prunes them in that order).
const std::set<std::string> kRowidTables = {"processed_messages", "analytics_processed_events"};

std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string column_list(const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + quoted(c);
  return out;
}

// One side of the copy. A source reads in one snapshot (begin_read .. end_read); a target
// writes in one transaction (begin_write .. commit).
class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual std::vector<std::string> tables() = 0;  // schema_migrations and internals excluded
  virtual std::vector<std::string> columns(const std::string& table) = 0;
  virtual std::int64_t count(const std::string& table) = 0;
  // The id the next insert would get (0: the table has no id): above the largest id and
  // at least the sequence's next value.
  virtual std::int64_t next_id(const std::string& table) = 0;
  virtual void begin_read() = 0;
  virtual void end_read() = 0;
  virtual void read(const std::string& table, const std::vector<std::string>& columns,
                    const std::function<void(const Row&)>& sink) = 0;
  virtual void begin_write() = 0;
  virtual void clear(const std::vector<std::string>& tables) = 0;
  virtual void insert(const std::string& table, const std::vector<std::string>& columns,
                      const std::vector<Row>& rows) = 0;
  // Moves the table's id sequence so that the next id is at least at_least; returns it.
  virtual std::int64_t set_next_id(const std::string& table, std::int64_t at_least) = 0;
  virtual void commit() = 0;
};

// ---- SQLite ----

class SqliteEndpoint final : public Endpoint {
 public:
  explicit SqliteEndpoint(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw CopyError("cannot open SQLite database " + path + ": " + message);
    }
    sqlite3_busy_timeout(db_, 10000);
  }
  ~SqliteEndpoint() override {
    if (open_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }

  std::vector<std::string> tables() override {
    std::vector<std::string> out;
    query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
          "AND name <> 'schema_migrations' ORDER BY name",
          {}, [&](sqlite3_stmt* s) { out.emplace_back(text(s, 0)); });
    return out;
  }

  // A table without an id column of its own (processed_messages,
  // analytics_processed_events) shows its rowid as "id": the arrival order that the
  // PostgreSQL twin keeps in an identity column.
  std::vector<std::string> columns(const std::string& table) override {
    std::vector<std::string> out;
    query("SELECT name FROM pragma_table_info(?1) ORDER BY cid", {table},
          [&](sqlite3_stmt* s) { out.emplace_back(text(s, 0)); });
    if (kRowidTables.count(table) && std::find(out.begin(), out.end(), "id") == out.end()) {
      out.insert(out.begin(), "id");
      rowid_tables_.insert(table);
    }
    return out;
  }

  std::int64_t count(const std::string& table) override {
    return integer("SELECT count(*) FROM " + quoted(table));
  }

  std::int64_t next_id(const std::string& table) override {
    const std::int64_t after_max = integer("SELECT coalesce(max(" + id_column(table) + "), 0) + 1 FROM " + quoted(table));
    std::int64_t sequence = 0;
    if (has_sequence_table()) {
      sequence = integer("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0) + 1", {table});
    }
    return std::max(after_max, sequence);
  }

  void begin_read() override {
    exec("BEGIN");
    open_transaction_ = true;
    // The snapshot starts at the first read: take it now.
    integer("SELECT count(*) FROM sqlite_master");
  }
  void end_read() override {
    exec("COMMIT");
    open_transaction_ = false;
  }

  void read(const std::string& table, const std::vector<std::string>& columns,
            const std::function<void(const Row&)>& sink) override {
    std::string select;
    for (const auto& c : columns) {
      select += (select.empty() ? "" : ", ") + (c == "id" ? id_column(table) : quoted(c));
    }
    Row row(columns.size());
    const bool has_id = std::find(columns.begin(), columns.end(), "id") != columns.end();
    query("SELECT " + select + " FROM " + quoted(table) + (has_id ? " ORDER BY " + id_column(table) : ""), {},
          [&](sqlite3_stmt* s) {
            for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
              switch (sqlite3_column_type(s, i)) {
                case SQLITE_NULL:
                  row[i].reset();
                  break;
                case SQLITE_INTEGER:
                  row[i] = std::to_string(sqlite3_column_int64(s, i));
                  break;
                case SQLITE_FLOAT: {
                  char buffer[40];
                  std::snprintf(buffer, sizeof buffer, "%.17g", sqlite3_column_double(s, i));
                  row[i] = buffer;
                  break;
                }
                default:
                  row[i] = text(s, i);
              }
            }
            sink(row);
          });
  }

  void begin_write() override {
    exec("BEGIN IMMEDIATE");
    open_transaction_ = true;
  }

  void clear(const std::vector<std::string>& tables) override {
    // No foreign keys enforced on this connection: the order does not matter.
    for (const auto& t : tables) exec("DELETE FROM " + quoted(t));
  }

  void insert(const std::string& table, const std::vector<std::string>& columns,
              const std::vector<Row>& rows) override {
    std::string names;
    std::string marks;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      names += (i ? ", " : "") + (columns[i] == "id" ? id_column(table) : quoted(columns[i]));
      marks += (i ? ", ?" : "?");
    }
    sqlite3_stmt* s = prepare("INSERT INTO " + quoted(table) + " (" + names + ") VALUES (" + marks + ")");
    for (const auto& row : rows) {
      sqlite3_reset(s);
      for (std::size_t i = 0; i < row.size(); ++i) {
        const int index = static_cast<int>(i) + 1;
        if (row[i]) {
          // Text into a column of INTEGER or REAL affinity is stored as that number.
          sqlite3_bind_text(s, index, row[i]->data(), static_cast<int>(row[i]->size()), SQLITE_TRANSIENT);
        } else {
          sqlite3_bind_null(s, index);
        }
      }
      if (sqlite3_step(s) != SQLITE_DONE) {
        const std::string message = sqlite3_errmsg(db_);
        sqlite3_finalize(s);
        throw CopyError("inserting into " + table + ": " + message);
      }
    }
    sqlite3_finalize(s);
  }

  std::int64_t set_next_id(const std::string& table, std::int64_t at_least) override {
    const std::int64_t after_max = integer("SELECT coalesce(max(" + id_column(table) + "), 0) + 1 FROM " + quoted(table));
    const std::int64_t next = std::max(after_max, at_least);
    // Only an AUTOINCREMENT table keeps a high-water mark (sqlite_sequence); any other
    // takes max(rowid) + 1.
    const bool autoincrement =
        integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1 "
                "AND upper(sql) LIKE '%AUTOINCREMENT%'",
                {table}) > 0;
    if (!autoincrement) return after_max;
    exec_params("DELETE FROM sqlite_sequence WHERE name = ?1", {table});
    exec_params("INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)", {table, std::to_string(next - 1)});
    return next;
  }

  void commit() override {
    exec("COMMIT");
    open_transaction_ = false;
  }

 private:
  std::string id_column(const std::string& table) const { return rowid_tables_.count(table) ? "rowid" : "\"id\""; }

  bool has_sequence_table() {
    return integer("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'") > 0;
  }

  static std::string text(sqlite3_stmt* s, int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
  }

  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      throw CopyError("SQLite: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
    }
    return s;
  }

  void query(const std::string& sql, const std::vector<std::string>& params,
             const std::function<void(sqlite3_stmt*)>& each) {
    sqlite3_stmt* s = prepare(sql);
    for (std::size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(s, static_cast<int>(i) + 1, params[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) each(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) throw CopyError("SQLite: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  }

  std::int64_t integer(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::int64_t value = 0;
    query(sql, params, [&](sqlite3_stmt* s) { value = sqlite3_column_int64(s, 0); });
    return value;
  }

  void exec_params(const std::string& sql, const std::vector<std::string>& params) {
    query(sql, params, [](sqlite3_stmt*) {});
  }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw CopyError("SQLite: " + message + " in: " + sql);
    }
  }

  sqlite3* db_ = nullptr;
  bool open_transaction_ = false;
  std::set<std::string> rowid_tables_;
};

// ---- PostgreSQL ----

class PostgresEndpoint final : public Endpoint {
 public:
  explicit PostgresEndpoint(const std::string& conninfo) : conn_(conninfo) {}

  std::vector<std::string> tables() override {
    std::vector<std::string> out;
    auto tx = any();
    for (const auto& r : tx->exec("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                  "current_schema() AND table_type = 'BASE TABLE' AND table_name <> "
                                  "'schema_migrations' ORDER BY table_name")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }

  std::vector<std::string> columns(const std::string& table) override {
    std::vector<std::string> out;
    auto tx = any();
    for (const auto& r : tx->exec_params("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                         "current_schema() AND table_name = $1 ORDER BY ordinal_position",
                                         table)) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }

  std::int64_t count(const std::string& table) override {
    auto tx = any();
    return tx->exec("SELECT count(*) FROM " + quoted(table))[0][0].as<std::int64_t>();
  }

  std::int64_t next_id(const std::string& table) override {
    auto tx = any();
    const auto sequence = sequence_of(*tx, table);
    if (!sequence) return 0;
    std::int64_t next = tx->exec("SELECT coalesce(max(id), 0) + 1 FROM " + quoted(table))[0][0].as<std::int64_t>();
    const auto r = tx->exec("SELECT last_value, is_called FROM " + *sequence);
    const std::int64_t last = r[0][0].as<std::int64_t>();
    return std::max(next, r[0][1].as<bool>() ? last + 1 : last);
  }

  // A lock held elsewhere (a stack still running, or --from and --to naming one database
  // in two spellings) fails the copy after a minute instead of hanging it.
  void begin_read() override {
    tx_ = std::make_unique<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(conn_);
    tx_->exec("SET LOCAL lock_timeout = '60s'");
  }
  void end_read() override {
    tx_->commit();
    tx_.reset();
  }

  void read(const std::string& table, const std::vector<std::string>& columns,
            const std::function<void(const Row&)>& sink) override {
    const bool has_id = std::find(columns.begin(), columns.end(), "id") != columns.end();
    tx_->exec("DECLARE genx_copy NO SCROLL CURSOR FOR SELECT " + column_list(columns) + " FROM " + quoted(table) +
              (has_id ? " ORDER BY id" : ""));
    Row row(columns.size());
    for (;;) {
      const auto batch = tx_->exec("FETCH 5000 FROM genx_copy");
      if (batch.empty()) break;
      for (const auto& r : batch) {
        for (std::size_t i = 0; i < columns.size(); ++i) {
          if (r[static_cast<int>(i)].is_null()) {
            row[i].reset();
          } else {
            row[i] = r[static_cast<int>(i)].as<std::string>();
          }
        }
        sink(row);
      }
    }
    tx_->exec("CLOSE genx_copy");
  }

  void begin_write() override {
    tx_ = std::make_unique<pqxx::work>(conn_);
    tx_->exec("SET LOCAL lock_timeout = '60s'");
  }

  void clear(const std::vector<std::string>& tables) override {
    if (tables.empty()) return;
    std::string list;
    for (const auto& t : tables) list += (list.empty() ? "" : ", ") + quoted(t);
    tx_->exec("TRUNCATE " + list);
  }

  void insert(const std::string& table, const std::vector<std::string>& columns,
              const std::vector<Row>& rows) override {
    if (rows.empty()) return;
    std::string sql = "INSERT INTO " + quoted(table) + " (" + column_list(columns) + ") VALUES ";
    std::vector<Value> params;
    params.reserve(rows.size() * columns.size());
    int n = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      sql += r ? ", (" : "(";
      for (std::size_t c = 0; c < columns.size(); ++c) {
        sql += (c ? ", $" : "$") + std::to_string(++n);
        params.push_back(rows[r][c]);
      }
      sql += ")";
    }
    tx_->exec_params(sql, pqxx::prepare::make_dynamic_params(params));
  }

  std::int64_t set_next_id(const std::string& table, std::int64_t at_least) override {
    const auto sequence = sequence_of(*tx_, table);
    if (!sequence) return 0;
    const std::int64_t after_max =
        tx_->exec("SELECT coalesce(max(id), 0) + 1 FROM " + quoted(table))[0][0].as<std::int64_t>();
    const std::int64_t next = std::max(after_max, at_least);
    tx_->exec_params("SELECT setval($1::regclass, $2, false)", *sequence, next);
    return next;
  }

  void commit() override {
    tx_->commit();
    tx_.reset();
  }

 private:
  // The transaction in progress, or a short one for a catalog question.
  struct Any {
    explicit Any(PostgresEndpoint& e) : e_(e) {
      if (!e_.tx_) own_ = std::make_unique<pqxx::read_transaction>(e_.conn_);
    }
    ~Any() {
      if (!own_) return;
      try {
        own_->commit();  // read only: nothing to lose when this fails
      } catch (...) {
      }
    }
    pqxx::transaction_base* operator->() { return own_ ? own_.get() : e_.tx_.get(); }
    pqxx::transaction_base& operator*() { return *operator->(); }
    PostgresEndpoint& e_;
    std::unique_ptr<pqxx::transaction_base> own_;
  };
  Any any() { return Any(*this); }

  static std::optional<std::string> sequence_of(pqxx::transaction_base& tx, const std::string& table) {
    const auto r = tx.exec_params("SELECT pg_get_serial_sequence($1, 'id')", quoted(table));
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return r[0][0].as<std::string>();
  }

  pqxx::connection conn_;
  std::unique_ptr<pqxx::transaction_base> tx_;
};

// ---- opening ----

bool is_postgres(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

// A URL genx db copy can use; a SQLite source must exist (open_store would create it).
void check_url(const std::string& url, bool must_exist, const char* side) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (std::string_view(url).starts_with(kSqlite)) {
    const std::string path = url.substr(kSqlite.size());
    if (path.empty() || path == "/") throw CopyError(std::string(side) + " \"" + url + "\" names no database file");
    if (must_exist && !std::filesystem::exists(path)) {
      throw CopyError(std::string(side) + " database file " + path + " does not exist");
    }
    return;
  }
  if (is_postgres(url)) return;
  if (url == "sqlite::memory:") throw CopyError(std::string(side) + ": an in-memory database cannot be copied");
  const auto colon = url.find(':');
  throw CopyError(std::string(side) + " scheme \"" + (colon == std::string::npos ? "(none)" : url.substr(0, colon)) +
                  "\" is not supported; use sqlite://PATH or postgresql://...");
}

std::unique_ptr<Endpoint> connect(const std::string& url, const std::string& password_file, const char* side) {
  if (is_postgres(url)) {
    try {
      return std::make_unique<PostgresEndpoint>(postgres_conninfo(url, password_file));
    } catch (const pqxx::broken_connection& e) {
      throw CopyError(std::string(side) + ": cannot connect: " + e.what());
    }
  }
  return std::make_unique<SqliteEndpoint>(url.substr(std::string_view("sqlite://").size()));
}

void check_tables(Endpoint& endpoint, const char* side) {
  const auto tables = endpoint.tables();
  for (const auto& t : tables) {
    if (std::find(kTables.begin(), kTables.end(), t) == kTables.end()) {
      throw CopyError(std::string(side) + " has a table \"" + t +
                      "\" that genx db copy does not know; nothing was copied");
    }
  }
  for (const auto& t : kTables) {
    if (std::find(tables.begin(), tables.end(), t) == tables.end()) {
      throw CopyError(std::string(side) + " has no table \"" + t + "\"; nothing was copied");
    }
  }
}

}  // namespace

std::string redact_database_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const auto authority_start = scheme_end + 3;
  const auto at = url.find('@', authority_start);
  const auto slash = url.find('/', authority_start);
  std::string out = url;
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const auto colon = url.find(':', authority_start);
    if (colon != std::string::npos && colon < at) out = url.substr(0, colon) + ":***" + url.substr(at);
  }
  // A password in the query (…&password=…) is hidden too.
  const auto p = out.find("password=");
  if (p != std::string::npos) {
    const auto end = out.find('&', p);
    out = out.substr(0, p) + "password=***" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

CopyReport copy_database(const std::string& from_url, const std::string& to_url, const CopyOptions& options) {
  if (from_url == to_url) throw CopyError("--from and --to name the same database");
  check_url(from_url, true, "source");
  check_url(to_url, false, "target");

  // The source must already be at this build's version; the target is brought to it.
  CopyReport report;
  try {
    report.schema_version = open_store(from_url, Schema::require_current)->schema_version();
  } catch (const SchemaBehindError& e) {
    throw CopyError("source: " + std::string(e.what()));
  }
  const int target_version = migrate_database(to_url);
  if (target_version != report.schema_version) {
    throw CopyError("source schema version " + std::to_string(report.schema_version) + " and target version " +
                    std::to_string(target_version) + " differ");
  }

  auto source = connect(from_url, options.password_file, "source");
  auto target = connect(to_url, options.password_file, "target");
  check_tables(*source, "the source");
  check_tables(*target, "the target");

  // Columns by name, in the target's order; both sides must have the same set.
  std::map<std::string, std::vector<std::string>> columns;
  for (const auto& t : kTables) {
    auto want = target->columns(t);
    auto have = source->columns(t);
    std::set<std::string> want_set(want.begin(), want.end());
    std::set<std::string> have_set(have.begin(), have.end());
    for (const auto& c : have_set) {
      if (!want_set.count(c)) throw CopyError("column " + t + "." + c + " of the source is missing in the target");
    }
    for (const auto& c : want_set) {
      if (!have_set.count(c)) throw CopyError("column " + t + "." + c + " of the target is missing in the source");
    }
    columns[t] = std::move(want);
  }

  target->begin_write();
  std::vector<std::string> nonempty;
  for (const auto& t : kTables) {
    const std::int64_t n = target->count(t);
    if (n > 0) {
      nonempty.push_back(t + " (" + std::to_string(n) + " rows)");
      report.replaced_rows += n;
    }
  }
  if (!nonempty.empty()) {
    if (!options.replace) {
      std::string list;
      for (const auto& t : nonempty) list += (list.empty() ? "" : ", ") + t;
      throw CopyError("the target database is not empty: " + list +
                      "; nothing was copied (--force replaces its content)");
    }
    target->clear(kTables);
  }

  source->begin_read();
  std::map<std::string, std::int64_t> source_next;
  for (const auto& t : kTables) {
    const auto& cols = columns[t];
    CopiedTable copied;
    copied.name = t;
    copied.source_rows = source->count(t);
    const bool has_id = std::find(cols.begin(), cols.end(), "id") != cols.end();
    const std::int64_t next = has_id ? source->next_id(t) : 0;
    const std::size_t batch_rows = std::max<std::size_t>(1, std::min<std::size_t>(1000, 30000 / cols.size()));
    std::vector<Row> batch;
    batch.reserve(batch_rows);
    std::int64_t read_rows = 0;
    source->read(t, cols, [&](const Row& row) {
      batch.push_back(row);
      if (++read_rows % 100000 == 0 && options.progress) {
        options.progress(t + ": " + std::to_string(read_rows) + " of " + std::to_string(copied.source_rows) + " rows");
      }
      if (batch.size() >= batch_rows) {
        target->insert(t, cols, batch);
        batch.clear();
      }
    });
    target->insert(t, cols, batch);
    copied.target_rows = target->count(t);
    if (read_rows != copied.source_rows || copied.target_rows != copied.source_rows) {
      throw CopyError("table " + t + ": " + std::to_string(copied.source_rows) + " rows in the source, " +
                      std::to_string(read_rows) + " read, " + std::to_string(copied.target_rows) +
                      " in the target; nothing was copied");
    }
    if (has_id) copied.next_id = target->set_next_id(t, next);
    if (options.progress) {
      options.progress(t + ": " + std::to_string(copied.target_rows) + " rows copied");
    }
    report.tables.push_back(copied);
  }
  source->end_read();
  target->commit();
  return report;
}

}  // namespace genx::store
