//! Switchboard: an online customer-service chat server over plain HTTP long-polling.
//!
//! Anonymous visitors chat with logged-in agents; every byte travels over `GET /poll` (held
//! open until something happens) and `POST /send`. The store is the truth; memory only
//! speeds things up, so nothing acknowledged is ever lost, repeated or reordered.
//!
//! # Layout
//! Dependencies point one way: `http → service → {hub, store, broker} → domain`.
//!
//! - [`domain`]: ids and parsed values (`Cursor`, `MessageBody`, `ClientMsgId`, events, `Score`,
//!   `Email`, `PageLimit`, `Origin`, `AgentStatus`, the settings' address lists `AddressList`,
//!   a canned reply's `Shortcut` and `CannedScope`, a webhook's `WebhookUrl`, `WebhookEvents`
//!   and `WebhookSecret` and which addresses a call may reach (`is_public_address`), an
//!   integration key's `Scopes` and `KeyName`, the event feed's `FeedCursor`, the widget's `Lang`,
//!   a site's pre-chat form `PrechatForm` and a visitor's `PrechatAnswers` to it, the visitor or customer whose data an admin exports or erases `DataSubject`, a site's `CustomerId` (the `sub` of a signed visitor identity) …), the rule every stored text obeys (no NUL: `refuse_nul`, called by each parser of one)
//!   and the rule of where the widget may run (`AllowedOrigins::admits`). Parse, don't
//!   validate; depends on nothing else in the crate.
//! - [`store`]: diesel over SQLite or PostgreSQL (picked by URL scheme), r2d2 pool, embedded
//!   migrations, one file of queries per table, taking and answering the domain's ids and
//!   `AgentStatus` (`store::values` maps them to their text columns, on both backends); reads
//!   on dedicated store threads, every write on the one writer thread that commits waiting
//!   writes together (group commit; one by one when several nodes share PostgreSQL), each in
//!   a savepoint except the hot ones that refuse before they write (a message; the messages
//!   next to each other in a batch are stored by one statement on PostgreSQL,
//!   `store::messages::append_all`); SQLite's WAL
//!   checkpoints on a thread of their own, which asks the writer to start the WAL over once it
//!   is large (`store::checkpoint`); `store::backup` copies a running SQLite store
//!   (`switchboard backup`). `store::integration_keys` keeps integration keys' hashes. `store::page_views` keeps every page a visitor reported. `store::feed` reads the event feed that triggers write in the
//!   transaction of each event, numbered in commit order; `store::outbox` holds the deliveries
//!   owed to the world (emails, webhook calls), written in the transaction of their cause.
//!   `store::webhooks` keeps the webhook endpoints and the subscriptions the `feed_webhooks`
//!   trigger reads to write a call per endpoint in the transaction of each event.
//!   `store::data_rights` reads everything about one visitor (an export), removes it (an
//!   erase, retention's purge) adding what the agents' report counted to `agent_tallies`, and
//!   keeps the audit log.
//! - [`hub`]: this node's live state — a `DashMap` of chats, each with two event rings
//!   (`hub::event_ring`: toward visitor, toward agent), participants with their held polls,
//!   presence leases and mailboxes of notices (typing, read markers, announcements), and the
//!   quiet marks that keep a message sent with a `tab` from waking that tab's poll
//!   (`hub::quiet`); with
//!   several nodes it also takes notices numbered by the broker and forgets memory when the
//!   broker may have missed something. Held reads of the event feed wait on its feed signal
//!   (`Hub::feed_wake`) and count against the held-poll cap (`hub::feed_hold`).
//! - [`broker`]: wake-ups between nodes — `memory` (one node) or Redis pub/sub (every stored
//!   event and notice to every node, batched and retried while Redis is away; every
//!   resubscription reported so memory is re-read from the store) — and the presence leases
//!   in Redis sorted sets, scored by Redis's clock. Moves bytes; knows nothing of chats.
//! - [`service`]: the rules — tokens (and the in-memory token cache that spares polls and
//!   sends a store read; `service::sender_names` spares a send its sender's row), visitors, agents and the admin API, starting chats
//!   (chosen agent, any agent), capacity (`service::capacity`: opening a chat with an agent,
//!   who can take chats, slots taken and given back), the waiting queue and its lock order
//!   (`service::queue`), invitations and transfers, closing, timers (inactivity, visitor gone, agent gone),
//!   sending, polling, typing and read markers, announcements, ratings and the per-agent report,
//!   transcripts, offline messages, first-run setup, the console's read views (waiting
//!   queue, chat details, history), the customer behind a chat (`service::customer`: whether a
//!   visitor is verified, its site, the pages of this visit, its profile with earlier chats), presence (the hub with one node, Redis leases with
//!   several), readiness (`/readyz`), vitals (the gauges of `/metrics`), and the ban list (`service::bans`, checked in memory by
//!   `service::ban_list`, read again from the store every few seconds for other nodes' bans; `service::local_changes` keeps such a reload from undoing a change made here, for it and for the sites' origins),
//!   and canned replies (`service::canned_replies`: the team's, which admins change, and each
//!   agent's own, which nobody else sees), and email (`service::email`: emails written as
//!   `outbox` rows in the transaction of their cause — offline messages, answers, unanswered
//!   chats, transcripts —, rendered per language with every typed string escaped, sent over
//!   SMTP by its courier through `service::outbox`; `store::switches` holds the admins' switch
//!   for email to visitors).
//!   The event feed as integrations see it (`service::feed`), and the outbox sender that
//!   works through deliveries with leases, retries and backoff, one courier per channel
//!   (`service::outbox`); webhooks (`service::webhooks`: endpoints admins register, the
//!   courier that signs and POSTs each event, the check that keeps calls off private
//!   addresses).
//!   Integration keys (`service::integration_keys`: admins make and
//!   revoke them; stored as hashes, checked against the store on every request) and the held
//!   read of the feed by an integration (`service::feed_reader`: woken by the hub's feed
//!   signal, `Hub::feed_wake`, and looking at the store every second for other nodes' events).
//!   Pre-chat forms (`service::prechat`: admins set a site's fields, the widget reads them, and
//!   a visitor's answers are checked against its site's form in the transaction that starts its
//!   chat and stored with it; `store::prechat` reads the form and keeps the answers).
//!   Sites (`service::sites`: the websites that embed the widget, which admins register, change,
//!   give a new secret and delete, and the widget's look per site; `service::site_origins`
//!   keeps every site's origins in memory for CORS, `embed_origin` and the frame's
//!   `frame-ancestors`, read again from the store every few seconds for other nodes' changes).
//!   Data rights (`service::data_rights`: admins export and erase a visitor or a site's
//!   customer — its chats end first, its tokens and its chats leave every node —, the retention
//!   task deletes old closed chats and inactive visitors in batches of short writes, each an
//!   audit line).
//!   Verified visitor identity (`service::identity`: a site's server signs its customer as an
//!   HS256 JWT with the site's secret; checked with `jsonwebtoken` — algorithm, signature,
//!   times, site, claims — and bound to the customer's one visitor row, found or made, a token
//!   per device; an older token saying something else is a replay) and a visitor's own views
//!   (`service::visitor_me`: who it is, its chats on every device).
//!   Stores first, then publishes through `service::relay` to this node's hub and, through the
//!   broker, to the other nodes.
//! - [`http`]: actix-web routes, one module per area; parse, call the service, shape the answer.
//!   `http::error` is the one error envelope (`ApiError`, the HTTP form of every error) and
//!   says which error type goes where; the guard and `transport::first_head`, at the same
//!   edge, answer with it too.
//!   `http::body` reads bodies in their three content types (refusing text that is not UTF-8
//!   and fields given twice, with `http::strict_json` for JSON); `http::body_limit` derives
//!   the smallest body limit from the documented field limits.
//!   `http::pages` serves the front ends in `public/` (widget, console, admin, demo) with their
//!   security headers; `http::own_origin` finds this server's origin as the browser sees it
//!   (`server.public_url`, a trusted proxy's `X-Forwarded-Host`, or `Host`) for CORS and for
//!   where the widget may run.
//! - [`guard`]: the abuse limits — connections and requests per client address, sends per
//!   visitor, visitors per address, login throttling — checked at the HTTP edge.
//! - [`config`]: settings from `config.toml` and `SWITCHBOARD_*` variables.
//! - [`limits`]: connection and held-poll caps derived from the descriptor limit.
//! - [`logging`]: the log formatter (text or JSON) that removes token values from every line,
//!   and the access log middleware.
//! - [`metrics`]: the Prometheus recorder behind `GET /metrics`.
//! - [`pool`]: dedicated threads behind a bounded queue, for blocking work — the store's
//!   reads, and password hashing (a few threads, so argon2's memory stays bounded).
//! - [`startup`]: `Application::build` (binds its own port, 0 allowed) and graceful shutdown.
//! - [`transport`]: accepting connections and speaking HTTP/1 under the `App` — actix-web's
//!   `HttpServer` rebuilt from actix-server and actix-http, so that every connection is read
//!   through `transport::http10`, which gives a body-less HTTP/1.0 `POST` (what nginx sends
//!   upstream) the `Content-Length: 0` that actix-http would otherwise refuse it for, and
//!   `transport::first_head`, which answers a first head that actix-http would refuse with a
//!   bare status (or that arrives too late) with that status and the error envelope.
//! - [`cli`]: the `switchboard` command (`serve`, `migrate`, `agent …`).

pub mod broker;
pub mod cli;
pub mod config;
pub mod domain;
pub mod guard;
pub mod http;
pub mod hub;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod pool;
pub mod service;
pub mod startup;
pub mod store;
pub mod transport;
