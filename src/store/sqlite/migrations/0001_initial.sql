CREATE TABLE chargers (
  id                       INTEGER PRIMARY KEY AUTOINCREMENT,
  charge_point_id          TEXT NOT NULL UNIQUE,
  vendor                   TEXT,
  model                    TEXT,
  serial_number            TEXT,
  charge_box_serial_number TEXT,
  firmware_version         TEXT,
  iccid                    TEXT,
  imsi                     TEXT,
  meter_type               TEXT,
  meter_serial_number      TEXT,
  registration_status      TEXT,             -- of the last BootNotification; NULL before one
  pre_registered           INTEGER NOT NULL DEFAULT 0,
  last_boot_at             TEXT,
  last_seen_at             TEXT,
  diagnostics_status       TEXT,
  firmware_status          TEXT,
  created_at               TEXT NOT NULL
);

CREATE TABLE connectors (
  charger_id        INTEGER NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  connector_id      INTEGER NOT NULL,         -- 0: the charge point itself
  status            TEXT NOT NULL,
  error_code        TEXT NOT NULL,
  info              TEXT,
  vendor_error_code TEXT,
  updated_at        TEXT NOT NULL,
  PRIMARY KEY (charger_id, connector_id)
);

CREATE TABLE id_tags (
  id_tag        TEXT PRIMARY KEY,
  status        TEXT NOT NULL
                CHECK (status IN ('Accepted','Blocked','Expired','Invalid','ConcurrentTx')),
  expiry_date   TEXT,
  parent_id_tag TEXT,
  updated_at    TEXT NOT NULL
);

CREATE TABLE transactions (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,   -- the OCPP transactionId
  charger_id     INTEGER NOT NULL REFERENCES chargers(id),
  connector_id   INTEGER NOT NULL,
  id_tag         TEXT NOT NULL,
  id_tag_status  TEXT NOT NULL,
  meter_start    INTEGER NOT NULL,                    -- Wh
  started_at     TEXT NOT NULL,
  reservation_id INTEGER,
  meter_stop     INTEGER,
  stopped_at     TEXT,                                -- NULL while active
  stop_reason    TEXT,
  stop_id_tag    TEXT
);
CREATE INDEX transactions_active ON transactions (charger_id, connector_id)
  WHERE stopped_at IS NULL;

CREATE TABLE meter_values (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  charger_id     INTEGER NOT NULL REFERENCES chargers(id),
  transaction_id INTEGER REFERENCES transactions(id),
  connector_id   INTEGER NOT NULL,
  timestamp      TEXT NOT NULL,
  value          TEXT NOT NULL,                       -- as sent
  context        TEXT,
  format         TEXT,
  measurand      TEXT,
  phase          TEXT,
  location       TEXT,
  unit           TEXT
);
CREATE INDEX meter_values_transaction ON meter_values (transaction_id, timestamp);
CREATE INDEX meter_values_charger ON meter_values (charger_id, timestamp);

CREATE TABLE charger_data (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('in','out')),
  action    TEXT NOT NULL,
  unique_id TEXT NOT NULL,
  payload   TEXT NOT NULL,
  timestamp TEXT NOT NULL
);
CREATE INDEX charger_data_device ON charger_data (device_id, id);

CREATE TABLE processed_messages (
  device_id    TEXT NOT NULL,
  unique_id    TEXT NOT NULL,
  action       TEXT NOT NULL,
  reply        TEXT NOT NULL,
  processed_at TEXT NOT NULL,
  PRIMARY KEY (device_id, unique_id, action)
);
