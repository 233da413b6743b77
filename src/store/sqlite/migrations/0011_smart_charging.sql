-- Smart charging and site load management (README "Smart charging and sites").
CREATE TABLE sites (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  max_current_a REAL NOT NULL CHECK (max_current_a >= 0),   -- amperes per phase
  phases        INTEGER NOT NULL CHECK (phases IN (1, 3)),
  min_current_a REAL NOT NULL CHECK (min_current_a >= 0),
  updated_at    TEXT NOT NULL
);

-- A charger is in at most one site (the primary key).
CREATE TABLE site_chargers (
  charge_point_id    TEXT PRIMARY KEY,
  site_id            TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  max_current_a      REAL,
  min_current_a      REAL,
  priority           INTEGER NOT NULL DEFAULT 0,
  default_limit_a    REAL,                      -- the TxDefaultProfile limit last sent
  default_status     TEXT NOT NULL DEFAULT 'none',
  joined_at          TEXT NOT NULL
);
CREATE INDEX site_chargers_site ON site_chargers (site_id);

-- The TxProfile limit last sent per running transaction.
CREATE TABLE site_session_limits (
  transaction_id  INTEGER PRIMARY KEY,
  site_id         TEXT NOT NULL,
  charge_point_id TEXT NOT NULL,
  connector_id    INTEGER NOT NULL,
  limit_a         REAL NOT NULL,
  status          TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX site_session_limits_site ON site_session_limits (site_id);

-- One allocation per site at a time across workers.
CREATE TABLE site_leases (
  site_id       TEXT PRIMARY KEY,
  holder        TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL
);

-- Every charging-profile command GenX sent and what the charger answered.
CREATE TABLE charging_profiles (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  charge_point_id     TEXT NOT NULL,
  connector_id        INTEGER NOT NULL,
  action              TEXT NOT NULL,
  source              TEXT NOT NULL,
  charging_profile_id INTEGER,
  purpose             TEXT,
  stack_level         INTEGER,
  transaction_id      INTEGER,
  limit_value         REAL,
  request             TEXT NOT NULL,
  status              TEXT NOT NULL,
  sent_at             TEXT NOT NULL
);
CREATE INDEX charging_profiles_charger ON charging_profiles (charge_point_id, id);
