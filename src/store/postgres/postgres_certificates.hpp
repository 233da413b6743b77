#pragma once
// PostgreSQL side of security::CertificateStore (store/open_certificate_store.hpp).
#include <memory>
#include <string>

#include "security/certificate_store.hpp"

namespace genx::store {

std::unique_ptr<security::CertificateStore> open_postgres_certificate_store(const std::string& url,
                                                                            const std::string& password_file);

}  // namespace genx::store
