-- OCPP security profile and password hash per charge point (README "Security"). Keyed
-- by the charge point id, so a charger can be provisioned before it ever connects.
CREATE TABLE charger_security (
  charge_point_id  TEXT PRIMARY KEY,
  security_profile INTEGER NOT NULL DEFAULT 0 CHECK (security_profile BETWEEN 0 AND 3),
  password_hash    TEXT,                        -- pbkdf2-sha256$iterations$salt$hash; never the password
  updated_at       TEXT NOT NULL
);
