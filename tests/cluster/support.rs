//! A cluster for one test: a fresh PostgreSQL database, a Redis key prefix of its own, and
//! `switchboard serve` processes on free ports, all killed and cleaned up when dropped.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};

use crate::pg_url::without_tls;
pub use crate::wire::{text, Participant, WireClient};

/// One node: a `switchboard serve` process.
pub struct Node {
    /// Its address (`http://127.0.0.1:PORT`) and the cluster's client.
    pub wire: WireClient,
    child: Child,
}

/// See the module doc.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub client: reqwest::Client,
    admin_url: String,
    database: String,
    redis_url: String,
    prefix: String,
    /// Settings every node gets on top of the cluster's (`SWITCHBOARD_…` variables).
    settings: Vec<(String, String)>,
}

/// Both URLs, or `None` after saying loudly that the test is skipped.
fn urls() -> Option<(String, String)> {
    let pg = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty());
    let redis = std::env::var("SWITCHBOARD_TEST_REDIS_URL").ok().filter(|url| !url.is_empty());
    match (pg, redis) {
        (Some(pg), Some(redis)) => Some((pg, redis)),
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: cluster test (set SWITCHBOARD_TEST_POSTGRES_URL and \
                 SWITCHBOARD_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379) ***\n"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Cluster {
    /// `count` nodes, each ready (`/readyz` 200: store and broker reachable); `None` when the
    /// test is skipped.
    pub async fn start(count: usize) -> Option<Self> {
        Self::start_with(count, &[]).await
    }

    /// Like [`Cluster::start`], each node also given `settings` (`SWITCHBOARD_…` variables).
    pub async fn start_with(count: usize, settings: &[(&str, &str)]) -> Option<Self> {
        let (pg, redis_url) = urls()?;
        let settings = settings.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        Some(Self::start_configured(count, &pg, redis_url, settings).await)
    }

    /// `count` ready nodes on a fresh database of the PostgreSQL server at `pg`, with the Redis
    /// at `redis_url`.
    pub async fn start_on(count: usize, pg: &str, redis_url: String) -> Self {
        Self::start_configured(count, pg, redis_url, Vec::new()).await
    }

    async fn start_configured(
        count: usize,
        pg: &str,
        redis_url: String,
        settings: Vec<(String, String)>,
    ) -> Self {
        let admin_url = without_tls(pg.split('?').next().unwrap_or(pg));
        let database = format!("sb_cluster_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url).expect("connect to the test PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .expect("create database");
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let base = base.rsplit_once('/').map_or(base, |(base, _)| base);
        let store_url = without_tls(&format!("{base}/{database}"));
        let prefix = format!("sbtest:{}", uuid::Uuid::new_v4().simple());
        let mut cluster = Self {
            nodes: Vec::new(),
            client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client"),
            admin_url,
            database,
            redis_url,
            prefix,
            settings,
        };
        for _ in 0..count {
            let node = cluster.spawn_node(&store_url);
            cluster.nodes.push(node);
        }
        for node in &cluster.nodes {
            cluster.wait_ready(&node.wire.address).await;
        }
        cluster
    }

    fn spawn_node(&self, store_url: &str) -> Node {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("SWITCHBOARD_CONFIG", "/nonexistent/config.toml")
            .env("SWITCHBOARD_SERVER__PORT", port.to_string())
            .env("SWITCHBOARD_SERVER__WORKERS", "1")
            .env("SWITCHBOARD_SERVER__PUBLIC_DIR", "")
            .env("SWITCHBOARD_STORE__URL", store_url)
            .env("SWITCHBOARD_BROKER__KIND", "redis")
            .env("SWITCHBOARD_BROKER__URL", &self.redis_url)
            .env("SWITCHBOARD_BROKER__PREFIX", &self.prefix)
            // Every node of a store shares the site key ([sites]); the config file is absent here.
            .env("SWITCHBOARD_SITES__KEY", "5b".repeat(32))
            .env("SWITCHBOARD_POLL__HOLD_SECS", "20")
            // Every client is on loopback: the abuse limits stay out of the way.
            .env("SWITCHBOARD_LIMITS__EXEMPT", r#"["127.0.0.0/8", "::1"]"#)
            .env("RUST_LOG", "warn,switchboard::http::pages=error")
            .envs(self.settings.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .spawn()
            .expect("switchboard starts");
        let wire = WireClient { address: format!("http://127.0.0.1:{port}"), client: self.client.clone() };
        Node { wire, child }
    }

    /// `GET /readyz` of node `index`: its status.
    pub async fn readiness(&self, index: usize) -> u16 {
        match self.client.get(format!("{}/readyz", self.url(index))).send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    }

    async fn wait_ready(&self, url: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = self.client.get(format!("{url}/readyz")).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "node {url} never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills node `index` with SIGKILL (`kill -9`).
    pub fn kill(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        node.child.kill().expect("kill -9");
        let _ = node.child.wait();
    }

    /// The base URL of node `index`.
    pub fn url(&self, index: usize) -> &str {
        &self.nodes[index].wire.address
    }

    /// The wire client of node `index`.
    pub fn node(&self, index: usize) -> &WireClient {
        &self.nodes[index].wire
    }

    /// The first admin, made through `POST /api/setup` on node 0.
    pub async fn setup_admin(&self) -> Participant {
        let setup = json!({"employee_id": "ADMIN", "name": "Admin", "password": "correct horse battery"});
        let (status, body) = self.node(0).post_json(None, "/api/setup", setup).await;
        assert_eq!(status, 201, "setup: {body}");
        Participant { id: text(&body["agent_id"]), token: text(&body["token"]) }
    }

    /// An agent with `max_chats`, created by `admin` and logged in through node `node`.
    pub async fn agent(
        &self,
        admin: &Participant,
        node: usize,
        employee_id: &str,
        max_chats: i32,
    ) -> Participant {
        let spec = json!({"employee_id": employee_id, "name": format!("Agent {employee_id}"),
                          "password": "correct horse battery", "max_chats": max_chats});
        let (status, body) = self.node(node).post_json(Some(admin), "/api/admin/agents", spec).await;
        assert_eq!(status, 201, "agent: {body}");
        self.node(node).login(employee_id, "correct horse battery").await.expect("agent logs in")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database))
                .execute(&mut admin);
        }
        if let Ok(client) = redis::Client::open(self.redis_url.as_str()) {
            if let Ok(mut connection) = client.get_connection() {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{}:*", self.prefix))
                    .query(&mut connection)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _ = redis::cmd("DEL").arg(keys).query::<()>(&mut connection);
                }
            }
        }
    }
}

/// The `message` events of `chat_id` among `events`: (seq, body).
pub fn messages_of(events: &[Value], chat_id: &str) -> Vec<(i64, String)> {
    events
        .iter()
        .filter(|event| event["chat_id"] == chat_id && event["type"] == "message")
        .map(|event| (event["seq"].as_i64().unwrap_or(-1), text(&event["body"])))
        .collect()
}
