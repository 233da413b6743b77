-- OCPP 1.6 security extension (docs/security.md "Charger certificates and security events"):
-- security events per charger (SecurityEventNotification, and GenX's own such as a refused
-- CSR), the certificates GenX's CA signed for chargers (SignCertificate -> CertificateSigned),
-- and the certificates a charger reported installed (GetInstalledCertificateIds, and the
-- InstallCertificate / DeleteCertificate answers).
CREATE TABLE security_events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  charge_point_id TEXT NOT NULL,
  type            TEXT NOT NULL,               -- the whitepaper's type, or GenX's (source csms)
  timestamp       TEXT NOT NULL,               -- when it happened (canonical ISO 8601 UTC)
  tech_info       TEXT,
  source          TEXT NOT NULL,               -- charger | csms
  message_id      TEXT NOT NULL,               -- the OCPP uniqueId it arrived with (idempotency)
  received_at     TEXT NOT NULL,
  UNIQUE (charge_point_id, message_id, source)
);
CREATE INDEX security_events_by_time ON security_events (timestamp);
CREATE INDEX security_events_by_charger ON security_events (charge_point_id, timestamp);

CREATE TABLE issued_certificates (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  charge_point_id   TEXT NOT NULL,
  request_id        TEXT NOT NULL,             -- uniqueId of the charger's SignCertificate
  serial_number     TEXT NOT NULL,             -- hex
  subject           TEXT NOT NULL,
  not_before        TEXT NOT NULL,
  not_after         TEXT NOT NULL,
  certificate_chain TEXT NOT NULL,             -- PEM: the charger's certificate, then the CA's
  status            TEXT NOT NULL,             -- Signed (being sent), Accepted, Rejected, offline, timeout, CallError ...
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  UNIQUE (charge_point_id, request_id)
);
CREATE INDEX issued_certificates_by_charger ON issued_certificates (charge_point_id, id);

CREATE TABLE installed_certificates (
  charge_point_id  TEXT NOT NULL,
  certificate_type TEXT NOT NULL,              -- CentralSystemRootCertificate | ManufacturerRootCertificate
  hash_algorithm   TEXT NOT NULL,
  issuer_name_hash TEXT NOT NULL,
  issuer_key_hash  TEXT NOT NULL,
  serial_number    TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  PRIMARY KEY (charge_point_id, certificate_type, issuer_name_hash, serial_number)
);
