#include "store/open_certificate_store.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "store/postgres/postgres_certificates.hpp"
#include "store/sqlite/sqlite_certificates.hpp"

namespace genx::store {

std::unique_ptr<security::CertificateStore> open_certificate_store(const std::string& database_url) {
  constexpr std::string_view kSqlite = "sqlite://";
  const std::string_view url = database_url;
  if (url.starts_with(kSqlite)) return open_sqlite_certificate_store(std::string(url.substr(kSqlite.size())));
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    const char* password_file = std::getenv("DATABASE_PASSWORD_FILE");
    return open_postgres_certificate_store(database_url, password_file != nullptr ? password_file : "");
  }
  throw std::invalid_argument("the certificate store needs a database file or PostgreSQL (DATABASE_URL)");
}

}  // namespace genx::store
