#pragma once
// SQLite side of diagnostics uploads (api/diagnostics_store.hpp, and the unit of work's
// record_diagnostics_status).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/diagnostics_store.hpp"
#include "csms/write_store.hpp"

struct sqlite3;

namespace genx::store {

// Inside the caller's open transaction on db.
std::optional<csms::DiagnosticsStatusChange> sqlite_record_diagnostics_status(
    sqlite3* db, std::string_view charge_point_id, bool log, std::optional<std::int64_t> request_id,
    std::string_view status, std::string_view at);

// Its own connection to the database file at path (schema already current).
std::unique_ptr<api::DiagnosticsStore> open_sqlite_diagnostics_store(const std::string& path);

}  // namespace genx::store
