DROP INDEX offline_messages_created;
DROP TABLE offline_messages;
DROP INDEX ratings_agent;
DROP TABLE ratings;
