-- PostgreSQL twin of store/sqlite/migrations/0007_retention_horizon.sql: the same tables,
-- columns and keys (ids from identity sequences, BIGINT for integers, DOUBLE PRECISION
-- for reals, coalesce for ifnull).
-- Data retention (README "Data retention"): per pruned fact table, the cutoff of the
-- latest pass that removed rows; genx analytics rebuild refuses to start before it.
CREATE TABLE retention_horizon (
  table_name    TEXT PRIMARY KEY,
  pruned_before TEXT NOT NULL
);
