#pragma once
// PostgreSQL side of diagnostics uploads (api/diagnostics_store.hpp, and the unit of
// work's record_diagnostics_status).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include "api/diagnostics_store.hpp"
#include "csms/write_store.hpp"

namespace genx::store {

// Inside the caller's open transaction.
std::optional<csms::DiagnosticsStatusChange> postgres_record_diagnostics_status(
    pqxx::transaction_base& tx, std::string_view charge_point_id, bool log, std::optional<std::int64_t> request_id,
    std::string_view status, std::string_view at);

// Its own connection (conninfo: postgres_conninfo()), reopened after it broke.
std::unique_ptr<api::DiagnosticsStore> open_postgres_diagnostics_store(const std::string& conninfo);

}  // namespace genx::store
