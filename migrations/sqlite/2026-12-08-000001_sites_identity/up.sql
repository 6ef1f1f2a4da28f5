-- Sites: each website that embeds the widget, registered by an admin. `origins` are the
-- site's origins (space-separated, normalised as `domain::Origin` prints them), which may embed
-- the widget and call the API beside `cors.allowed_origins`. `secret_sealed` is the key the
-- site's own server signs visitor identities with, encrypted with the server's site key
-- (`service::site_secrets`); `secret_prefix` is its first characters, shown so admins can tell
-- secrets apart. The widget's look per site: `greeting`, `color` (#rrggbb), `default_lang`.
-- `require_verified` = 1 refuses visitors without a valid identity. `prechat_form` is the JSON
-- list of the pre-chat form's fields (`[]`: no form).
CREATE TABLE sites (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL,
    origins           TEXT NOT NULL,
    secret_sealed     TEXT NOT NULL,
    secret_prefix     TEXT NOT NULL,
    secret_rotated_at BIGINT NOT NULL,
    greeting          TEXT,
    color             TEXT,
    default_lang      TEXT,
    require_verified  INTEGER NOT NULL DEFAULT 0,
    prechat_form      TEXT NOT NULL DEFAULT '[]',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- A visitor may belong to a site, and be a site's customer whose identity the site's server
-- signed: `customer_id` is the signed user id (`sub`), `verified` = 1 only then. One visitor per
-- customer of a site, so the customer's second device gets the same visitor (and its chats).
-- `identity_at` is the issue time (epoch ms) of the newest identity accepted for it: an older
-- token that says something else is a replay and is refused.
ALTER TABLE visitors ADD COLUMN site_id TEXT;
ALTER TABLE visitors ADD COLUMN customer_id TEXT;
ALTER TABLE visitors ADD COLUMN email TEXT;
ALTER TABLE visitors ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN identity_at BIGINT;
CREATE UNIQUE INDEX visitors_customer ON visitors(site_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX visitors_last_seen ON visitors(last_seen_at);

-- Every page a visitor reported, so agents see the pages of the current visit.
CREATE TABLE page_views (
    id         TEXT PRIMARY KEY NOT NULL,
    visitor_id TEXT NOT NULL,
    url        TEXT NOT NULL,
    title      TEXT,
    at         BIGINT NOT NULL
);
CREATE INDEX page_views_visitor ON page_views(visitor_id, at);

-- The pre-chat form's answers, as the visitor gave them when starting the chat (JSON list of
-- {"field", "label", "value"}); NULL without a form.
ALTER TABLE chats ADD COLUMN prechat TEXT;

-- What admins did with personal data (exports, erasures, retention runs): who, when, what.
CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY NOT NULL,
    at         BIGINT NOT NULL,
    actor_id   TEXT,
    action     TEXT NOT NULL,
    subject    TEXT,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at, id);
