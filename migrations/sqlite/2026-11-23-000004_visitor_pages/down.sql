ALTER TABLE visitors DROP COLUMN last_seen_at;
ALTER TABLE visitors DROP COLUMN user_agent;
ALTER TABLE visitors DROP COLUMN referrer;
ALTER TABLE visitors DROP COLUMN page_title;
ALTER TABLE visitors DROP COLUMN page_url;
