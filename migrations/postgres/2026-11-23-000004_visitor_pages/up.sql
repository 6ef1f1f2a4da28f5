-- The page a visitor is on, reported when the widget loads and on every navigation. Portable
-- types only; created_at is "first seen", last_seen_at the latest report (epoch ms).
ALTER TABLE visitors ADD COLUMN page_url TEXT;
ALTER TABLE visitors ADD COLUMN page_title TEXT;
ALTER TABLE visitors ADD COLUMN referrer TEXT;
ALTER TABLE visitors ADD COLUMN user_agent TEXT;
ALTER TABLE visitors ADD COLUMN last_seen_at BIGINT;
