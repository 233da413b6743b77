-- PostgreSQL twin of store/sqlite/migrations/0003_charger_configuration.sql: the same tables,
-- columns and keys (ids from identity sequences, BIGINT for integers, DOUBLE PRECISION
-- for reals, coalesce for ifnull).
-- What commands taught the CSMS (README "Remote commands").
CREATE TABLE charger_configuration (
  charger_id      BIGINT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  key             TEXT NOT NULL,
  value           TEXT,
  readonly        BIGINT NOT NULL DEFAULT 0,
  known           BIGINT NOT NULL DEFAULT 1,  -- 0: the charger reported the key unknown
  reboot_required BIGINT NOT NULL DEFAULT 0,  -- set by ChangeConfiguration RebootRequired
  source          TEXT NOT NULL,               -- GetConfiguration or ChangeConfiguration
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (charger_id, key)
);

CREATE TABLE connector_availability (
  charger_id   BIGINT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  connector_id BIGINT NOT NULL,               -- 0: the whole charge point
  availability TEXT NOT NULL,                  -- Operative or Inoperative
  scheduled    BIGINT NOT NULL DEFAULT 0,     -- 1: after the running transaction
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (charger_id, connector_id)
);
