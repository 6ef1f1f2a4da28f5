//! Starting real servers for tests, and a small client for the wire protocol.

use std::io::Write;
use std::sync::{Arc, Once};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};
use switchboard::config::Settings;
use switchboard::domain::Role;
use switchboard::service::agents::AgentSpec;
use switchboard::service::Services;
use switchboard::startup::{Application, ShutdownHandle};
use switchboard::store::{self, StoreError};

pub use crate::wire::{text, Participant, WireClient};

/// Runs each named `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::helpers::Backend::postgres() {
                    super::$test(backend).await
                }
            }
        }
    )+};
}

/// Which store a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server at this URL.
    Postgres(String),
}

impl Backend {
    /// PostgreSQL when `SWITCHBOARD_TEST_POSTGRES_URL` is set; otherwise says loudly, once per
    /// run, that the PostgreSQL tests are skipped.
    pub fn postgres() -> Option<Self> {
        match std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Self::Postgres(crate::pg_url::without_tls(&url))),
            _ => {
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    // Written past the test harness's capture so it shows in every run.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\n*** SKIPPED: PostgreSQL tests (set SWITCHBOARD_TEST_POSTGRES_URL, e.g. \
                         postgres://postgres@127.0.0.1:5432/postgres) ***\n"
                    );
                });
                None
            }
        }
    }
}

