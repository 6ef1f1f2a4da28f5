-- Read markers: how far each side has read, so a reloaded page shows them.
ALTER TABLE chats ADD COLUMN visitor_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN agent_read_seq BIGINT NOT NULL DEFAULT 0;

-- Admin announcements, kept for the record; delivery is to whoever is online when sent.
CREATE TABLE announcements (
    id         TEXT PRIMARY KEY NOT NULL,
    author_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
