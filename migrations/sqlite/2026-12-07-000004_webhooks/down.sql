DROP TRIGGER IF EXISTS feed_webhooks;
DELETE FROM outbox WHERE channel = 'webhook';
DROP TABLE IF EXISTS webhook_subscriptions;
DROP TABLE IF EXISTS webhook_endpoints;
