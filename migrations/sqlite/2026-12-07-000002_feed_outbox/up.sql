-- The event feed: every event an integration hears of, numbered 1, 2, 3 … in commit order.
-- Triggers write it in the very transaction that stores the event, so nothing stored is missing
-- from it and nothing rolled back is in it. A row points at what it records rather than copying
-- it: a chat event at its message row (chat_id, seq), a chat start and a rating at their chat,
-- an offline message at its id. `pos` comes from the `feed` counter, whose row each writer locks
-- until it commits: on PostgreSQL with several nodes, the next position goes to the next commit.
CREATE TABLE feed_events (
    pos        BIGINT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    chat_id    TEXT,
    seq        BIGINT,
    ref_id     TEXT,
    created_at BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('feed', 0);

CREATE TRIGGER messages_feed AFTER INSERT ON messages
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'feed';
    INSERT INTO feed_events (pos, kind, chat_id, seq, created_at)
        SELECT value, NEW.kind, NEW.chat_id, NEW.seq, NEW.created_at FROM counters WHERE name = 'feed';
END;

CREATE TRIGGER chats_feed AFTER INSERT ON chats
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'feed';
    INSERT INTO feed_events (pos, kind, chat_id, created_at)
        SELECT value, 'chat.started', NEW.id, NEW.created_at FROM counters WHERE name = 'feed';
END;

CREATE TRIGGER ratings_feed AFTER INSERT ON ratings
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'feed';
    INSERT INTO feed_events (pos, kind, chat_id, created_at)
        SELECT value, 'rating', NEW.chat_id, NEW.created_at FROM counters WHERE name = 'feed';
END;

CREATE TRIGGER offline_messages_feed AFTER INSERT ON offline_messages
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'feed';
    INSERT INTO feed_events (pos, kind, ref_id, created_at)
        SELECT value, 'offline_message', NEW.id, NEW.created_at FROM counters WHERE name = 'feed';
END;

-- The outbox: deliveries owed to the world (an email, a webhook call), each written in the same
-- transaction as what causes it and worked through by the outbox sender, at least once, with
-- retries and backoff. `id` is the delivery's idempotency key (an email's Message-ID is made
-- from it; a webhook call carries it). A sender claims a row by setting `locked_until`; a claim
-- that outlives its sender (kill -9) expires and the row is tried again.
CREATE TABLE outbox (
    id           TEXT PRIMARY KEY NOT NULL,
    channel      TEXT NOT NULL,
    target       TEXT NOT NULL,
    event_pos    BIGINT,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_status  INTEGER,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    done_at      BIGINT
);
CREATE INDEX outbox_due ON outbox(next_at) WHERE state = 'pending';
CREATE INDEX outbox_target ON outbox(channel, target, created_at);
