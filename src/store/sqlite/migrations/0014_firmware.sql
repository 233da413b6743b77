-- Firmware management (README "Firmware management", docs/firmware.md): what each charger
-- reported and was asked, its history, and firmware campaigns with their targets.

-- One row per charger that was asked for an update or reported a firmware status.
CREATE TABLE firmware_state (
  charge_point_id   TEXT PRIMARY KEY,
  status            TEXT,     -- the charger's latest FirmwareStatus (by receive time)
  status_at         TEXT,
  request_action    TEXT,     -- UpdateFirmware or SignedUpdateFirmware (the latest request)
  request_id        INTEGER,  -- SignedUpdateFirmware requestId
  location          TEXT,
  retrieve_date     TEXT,
  request_answer    TEXT,     -- what the charger answered the request
  requested_at      TEXT,
  campaign_id       INTEGER,
  version_before    TEXT,     -- firmwareVersion when the request went out
  installed_version TEXT,     -- firmwareVersion at the first boot after Installing/Installed
  installed_at      TEXT,
  updated_at        TEXT NOT NULL
);

-- Every status reported, request sent and version reported after an install.
CREATE TABLE firmware_history (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  charge_point_id TEXT NOT NULL,
  kind            TEXT NOT NULL,   -- status, request, boot
  action          TEXT NOT NULL,   -- the OCPP action
  status          TEXT NOT NULL,   -- the status, the answer, or the firmwareVersion
  request_id      INTEGER,
  campaign_id     INTEGER,
  at              TEXT NOT NULL
);
CREATE INDEX firmware_history_charger ON firmware_history (charge_point_id, id);

CREATE TABLE firmware_campaigns (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  name                TEXT NOT NULL,
  location            TEXT NOT NULL,
  retrieve_date       TEXT,           -- null: the moment each charger is sent the request
  retries             INTEGER,
  retry_interval      INTEGER,
  signed              INTEGER NOT NULL DEFAULT 0,  -- 1: SignedUpdateFirmware
  signing_certificate TEXT,
  signature           TEXT,
  install_date        TEXT,
  max_concurrent      INTEGER NOT NULL,
  timeout_s           INTEGER NOT NULL,
  model               TEXT,           -- the targets were every charger of this model
  status              TEXT NOT NULL,  -- Running, Completed, Cancelled
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);

-- One charger of a campaign; its id is the requestId of a SignedUpdateFirmware.
CREATE TABLE firmware_campaign_targets (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id      INTEGER NOT NULL REFERENCES firmware_campaigns(id) ON DELETE CASCADE,
  charge_point_id  TEXT NOT NULL,
  status           TEXT NOT NULL,   -- Pending, Sent, Downloading, ..., Installed, or the failure
  charger_status   TEXT,            -- the charger's own last status word
  detail           TEXT,            -- why it failed
  attempts         INTEGER NOT NULL DEFAULT 0,
  sent_at          TEXT,
  sent_at_ms       INTEGER,
  status_at        TEXT,
  firmware_version TEXT,            -- reported at the boot after the install
  updated_at       TEXT NOT NULL,
  UNIQUE (campaign_id, charge_point_id)
);
CREATE INDEX firmware_campaign_targets_charger ON firmware_campaign_targets (charge_point_id);
