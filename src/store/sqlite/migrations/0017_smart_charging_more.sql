-- Smart charging, the rest (README "Smart charging and sites"): site limits in watts,
-- priorities per id tag, and the chargers that left a site whose profiles GenX clears.
ALTER TABLE sites ADD COLUMN max_power_w REAL CHECK (max_power_w IS NULL OR max_power_w >= 0);

-- A session charging with this id tag has this priority (over its charger's).
CREATE TABLE tag_priorities (
  id_tag     TEXT PRIMARY KEY,
  priority   INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);

-- A charger that left a site (or whose site was deleted): the allocation clears the
-- profiles it installed there (TxDefaultProfile 9001, TxProfile 9002), then forgets it.
CREATE TABLE site_departures (
  charge_point_id TEXT PRIMARY KEY,
  site_id         TEXT NOT NULL,
  left_at         TEXT NOT NULL
);
