#include "store/postgres/postgres_roles.hpp"

#include <pqxx/pqxx>

#include <stdexcept>

#include "store/postgres/postgres_store.hpp"

namespace genx::store {

std::vector<std::string> grant_postgres_role(const std::string& url, const std::string& password_file,
                                             const std::string& kind, const std::string& role) {
  if (kind != "read" && kind != "api" && kind != "worker") {
    throw std::invalid_argument("unknown kind \"" + kind + "\": expected read, api or worker");
  }
  pqxx::connection conn(postgres_conninfo(url, password_file));
  pqxx::work tx(conn);
  if (tx.exec_params("SELECT 1 FROM pg_roles WHERE rolname = $1", role).empty()) {
    throw std::invalid_argument("role \"" + role + "\" does not exist; create it first, e.g. CREATE ROLE " +
                                tx.quote_name(role) + " LOGIN PASSWORD '...'");
  }
  if (tx.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) {
    throw std::invalid_argument("the database has no GenX schema yet: run genx db migrate first");
  }
  const std::string r = tx.quote_name(role);
  const std::string db = tx.quote_name(tx.exec("SELECT current_database()")[0][0].as<std::string>());
  const std::string schema = tx.quote_name(tx.exec("SELECT current_schema()")[0][0].as<std::string>());
  std::vector<std::string> statements = {
      "GRANT CONNECT ON DATABASE " + db + " TO " + r,
      "GRANT USAGE ON SCHEMA " + schema + " TO " + r,
  };
  if (kind == "worker") {
    statements.push_back("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + r);
    statements.push_back("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + r);
    statements.push_back("ALTER DEFAULT PRIVILEGES IN SCHEMA " + schema +
                         " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + r);
    statements.push_back("ALTER DEFAULT PRIVILEGES IN SCHEMA " + schema +
                         " GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO " + r);
  } else {
    statements.push_back("GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + r);
    statements.push_back("ALTER DEFAULT PRIVILEGES IN SCHEMA " + schema + " GRANT SELECT ON TABLES TO " + r);
  }
  if (kind == "api") {
    statements.push_back("GRANT INSERT ON chargers TO " + r);
    statements.push_back("GRANT INSERT, UPDATE ON charger_configuration, connector_availability, "
                         "charger_security, reservations TO " + r);
    // Diagnostics uploads (docs/diagnostics.md): the api creates, updates and prunes them.
    statements.push_back("GRANT INSERT, UPDATE, DELETE ON diagnostics_files TO " + r);
    // The local authorization list (docs/local-list.md): tags marked, what each charger holds.
    statements.push_back("GRANT INSERT, UPDATE, DELETE ON id_tags, local_list_state, local_list_entries TO " + r);
  }
  for (const auto& s : statements) tx.exec(s);
  tx.commit();
  return statements;
}

}  // namespace genx::store
