-- Email (config [email]): an offline message remembers the language the widget showed and
-- keeps the agent's answer, which goes to the visitor by email threaded with the
-- acknowledgement; a visitor remembers the widget's language (for a transcript an agent sends).
ALTER TABLE offline_messages ADD COLUMN lang TEXT;
ALTER TABLE offline_messages ADD COLUMN answer TEXT;
ALTER TABLE offline_messages ADD COLUMN answered_by TEXT;
ALTER TABLE offline_messages ADD COLUMN answered_at BIGINT;
ALTER TABLE visitors ADD COLUMN lang TEXT;

-- Switches admins turn at run time, one row each (`store::switches`); a missing row is the
-- default. `visitor_email` = 'off' stops every email to an address a visitor gave.
CREATE TABLE switches (
    name       TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_by TEXT,
    updated_at BIGINT NOT NULL
);