/// A store of its own for one test; dropped with the test.
pub struct TestDb {
    /// The store URL servers are given.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, empty store on `backend`.
    pub fn new(backend: &Backend) -> Arc<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("switchboard.db").display());
                Arc::new(Self { url, _dir: Some(dir), postgres: None })
            }
            Backend::Postgres(server_url) => {
                let name = format!("sb_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(server_url).expect("connect to the test PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create database");
                let (address, options) = server_url.split_once('?').unwrap_or((server_url.as_str(), ""));
                let base = address.rsplit_once('/').map_or(address, |(base, _)| base);
                let url = format!("{base}/{name}?{options}");
                Arc::new(Self { url, _dir: None, postgres: Some((server_url.clone(), name)) })
            }
        }
    }

    /// An existing SQLite file (a backup, say); the caller keeps the file's folder.
    pub fn existing_sqlite(file: &std::path::Path) -> Arc<Self> {
        Arc::new(Self { url: format!("sqlite://{}", file.display()), _dir: None, postgres: None })
    }

    /// The PostgreSQL database's name; `None` on SQLite.
    pub fn database_name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, name)| name.as_str())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server_url, name)) = &self.postgres {
            if let Ok(mut admin) = PgConnection::establish(server_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// Settings for a test server on `db`: port 0, one worker, short holds.
pub fn test_settings(db: &TestDb) -> Settings {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.server.workers = 1;
    settings.poll.hold_secs = 2;
    settings.store.url = db.url.clone();
    settings.store.pool_size = 4;
    // Every test client is 127.0.0.1 and many tests create visitors and send in quick loops:
    // the rate limits are lifted (tests/api/abuse.rs sets its own); the connection cap, the
    // login throttle and the body timeout keep their defaults.
    settings.limits.requests_per_ip_per_sec = 0;
    settings.limits.sends_per_visitor_per_sec = 0;
    settings.limits.visitors_per_ip_per_minute = 0;
    // One site key for every test server (made once, in the temp folder, not in the checkout).
    settings.sites.key_file =
        std::env::temp_dir().join("switchboard-test-site-secrets.key").display().to_string();
    settings
}

/// A running server and a client for it (its wire client's methods are the app's: `Deref`).
pub struct TestApp {
    /// The server's address and an HTTP client for it.
    pub wire: WireClient,
    /// The server's services (for setup and for looking into the store).
    pub services: Services,
    /// The store the server runs on.
    pub db: Arc<TestDb>,
    shutdown: ShutdownHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Row counts of every table a request could change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreCounts {
    pub visitors: i64,
    pub chats: i64,
    pub messages: i64,
    pub tokens: i64,
    pub open_chats: i64,
}

impl TestApp {
    /// A server on a fresh store of `backend`.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server on a fresh store of `backend`, with settings changed by `tweak`.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::start(TestDb::new(&backend), tweak).await
    }

    /// A server on an existing store (a restart).
    pub async fn start(db: Arc<TestDb>, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&db);
        tweak(&mut settings);
        let app = Application::build(settings).await.expect("server builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let services = app.services();
        let shutdown = app.shutdown_handle();
        let server = tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().timeout(Duration::from_secs(70)).build().expect("client");
        Self { wire: WireClient { address, client }, services, db, shutdown, server }
    }

    /// Stops the server gracefully and waits until it has stopped.
    pub async fn stop(self) {
        self.shutdown.shutdown().await;
        let _ = self.server.await;
    }

    /// The shutdown handle.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// A new agent, logged in over HTTP.
    pub async fn agent(&self, employee_id: &str, max_chats: i32) -> Participant {
        let spec = AgentSpec {
            employee_id: employee_id.into(),
            name: format!("Agent {employee_id}"),
            password: "correct horse battery".into(),
            max_chats: Some(max_chats),
            role: Role::Agent,
        };
        self.services.create_agent(spec).await.expect("agent created");
        self.login(employee_id, "correct horse battery").await.expect("agent logs in")
    }

    /// An agent that is online: created, logged in, and has polled once.
    pub async fn online_agent(&self, employee_id: &str, max_chats: i32) -> Participant {
        let agent = self.agent(employee_id, max_chats).await;
        self.poll(&agent, "", Some(0)).await;
        agent
    }

    /// `POST /api/chats`; the raw response.
    pub async fn start_chat_raw(&self, visitor: &Participant, agent_id: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/chats"))
            .bearer_auth(&visitor.token)
            .json(&json!({"agent_id": agent_id}))
            .send()
            .await
            .expect("request")
    }

    /// `POST /api/chats` for any agent; the raw response.
    pub async fn start_any_raw(&self, visitor: &Participant) -> reqwest::Response {
        self.client
            .post(self.url("/api/chats"))
            .bearer_auth(&visitor.token)
            .json(&json!({}))
            .send()
            .await
            .expect("request")
    }

    /// `POST /api/agent/status`.
    pub async fn set_status(&self, agent: &Participant, status: &str) {
        let response = self
            .client
            .post(self.url("/api/agent/status"))
            .bearer_auth(&agent.token)
            .json(&json!({ "status": status }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
    }

    /// The stored status (`queued`, `open`, `closed`) and agent of a chat.
    pub async fn chat_state(&self, chat_id: &str) -> (String, Option<String>) {
        let id = switchboard::domain::ChatId::parse(chat_id, "chat_id").expect("a chat id");
        let row = self
            .services
            .store
            .run(move |conn| store::chats::find(conn, id).map_err(StoreError::from))
            .await
            .expect("store")
            .expect("chat exists");
        (row.status.as_str().to_string(), row.agent_id.map(|agent| agent.to_string()))
    }

    /// A new visitor whose chat with `agent` (online, with a free slot) is closed, so that it
    /// may rate it; returns the visitor and the chat id.
    pub async fn closed_chat(&self, agent: &Participant) -> (Participant, String) {
        let visitor = self.visitor().await;
        let chat = self.start_chat(&visitor, agent).await;
        assert_eq!(self.close_chat_raw(&visitor, &chat).await.status(), 200, "chat closed");
        (visitor, chat)
    }

    /// A chat between `visitor` and `agent` (who must be online); returns its id.
    pub async fn start_chat(&self, visitor: &Participant, agent: &Participant) -> String {
        let response = self.start_chat_raw(visitor, &agent.id).await;
        assert_eq!(response.status(), 201, "chat start failed");
        let body: Value = response.json().await.expect("json");
        text(&body["chat_id"])
    }

    /// `POST /api/chats/{id}/close`; the raw response.
    pub async fn close_chat_raw(&self, who: &Participant, chat_id: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/chats/{chat_id}/close")))
            .bearer_auth(&who.token)
            .send()
            .await
            .expect("request")
    }

    /// `POST` with a JSON body as `who`; the raw response.
    pub async fn post_as(&self, who: &Participant, path: &str, body: Value) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(&who.token).json(&body).send().await.expect("request")
    }

    /// Row counts of the store.
    pub async fn store_counts(&self) -> StoreCounts {
        self.services
            .store
            .run(|conn| {
                Ok::<_, StoreError>(StoreCounts {
                    visitors: store::visitors::count(conn)?,
                    chats: store::chats::count(conn)?,
                    messages: store::messages::count(conn)?,
                    tokens: store::tokens::count(conn)?,
                    open_chats: store::counters::get(conn, store::counters::OPEN_CHATS)?,
                })
            })
            .await
            .expect("store counts")
    }

    /// A new admin, logged in over HTTP.
    pub async fn admin(&self, employee_id: &str) -> Participant {
        let spec = AgentSpec {
            employee_id: employee_id.into(),
            name: format!("Admin {employee_id}"),
            password: "correct horse battery".into(),
            max_chats: Some(1),
            role: Role::Admin,
        };
        self.services.create_agent(spec).await.expect("admin created");
        self.login(employee_id, "correct horse battery").await.expect("admin logs in")
    }
}

impl std::ops::Deref for TestApp {
    type Target = WireClient;

    fn deref(&self) -> &WireClient {
        &self.wire
    }
}

/// How a request body is written: the three content types every `POST` body may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json`.
    Json,
    /// `text/plain` holding JSON (what `XDomainRequest` sends).
    TextPlain,
    /// `application/x-www-form-urlencoded`, every value as text.
    Form,
}

impl Encoding {
    /// All three.
    pub const ALL: [Encoding; 3] = [Encoding::Json, Encoding::TextPlain, Encoding::Form];

    /// The `Content-Type` header.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::TextPlain => "text/plain;charset=UTF-8",
            Encoding::Form => "application/x-www-form-urlencoded",
        }
    }

    /// The fields of a JSON object written in this encoding (a form writes numbers and
    /// booleans as their text, as an HTML form would).
    pub fn encode(self, fields: &Value) -> Vec<u8> {
        match self {
            Encoding::Json | Encoding::TextPlain => serde_json::to_vec(fields).expect("JSON"),
            Encoding::Form => {
                let pairs: Vec<(String, String)> = fields
                    .as_object()
                    .expect("an object")
                    .iter()
                    .map(|(name, value)| {
                        let text = match value {
                            Value::String(text) => text.clone(),
                            other => other.to_string(),
                        };
                        (name.clone(), text)
                    })
                    .collect();
                serde_urlencoded::to_string(pairs).expect("a form").into_bytes()
            }
        }
    }
}

