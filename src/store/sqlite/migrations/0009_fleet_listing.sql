-- The fleet listing (README "REST API", GET /api/chargers and /api/chargers/summary) at
-- tens of thousands of chargers: every filter, sort and count is answered from an index.
--
-- chargers.status: the charger's state in one word, derived from its connectors on every
-- StatusNotification (the most urgent one wins: Faulted, Unavailable, Charging,
-- SuspendedEVSE, SuspendedEV, Finishing, Preparing, Reserved, Available, then any other
-- word); NULL before the first report.
ALTER TABLE chargers ADD COLUMN status TEXT;
UPDATE chargers SET status = (
  SELECT c.status FROM connectors c WHERE c.charger_id = chargers.id
  ORDER BY CASE c.status WHEN 'Faulted' THEN 0 WHEN 'Unavailable' THEN 1 WHEN 'Charging' THEN 2
    WHEN 'SuspendedEVSE' THEN 3 WHEN 'SuspendedEV' THEN 4 WHEN 'Finishing' THEN 5
    WHEN 'Preparing' THEN 6 WHEN 'Reserved' THEN 7 WHEN 'Available' THEN 8 ELSE 9 END,
    c.status, c.connector_id
  LIMIT 1);
-- Natural order of charge point ids (CP2 before CP10): the id without its trailing
-- digits, then the number of those digits, then the id. Computed by the database on
-- every write, so rows inserted by any tool sort right.
CREATE INDEX chargers_natural ON chargers (
  rtrim(charge_point_id, '0123456789'),
  length(charge_point_id) - length(rtrim(charge_point_id, '0123456789')),
  charge_point_id);
-- Status filter in natural order (a page of Faulted chargers is a range of this index)
-- and counts by status (the summary's byStatus is an index-only scan).
CREATE INDEX chargers_status ON chargers (
  status,
  rtrim(charge_point_id, '0123456789'),
  length(charge_point_id) - length(rtrim(charge_point_id, '0123456789')),
  charge_point_id);
-- sort=status: most urgent first (the expressions of the api's ORDER BY), then natural.
CREATE INDEX chargers_urgency ON chargers (
  status IS NULL,
  CASE status WHEN 'Faulted' THEN 0 WHEN 'Unavailable' THEN 1 WHEN 'Charging' THEN 2
    WHEN 'SuspendedEVSE' THEN 3 WHEN 'SuspendedEV' THEN 4 WHEN 'Finishing' THEN 5
    WHEN 'Preparing' THEN 6 WHEN 'Reserved' THEN 7 WHEN 'Available' THEN 8 ELSE 9 END,
  status,
  rtrim(charge_point_id, '0123456789'),
  length(charge_point_id) - length(rtrim(charge_point_id, '0123456789')),
  charge_point_id);
-- Online / offline (seen within the online window) and sort=lastSeen.
CREATE INDEX chargers_last_seen ON chargers (last_seen_at);
-- GET /api/transactions?chargerId=…, newest first, and its X-Total-Count.
CREATE INDEX transactions_charger ON transactions (charger_id, id);
-- GET /api/transactions?active=true, newest first.
CREATE INDEX transactions_open ON transactions (id) WHERE stopped_at IS NULL;
