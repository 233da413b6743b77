-- PostgreSQL twin of store/sqlite/migrations/0006_processed_message_events.sql: the same tables,
-- columns and keys (ids from identity sequences, BIGINT for integers, DOUBLE PRECISION
-- for reals, coalesce for ifnull).
-- The domain events of a processed message, committed with its reply, so a redelivery
-- after a crash between the commit and the publishes republishes them (README
-- "Reliability"). JSON {"timestamp":...,"events":[...]}; NULL: no events (or stored
-- before this version).
ALTER TABLE processed_messages ADD COLUMN events TEXT;
