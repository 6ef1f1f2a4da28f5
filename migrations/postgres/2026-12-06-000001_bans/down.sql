DROP INDEX bans_in_force;
DROP TABLE bans;
ALTER TABLE visitors DROP COLUMN last_ip;
