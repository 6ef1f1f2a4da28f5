-- Data rights (erase, retention): what an agent's report must keep once the chats and ratings
-- it counted are gone. Erasing a visitor or purging old chats adds what it removes here (closed
-- chats served, ratings and their score sum, per agent), and `GET /api/admin/stats/agents`
-- adds these tallies to what is still stored, so its figures do not change. No personal data:
-- an agent id and three numbers.
CREATE TABLE agent_tallies (
    agent_id     TEXT PRIMARY KEY NOT NULL,
    chats_closed BIGINT NOT NULL DEFAULT 0,
    ratings      BIGINT NOT NULL DEFAULT 0,
    score_sum    BIGINT NOT NULL DEFAULT 0
);

-- What an erase looks up by visitor, and what retention looks through by age.
CREATE INDEX offline_messages_visitor ON offline_messages(visitor_id);
CREATE INDEX bans_visitor ON bans(visitor_id);
CREATE INDEX ratings_visitor ON ratings(visitor_id);
