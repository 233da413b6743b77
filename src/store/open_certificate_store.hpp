#pragma once
// Opens the security extension's port (security/certificate_store.hpp) for DATABASE_URL:
// a connection of its own, like every open_* of store/open_store.hpp. Never migrates (the
// ocpp-worker and `genx db migrate` do). Throws std::invalid_argument for a URL of no
// known backend, TransientStoreError when the database cannot be reached.
#include <memory>
#include <string>

#include "security/certificate_store.hpp"

namespace genx::store {

std::unique_ptr<security::CertificateStore> open_certificate_store(const std::string& database_url);

}  // namespace genx::store
