#include "store/postgres/postgres_local_list.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <stdexcept>

namespace genx::store {

namespace {

using csms::LocalListEntry;
using csms::TransientStoreError;

std::optional<std::string> opt_text(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional(f.as<std::string>());
}
std::optional<std::int64_t> opt_integer(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional(f.as<std::int64_t>());
}
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

LocalListEntry entry(const pqxx::row& r) {
  return LocalListEntry{r[0].as<std::string>(), r[1].as<std::string>(), opt_text(r[2]), opt_text(r[3])};
}
api::IdTagRecord record(const pqxx::row& r) {
  return api::IdTagRecord{entry(r), r[4].as<std::int64_t>() != 0, r[5].as<std::string>()};
}
std::string str(std::string_view s) { return std::string(s); }

class PostgresLocalList final : public api::LocalListStore {
 public:
  explicit PostgresLocalList(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  std::vector<api::IdTagRecord> list_id_tags(std::optional<bool> local_list) override {
    std::vector<api::IdTagRecord> out;
    unit([&](pqxx::work& tx) {
      std::optional<std::int64_t> mark;
      if (local_list) mark = *local_list ? 1 : 0;
      for (const auto& r : tx.exec_params("SELECT id_tag, status, expiry_date, parent_id_tag, local_list, updated_at "
                                          "FROM id_tags WHERE $1::BIGINT IS NULL OR local_list = $1 ORDER BY id_tag",
                                          mark)) {
        out.push_back(record(r));
      }
    });
    return out;
  }

  std::optional<api::IdTagRecord> find_id_tag(std::string_view id_tag) override {
    std::optional<api::IdTagRecord> out;
    unit([&](pqxx::work& tx) {
      auto rows = tx.exec_params("SELECT id_tag, status, expiry_date, parent_id_tag, local_list, updated_at "
                                 "FROM id_tags WHERE id_tag = $1",
                                 str(id_tag));
      if (!rows.empty()) out = record(rows[0]);
    });
    return out;
  }

  void put_id_tag(const api::IdTagRecord& tag, std::string_view now) override {
    unit([&](pqxx::work& tx) {
      tx.exec_params("INSERT INTO id_tags (id_tag, status, expiry_date, parent_id_tag, local_list, updated_at) "
                     "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, "
                     "expiry_date = excluded.expiry_date, parent_id_tag = excluded.parent_id_tag, "
                     "local_list = excluded.local_list, updated_at = excluded.updated_at",
                     tag.tag.id_tag, tag.tag.status, tag.tag.expiry_date, tag.tag.parent_id_tag,
                     std::int64_t{tag.local_list ? 1 : 0}, str(now));
    });
  }

  std::vector<LocalListEntry> local_list() override {
    std::vector<LocalListEntry> out;
    unit([&](pqxx::work& tx) {
      for (const auto& r : tx.exec("SELECT id_tag, status, expiry_date, parent_id_tag FROM id_tags "
                                   "WHERE local_list = 1 ORDER BY id_tag")) {
        out.push_back(entry(r));
      }
    });
    return out;
  }

  std::optional<api::LocalListState> local_list_state(std::string_view cp) override {
    std::optional<api::LocalListState> out;
    unit([&](pqxx::work& tx) {
      auto rows = tx.exec_params(
          "SELECT c.id, c.ocpp_version, s.sent_version, s.reported_version, s.status, s.last_answer, "
          "s.reported_at, s.pushed_at, s.updated_at FROM chargers c "
          "LEFT JOIN local_list_state s ON s.charger_id = c.id WHERE c.charge_point_id = $1",
          str(cp));
      if (rows.empty()) return;
      const auto& c = rows[0];
      const auto id = c[0].as<std::int64_t>();
      api::LocalListState s;
      s.charge_point_id = str(cp);
      s.ocpp_version = c[1].as<std::string>();
      s.sent_version = opt_integer(c[2]);
      s.reported_version = opt_integer(c[3]);
      if (!c[4].is_null()) s.status = c[4].as<std::string>();
      s.last_answer = opt_text(c[5]);
      s.reported_at = opt_text(c[6]);
      s.pushed_at = opt_text(c[7]);
      s.updated_at = opt_text(c[8]);
      for (const auto& r : tx.exec_params("SELECT id_tag, status, expiry_date, parent_id_tag FROM local_list_entries "
                                          "WHERE charger_id = $1 ORDER BY id_tag",
                                          id)) {
        s.held.push_back(entry(r));
      }
      for (const auto& r : tx.exec_params("SELECT key, value FROM charger_configuration WHERE charger_id = $1 AND "
                                          "known = 1 AND key IN ('LocalAuthListMaxLength', 'SendLocalListMaxLength')",
                                          id)) {
        const auto v = to_integer(opt_text(r[1]));
        (r[0].as<std::string>() == "LocalAuthListMaxLength" ? s.local_auth_list_max_length
                                                            : s.send_local_list_max_length) = v;
      }
      if (s.ocpp_version == "2.0.1") {
        csms::LocalListLimits limits;
        for (const auto& r : tx.exec_params("SELECT variable, value, characteristics FROM device_model WHERE "
                                            "charger_id = $1 AND component = 'LocalAuthListCtrlr' AND "
                                            "attribute_type = 'Actual' AND variable IN ('Entries', 'ItemsPerMessage')",
                                            id)) {
          csms::add_device_model_limit(limits, r[0].as<std::string>(), opt_text(r[1]), opt_text(r[2]));
        }
        s.local_auth_list_max_length = limits.max_entries;
        s.send_local_list_max_length = limits.max_per_send;
      }
      out = std::move(s);
    });
    return out;
  }

  std::vector<std::string> local_list_chargers(std::string_view online_since) override {
    std::vector<std::string> out;
    unit([&](pqxx::work& tx) {
      for (const auto& r : tx.exec_params("SELECT charge_point_id FROM chargers WHERE ocpp_version IN ('1.6', '2.0.1') AND "
                                          "($1 = '' OR last_seen_at >= $1) ORDER BY charge_point_id",
                                          str(online_since))) {
        out.push_back(r[0].as<std::string>());
      }
    });
    return out;
  }

  void record_reported_version(std::string_view cp, std::int64_t version, std::string_view now) override {
    unit([&](pqxx::work& tx) {
      const auto id = ensure_state(tx, cp, now);
      if (!id) return;
      tx.exec_params("UPDATE local_list_state SET reported_version = $2, reported_at = $3, asked_at = $3, updated_at = $3, "
                     "status = CASE WHEN status = 'InSync' AND sent_version IS DISTINCT FROM $2 THEN 'OutOfDate' "
                     "ELSE status END WHERE charger_id = $1",
                     *id, version, str(now));
    });
  }

  void record_list_sent(std::string_view cp, std::int64_t version, const std::vector<LocalListEntry>& held,
                        std::string_view now) override {
    unit([&](pqxx::work& tx) {
      const auto id = ensure_state(tx, cp, now);
      if (!id) return;
      tx.exec_params("UPDATE local_list_state SET sent_version = $2, reported_version = $2, pushed_at = $3, "
                     "updated_at = $3 WHERE charger_id = $1",
                     *id, version, str(now));
      tx.exec_params("DELETE FROM local_list_entries WHERE charger_id = $1", *id);
      for (const auto& e : held) {
        tx.exec_params("INSERT INTO local_list_entries (charger_id, id_tag, status, expiry_date, parent_id_tag) "
                       "VALUES ($1, $2, $3, $4, $5)",
                       *id, e.id_tag, e.status, e.expiry_date, e.parent_id_tag);
      }
    });
  }

  std::string set_local_list_status(std::string_view cp, std::string_view status, std::string_view last_answer,
                                    std::string_view now) override {
    std::string before = "Unknown";
    unit([&](pqxx::work& tx) {
      const auto id = ensure_state(tx, cp, now);
      if (!id) return;
      auto rows = tx.exec_params("SELECT status FROM local_list_state WHERE charger_id = $1 FOR UPDATE", *id);
      if (!rows.empty()) before = rows[0][0].as<std::string>();
      tx.exec_params("UPDATE local_list_state SET status = $2, last_answer = CASE WHEN $3 = '' THEN last_answer "
                     "ELSE $3 END, updated_at = $4 WHERE charger_id = $1",
                     *id, str(status), str(last_answer), str(now));
    });
    return before;
  }

  std::vector<std::string> mark_local_lists_out_of_date(std::string_view now) override {
    std::vector<std::string> out;
    unit([&](pqxx::work& tx) {
      for (const auto& r : tx.exec_params("UPDATE local_list_state s SET status = 'OutOfDate', updated_at = $1 "
                                          "FROM chargers c WHERE c.id = s.charger_id AND s.status = 'InSync' "
                                          "RETURNING c.charge_point_id",
                                          str(now))) {
        out.push_back(r[0].as<std::string>());
      }
    });
    return out;
  }

  std::vector<std::string> claim_version_checks(std::string_view online_since, std::string_view now,
                                                int limit) override {
    std::vector<std::string> out;
    unit([&](pqxx::work& tx) {
      const auto due = [](const std::string& c, const std::string& s) {
        return c + ".ocpp_version IN ('1.6', '2.0.1') AND " + c + ".last_seen_at >= $1 AND " + c + ".last_boot_at IS NOT NULL AND (" +
               s + ".asked_at IS NULL OR " + s + ".asked_at < " + c + ".last_boot_at)";
      };
      tx.exec_params("INSERT INTO local_list_state (charger_id, status, updated_at) "
                     "SELECT c.id, 'Unknown', $2 FROM chargers c LEFT JOIN local_list_state s "
                     "ON s.charger_id = c.id WHERE s.charger_id IS NULL AND " +
                         due("c", "s") +
                         " AND EXISTS (SELECT 1 FROM id_tags WHERE local_list = 1) "
                         "ORDER BY c.id LIMIT $3 ON CONFLICT (charger_id) DO NOTHING",
                     str(online_since), str(now), std::int64_t{limit});
      // A conditional UPDATE: of two processes claiming at once, the second sees asked_at
      // already set (READ COMMITTED re-checks the row after waiting for its lock).
      for (const auto& r : tx.exec_params("UPDATE local_list_state s SET asked_at = $2 FROM chargers c "
                                          "WHERE c.id = s.charger_id AND " + due("c", "s") +
                                              " AND s.charger_id IN (SELECT s2.charger_id FROM local_list_state s2 "
                                              "JOIN chargers c2 ON c2.id = s2.charger_id WHERE " + due("c2", "s2") +
                                              " ORDER BY s2.charger_id LIMIT $3) RETURNING c.charge_point_id",
                                          str(online_since), str(now), std::int64_t{limit})) {
        out.push_back(r[0].as<std::string>());
      }
    });
    return out;
  }

 private:
  std::optional<std::int64_t> ensure_state(pqxx::work& tx, std::string_view cp, std::string_view now) {
    auto rows = tx.exec_params("SELECT id FROM chargers WHERE charge_point_id = $1", str(cp));
    if (rows.empty()) return std::nullopt;
    const auto id = rows[0][0].as<std::int64_t>();
    tx.exec_params("INSERT INTO local_list_state (charger_id, status, updated_at) VALUES ($1, 'Unknown', $2) "
                   "ON CONFLICT (charger_id) DO NOTHING",
                   id, str(now));
    return id;
  }

  // One READ COMMITTED transaction on this object's connection; libpqxx's errors mapped
  // to the port's promise (TransientStoreError for what a retry may cure).
  void unit(const std::function<void(pqxx::work&)>& work) {
    try {
      if (!conn_ || !conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(conninfo_);
      pqxx::work tx(*conn_);
      work(tx);
      tx.commit();
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();
      throw TransientStoreError(std::string("postgres: connection lost: ") + e.what());
    } catch (const pqxx::in_doubt_error& e) {
      conn_.reset();
      throw TransientStoreError(std::string("postgres: commit outcome unknown: ") + e.what());
    } catch (const pqxx::transaction_rollback& e) {
      throw TransientStoreError(std::string("postgres: ") + e.what());
    } catch (const pqxx::sql_error& e) {
      const std::string& state = e.sqlstate();
      if (state == "23505" || state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0 ||
          state.rfind("53", 0) == 0 || state == "55P03") {
        throw TransientStoreError(std::string("postgres: ") + e.what());
      }
      throw std::runtime_error(std::string("postgres: ") + e.what());
    }
  }

  std::string conninfo_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace

std::unique_ptr<api::LocalListStore> open_postgres_local_list(const std::string& conninfo) {
  return std::make_unique<PostgresLocalList>(conninfo);
}

}  // namespace genx::store
