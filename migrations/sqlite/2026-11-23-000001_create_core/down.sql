DROP TABLE counters;
DROP TABLE tokens;
DROP TABLE messages;
DROP TABLE chats;
DROP TABLE visitors;
DROP TABLE agents;
