-- PostgreSQL twin of store/sqlite/migrations/0004_charger_security.sql: the same tables,
-- columns and keys (ids from identity sequences, BIGINT for integers, DOUBLE PRECISION
-- for reals, coalesce for ifnull).
-- OCPP security profile and password hash per charge point (README "Security"). Keyed
-- by the charge point id, so a charger can be provisioned before it ever connects.
CREATE TABLE charger_security (
  charge_point_id  TEXT PRIMARY KEY,
  security_profile BIGINT NOT NULL DEFAULT 0 CHECK (security_profile BETWEEN 0 AND 3),
  password_hash    TEXT,                        -- pbkdf2-sha256$iterations$salt$hash; never the password
  updated_at       TEXT NOT NULL
);
