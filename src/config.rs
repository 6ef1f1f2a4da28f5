//! Settings: read from `config.toml`, then overridden by `SWITCHBOARD_<SECTION>__<KEY>`
//! environment variables (for example `SWITCHBOARD_STORE__URL`). Unknown keys are an error
//! that names the key, so a typo never silently falls back to a default.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::domain::{AddressList, AllowedOrigins, Origin};

/// Everything the server can be told; `config.toml` documents each key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Listener, connection caps and request size.
    pub server: ServerSettings,
    /// Long-poll hold times.
    pub poll: PollSettings,
    /// Chat limits and the size of the in-memory event rings.
    pub chat: ChatSettings,
    /// Database URL and pool.
    pub store: StoreSettings,
    /// Presence leases.
    pub presence: PresenceSettings,
    /// Token lifetime.
    pub auth: AuthSettings,
    /// Cross-origin embedding.
    pub cors: CorsSettings,
    /// Wake-ups between nodes.
    pub broker: BrokerSettings,
    /// Who may read `/metrics`.
    pub metrics: MetricsSettings,
    /// Abuse limits per client address, visitor and employee ID.
    pub limits: LimitSettings,
    /// Log output.
    pub log: LogSettings,
    /// Email over SMTP (off until `server` is set).
    pub email: EmailSettings,
    /// The outbox sender (webhook calls, emails).
    pub outbox: OutboxSettings,
    /// Webhook calls.
    pub webhooks: WebhookSettings,
    /// `[sites]`
    pub sites: SiteSettings,
    /// `[retention]`: how long closed chats and inactive visitors are kept.
    pub retention: RetentionSettings,
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub host: String,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// actix worker threads; 0 means one per core.
    pub workers: usize,
    /// Cap on open client connections, all workers together. Clamped below the descriptor limit.
    pub max_connections: usize,
    /// Cap on `GET /poll` (and `GET /api/events`) requests held at once. Clamped below
    /// `max_connections`.
    pub max_held_polls: usize,
    /// Largest request body accepted, in bytes; 0 is the smallest that admits every body the
    /// field limits allow, in every content type (`http::body_limit`). A value below that is
    /// refused at startup.
    pub max_body_bytes: usize,
    /// Seconds a graceful shutdown waits for in-flight requests after answering held polls.
    pub shutdown_timeout_secs: u64,
    /// Seconds a client may take to send its request head before it is cut off.
    pub client_request_timeout_secs: u64,
    /// Folder of the front ends served at `/` (relative to the config file); empty serves none.
    pub public_dir: String,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` is believed when
    /// finding a request's client address; empty believes nobody's.
    pub trusted_proxies: AddressList,
    /// The URL browsers reach this server by (`https://chat.example.com`): its own origin for
    /// CORS and for where the widget may run. Empty: from `X-Forwarded-Host` of a trusted proxy,
    /// else from the `Host` header.
    pub public_url: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 0,
            max_connections: 19_900,
            max_held_polls: 19_400,
            max_body_bytes: 0,
            shutdown_timeout_secs: 2,
            client_request_timeout_secs: 10,
            public_dir: "public".into(),
            trusted_proxies: AddressList::default(),
            public_url: String::new(),
        }
    }
}

impl ServerSettings {
    /// `public_url` as an origin (one trailing `/` allowed); `None` when empty.
    pub fn public_origin(&self) -> Result<Option<Origin>, ConfigError> {
        if self.public_url.is_empty() {
            return Ok(None);
        }
        let url = self.public_url.strip_suffix('/').unwrap_or(&self.public_url);
        Origin::parse(url, "server.public_url").map(Some).map_err(|error| {
            ConfigError::Value(format!("server.public_url: {:?} {}", self.public_url, error.reason))
        })
    }
}

/// `[poll]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollSettings {
    /// Seconds a poll is held when the client does not ask for less.
    pub hold_secs: u64,
    /// Upper bound on any hold, whatever the client asks (DESIGN: never above 55 s).
    pub max_hold_secs: u64,
    /// Most events returned by one poll; the rest come with the next poll.
    pub max_events: usize,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self { hold_secs: 25, max_hold_secs: 55, max_events: 500 }
    }
}

/// `[chat]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatSettings {
    /// Events kept in memory per chat and direction (the hub's event rings); older ones are
    /// served from the store.
    pub queue_capacity: usize,
    /// Cap on chats open at once, all agents together.
    pub max_active_chats: i64,
    /// `max_chats` given to agents created without one.
    pub default_agent_max_chats: i32,
    /// Longest message body, in characters.
    pub max_message_chars: usize,
    /// Seconds without a message after which an open chat is closed (reason `inactivity`).
    pub inactivity_secs: u64,
    /// Milliseconds between two rounds of the chat timers (inactivity, visitor or agent gone).
    pub timer_interval_ms: u64,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            queue_capacity: 64,
            max_active_chats: 50_000,
            default_agent_max_chats: 5,
            max_message_chars: 4_000,
            inactivity_secs: 30 * 60,
            timer_interval_ms: 1_000,
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://path/to/file.db` (relative to the config file) or `postgres://…`.
    pub url: String,
    /// Connections in the pool; also the number of store threads.
    pub pool_size: u32,
    /// Milliseconds SQLite waits on a locked database before giving up.
    pub sqlite_busy_timeout_ms: u64,
    /// Store calls allowed to wait for a store thread before new ones get 503.
    pub max_queued_calls: usize,
    /// Most writes the writer commits together in one transaction. 0 = the default for the
    /// deployment: 512 for one node; 1 for several nodes on PostgreSQL, where a batch holds the
    /// row locks of all its writes until it commits and two nodes' batches would deadlock.
    pub max_write_batch: usize,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://switchboard.db".into(),
            pool_size: 4,
            sqlite_busy_timeout_ms: 5_000,
            max_queued_calls: 20_000,
            max_write_batch: 0,
        }
    }
}

