#pragma once
// SQLite side of security::CertificateStore (store/open_certificate_store.hpp).
#include <memory>
#include <string>

#include "security/certificate_store.hpp"

namespace genx::store {

// path: the database file (the schema is migrated by the ocpp-worker or genx db migrate).
std::unique_ptr<security::CertificateStore> open_sqlite_certificate_store(const std::string& path);

}  // namespace genx::store
