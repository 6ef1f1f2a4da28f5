-- The event feed: every event an integration hears of, numbered 1, 2, 3 … in commit order.
-- Triggers write it in the very transaction that stores the event, so nothing stored is missing
-- from it and nothing rolled back is in it. A row points at what it records rather than copying
-- it: a chat event at its message row (chat_id, seq), a chat start and a rating at their chat,
-- an offline message at its id. SQLite lets one transaction write at a time, so the next
-- position is the largest one + 1 (one look at the primary key's end): positions follow commits.
CREATE TABLE feed_events (
    pos        BIGINT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    chat_id    TEXT,
    seq        BIGINT,
    ref_id     TEXT,
    created_at BIGINT NOT NULL
);

CREATE TRIGGER messages_feed AFTER INSERT ON messages
BEGIN
    INSERT INTO feed_events (pos, kind, chat_id, seq, created_at)
        VALUES ((SELECT coalesce(max(pos), 0) + 1 FROM feed_events), NEW.kind, NEW.chat_id, NEW.seq, NEW.created_at);
END;

CREATE TRIGGER chats_feed AFTER INSERT ON chats
BEGIN
    INSERT INTO feed_events (pos, kind, chat_id, created_at)
        VALUES ((SELECT coalesce(max(pos), 0) + 1 FROM feed_events), 'chat.started', NEW.id, NEW.created_at);
END;

CREATE TRIGGER ratings_feed AFTER INSERT ON ratings
BEGIN
    INSERT INTO feed_events (pos, kind, chat_id, created_at)
        VALUES ((SELECT coalesce(max(pos), 0) + 1 FROM feed_events), 'rating', NEW.chat_id, NEW.created_at);
END;

CREATE TRIGGER offline_messages_feed AFTER INSERT ON offline_messages
BEGIN
    INSERT INTO feed_events (pos, kind, ref_id, created_at)
        VALUES ((SELECT coalesce(max(pos), 0) + 1 FROM feed_events), 'offline_message', NEW.id, NEW.created_at);
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
