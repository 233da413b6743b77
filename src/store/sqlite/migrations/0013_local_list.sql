-- Local authorization list (docs/local-list.md): id tags marked for the list, and per
-- charger what GenX sent, what the charger reported and the entries it holds.
ALTER TABLE id_tags ADD COLUMN local_list INTEGER NOT NULL DEFAULT 0;  -- 1: in the local list

CREATE TABLE local_list_state (
  charger_id       INTEGER PRIMARY KEY REFERENCES chargers(id) ON DELETE CASCADE,
  sent_version     INTEGER,         -- listVersion of GenX's last accepted SendLocalList
  reported_version INTEGER,         -- the charger's last GetLocalListVersion answer
  status           TEXT NOT NULL,   -- Unknown, InSync, OutOfDate, Failed
  last_answer      TEXT,            -- e.g. Accepted, VersionMismatch, NotSupported, offline
  reported_at      TEXT,
  pushed_at        TEXT,
  asked_at         TEXT,            -- GenX last sent GetLocalListVersion on its own
  updated_at       TEXT NOT NULL
);

CREATE TABLE local_list_entries (   -- what GenX believes each charger holds
  charger_id    INTEGER NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  id_tag        TEXT NOT NULL,
  status        TEXT NOT NULL,
  expiry_date   TEXT,
  parent_id_tag TEXT,
  PRIMARY KEY (charger_id, id_tag)
);
