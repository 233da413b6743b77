-- PostgreSQL twin of store/sqlite/migrations/0008_resent_transaction_messages.sql: the same tables,
-- columns and keys (ids from identity sequences, BIGINT for integers, DOUBLE PRECISION
-- for reals, coalesce for ifnull).
-- Resent transaction messages (README "Resent calls"): a charger resends a call under a
-- new message id after an error or a timeout, so transaction messages are idempotent by
-- their content. The start's whole idTagInfo is kept to answer a resent start the same.
ALTER TABLE transactions ADD COLUMN id_tag_info TEXT;
CREATE INDEX transactions_start ON transactions (charger_id, connector_id, started_at);
-- A meter sample is stored once per (charger, connector, transaction, timestamp,
-- measurand, phase, location, context). Copies that resent messages stored before this
-- version are removed (the first row of each stays), then the index keeps it so.
DELETE FROM meter_values WHERE id NOT IN (
  SELECT min(id) FROM meter_values
  GROUP BY charger_id, connector_id, coalesce(transaction_id, -1), timestamp,
           coalesce(measurand, ''), coalesce(phase, ''), coalesce(location, ''), coalesce(context, ''));
CREATE UNIQUE INDEX meter_values_sample ON meter_values (
  charger_id, connector_id, coalesce(transaction_id, -1), timestamp,
  coalesce(measurand, ''), coalesce(phase, ''), coalesce(location, ''), coalesce(context, ''));