/// `[presence]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceSettings {
    /// Seconds a participant stays online (listed, offered chats) after its last poll ended.
    pub lease_secs: u64,
    /// Extra seconds after the lease before it counts as gone: a visitor's chats are closed
    /// (`visitor_left`), an agent's go back to the queue. A page reload fits inside.
    pub grace_secs: u64,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        Self { lease_secs: 10, grace_secs: 20 }
    }
}

/// `[auth]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Hours a visitor token stays valid.
    pub visitor_token_ttl_hours: u64,
    /// Hours an agent token stays valid.
    pub agent_token_ttl_hours: u64,
    /// Seconds an agent token is trusted from memory before the store is asked again: how long
    /// a disable made by the CLI takes to apply (the admin API and logout apply at once, on
    /// every node with the Redis broker). Visitor tokens are trusted until they expire.
    pub agent_token_recheck_secs: u64,
    /// Threads that hash and check passwords (logins, new agents, password changes). Each hash
    /// in flight holds argon2's 19 MiB, so this caps that memory.
    pub hashing_threads: usize,
    /// Logins and password changes waiting for a hashing thread; past it they get
    /// `503 hashing_busy` with `Retry-After`.
    pub hashing_queue: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            visitor_token_ttl_hours: 24 * 30,
            agent_token_ttl_hours: 12,
            agent_token_recheck_secs: 5,
            hashing_threads: 2,
            hashing_queue: 64,
        }
    }
}

/// `[cors]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsSettings {
    /// Origins allowed to embed the widget and call the API from a browser, e.g.
    /// `https://shop.example.com`; `*` allows any.
    pub allowed_origins: Vec<String>,
}

impl Default for CorsSettings {
    fn default() -> Self {
        Self { allowed_origins: vec!["http://localhost:8080".into(), "http://127.0.0.1:8080".into()] }
    }
}

impl CorsSettings {
    /// `allowed_origins`, parsed; a config error names an entry that is not an origin.
    pub fn allowlist(&self) -> Result<AllowedOrigins, ConfigError> {
        AllowedOrigins::parse(&self.allowed_origins)
            .map_err(|bad| ConfigError::Value(format!("cors.allowed_origins: {bad}")))
    }
}

/// `[limits]`: abuse limits. Each is kept by every node on its own (with several nodes
/// behind a balancer a client may get up to that many times more); 0 turns a limit off. An
/// IPv6 client address counts by its /64 network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Open connections from one client address; past it a request is answered 429
    /// `too_many_connections` and its connection closed. Not applied to connections from a
    /// trusted proxy (`server.trusted_proxies`): those carry many clients.
    pub connections_per_ip: usize,
    /// Requests one client address may make per second, sustained (a held poll is one).
    pub requests_per_ip_per_sec: u32,
    /// Requests one client address may make at once before the sustained rate applies
    /// (0 = the sustained rate).
    pub request_burst_per_ip: u32,
    /// Messages one visitor may send per second, sustained.
    pub sends_per_visitor_per_sec: u32,
    /// Messages one visitor may send at once before the sustained rate applies (0 = the
    /// sustained rate).
    pub send_burst_per_visitor: u32,
    /// Failed logins to one employee ID within `login_window_secs`, whoever tries; then logins
    /// to it are refused 429 `login_throttled` until the oldest failure leaves the window.
    pub login_failures_per_employee_id: u32,
    /// Failed logins from one client address within `login_window_secs`, to any employee ID.
    pub login_failures_per_ip: u32,
    /// The window of the two login limits, in seconds.
    pub login_window_secs: u64,
    /// Visitors one client address may create per minute.
    pub visitors_per_ip_per_minute: u32,
    /// Client addresses or CIDR networks never limited (a load-test host, monitoring).
    pub exempt: AddressList,
    /// Seconds a client may take to send a request body once its head is in; then 408
    /// `body_timeout` and the connection is closed.
    pub body_timeout_secs: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            connections_per_ip: 200,
            requests_per_ip_per_sec: 50,
            request_burst_per_ip: 200,
            sends_per_visitor_per_sec: 2,
            send_burst_per_visitor: 20,
            login_failures_per_employee_id: 10,
            login_failures_per_ip: 30,
            login_window_secs: 300,
            visitors_per_ip_per_minute: 60,
            exempt: AddressList::default(),
            body_timeout_secs: 10,
        }
    }
}

/// Which bus carries wake-ups, notices and presence between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerKind {
    /// One node: everything stays in this process.
    Memory,
    /// Several nodes on one PostgreSQL: Redis pub/sub wakes polls on other nodes and holds the
    /// presence leases.
    Redis,
}

