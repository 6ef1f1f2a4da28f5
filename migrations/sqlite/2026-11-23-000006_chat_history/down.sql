DROP INDEX chats_closed_at;
