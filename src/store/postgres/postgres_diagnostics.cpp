// Diagnostics uploads on PostgreSQL (api/diagnostics_store.hpp): the api's own
// connection, and the worker's status updates inside its unit of work.
#include "store/postgres/postgres_diagnostics.hpp"

#include <functional>
#include <stdexcept>
#include <vector>

namespace genx::store {

using csms::TransientStoreError;
namespace {

constexpr const char* kColumns =
    "id, charge_point_id, kind, status, detail, file_name, file_size, sha256, stored_name, received_at, "
    "token_used, created_at, updated_at";

std::optional<std::string> optional_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

csms::DiagnosticsFile row(const pqxx::row& r) {
  csms::DiagnosticsFile f;
  f.id = r[0].as<std::int64_t>();
  f.charge_point_id = r[1].as<std::string>();
  f.kind = r[2].as<std::string>();
  f.status = r[3].as<std::string>();
  f.detail = optional_text(r[4]);
  f.file_name = optional_text(r[5]);
  if (!r[6].is_null()) f.file_size = r[6].as<std::int64_t>();
  f.sha256 = optional_text(r[7]);
  f.stored_name = optional_text(r[8]);
  f.received_at = optional_text(r[9]);
  f.token_used = r[10].as<bool>();
  f.created_at = r[11].as<std::string>();
  f.updated_at = r[12].as<std::string>();
  return f;
}

std::vector<csms::DiagnosticsFile> rows(const pqxx::result& result) {
  std::vector<csms::DiagnosticsFile> out;
  for (const auto& r : result) out.push_back(row(r));
  return out;
}

std::optional<csms::DiagnosticsFile> first(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  return row(result[0]);
}

std::string sql(const std::string& tail) { return std::string("SELECT ") + kColumns + " FROM diagnostics_files " + tail; }

class PostgresDiagnosticsStore final : public api::DiagnosticsStore {
 public:
  explicit PostgresDiagnosticsStore(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  csms::DiagnosticsFile create_diagnostics(std::string_view charge_point_id, std::string_view kind,
                                           std::string_view token_digest, std::string_view now) override {
    // Two api processes may pick the same next id: the loser's unique key fails, it retries.
    for (int attempt = 0;; ++attempt) {
      try {
        return run<csms::DiagnosticsFile>([&](pqxx::work& tx) {
          const auto r = tx.exec_params(
              std::string("INSERT INTO diagnostics_files (id, charge_point_id, kind, token_digest, status, "
                          "created_at, updated_at) SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, 'Requested', $4, $4 "
                          "FROM diagnostics_files RETURNING ") + kColumns,
              std::string(charge_point_id), std::string(kind), std::string(token_digest), std::string(now));
          return row(r[0]);
        });
      } catch (const pqxx::unique_violation&) {
        if (attempt >= 5) throw TransientStoreError("postgres: no free diagnostics id after 6 attempts");
      }
    }
  }

  std::optional<csms::DiagnosticsFile> find_diagnostics(std::int64_t id) override {
    return run<std::optional<csms::DiagnosticsFile>>(
        [&](pqxx::work& tx) { return first(tx.exec_params(sql("WHERE id = $1"), id)); });
  }

  std::optional<csms::DiagnosticsFile> find_diagnostics_by_token(std::string_view token_digest) override {
    return run<std::optional<csms::DiagnosticsFile>>([&](pqxx::work& tx) {
      return first(tx.exec_params(sql("WHERE token_digest = $1"), std::string(token_digest)));
    });
  }

  std::vector<csms::DiagnosticsFile> list_diagnostics(const std::optional<std::string>& charger, int limit) override {
    return run<std::vector<csms::DiagnosticsFile>>([&](pqxx::work& tx) {
      return rows(tx.exec_params(sql("WHERE ($1::text IS NULL OR charge_point_id = $1) ORDER BY id DESC LIMIT $2"),
                                 charger, limit));
    });
  }

  std::optional<csms::DiagnosticsFile> set_diagnostics_status(std::int64_t id, std::string_view status,
                                                              const std::optional<std::string>& detail,
                                                              const std::optional<std::string>& file_name,
                                                              std::string_view now) override {
    return run<std::optional<csms::DiagnosticsFile>>([&](pqxx::work& tx) {
      return first(tx.exec_params(
          std::string("UPDATE diagnostics_files SET status = $2, detail = $3, file_name = COALESCE($4, file_name), "
                      "updated_at = $5 WHERE id = $1 RETURNING ") + kColumns,
          id, std::string(status), detail, file_name, std::string(now)));
    });
  }

  bool claim_upload(std::int64_t id, std::string_view now) override {
    return run<bool>([&](pqxx::work& tx) {
      const auto r = tx.exec_params(
          "UPDATE diagnostics_files SET token_used = TRUE, updated_at = $2 WHERE id = $1 AND NOT token_used", id,
          std::string(now));
      return r.affected_rows() == 1;
    });
  }

  std::optional<csms::DiagnosticsFile> record_upload(std::int64_t id, const api::DiagnosticsUpload& u,
                                                     std::string_view now) override {
    return run<std::optional<csms::DiagnosticsFile>>([&](pqxx::work& tx) {
      return first(tx.exec_params(
          std::string("UPDATE diagnostics_files SET file_name = CASE WHEN $2 = '' THEN file_name ELSE $2 END, "
                      "file_size = $3, sha256 = $4, stored_name = $5, received_at = $6, status = 'Uploaded', "
                      "detail = NULL, updated_at = $6 WHERE id = $1 RETURNING ") + kColumns,
          id, u.file_name, u.size, u.sha256, u.stored_name, std::string(now)));
    });
  }

  std::vector<csms::DiagnosticsFile> diagnostics_created_before(std::string_view before, int limit) override {
    return run<std::vector<csms::DiagnosticsFile>>([&](pqxx::work& tx) {
      return rows(tx.exec_params(sql("WHERE created_at < $1 ORDER BY created_at, id LIMIT $2"), std::string(before),
                                 limit));
    });
  }

  void delete_diagnostics(std::int64_t id) override {
    run<bool>([&](pqxx::work& tx) {
      tx.exec_params("DELETE FROM diagnostics_files WHERE id = $1", id);
      return true;
    });
  }

 private:
  // One short transaction on the connection (opened, or reopened after it broke).
  template <typename T>
  T run(const std::function<T(pqxx::work&)>& work) {
    try {
      if (!connection_ || !connection_->is_open()) connection_ = std::make_unique<pqxx::connection>(conninfo_);
      pqxx::work tx(*connection_);
      T result = work(tx);
      tx.commit();
      return result;
    } catch (const pqxx::unique_violation&) {
      throw;
    } catch (const pqxx::broken_connection& e) {
      connection_.reset();
      throw TransientStoreError(std::string("postgres: connection lost: ") + e.what());
    } catch (const pqxx::in_doubt_error& e) {
      connection_.reset();
      throw TransientStoreError(std::string("postgres: commit outcome unknown: ") + e.what());
    } catch (const pqxx::sql_error& e) {
      const std::string& state = e.sqlstate();
      if (state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0 || state.rfind("53", 0) == 0 ||
          state.rfind("40", 0) == 0) {
        throw TransientStoreError(std::string("postgres: ") + e.what());
      }
      throw std::runtime_error(std::string("postgres: ") + e.what());
    }
  }

  std::string conninfo_;
  std::unique_ptr<pqxx::connection> connection_;
};

}  // namespace

std::optional<csms::DiagnosticsStatusChange> postgres_record_diagnostics_status(
    pqxx::transaction_base& tx, std::string_view charge_point_id, bool log, std::optional<std::int64_t> request_id,
    std::string_view status, std::string_view at) {
  auto current = first(tx.exec_params(
      sql("WHERE charge_point_id = $1 AND (CASE WHEN $2 THEN kind IN ('DiagnosticsLog', 'SecurityLog') "
          "ELSE kind = 'Diagnostics' END) AND ($3::bigint IS NULL OR id = $3) ORDER BY id DESC LIMIT 1"),
      std::string(charge_point_id), log, request_id));
  if (!current || current->status == status) return std::nullopt;
  const std::string previous = current->status;
  tx.exec_params("UPDATE diagnostics_files SET status = $2, updated_at = $3 WHERE id = $1", current->id,
                 std::string(status), std::string(at));
  current->status = std::string(status);
  current->updated_at = std::string(at);
  return csms::DiagnosticsStatusChange{std::move(*current), previous};
}

std::unique_ptr<api::DiagnosticsStore> open_postgres_diagnostics_store(const std::string& conninfo) {
  return std::make_unique<PostgresDiagnosticsStore>(conninfo);
}

}  // namespace genx::store
