-- Webhook endpoints: where admins want the feed's events POSTed, signed with `secret`.
-- `events` is the admin's list of event types as given (comma-separated, for display); the
-- subscriptions below are what the trigger reads: one row per feed kind an endpoint hears, and
-- only while it is enabled (disabling removes them, enabling writes them again), so an event
-- nobody hears costs one index probe.
CREATE TABLE webhook_endpoints (
    id                   TEXT PRIMARY KEY NOT NULL,
    url                  TEXT NOT NULL,
    secret               TEXT NOT NULL,
    events               TEXT NOT NULL,
    enabled              INTEGER NOT NULL DEFAULT 1,
    disabled_reason      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE webhook_subscriptions (
    kind        TEXT NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, endpoint_id)
);

-- One outbox row per enabled endpoint that hears the event, in the transaction that stores the
-- event: the feed's own triggers are deferred to commit, and this one fires as they insert the
-- feed row, still inside the transaction. The id `endpoint:pos` makes the row once whatever
-- happens: the delivery's idempotency key.
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
