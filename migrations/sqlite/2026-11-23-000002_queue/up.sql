-- The waiting queue: chats with status 'queued', served in ticket order. The ticket is taken
-- from the queue_lock counter while holding its row lock, so ticket order is lock order on
-- every node (a timestamp taken before the lock would let a later start sort ahead).
ALTER TABLE chats ADD COLUMN queue_ticket BIGINT;
-- The last position announced to the visitor, so that only changes send chat.queued.
ALTER TABLE chats ADD COLUMN queue_position INTEGER;
CREATE INDEX chats_queue ON chats(status, queue_ticket);
-- Tie-break for auto-assignment: the agent assigned longest ago goes first.
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT NOT NULL DEFAULT 0;
-- Taken first by every transaction that changes the queue or hands out capacity from it.
INSERT INTO counters (name, value) VALUES ('queue_lock', 0);