impl TestApp {
    /// `POST path` with `body` sent as it is, labelled `content_type`, with an optional token;
    /// the status and the JSON body (`Null` when none).
    pub async fn post_bytes(
        &self,
        who: Option<&Participant>,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self.client.post(self.url(path)).header("content-type", content_type).body(body);
        if let Some(who) = who {
            request = request.bearer_auth(&who.token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST path` with the fields of `body` written in `encoding`; the status and JSON body.
    pub async fn post_encoded(
        &self,
        who: Option<&Participant>,
        path: &str,
        encoding: Encoding,
        body: &Value,
    ) -> (u16, Value) {
        self.post_bytes(who, path, encoding.content_type(), encoding.encode(body)).await
    }
}

/// The seqs of `chat_id`'s events, in the order received.
pub fn seqs_of(events: &[Value], chat_id: &str) -> Vec<i64> {
    events
        .iter()
        .filter(|event| event["chat_id"] == chat_id)
        .map(|event| event["seq"].as_i64().expect("seq"))
        .collect()
}

/// Polls, echoing cursors, until `chat_id` has reached `last_seq` or `rounds` polls passed;
/// returns every event received and the final cursor.
pub async fn drain(
    app: &TestApp,
    who: &Participant,
    cursor: &str,
    chat_id: &str,
    last_seq: i64,
) -> (Vec<Value>, String) {
    let mut cursor = cursor.to_string();
    let mut events = Vec::new();
    for _ in 0..200 {
        if seqs_of(&events, chat_id).last().copied().unwrap_or(0) >= last_seq {
            break;
        }
        let answer = app.poll(who, &cursor, Some(5)).await;
        events.extend(answer.events);
        cursor = answer.cursor;
    }
    (events, cursor)
}

/// Polls as `who` (echoing cursors, 1 s holds) until `until` passes, so that `who` stays present;
/// returns every event seen.
pub async fn keep_polling(app: &TestApp, who: &Participant, until: std::time::Instant) -> Vec<Value> {
    let mut cursor = String::new();
    let mut events = Vec::new();
    while std::time::Instant::now() < until {
        let answer = app.poll(who, &cursor, Some(1)).await;
        events.extend(answer.events);
        cursor = answer.cursor;
    }
    events
}

/// Short presence and timer settings for tests about time.
pub fn quick_timers(settings: &mut Settings) {
    settings.presence.lease_secs = 1;
    settings.presence.grace_secs = 1;
    settings.chat.timer_interval_ms = 100;
}
