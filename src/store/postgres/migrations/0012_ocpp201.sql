-- PostgreSQL twin of store/sqlite/migrations/0013_ocpp201.sql (BIGINT for integers and, as in SQLite, for the 0/1 flags, so genx db copy moves them unchanged).
-- OCPP 2.0.1 beside 1.6 (README "OCPP 2.0.1"). One data model for both versions:
-- a charger has a protocol version (from the subprotocol it booted with);
ALTER TABLE chargers ADD COLUMN ocpp_version TEXT NOT NULL DEFAULT '1.6';
-- a 2.0.1 transaction is a row of transactions like a 1.6 one (its id is the api's id)
-- that also keeps the station's own string transactionId, unique per charger;
ALTER TABLE transactions ADD COLUMN ocpp_transaction_id TEXT;
CREATE UNIQUE INDEX transactions_ocpp_id ON transactions (charger_id, ocpp_transaction_id)
  WHERE ocpp_transaction_id IS NOT NULL;
-- every TransactionEvent is recorded once per (charger, transactionId, seqNo): a resend
-- under a new message id changes nothing;
CREATE TABLE transaction_events (
  charger_id          BIGINT NOT NULL REFERENCES chargers(id),
  ocpp_transaction_id TEXT NOT NULL,
  seq_no              BIGINT NOT NULL,
  event_type          TEXT NOT NULL,     -- Started, Updated, Ended
  trigger_reason      TEXT NOT NULL,
  offline             BIGINT NOT NULL DEFAULT 0,
  timestamp           TEXT NOT NULL,     -- the station's
  received_at         TEXT NOT NULL,
  PRIMARY KEY (charger_id, ocpp_transaction_id, seq_no)
);
-- the device model a station reports (NotifyReport): one row per component, variable and
-- attribute type.
CREATE TABLE device_model (
  charger_id         BIGINT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  component          TEXT NOT NULL,
  component_instance TEXT NOT NULL DEFAULT '',
  evse_id            BIGINT NOT NULL DEFAULT -1,   -- -1: not EVSE-specific
  connector_id       BIGINT NOT NULL DEFAULT -1,
  variable           TEXT NOT NULL,
  variable_instance  TEXT NOT NULL DEFAULT '',
  attribute_type     TEXT NOT NULL DEFAULT 'Actual',
  value              TEXT,
  mutability         TEXT,
  persistent         BIGINT,
  constant           BIGINT,
  characteristics    TEXT,                          -- variableCharacteristics as JSON
  updated_at         TEXT NOT NULL,
  PRIMARY KEY (charger_id, component, component_instance, evse_id, connector_id, variable,
               variable_instance, attribute_type)
);
