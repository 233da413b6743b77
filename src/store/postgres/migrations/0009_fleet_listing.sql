-- PostgreSQL twin of store/sqlite/migrations/0009_fleet_listing.sql: the same column and
-- indexes. Text in the natural-order index compares bytewise (COLLATE "C"), as SQLite does.
ALTER TABLE chargers ADD COLUMN status TEXT;
UPDATE chargers SET status = (
  SELECT c.status FROM connectors c WHERE c.charger_id = chargers.id
  ORDER BY CASE c.status WHEN 'Faulted' THEN 0 WHEN 'Unavailable' THEN 1 WHEN 'Charging' THEN 2
    WHEN 'SuspendedEVSE' THEN 3 WHEN 'SuspendedEV' THEN 4 WHEN 'Finishing' THEN 5
    WHEN 'Preparing' THEN 6 WHEN 'Reserved' THEN 7 WHEN 'Available' THEN 8 ELSE 9 END,
    c.status, c.connector_id
  LIMIT 1);
CREATE INDEX chargers_natural ON chargers (
  (rtrim(charge_point_id, '0123456789') COLLATE "C"),
  (length(charge_point_id) - length(rtrim(charge_point_id, '0123456789'))),
  (charge_point_id COLLATE "C"));
CREATE INDEX chargers_status ON chargers (
  status,
  (rtrim(charge_point_id, '0123456789') COLLATE "C"),
  (length(charge_point_id) - length(rtrim(charge_point_id, '0123456789'))),
  (charge_point_id COLLATE "C"));
CREATE INDEX chargers_urgency ON chargers (
  (status IS NULL),
  (CASE status WHEN 'Faulted' THEN 0 WHEN 'Unavailable' THEN 1 WHEN 'Charging' THEN 2
    WHEN 'SuspendedEVSE' THEN 3 WHEN 'SuspendedEV' THEN 4 WHEN 'Finishing' THEN 5
    WHEN 'Preparing' THEN 6 WHEN 'Reserved' THEN 7 WHEN 'Available' THEN 8 ELSE 9 END),
  status,
  (rtrim(charge_point_id, '0123456789') COLLATE "C"),
  (length(charge_point_id) - length(rtrim(charge_point_id, '0123456789'))),
  (charge_point_id COLLATE "C"));
CREATE INDEX chargers_last_seen ON chargers (last_seen_at);
CREATE INDEX transactions_charger ON transactions (charger_id, id);
CREATE INDEX transactions_open ON transactions (id) WHERE stopped_at IS NULL;
