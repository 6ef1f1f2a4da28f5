-- Integration keys: what an outside system (a CRM, a data warehouse) presents to read the event
-- feed (`GET /api/events`). Admins create and revoke them. Like tokens, only the key's SHA-256 is
-- stored (`key_hash`); the key itself is shown once, when it is made. `key_prefix` is its first
-- characters, so admins can tell keys apart. `scopes` is a space-separated list (`events:read`).
-- A revoked key keeps its row (`revoked_at`), so the admin pages can still say who made it.
CREATE TABLE integration_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
