-- PostgreSQL twin of store/sqlite/migrations/0017_smart_charging_more.sql.
ALTER TABLE sites ADD COLUMN max_power_w DOUBLE PRECISION CHECK (max_power_w IS NULL OR max_power_w >= 0);

CREATE TABLE tag_priorities (
  id_tag     TEXT PRIMARY KEY,
  priority   BIGINT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE site_departures (
  charge_point_id TEXT PRIMARY KEY,
  site_id         TEXT NOT NULL,
  left_at         TEXT NOT NULL
);
