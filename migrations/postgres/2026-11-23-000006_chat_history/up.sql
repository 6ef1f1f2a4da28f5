-- Past chats are listed most recently closed first (console history, admin transcripts).
CREATE INDEX chats_closed_at ON chats(closed_at);
