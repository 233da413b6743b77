-- Reservations (README "Reservations"): ReserveNow / CancelReservation through the api,
-- consumed by a StartTransaction carrying the reservationId, expired by the api.
CREATE TABLE reservations (
  id             INTEGER PRIMARY KEY,            -- the OCPP reservationId
  charger_id     INTEGER NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
  connector_id   INTEGER NOT NULL,               -- 0: any connector
  id_tag         TEXT NOT NULL,
  parent_id_tag  TEXT,
  expiry_date    TEXT NOT NULL,                  -- canonical ISO 8601 UTC (sorts as text)
  status         TEXT NOT NULL,                  -- Requested, Accepted, Occupied, ..., Used, Expired, Cancelled, Failed
  transaction_id INTEGER,                        -- Used: the transaction that consumed it
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE INDEX reservations_by_status ON reservations (status, expiry_date);
CREATE INDEX reservations_by_charger ON reservations (charger_id, connector_id);
