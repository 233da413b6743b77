-- Data retention (README "Data retention"): per pruned fact table, the cutoff of the
-- latest pass that removed rows; genx analytics rebuild refuses to start before it.
CREATE TABLE retention_horizon (
  table_name    TEXT PRIMARY KEY,
  pruned_before TEXT NOT NULL
);
