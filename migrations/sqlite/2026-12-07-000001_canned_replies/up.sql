-- Canned replies kept by the server: team-wide ones (owner_id NULL, admins edit them) and each
-- agent's personal ones (owner_id = that agent). A shortcut is unique within its scope: once
-- among the team's, once among each agent's own; a personal one may share a team one's
-- shortcut, and then the personal one wins for its owner. Agents are disabled, not deleted;
-- should an agent row ever go, its personal replies go with it.
CREATE TABLE canned_replies (
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT REFERENCES agents(id) ON DELETE CASCADE,
    shortcut   TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX canned_replies_team_shortcut ON canned_replies(shortcut) WHERE owner_id IS NULL;
CREATE UNIQUE INDEX canned_replies_personal_shortcut ON canned_replies(owner_id, shortcut)
    WHERE owner_id IS NOT NULL;
