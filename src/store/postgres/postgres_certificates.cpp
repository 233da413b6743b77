// security::CertificateStore on PostgreSQL (migration 0016): one connection of its own
// (reopened after it broke), each call one short READ COMMITTED transaction; every write
// is a single idempotent statement, so a retry after a lost connection changes nothing.
#include "store/postgres/postgres_certificates.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "csms/store_error.hpp"
#include "store/postgres/postgres_store.hpp"

namespace genx::store {
namespace {

using csms::TransientStoreError;

std::string s(std::string_view v) { return std::string(v); }

std::optional<std::string> opt_text(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

constexpr const char* kEventColumns =
    "id, charge_point_id, type, timestamp, tech_info, source, message_id, received_at";
constexpr const char* kIssuedColumns =
    "id, charge_point_id, request_id, serial_number, subject, not_before, not_after, certificate_chain, status, "
    "created_at, updated_at";
constexpr const char* kInstalledColumns =
    "charge_point_id, certificate_type, hash_algorithm, issuer_name_hash, issuer_key_hash, serial_number, updated_at";

security::SecurityEvent read_event(const pqxx::row& r) {
  return {r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
          opt_text(r[4]),          r[5].as<std::string>(), r[6].as<std::string>(), r[7].as<std::string>()};
}

security::IssuedCertificate read_issued(const pqxx::row& r) {
  return {r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
          r[4].as<std::string>(),  r[5].as<std::string>(), r[6].as<std::string>(), r[7].as<std::string>(),
          r[8].as<std::string>(),  r[9].as<std::string>(), r[10].as<std::string>()};
}

security::InstalledCertificate read_installed(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
          r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>()};
}

class PostgresCertificateStore final : public security::CertificateStore {
 public:
  explicit PostgresCertificateStore(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  bool record_security_event(const security::SecurityEvent& e) override {
    bool stored = false;
    run([&](pqxx::work& tx) {
      auto r = tx.exec_params(
          "INSERT INTO security_events (charge_point_id, type, timestamp, tech_info, source, message_id, received_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (charge_point_id, message_id, source) DO NOTHING",
          e.charge_point_id, e.type, e.timestamp, e.tech_info, e.source, e.message_id, e.received_at);
      stored = r.affected_rows() > 0;
    });
    return stored;
  }

  security::SecurityEventPage list_security_events(const security::SecurityEventFilter& f) override {
    security::SecurityEventPage page;
    const std::string where =
        " WHERE ($1::text IS NULL OR charge_point_id = $1) AND ($2::text IS NULL OR type = $2) "
        "AND ($3::text IS NULL OR timestamp >= $3) AND ($4::text IS NULL OR timestamp < $4)";
    run([&](pqxx::work& tx) {
      page.items.clear();
      auto count = tx.exec_params("SELECT count(*) FROM security_events" + where, f.charger, f.type, f.from, f.to);
      page.total = count[0][0].as<std::int64_t>();
      auto r = tx.exec_params(std::string("SELECT ") + kEventColumns + " FROM security_events" + where +
                                  " ORDER BY timestamp DESC, id DESC LIMIT $5 OFFSET $6",
                              f.charger, f.type, f.from, f.to, f.limit, f.offset);
      for (const auto& row : r) page.items.push_back(read_event(row));
    });
    return page;
  }

  std::optional<security::IssuedCertificate> find_issued(std::string_view cp, std::string_view request_id) override {
    std::optional<security::IssuedCertificate> out;
    run([&](pqxx::work& tx) { out = issued_by_request(tx, s(cp), s(request_id)); });
    return out;
  }

  security::IssuedCertificate record_issued(const security::IssuedCertificate& c) override {
    security::IssuedCertificate out;
    run([&](pqxx::work& tx) {
      tx.exec_params(
          "INSERT INTO issued_certificates (charge_point_id, request_id, serial_number, subject, not_before, "
          "not_after, certificate_chain, status, created_at, updated_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (charge_point_id, request_id) DO NOTHING",
          c.charge_point_id, c.request_id, c.serial_number, c.subject, c.not_before, c.not_after,
          c.certificate_chain, c.status, c.created_at);
      out = *issued_by_request(tx, c.charge_point_id, c.request_id);
    });
    return out;
  }

  void set_issued_status(std::int64_t id, std::string_view status, std::string_view now) override {
    run([&](pqxx::work& tx) {
      tx.exec_params("UPDATE issued_certificates SET status = $2, updated_at = $3 WHERE id = $1", id, s(status),
                     s(now));
    });
  }

  std::vector<security::IssuedCertificate> list_issued(std::string_view cp) override {
    std::vector<security::IssuedCertificate> out;
    run([&](pqxx::work& tx) {
      out.clear();
      auto r = tx.exec_params(std::string("SELECT ") + kIssuedColumns +
                                  " FROM issued_certificates WHERE charge_point_id = $1 ORDER BY id DESC LIMIT 100",
                              s(cp));
      for (const auto& row : r) out.push_back(read_issued(row));
    });
    return out;
  }

  void replace_installed(std::string_view cp, std::string_view type,
                         const std::vector<security::InstalledCertificate>& list, std::string_view now) override {
    run([&](pqxx::work& tx) {
      tx.exec_params("DELETE FROM installed_certificates WHERE charge_point_id = $1 AND certificate_type = $2", s(cp),
                     s(type));
      for (auto c : list) {
        c.charge_point_id = s(cp);
        c.certificate_type = s(type);
        c.updated_at = s(now);
        insert_installed(tx, c);
      }
    });
  }

  void add_installed(const security::InstalledCertificate& c) override {
    run([&](pqxx::work& tx) { insert_installed(tx, c); });
  }

  bool remove_installed(std::string_view cp, std::string_view issuer_name_hash,
                        std::string_view serial_number) override {
    bool removed = false;
    run([&](pqxx::work& tx) {
      auto r = tx.exec_params(
          "DELETE FROM installed_certificates WHERE charge_point_id = $1 AND lower(issuer_name_hash) = lower($2) "
          "AND lower(serial_number) = lower($3)",
          s(cp), s(issuer_name_hash), s(serial_number));
      removed = r.affected_rows() > 0;
    });
    return removed;
  }

  std::vector<security::InstalledCertificate> list_installed(std::string_view cp) override {
    std::vector<security::InstalledCertificate> out;
    run([&](pqxx::work& tx) {
      out.clear();
      auto r = tx.exec_params(std::string("SELECT ") + kInstalledColumns +
                                  " FROM installed_certificates WHERE charge_point_id = $1 "
                                  "ORDER BY certificate_type, serial_number",
                              s(cp));
      for (const auto& row : r) out.push_back(read_installed(row));
    });
    return out;
  }

 private:
  std::string conninfo_;
  std::unique_ptr<pqxx::connection> connection_;

  // One transaction; what libpqxx throws mapped to the port's promise.
  void run(const std::function<void(pqxx::work&)>& work) {
    try {
      if (!connection_ || !connection_->is_open()) connection_ = std::make_unique<pqxx::connection>(conninfo_);
      pqxx::work tx(*connection_);
      work(tx);
      tx.commit();
    } catch (const pqxx::broken_connection& e) {
      connection_.reset();
      throw TransientStoreError(std::string("postgres: connection lost: ") + e.what());
    } catch (const pqxx::in_doubt_error& e) {
      connection_.reset();
      throw TransientStoreError(std::string("postgres: commit outcome unknown: ") + e.what());
    } catch (const pqxx::transaction_rollback& e) {
      throw TransientStoreError(std::string("postgres: ") + e.what());
    } catch (const pqxx::sql_error& e) {
      const std::string& state = e.sqlstate();
      if (state == "23505" || state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0) {
        throw TransientStoreError(std::string("postgres: ") + e.what());
      }
      throw std::runtime_error(std::string("postgres: ") + e.what());
    }
  }

  static std::optional<security::IssuedCertificate> issued_by_request(pqxx::work& tx, const std::string& cp,
                                                                      const std::string& request_id) {
    auto r = tx.exec_params(std::string("SELECT ") + kIssuedColumns +
                                " FROM issued_certificates WHERE charge_point_id = $1 AND request_id = $2",
                            cp, request_id);
    if (r.empty()) return std::nullopt;
    return read_issued(r[0]);
  }

  static void insert_installed(pqxx::work& tx, const security::InstalledCertificate& c) {
    tx.exec_params(
        "INSERT INTO installed_certificates (charge_point_id, certificate_type, hash_algorithm, issuer_name_hash, "
        "issuer_key_hash, serial_number, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (charge_point_id, certificate_type, issuer_name_hash, serial_number) DO UPDATE SET "
        "hash_algorithm = excluded.hash_algorithm, issuer_key_hash = excluded.issuer_key_hash, "
        "updated_at = excluded.updated_at",
        c.charge_point_id, c.certificate_type, c.hash_algorithm, c.issuer_name_hash, c.issuer_key_hash,
        c.serial_number, c.updated_at);
  }
};

}  // namespace

std::unique_ptr<security::CertificateStore> open_postgres_certificate_store(const std::string& url,
                                                                            const std::string& password_file) {
  return std::make_unique<PostgresCertificateStore>(postgres_conninfo(url, password_file));
}

}  // namespace genx::store
