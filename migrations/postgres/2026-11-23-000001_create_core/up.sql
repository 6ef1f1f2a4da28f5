-- Portable types only: TEXT ids (UUIDs), BIGINT epoch milliseconds, INTEGER flags.
CREATE TABLE agents (
    id            TEXT PRIMARY KEY NOT NULL,
    employee_id   TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'agent',
    status        TEXT NOT NULL DEFAULT 'online',
    max_chats     INTEGER NOT NULL,
    active_chats  INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE visitors (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE chats (
    id               TEXT PRIMARY KEY NOT NULL,
    visitor_id       TEXT NOT NULL REFERENCES visitors(id),
    agent_id         TEXT REFERENCES agents(id),
    status           TEXT NOT NULL,
    last_seq         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    closed_at        BIGINT,
    close_reason     TEXT
);
-- One chat at a time per visitor; the index makes concurrent starts safe.
CREATE UNIQUE INDEX chats_one_live_per_visitor ON chats(visitor_id) WHERE status <> 'closed';
CREATE INDEX chats_visitor ON chats(visitor_id);
CREATE INDEX chats_agent_status ON chats(agent_id, status);

CREATE TABLE messages (
    chat_id       TEXT NOT NULL REFERENCES chats(id),
    seq           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    client_msg_id TEXT,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (chat_id, seq)
);
-- Idempotent sends: one message per client-made id in a chat.
CREATE UNIQUE INDEX messages_client_msg_id ON messages(chat_id, client_msg_id);

CREATE TABLE tokens (
    token_hash     TEXT PRIMARY KEY NOT NULL,
    principal_kind TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX tokens_principal ON tokens(principal_id);

-- Global counters that must stay atomic across nodes (open chats against chat.max_active_chats).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('open_chats', 0);
