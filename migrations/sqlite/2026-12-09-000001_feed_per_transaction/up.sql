-- PostgreSQL's feed is now numbered once per transaction (see the PostgreSQL migration of this
-- name). SQLite's one writer already numbers each feed row in its trigger with no counter
-- row to update; nothing changes here.
SELECT 1;
