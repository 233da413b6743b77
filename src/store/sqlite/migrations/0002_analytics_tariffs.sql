-- Billing: the session's energy (meter resets handled) and cost, set when it stops.
ALTER TABLE transactions ADD COLUMN energy_wh INTEGER;
ALTER TABLE transactions ADD COLUMN cost_minor INTEGER;
ALTER TABLE transactions ADD COLUMN currency TEXT;

-- Every status report, for charging / idle / fault time.
CREATE TABLE connector_status_history (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  charger_id   INTEGER NOT NULL REFERENCES chargers(id),
  connector_id INTEGER NOT NULL,
  status       TEXT NOT NULL,
  error_code   TEXT NOT NULL,
  at           TEXT NOT NULL
);
CREATE INDEX connector_status_history_at
  ON connector_status_history (charger_id, connector_id, at);

-- Per-charger tariff overrides (genx tariff set); prices in micro-units of the currency.
CREATE TABLE tariffs (
  charge_point_id       TEXT PRIMARY KEY,
  energy_per_kwh_micro  INTEGER NOT NULL,
  time_per_minute_micro INTEGER NOT NULL,
  session_fee_micro     INTEGER NOT NULL,
  updated_at            TEXT NOT NULL
);

-- Aggregates (src/analytics): per connector (0 = the charge point) per UTC hour and per
-- local day of the operator's time zone. Times in ms, money in minor units.
CREATE TABLE analytics_hourly (
  charger_id         INTEGER NOT NULL REFERENCES chargers(id),
  connector_id       INTEGER NOT NULL,
  bucket_start       TEXT NOT NULL,
  sessions_started   INTEGER NOT NULL,
  sessions_completed INTEGER NOT NULL,
  energy_wh          INTEGER NOT NULL,
  session_ms         INTEGER NOT NULL,
  charging_ms        INTEGER NOT NULL,
  occupied_ms        INTEGER NOT NULL,
  faulted_ms         INTEGER NOT NULL,
  faults             INTEGER NOT NULL,
  revenue_minor      INTEGER NOT NULL,
  peak_power_w       REAL NOT NULL,
  PRIMARY KEY (charger_id, connector_id, bucket_start)
);
CREATE INDEX analytics_hourly_bucket ON analytics_hourly (bucket_start);

CREATE TABLE analytics_daily (
  charger_id         INTEGER NOT NULL REFERENCES chargers(id),
  connector_id       INTEGER NOT NULL,
  day                TEXT NOT NULL,
  day_start          TEXT NOT NULL,
  day_end            TEXT NOT NULL,
  sessions_started   INTEGER NOT NULL,
  sessions_completed INTEGER NOT NULL,
  energy_wh          INTEGER NOT NULL,
  session_ms         INTEGER NOT NULL,
  charging_ms        INTEGER NOT NULL,
  occupied_ms        INTEGER NOT NULL,
  faulted_ms         INTEGER NOT NULL,
  faults             INTEGER NOT NULL,
  revenue_minor      INTEGER NOT NULL,
  peak_power_w       REAL NOT NULL,
  PRIMARY KEY (charger_id, connector_id, day)
);
CREATE INDEX analytics_daily_day ON analytics_daily (day);

CREATE TABLE analytics_processed_events (
  event_id     TEXT PRIMARY KEY,
  processed_at TEXT NOT NULL
);
