DELETE FROM counters WHERE name = 'queue_lock';
ALTER TABLE agents DROP COLUMN last_assigned_at;
DROP INDEX chats_queue;
ALTER TABLE chats DROP COLUMN queue_position;
ALTER TABLE chats DROP COLUMN queue_ticket;
