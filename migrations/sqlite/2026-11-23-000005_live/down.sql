DROP TABLE announcements;
ALTER TABLE chats DROP COLUMN agent_read_seq;
ALTER TABLE chats DROP COLUMN visitor_read_seq;