/// `[broker]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerSettings {
    /// `memory` (one node) or `redis` (several nodes; needs a PostgreSQL store).
    pub kind: BrokerKind,
    /// Redis URL, e.g. `redis://127.0.0.1:6379`; used when `kind = "redis"`.
    pub url: String,
    /// Prefix of every Redis key and channel, so several clusters can share one Redis. Every
    /// node of one cluster must have the same.
    pub prefix: String,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        Self { kind: BrokerKind::Memory, url: "redis://127.0.0.1:6379".into(), prefix: "switchboard".into() }
    }
}

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Client addresses or CIDR networks that may read `GET /metrics`; others get 403.
    pub allowed_from: AddressList,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        let loopback = [IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)];
        Self { allowed_from: loopback.into_iter().collect() }
    }
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line: time, level, target, message, then `key=value` fields.
    #[default]
    Text,
    /// One JSON object a line: `ts`, `level`, `target`, `msg` and the fields.
    Json,
}

/// `[log]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` or `json`. What is logged is chosen by `RUST_LOG` (default `info`); token values
    /// are removed from every line either way.
    pub format: LogFormat,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a relay on the same host or a test server only).
    None,
    /// Plain first, then `STARTTLS` (required): usually port 587.
    #[default]
    Starttls,
    /// TLS from the first byte: usually port 465.
    Tls,
}

/// A secret given only by a `SWITCHBOARD_*` variable: never read from `config.toml`, never
/// written out, never printed.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when none was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// `[email]`: email over SMTP. Off while `server` is empty. The SMTP user name and password
/// come only from `SWITCHBOARD_EMAIL__USERNAME` and `SWITCHBOARD_EMAIL__PASSWORD`: in
/// `config.toml` they are refused, so the file holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// The SMTP server's host name; empty turns email off.
    pub server: String,
    /// The SMTP server's port.
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: SmtpTls,
    /// The sender: `help@example.com` or `Example Help <help@example.com>`. Its domain ends
    /// every Message-ID.
    pub from: String,
    /// The team's addresses: offline messages and chats nobody answered go there.
    pub team: Vec<String>,
    /// Seconds an SMTP exchange may take before it counts as failed (and is tried again).
    pub timeout_secs: u64,
    /// Milliseconds before the first retry of a failed email; each next wait doubles (at most
    /// 30 minutes), and an email is given up on 24 hours after it was written.
    pub retry_first_ms: u64,
    /// Emails to addresses visitors typed (acknowledgements, transcripts they ask for) one
    /// visitor may cause per hour; past it 429 `email_rate_limited`. 0 = no limit.
    pub visitor_emails_per_visitor_per_hour: u32,
    /// Emails one address typed by visitors may receive per hour (whoever typed it); past it
    /// 429 `email_rate_limited`. 0 = no limit.
    pub visitor_emails_per_address_per_hour: u32,
    /// The SMTP user name: `SWITCHBOARD_EMAIL__USERNAME` only. Empty: no login.
    #[serde(skip_serializing)]
    pub username: Secret,
    /// The SMTP password: `SWITCHBOARD_EMAIL__PASSWORD` only.
    #[serde(skip_serializing)]
    pub password: Secret,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            server: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            from: String::new(),
            team: Vec::new(),
            timeout_secs: 30,
            retry_first_ms: 5_000,
            visitor_emails_per_visitor_per_hour: 5,
            visitor_emails_per_address_per_hour: 5,
            username: Secret::default(),
            password: Secret::default(),
        }
    }
}

/// `[outbox]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    /// Seconds a sender holds a delivery it claimed: longer than any one try may take. A
    /// delivery whose sender died (kill -9) is tried again once its claim runs out.
    pub lease_secs: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self { lease_secs: 120 }
    }
}

/// `[retention]`: what the retention task (`service::data_rights`) deletes, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days a closed chat (its messages, rating, emails) is kept after it closed; 0 = forever.
    pub closed_chat_days: u64,
    /// Days a visitor with no chat going is kept after it was last seen (or made); its whole
    /// data goes then, as an erase would take it; 0 = forever.
    pub inactive_visitor_days: u64,
    /// Chats (or visitors) deleted per write: each batch is its own short transaction, so other
    /// writes go between two batches.
    pub batch_size: u64,
    /// Seconds between two runs.
    pub interval_secs: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self { closed_chat_days: 0, inactive_visitor_days: 0, batch_size: 200, interval_secs: 3600 }
    }
}

/// `[sites]`: the key that encrypts each site's signing secret at rest
/// (`service::site_secrets`). Every node sharing a store must use the same key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteSettings {
    /// File holding the key (64 hex digits), relative to the config file's folder; made, with
    /// a random key readable only by its owner, when it does not exist.
    pub key_file: String,
    /// The key itself (64 hex digits): `SWITCHBOARD_SITES__KEY` only. Set, it is used instead
    /// of `key_file` (for nodes on several machines, or a secret manager).
    #[serde(skip_serializing)]
    pub key: Secret,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self { key_file: "site-secrets.key".to_string(), key: Secret::default() }
    }
}

/// `[webhooks]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Whether endpoints may be (and calls may go to) loopback, private, link-local and other
    /// non-public addresses. Off: such a URL is refused when registered and each call checks
    /// the addresses its host resolves to, as DNS may have changed.
    pub allow_private_targets: bool,
    /// Seconds a call may take (connecting, sending, the answer) before it counts as failed.
    pub timeout_secs: u64,
    /// Milliseconds before the first retry of a failed call; each next wait doubles.
    pub first_retry_ms: u64,
    /// Longest wait between two tries, in seconds.
    pub longest_retry_secs: u64,
    /// Seconds after an event during which its call is tried again; then it is given up on and
    /// its endpoint disabled.
    pub retry_for_secs: u64,
    /// Failed tries in a row (over all of an endpoint's calls) after which the endpoint is
    /// disabled; 0: only running out of `retry_for_secs` disables it.
    pub disable_after_failures: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout_secs: 10,
            first_retry_ms: 5_000,
            longest_retry_secs: 1_800,
            retry_for_secs: 86_400,
            disable_after_failures: 100,
        }
    }
}

