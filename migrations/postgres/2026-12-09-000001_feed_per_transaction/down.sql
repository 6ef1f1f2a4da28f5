-- Back to one feed row numbered per stored event, and the webhooks trigger per feed row.
DROP TRIGGER messages_feed ON messages;
DROP TRIGGER chats_feed ON chats;
DROP TRIGGER ratings_feed ON ratings;
DROP TRIGGER offline_messages_feed ON offline_messages;
DROP TRIGGER feed_number ON feed_marks;
DROP FUNCTION messages_feed();
DROP FUNCTION chats_feed();
DROP FUNCTION ratings_feed();
DROP FUNCTION offline_messages_feed();
DROP FUNCTION feed_mark();
DROP FUNCTION feed_number();
DROP TABLE feed_marks;
DROP TABLE feed_pending;

CREATE FUNCTION messages_feed() RETURNS trigger AS $$
BEGIN
    WITH taken AS (UPDATE counters SET value = value + 1 WHERE name = 'feed' RETURNING value)
    INSERT INTO feed_events (pos, kind, chat_id, seq, created_at)
        SELECT value, NEW.kind, NEW.chat_id, NEW.seq, NEW.created_at FROM taken;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER messages_feed AFTER INSERT ON messages
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION messages_feed();

CREATE FUNCTION chats_feed() RETURNS trigger AS $$
BEGIN
    WITH taken AS (UPDATE counters SET value = value + 1 WHERE name = 'feed' RETURNING value)
    INSERT INTO feed_events (pos, kind, chat_id, created_at)
        SELECT value, 'chat.started', NEW.id, NEW.created_at FROM taken;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER chats_feed AFTER INSERT ON chats
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION chats_feed();

CREATE FUNCTION ratings_feed() RETURNS trigger AS $$
BEGIN
    WITH taken AS (UPDATE counters SET value = value + 1 WHERE name = 'feed' RETURNING value)
    INSERT INTO feed_events (pos, kind, chat_id, created_at)
        SELECT value, 'rating', NEW.chat_id, NEW.created_at FROM taken;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER ratings_feed AFTER INSERT ON ratings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ratings_feed();

CREATE FUNCTION offline_messages_feed() RETURNS trigger AS $$
BEGIN
    WITH taken AS (UPDATE counters SET value = value + 1 WHERE name = 'feed' RETURNING value)
    INSERT INTO feed_events (pos, kind, ref_id, created_at)
        SELECT value, 'offline_message', NEW.id, NEW.created_at FROM taken;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER offline_messages_feed AFTER INSERT ON offline_messages
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION offline_messages_feed();

CREATE FUNCTION feed_webhooks() RETURNS trigger AS $$
BEGIN
    INSERT INTO outbox (id, channel, target, event_pos, payload, state, attempts, next_at,
                        locked_until, created_at)
        SELECT endpoint_id || ':' || NEW.pos, 'webhook', endpoint_id, NEW.pos, '{}', 'pending', 0,
               NEW.created_at, 0, NEW.created_at
        FROM webhook_subscriptions WHERE kind = NEW.kind
        ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER feed_webhooks AFTER INSERT ON feed_events
    FOR EACH ROW EXECUTE FUNCTION feed_webhooks();
