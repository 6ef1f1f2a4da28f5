-- One rating per chat, by its visitor, after it ended. The primary key makes "once" atomic:
-- a second rating of the same chat is a unique violation, whoever races.
CREATE TABLE ratings (
    chat_id TEXT PRIMARY KEY REFERENCES chats(id),
    agent_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    score INTEGER NOT NULL,
    comment TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ratings_agent ON ratings(agent_id);
-- Messages visitors leave when no agent is online, listed newest first.
CREATE TABLE offline_messages (
    id TEXT PRIMARY KEY,
    visitor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX offline_messages_created ON offline_messages(created_at, id);
