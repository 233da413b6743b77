-- PLACEHOLDER on branch ocpp201 only: keeps the migration numbers contiguous until the
-- migration of this number from its own branch lands on main. Drop this file at the merge.
SELECT 1;
