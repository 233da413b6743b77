-- What commands taught the CSMS (README "Remote commands").
CREATE TABLE charger_configuration (
  charger_id      INTEGER NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  key             TEXT NOT NULL,
  value           TEXT,
  readonly        INTEGER NOT NULL DEFAULT 0,
  known           INTEGER NOT NULL DEFAULT 1,  -- 0: the charger reported the key unknown
  reboot_required INTEGER NOT NULL DEFAULT 0,  -- set by ChangeConfiguration RebootRequired
  source          TEXT NOT NULL,               -- GetConfiguration or ChangeConfiguration
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (charger_id, key)
);

CREATE TABLE connector_availability (
  charger_id   INTEGER NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  connector_id INTEGER NOT NULL,               -- 0: the whole charge point
  availability TEXT NOT NULL,                  -- Operative or Inoperative
  scheduled    INTEGER NOT NULL DEFAULT 0,     -- 1: after the running transaction
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (charger_id, connector_id)
);
