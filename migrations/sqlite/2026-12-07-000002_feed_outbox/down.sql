DROP INDEX outbox_target;
DROP INDEX outbox_due;
DROP TABLE outbox;
DROP TRIGGER offline_messages_feed;
DROP TRIGGER ratings_feed;
DROP TRIGGER chats_feed;
DROP TRIGGER messages_feed;
DROP TABLE feed_events;
