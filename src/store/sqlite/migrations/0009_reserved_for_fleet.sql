-- Placeholder for version 9, which belongs to the fleet branch (issue #13): versions must
-- run 1..N without gaps (cmake/embed_migrations.cmake) and reservations are version 10.
-- When the fleet branch merges, its 0009 replaces this file (a database that applied
-- this empty version 9 gets none of fleet's tables: re-create dev databases).
SELECT 1;