impl EmailSettings {
    /// True when email is on (`server` set).
    pub fn enabled(&self) -> bool {
        !self.server.is_empty()
    }

    /// Checks a configured `[email]`: a sender and team addresses that are addresses.
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled() {
            return Ok(());
        }
        let fail = |msg: String| Err(ConfigError::Value(msg));
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return fail(format!("email.from: {:?} is not an email address", self.from));
        }
        if self.team.is_empty() {
            return fail("email.team must name at least one address while email.server is set".into());
        }
        if let Some(bad) = self.team.iter().find(|team| team.parse::<lettre::message::Mailbox>().is_err()) {
            return fail(format!("email.team: {bad:?} is not an email address"));
        }
        if self.password.is_empty() != self.username.is_empty() {
            return fail(
                "SWITCHBOARD_EMAIL__USERNAME and SWITCHBOARD_EMAIL__PASSWORD go together: set both or neither".into(),
            );
        }
        Ok(())
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key is unknown, has the wrong type, or the file is not valid TOML.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// A value parsed but makes no sense.
    #[error("invalid configuration: {0}")]
    Value(String),
}

impl Settings {
    /// Reads `path` (if it exists; a missing default file means all defaults), then applies
    /// `SWITCHBOARD_<SECTION>__<KEY>` variables from the environment. A relative SQLite path in
    /// `store.url` is taken relative to the config file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        // A missing file means all defaults; a present but broken one is an error.
        if path.exists() {
            refuse_secrets_in_file(path)?;
            figment = figment.merge(Toml::file_exact(path));
        }
        let mut settings: Settings = figment.merge(environment()).extract().map_err(named_by_key)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        settings.store.url = resolve_sqlite_path(&settings.store.url, &base);
        settings.server.public_dir = resolve_folder(&settings.server.public_dir, &base);
        settings.sites.key_file = resolve_folder(&settings.sites.key_file, &base);
        settings.validate()?;
        Ok(settings)
    }

    /// Rejects values that would make the server misbehave rather than fail.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |msg: &str| Err(ConfigError::Value(msg.to_string()));
        if self.poll.max_hold_secs > 55 {
            return fail("poll.max_hold_secs must be at most 55");
        }
        if self.poll.hold_secs > self.poll.max_hold_secs {
            return fail("poll.hold_secs must not exceed poll.max_hold_secs");
        }
        if self.chat.queue_capacity == 0 {
            return fail("chat.queue_capacity must be at least 1");
        }
        if self.poll.max_events == 0 {
            return fail("poll.max_events must be at least 1");
        }
        if self.auth.hashing_threads == 0 || self.auth.hashing_queue == 0 {
            return fail("auth.hashing_threads and auth.hashing_queue must be at least 1");
        }
        if self.store.pool_size == 0 {
            return fail("store.pool_size must be at least 1");
        }
        self.server.public_origin()?;
        self.cors.allowlist()?;
        self.email.validate()?;
        if self.webhooks.timeout_secs == 0 || self.webhooks.first_retry_ms == 0 {
            return fail("webhooks.timeout_secs and webhooks.first_retry_ms must be at least 1");
        }
        if self.outbox.lease_secs <= self.webhooks.timeout_secs {
            return fail("outbox.lease_secs must be longer than webhooks.timeout_secs: a call still running must keep its claim");
        }
        let limits = &self.limits;
        if limits.login_window_secs == 0
            && (limits.login_failures_per_employee_id > 0 || limits.login_failures_per_ip > 0)
        {
            return fail("limits.login_window_secs must be at least 1 while a login limit is on");
        }
        if self.broker.kind == BrokerKind::Redis && !self.store.url.starts_with("postgres") {
            return fail("broker.kind = \"redis\" needs a PostgreSQL store.url: nodes must share one store");
        }
        Ok(())
    }
}

/// A value that its type refused with a message of its own (an address list's entry that is
/// no address) reads `section.key: message`, like the errors of `validate`; any other error is
/// figment's, which names the key and where it came from.
fn named_by_key(error: figment::Error) -> ConfigError {
    match &error.kind {
        figment::error::Kind::Message(message) if !error.path.is_empty() => {
            ConfigError::Value(format!("{}: {message}", error.path.join(".")))
        }
        _ => ConfigError::Invalid(Box::new(error)),
    }
}

/// `email.username`, `email.password` and `sites.key` only come from the environment: in the file they are
/// an error (a config file is copied, committed and read by many; a variable is not).
fn refuse_secrets_in_file(path: &Path) -> Result<(), ConfigError> {
    let file = Figment::from(Toml::file_exact(path));
    for (section, key) in [("email", "username"), ("email", "password"), ("sites", "key")] {
        if file.find_value(&format!("{section}.{key}")).is_ok() {
            return Err(ConfigError::Value(format!(
                "{section}.{key} may not be in the config file: set SWITCHBOARD_{}__{} instead",
                section.to_uppercase(),
                key.to_uppercase()
            )));
        }
    }
    Ok(())
}

