-- Diagnostics and logs with GenX as the upload location (docs/diagnostics.md): one row per
-- GetDiagnostics / GetLog request made through the api, its one-time upload URL (only the
-- SHA-256 of the token is kept), the charger's status reports and the received file.
CREATE TABLE diagnostics_files (
  id              INTEGER PRIMARY KEY,            -- also the GetLog requestId
  charge_point_id TEXT NOT NULL,
  kind            TEXT NOT NULL,                  -- Diagnostics, DiagnosticsLog, SecurityLog
  token_digest    TEXT NOT NULL UNIQUE,           -- SHA-256 (hex) of the upload URL's token
  status          TEXT NOT NULL,                  -- Requested, Accepted, Rejected, Failed, Uploading, Uploaded, UploadFailed, ...
  detail          TEXT,                           -- why it failed
  file_name       TEXT,                           -- as the charger named it
  file_size       INTEGER,
  sha256          TEXT,
  stored_name     TEXT,                           -- the file under GENX_DIAGNOSTICS_DIR
  received_at     TEXT,
  token_used      INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL,                  -- canonical ISO 8601 UTC (sorts as text)
  updated_at      TEXT NOT NULL
);
CREATE INDEX diagnostics_files_by_charger ON diagnostics_files (charge_point_id, id);
CREATE INDEX diagnostics_files_by_created ON diagnostics_files (created_at);
