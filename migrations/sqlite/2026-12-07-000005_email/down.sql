DROP TABLE switches;
ALTER TABLE visitors DROP COLUMN lang;
ALTER TABLE offline_messages DROP COLUMN answered_at;
ALTER TABLE offline_messages DROP COLUMN answered_by;
ALTER TABLE offline_messages DROP COLUMN answer;
ALTER TABLE offline_messages DROP COLUMN lang;
