#pragma once
// The api's diagnostics port (docs/diagnostics.md): GetDiagnostics / GetLog requests with
// GenX as the upload location, their one-time upload tokens (stored as SHA-256 digests
// only) and the received files' metadata. The bytes live in files under
// GENX_DIAGNOSTICS_DIR, never in the database. Implemented by each backend in store/
// (sqlite_diagnostics.cpp, postgres_diagnostics.cpp) on a connection of its own.
// Errors: TransientStoreError when the database is busy or away. Threading: one object
// per thread (the api's I/O thread). Timestamps: canonical ISO 8601 UTC text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "csms/diagnostics.hpp"
#include "csms/store_error.hpp"

namespace genx::api {

struct DiagnosticsUpload {
  std::string file_name;  // as the charger named it (may be empty)
  std::int64_t size = 0;
  std::string sha256;
  std::string stored_name;
};

class DiagnosticsStore {
 public:
  virtual ~DiagnosticsStore() = default;
  // A new request (status Requested) with an id above every stored one.
  virtual csms::DiagnosticsFile create_diagnostics(std::string_view charge_point_id, std::string_view kind,
                                                   std::string_view token_digest, std::string_view now) = 0;
  virtual std::optional<csms::DiagnosticsFile> find_diagnostics(std::int64_t id) = 0;
  virtual std::optional<csms::DiagnosticsFile> find_diagnostics_by_token(std::string_view token_digest) = 0;
  // Newest first; charger empty: every charger.
  virtual std::vector<csms::DiagnosticsFile> list_diagnostics(const std::optional<std::string>& charger,
                                                              int limit) = 0;
  // Sets status and detail (and file_name when given); the request as stored after.
  virtual std::optional<csms::DiagnosticsFile> set_diagnostics_status(std::int64_t id, std::string_view status,
                                                                      const std::optional<std::string>& detail,
                                                                      const std::optional<std::string>& file_name,
                                                                      std::string_view now) = 0;
  // Marks the upload token used; false when it was used before (one upload per token,
  // also across api processes).
  virtual bool claim_upload(std::int64_t id, std::string_view now) = 0;
  // The file landed: its metadata, received_at and status Uploaded.
  virtual std::optional<csms::DiagnosticsFile> record_upload(std::int64_t id, const DiagnosticsUpload& upload,
                                                             std::string_view now) = 0;
  // Retention: requests created before `before` (oldest first, at most limit), and their removal.
  virtual std::vector<csms::DiagnosticsFile> diagnostics_created_before(std::string_view before, int limit) = 0;
  virtual void delete_diagnostics(std::int64_t id) = 0;
};

}  // namespace genx::api