/// The `SWITCHBOARD_<SECTION>__<KEY>` provider. Variables without `__` (such as
/// `SWITCHBOARD_TEST_POSTGRES_URL` or `SWITCHBOARD_CONFIG`) are not settings and are skipped.
fn environment() -> Env {
    Env::prefixed("SWITCHBOARD_").filter(|key| key.as_str().contains("__")).split("__")
}

/// Takes a relative folder relative to the config file's folder; empty stays empty.
fn resolve_folder(folder: &str, base: &Path) -> String {
    if folder.is_empty() || Path::new(folder).is_absolute() || base.as_os_str().is_empty() {
        return folder.to_string();
    }
    base.join(folder).display().to_string()
}

/// Turns `sqlite://relative.db` into `sqlite://<config dir>/relative.db`.
fn resolve_sqlite_path(url: &str, base: &Path) -> String {
    match url.strip_prefix("sqlite://") {
        Some(file) if !file.starts_with('/') && file != ":memory:" && !base.as_os_str().is_empty() => {
            format!("sqlite://{}", PathBuf::from(base).join(file).display())
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `test` holding figment's global jail lock, so that the environment variables the
    /// override test sets cannot leak into another test's `Settings::load`.
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn isolated(test: impl FnOnce()) {
        figment::Jail::expect_with(|_| {
            test();
            Ok(())
        });
    }

    fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).expect("write config");
        (dir, path)
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        isolated(|| {
            let (_dir, path) = write_config("[server]\nprot = 1\n");
            let err = Settings::load(&path).expect_err("unknown key must fail").to_string();
            assert!(err.contains("prot"), "{err}");
        });
    }

    #[test]
    fn a_relative_sqlite_path_is_next_to_the_config_file() {
        isolated(|| {
            let (dir, path) = write_config("[store]\nurl = \"sqlite://chat.db\"\n");
            let settings = Settings::load(&path).expect("valid config");
            assert_eq!(settings.store.url, format!("sqlite://{}", dir.path().join("chat.db").display()));
        });
    }

    #[test]
    fn a_relative_public_dir_is_next_to_the_config_file() {
        isolated(|| {
            let (dir, path) = write_config("[server]\npublic_dir = \"site\"\n");
            let settings = Settings::load(&path).expect("valid config");
            assert_eq!(settings.server.public_dir, dir.path().join("site").display().to_string());
        });
    }

    #[test]
    fn a_hold_above_55_seconds_is_refused() {
        isolated(|| {
            let (_dir, path) = write_config("[poll]\nmax_hold_secs = 90\n");
            assert!(Settings::load(&path).is_err());
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn an_environment_variable_overrides_its_key_and_other_switchboard_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("config.toml", "[server]\nport = 1000\n")?;
            jail.set_env("SWITCHBOARD_SERVER__PORT", "9000");
            jail.set_env("SWITCHBOARD_STORE__URL", "postgres://db.example/switchboard");
            jail.set_env("SWITCHBOARD_TEST_POSTGRES_URL", "postgres://elsewhere/x");
            let settings = Settings::load(Path::new("config.toml")).map_err(|e| e.to_string())?;
            assert_eq!(settings.server.port, 9000);
            assert_eq!(settings.store.url, "postgres://db.example/switchboard");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn the_exempt_list_can_be_set_from_the_environment_and_a_bad_entry_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SWITCHBOARD_LIMITS__EXEMPT", r#"["127.0.0.0/8", "::1"]"#);
            let settings = Settings::load(Path::new("missing.toml")).map_err(|e| e.to_string())?;
            assert_eq!(settings.limits.exempt.entries(), ["127.0.0.0/8".to_string(), "::1".to_string()]);
            jail.set_env("SWITCHBOARD_LIMITS__EXEMPT", r#"["localhost"]"#);
            let err = Settings::load(Path::new("missing.toml")).expect_err("not an address").to_string();
            assert!(err.contains("localhost"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn an_address_list_entry_that_is_no_address_is_refused_naming_the_setting_and_the_entry() {
        figment::Jail::expect_with(|jail| {
            for (section, key) in
                [("server", "trusted_proxies"), ("metrics", "allowed_from"), ("limits", "exempt")]
            {
                let expected = format!(
                    "invalid configuration: {section}.{key}: \"nginx\" is neither an IP address nor a CIDR network"
                );
                jail.create_file(
                    "config.toml",
                    &format!("[{section}]\n{key} = [\"10.0.0.1\", \"nginx\"]\n"),
                )?;
                let error = Settings::load(Path::new("config.toml")).expect_err("not an address").to_string();
                assert_eq!(error, expected, "in the file");
                jail.create_file("config.toml", "")?;
                let variable = format!("SWITCHBOARD_{}__{}", section.to_uppercase(), key.to_uppercase());
                jail.set_env(&variable, r#"["::1", "nginx"]"#);
                let error = Settings::load(Path::new("config.toml")).expect_err("not an address").to_string();
                assert_eq!(error, expected, "in {variable}");
                jail.set_env(&variable, r#"[" 10.0.0.0/8 ", "::1"]"#);
                let settings = Settings::load(Path::new("config.toml")).map_err(|e| e.to_string())?;
                assert_eq!(settings.limits.exempt.contains("10.9.8.7".parse().expect("ip")), key == "exempt");
            }
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn the_public_url_is_an_origin_set_by_file_or_variable_and_anything_else_is_refused_by_name() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("config.toml", "[server]\npublic_url = \"https://Chat.example.com/\"\n")?;
            let settings = Settings::load(Path::new("config.toml")).map_err(|e| e.to_string())?;
            let origin = settings.server.public_origin().map_err(|e| e.to_string())?;
            assert_eq!(origin.as_ref().map(Origin::as_str), Some("https://chat.example.com"));
            jail.set_env("SWITCHBOARD_SERVER__PUBLIC_URL", "http://proxy.example:8000");
            let settings = Settings::load(Path::new("config.toml")).map_err(|e| e.to_string())?;
            assert_eq!(settings.server.public_url, "http://proxy.example:8000");
            for bad in [
                "chat.example.com",
                "ftp://chat.example.com",
                "https://chat.example.com/chat",
                "https://chat.example.com/?x=1",
                "https://user:pw@chat.example.com",
            ] {
                jail.set_env("SWITCHBOARD_SERVER__PUBLIC_URL", format!("{bad:?}"));
                let error = Settings::load(Path::new("config.toml")).expect_err(bad).to_string();
                assert!(error.contains("server.public_url") && error.contains(bad), "{bad}: {error}");
            }
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn smtp_credentials_come_from_the_environment_only() {
        figment::Jail::expect_with(|jail| {
            let email = "[email]\nserver = \"smtp.example.com\"\nfrom = \"Help <help@example.com>\"\nteam = [\"team@example.com\"]\n";
            jail.create_file("config.toml", &format!("{email}password = \"hunter2\"\n"))?;
            let error =
                Settings::load(Path::new("config.toml")).expect_err("a secret in the file").to_string();
            assert!(
                error.contains("email.password") && error.contains("SWITCHBOARD_EMAIL__PASSWORD"),
                "{error}"
            );
            jail.create_file("config.toml", email)?;
            jail.set_env("SWITCHBOARD_EMAIL__USERNAME", "mailer");
            let error =
                Settings::load(Path::new("config.toml")).expect_err("a user without password").to_string();
            assert!(error.contains("SWITCHBOARD_EMAIL__PASSWORD"), "{error}");
            jail.set_env("SWITCHBOARD_EMAIL__PASSWORD", "hunter2");
            let settings = Settings::load(Path::new("config.toml")).map_err(|e| e.to_string())?;
            assert_eq!(
                (settings.email.username.expose(), settings.email.password.expose()),
                ("mailer", "hunter2")
            );
            assert!(!format!("{settings:?}").contains("hunter2"), "the password is never printed");
            jail.create_file("config.toml", "[email]\nserver = \"smtp.example.com\"\nfrom = \"nobody\"\n")?;
            let error = Settings::load(Path::new("config.toml")).expect_err("not an address").to_string();
            assert!(error.contains("email.from"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn an_allowed_origin_that_is_not_an_origin_is_refused_by_name() {
        isolated(|| {
            for bad in ["https://shop.example; script-src *", "https://a.example,https://b.example", "'self'"]
            {
                let (_dir, path) = write_config(&format!("[cors]\nallowed_origins = [{bad:?}]\n"));
                let error = Settings::load(&path).expect_err(bad).to_string();
                assert!(error.contains("cors.allowed_origins"), "{bad}: {error}");
            }
            let (_dir, path) = write_config("[cors]\nallowed_origins = [\"*\"]\n");
            assert!(Settings::load(&path).is_ok());
        });
    }

    #[test]
    fn the_repository_config_file_names_every_key_with_its_default() {
        isolated(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
            let in_file = Figment::from(Toml::file_exact(&path));
            let defaults = serde_json::to_value(Settings::default()).expect("settings serialise");
            let sections = defaults.as_object().expect("sections");
            for (section, keys) in sections {
                for key in keys.as_object().expect("keys").keys() {
                    let path = format!("{section}.{key}");
                    assert!(in_file.find_value(&path).is_ok(), "config.toml does not document `{path}`");
                }
            }
            let mut loaded = Settings::load(&path).expect("config.toml must load");
            // Paths come back resolved against the file's folder; the defaults are relative.
            loaded.store.url = Settings::default().store.url;
            loaded.server.public_dir = Settings::default().server.public_dir;
            loaded.sites.key_file = Settings::default().sites.key_file;
            assert_eq!(loaded, Settings::default(), "config.toml must show the defaults");
        });
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    /// What `Settings::load` makes of `toml` (as config.toml) and `env` (as variables), run
    /// under figment's jail so that nothing leaks into or out of the process environment.
    fn load(toml: Option<&str>, env: &[(String, String)]) -> Result<Settings, String> {
        let mut outcome = None;
        #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
        figment::Jail::expect_with(|jail| {
            if let Some(toml) = toml {
                jail.create_file("config.toml", toml)?;
            }
            for (key, value) in env {
                jail.set_env(key, value);
            }
            outcome = Some(Settings::load(Path::new("config.toml")).map_err(|e| e.to_string()));
            Ok(())
        });
        outcome.unwrap_or_else(|| Err("the jail did not run".into()))
    }

    /// Settings that pass `validate`, with every value a client of the file might write.
    fn settings() -> impl Strategy<Value = Settings> {
        let text = || "[a-zA-Z0-9_./:-]{0,24}";
        let server = (
            prop::sample::select(vec!["127.0.0.1", "0.0.0.0", "::1", "localhost", "chat.example.com"]),
            any::<u16>(),
            (0usize..64, 0usize..100_000, 0usize..100_000, 0usize..10_000_000),
            (0u64..=i64::MAX as u64, 0u64..=i64::MAX as u64),
            prop::option::of("/[a-z]{1,12}"),
            prop::collection::vec(
                prop::sample::select(vec!["10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "192.168.1.0/24"]),
                0..3,
            ),
            prop::option::of("https?://[a-z]{1,10}\\.example(:[1-9][0-9]{1,3})?/?"),
        )
            .prop_map(
                |(host, port, (workers, conns, polls, body), (shutdown, head), dir, proxies, public_url)| {
                    ServerSettings {
                        host: host.into(),
                        port,
                        workers,
                        max_connections: conns,
                        max_held_polls: polls,
                        max_body_bytes: body,
                        shutdown_timeout_secs: shutdown,
                        client_request_timeout_secs: head,
                        public_dir: dir.unwrap_or_default(),
                        trusted_proxies: AddressList::parse(&proxies).expect("valid addresses"),
                        public_url: public_url.unwrap_or_default(),
                    }
                },
            );
        let poll = (0u64..=55, 0u64..=55, 1usize..10_000).prop_map(|(a, b, max_events)| PollSettings {
            hold_secs: a.min(b),
            max_hold_secs: a.max(b),
            max_events,
        });
        let chat = (1usize..1000, any::<i64>(), any::<i32>(), 0usize..100_000, 0u64..1 << 40, 0u64..1 << 40)
            .prop_map(|(queue, active, agent_max, chars, inactivity, timer)| ChatSettings {
                queue_capacity: queue,
                max_active_chats: active,
                default_agent_max_chats: agent_max,
                max_message_chars: chars,
                inactivity_secs: inactivity,
                timer_interval_ms: timer,
            });
        let store = (
            prop_oneof![
                "/[a-z]{1,8}\\.db".prop_map(|path| format!("sqlite://{path}")),
                "[a-z]{1,8}".prop_map(|db| format!("postgres://user@db.example/{db}")),
                Just("sqlite://:memory:".to_string()),
            ],
            1u32..64,
            0u64..1 << 40,
            0usize..100_000,
            0usize..4096,
        )
            .prop_map(|(url, pool, busy, queued, batch)| StoreSettings {
                url,
                pool_size: pool,
                sqlite_busy_timeout_ms: busy,
                max_queued_calls: queued,
                max_write_batch: batch,
            });
        let rest = (
            (0u64..1 << 40, 0u64..1 << 40),
            (0u64..1 << 40, 0u64..1 << 40, 0u64..1 << 40),
            prop::collection::vec("https?://[a-z]{1,10}\\.example(:[1-9][0-9]{1,3})?", 0..3),
            (any::<bool>(), text(), text()),
            any::<bool>(),
        );
        let addresses = || {
            prop::collection::vec(
                prop::sample::select(vec!["10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "192.168.1.0/24"]),
                0..3,
            )
            .prop_map(|list| AddressList::parse(&list).expect("valid addresses"))
        };
        let limits = (
            (0usize..100_000, any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
            (any::<u32>(), any::<u32>(), 1u64..1 << 40, any::<u32>(), 0u64..1 << 40),
            addresses(),
        )
            .prop_map(
                |(
                    (conns, rate, burst, sends, send_burst),
                    (per_id, per_ip, window, visitors, body),
                    exempt,
                )| {
                    LimitSettings {
                        connections_per_ip: conns,
                        requests_per_ip_per_sec: rate,
                        request_burst_per_ip: burst,
                        sends_per_visitor_per_sec: sends,
                        send_burst_per_visitor: send_burst,
                        login_failures_per_employee_id: per_id,
                        login_failures_per_ip: per_ip,
                        login_window_secs: window,
                        visitors_per_ip_per_minute: visitors,
                        exempt,
                        body_timeout_secs: body,
                    }
                },
            );
        let webhooks =
            (any::<bool>(), 1u64..1 << 20, 1u64..1 << 40, 0u64..1 << 40, 0u64..1 << 40, any::<u32>())
                .prop_map(|(allow, timeout, first, longest, retry_for, failures)| WebhookSettings {
                    allow_private_targets: allow,
                    timeout_secs: timeout,
                    first_retry_ms: first,
                    longest_retry_secs: longest,
                    retry_for_secs: retry_for,
                    disable_after_failures: failures,
                });
        let extra = (
            limits,
            addresses().prop_map(|allowed_from| MetricsSettings { allowed_from }),
            webhooks,
            1u64..1 << 20,
        );
        (server, poll, chat, store, rest, extra).prop_map(
            |(
                server,
                poll,
                chat,
                store,
                (presence, auth, origins, broker, json),
                (limits, metrics, webhooks, outbox_lease),
            )| {
                let (lease, grace) = presence;
                let (visitor_ttl, agent_ttl, recheck) = auth;
                let (redis, url, prefix) = broker;
                let kind = if redis && store.url.starts_with("postgres") {
                    BrokerKind::Redis
                } else {
                    BrokerKind::Memory
                };
                Settings {
                    server,
                    poll,
                    chat,
                    store,
                    presence: PresenceSettings { lease_secs: lease, grace_secs: grace },
                    auth: AuthSettings {
                        visitor_token_ttl_hours: visitor_ttl,
                        agent_token_ttl_hours: agent_ttl,
                        agent_token_recheck_secs: recheck,
                        hashing_threads: 1 + (recheck as usize % 4),
                        hashing_queue: 1 + (agent_ttl as usize % 100),
                    },
                    cors: CorsSettings { allowed_origins: origins },
                    broker: BrokerSettings { kind, url, prefix },
                    log: LogSettings { format: if json { LogFormat::Json } else { LogFormat::Text } },
                    limits,
                    metrics,
                    email: EmailSettings::default(),
                    outbox: OutboxSettings { lease_secs: webhooks.timeout_secs + outbox_lease },
                    webhooks,
                    sites: SiteSettings::default(),
                    retention: RetentionSettings::default(),
                }
            },
        )
    }

    /// Every `section.key` with a number for its value, as the defaults show them.
    fn numeric_keys() -> Vec<(String, String)> {
        let defaults = serde_json::to_value(Settings::default()).expect("settings serialise");
        let mut keys = Vec::new();
        for (section, values) in defaults.as_object().expect("sections") {
            for (key, value) in values.as_object().expect("keys") {
                if value.is_number() {
                    keys.push((section.clone(), key.clone()));
                }
            }
        }
        keys
    }

    proptest! {
        // Each case writes a file and takes figment's lock: fewer, still varied.
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn valid_settings_written_as_toml_load_back_the_same(settings in settings()) {
            let toml = toml::to_string(&settings).expect("settings write as TOML");
            prop_assert_eq!(load(Some(&toml), &[]), Ok(settings), "{}", toml);
        }

        #[test]
        fn valid_settings_given_as_variables_load_back_the_same(settings in settings()) {
            // Every key as `SWITCHBOARD_<SECTION>__<KEY>`, its value as a TOML value.
            let table = toml::Table::try_from(&settings).expect("settings are a table");
            let mut env = Vec::new();
            for (section, keys) in &table {
                for (key, value) in keys.as_table().expect("a section is a table") {
                    // A string goes quoted: figment reads `2024` or `true` in a variable as a
                    // number or a boolean, which a string setting refuses (naming the key).
                    let text = value.to_string();
                    env.push((format!("SWITCHBOARD_{}__{}", section.to_uppercase(), key.to_uppercase()), text));
                }
            }
            prop_assert_eq!(load(None, &env), Ok(settings), "{:?}", env);
        }

        #[test]
        fn any_text_as_config_toml_loads_or_is_a_config_error(text in any::<String>()) {
            if let Err(error) = load(Some(&text), &[]) {
                prop_assert!(error.starts_with("invalid configuration: "), "{}", error);
            }
        }

        #[test]
        fn toml_like_text_loads_or_is_a_config_error(
            lines in prop::collection::vec(
                (prop::sample::select(vec!["[server]", "[poll]", "[store]", "[log]", "[nope]", ""]),
                 "[a-z_]{1,24}", r#"(-?[0-9]{1,25}|"[^"\\]{0,10}"|true|\[[0-9, "a-z]{0,12}\]|[0-9.e+-]{1,8})"#),
                0..6),
        ) {
            let text: String = lines
                .iter()
                .map(|(section, key, value)| format!("{section}\n{key} = {value}\n"))
                .collect();
            if let Err(error) = load(Some(&text), &[]) {
                prop_assert!(error.starts_with("invalid configuration: "), "{}", error);
            }
        }

        #[test]
        fn a_wrong_value_for_a_number_names_its_key(
            which in any::<prop::sample::Index>(),
            value in prop_oneof![r#""[a-z]{0,8}""#, Just("true".to_string()), Just("[1]".to_string()),
                                 Just("-1".to_string()), Just("99999999999999999999".to_string())],
            through_env in any::<bool>(),
        ) {
            let keys = numeric_keys();
            let (section, key) = &keys[which.index(keys.len())];
            let outcome = if through_env {
                let env = [(format!("SWITCHBOARD_{}__{}", section.to_uppercase(), key.to_uppercase()), value.clone())];
                load(None, &env)
            } else {
                load(Some(&format!("[{section}]\n{key} = {value}\n")), &[])
            };
            // -1 fits the signed keys: then it loads, or a rule refuses it by name.
            if let Err(error) = outcome {
                prop_assert!(error.starts_with("invalid configuration: "), "{}", error);
                prop_assert!(error.to_lowercase().contains(key.as_str()), "{}.{} = {}: {}", section, key, value, error);
            }
        }

        #[test]
        fn an_unquoted_variable_for_a_string_setting_loads_as_is_or_is_refused_by_name(
            value in prop_oneof!["[a-z0-9./:-]{1,12}", any::<i64>().prop_map(|n| n.to_string()),
                                 Just("true".to_string()), Just("1.5".to_string())],
        ) {
            match load(None, &[("SWITCHBOARD_BROKER__PREFIX".to_string(), value.clone())]) {
                Ok(settings) => prop_assert_eq!(settings.broker.prefix, value),
                Err(error) => prop_assert!(error.contains("BROKER.PREFIX"), "{}", error),
            }
        }

        #[test]
        fn an_unknown_key_is_refused_by_name(section in prop::sample::select(vec!["server", "poll", "chat", "store", "log"]),
                                             key in "zz[a-z_]{0,10}") {
            let error = load(Some(&format!("[{section}]\n{key} = 1\n")), &[]).expect_err("unknown key");
            prop_assert!(error.contains(&key), "{}", error);
        }
    }
}
