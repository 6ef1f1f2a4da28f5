-- The address a visitor last came from (set when it is created and on every page report), so
-- that an agent can ban it without ever seeing it.
ALTER TABLE visitors ADD COLUMN last_ip TEXT;

-- One row per ban an agent made: a visitor, an address, or both (a visitor banned together
-- with its address is lifted as one). expires_at NULL = until lifted.
CREATE TABLE bans (
    id         TEXT PRIMARY KEY NOT NULL,
    visitor_id TEXT,
    ip         TEXT,
    reason     TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    lifted_at  BIGINT,
    lifted_by  TEXT,
    CHECK (visitor_id IS NOT NULL OR ip IS NOT NULL)
);
-- Every node reads the bans in force every few seconds.
CREATE INDEX bans_in_force ON bans(lifted_at, expires_at);
