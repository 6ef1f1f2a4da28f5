//! The servers under load: one or several `switchboard` nodes started here on a fresh store
//! (and always stopped again, also on an early return), the baseline, or running nodes this run
//! attaches to.
//!
//! Several nodes share one fresh PostgreSQL database and one Redis, under a key prefix made
//! for the run so that runs sharing a Redis never see each other's wake-ups.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cli::TargetArgs;
use crate::database::Database;
use crate::nchan::NchanConfig;
use crate::node::Node;
use crate::procstat::{children_of, descriptor_limit, ProcWatch};

/// What a switchboard node answers 200 on once its store and broker are reachable.
const READY_PATH: &str = "/readyz";

/// How long a stopped node gets to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The server (one node or several) this run drives.
pub struct Target {
    /// What it is, for the summary.
    pub description: String,
    /// Its nodes, in the order requests go round them. Dropped (killed) before the database.
    nodes: Vec<Node>,
    /// A PostgreSQL database made for this run.
    database: Option<Database>,
    /// How a spawned switchboard was started (binary, environment), to start it again after a
    /// crash on the same store.
    respawn: Option<(PathBuf, Vec<(String, String)>)>,
    /// The temporary folder of spawned servers (store file, logs). Removed last.
    dir: Option<PathBuf>,
    /// nginx's worker, when this is nginx + nchan: sampled with the master, and killed should
    /// the master not take it down.
    nginx_worker: Option<u32>,
}

impl Target {
    /// Spawns `switchboard` (`--nodes` of them) or nginx + nchan, or attaches to `--url`, per
    /// the options.
    pub async fn switchboard(args: &TargetArgs) -> Result<Self, String> {
        if let Some(nginx) = &args.spawn_nchan {
            return Self::spawn_nchan(nginx, args).await;
        }
        if let Some(binary) = &args.spawn_server {
            return Self::spawn_switchboard(binary, args).await;
        }
        let urls = args.url.clone().ok_or("give --spawn-server PATH or --url URL[,URL…]")?;
        let urls: Vec<&str> = urls.split(',').map(str::trim).filter(|url| !url.is_empty()).collect();
        if urls.is_empty() {
            return Err("--url: no URL".into());
        }
        // The pid, when given, is the first node's.
        let nodes = urls
            .iter()
            .enumerate()
            .map(|(index, url)| Node::attached(url, args.server_pid.filter(|_| index == 0)))
            .collect();
        Ok(Self {
            description: format!("attached to {}", urls.join(", ")),
            nodes,
            database: None,
            respawn: None,
            dir: None,
            nginx_worker: None,
        })
    }

    /// Starts nginx with nchan on a generated config (`nchan.rs`) in a fresh temporary
    /// folder, on a port free a moment before (tried again on another if taken meanwhile).
    async fn spawn_nchan(nginx: &Path, args: &TargetArgs) -> Result<Self, String> {
        if let Some(missing) = [nginx, args.nchan_module.as_path()].into_iter().find(|path| !path.exists()) {
            return Err(format!(
                "{} not found: install nginx-light and libnginx-mod-nchan, or give --spawn-nchan=NGINX \
                 and --nchan-module PATH",
                missing.display()
            ));
        }
        if args.nodes > 1 {
            return Err("--spawn-nchan runs one nginx: --nodes must be 1".into());
        }
        let mut last_error = String::new();
        for _ in 0..3 {
            let dir = temp_dir("nchan")?;
            let mut target = Self {
                description: format!(
                    "{} with nchan ({}), 1 worker",
                    nginx.display(),
                    args.nchan_module.display()
                ),
                nodes: Vec::new(),
                database: None,
                respawn: None,
                dir: Some(dir.clone()),
                nginx_worker: None,
            };
            let port = free_port()?;
            let config = NchanConfig {
                dir: &dir,
                module: &args.nchan_module,
                port,
                hold_secs: args.hold,
                descriptors: descriptor_limit(),
            };
            let path = dir.join("nginx.conf");
            std::fs::write(&path, config.render()).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut command = Command::new(nginx);
            command.arg("-p").arg(&dir).arg("-c").arg(&path).arg("-e").arg(dir.join("error.log"));
            let mut node = Node::spawn(command, &dir.join("nginx.log"))?;
            node.listening_at(format!("http://127.0.0.1:{port}"));
            target.nodes.push(node);
            match target.nodes[0].wait_ready("/ready").await {
                Ok(()) => {
                    target.nginx_worker =
                        target.nodes[0].pid.and_then(|pid| children_of(pid).first().copied());
                    return Ok(target);
                }
                Err(error) => last_error = format!("{error}\n{}", target.nchan_error_log()),
            }
        }
        Err(format!("nginx + nchan did not start: {last_error}"))
    }

    /// The end of nginx's error log (nginx writes there, not to its standard error).
    fn nchan_error_log(&self) -> String {
        let log = self.dir.as_ref().and_then(|dir| std::fs::read_to_string(dir.join("error.log")).ok());
        let log = log.unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    async fn spawn_switchboard(binary: &Path, args: &TargetArgs) -> Result<Self, String> {
        let count = args.nodes;
        check_cluster(args)?;
        let mut env = vec![
            // The startup line says which port the server bound.
            ("RUST_LOG".to_string(), format!("{},switchboard::startup=info", args.server_log)),
            ("SWITCHBOARD_SERVER__HOST".to_string(), "127.0.0.1".to_string()),
            // Port 0: the server binds a free port itself. A port picked here could be taken
            // meanwhile by one of this run's own client sockets (they bind ephemeral ports).
            ("SWITCHBOARD_SERVER__PORT".to_string(), "0".to_string()),
            ("SWITCHBOARD_SERVER__WORKERS".to_string(), args.server_workers.to_string()),
            ("SWITCHBOARD_SERVER__PUBLIC_DIR".to_string(), String::new()),
            // Every simulated visitor and agent comes from this host: the abuse limits would
            // refuse the run. `--server-env` may set it otherwise.
            ("SWITCHBOARD_LIMITS__EXEMPT".to_string(), r#"["127.0.0.0/8", "::1"]"#.to_string()),
        ];
        let mut database = None;
        let mut store = "sqlite".to_string();
        if args.store != "sqlite" {
            let made = Database::create(&args.store)?;
            env.push(("SWITCHBOARD_STORE__URL".to_string(), made.url.clone()));
            store = format!("postgres database {}", made.name);
            database = Some(made);
        }
        let dir = temp_dir("server")?;
        if let Some(broker) = &args.broker {
            let prefix = run_prefix();
            env.push(("SWITCHBOARD_BROKER__KIND".to_string(), "redis".to_string()));
            env.push(("SWITCHBOARD_BROKER__URL".to_string(), broker.clone()));
            env.push(("SWITCHBOARD_BROKER__PREFIX".to_string(), prefix.clone()));
            store = format!("{store}, Redis {broker} (prefix {prefix})");
        }
        for pair in &args.server_env {
            let (key, value) = pair.split_once('=').ok_or(format!("--server-env {pair}: not KEY=VALUE"))?;
            env.push((key.to_string(), value.to_string()));
        }
        let nodes_text = if count == 1 { String::new() } else { format!("{count} nodes of ") };
        let mut target = Self {
            description: format!("{nodes_text}{} on {store}", binary.display()),
            nodes: Vec::new(),
            database,
            respawn: Some((binary.to_path_buf(), env.clone())),
            dir: Some(dir.clone()),
            nginx_worker: None,
        };
        // The first node migrates the fresh store alone; the others start together after it.
        let mut first = Node::spawn(switchboard_command(binary, &dir, &env), &node_log(&dir, 0))?;
        first.wait_ready(READY_PATH).await?;
        target.nodes.push(first);
        for index in 1..count {
            target.nodes.push(Node::spawn(switchboard_command(binary, &dir, &env), &node_log(&dir, index))?);
        }
        for node in target.nodes.iter_mut().skip(1) {
            node.wait_ready(READY_PATH).await?;
        }
        Ok(target)
    }

    /// Spawns the baseline server (a bare actix-web handler that only sleeps).
    pub async fn baseline(binary: &Path, workers: usize) -> Result<Self, String> {
        let dir = temp_dir("baseline")?;
        let mut command = Command::new(binary);
        command.arg("--port").arg("0").arg("--workers").arg(workers.to_string());
        let node = Node::spawn(command, &dir.join("baseline.log"));
        let mut target = Self {
            description: format!("{} (bare actix-web, sleeping handler)", binary.display()),
            nodes: Vec::new(),
            database: None,
            respawn: None,
            dir: Some(dir),
            nginx_worker: None,
        };
        target.nodes.push(node?);
        for node in &mut target.nodes {
            node.wait_ready("/healthz").await?;
        }
        Ok(target)
    }

    /// Every node's base URL, comma-separated (what `Api::new` and `--url` take).
    pub fn urls(&self) -> String {
        self.nodes.iter().map(|node| node.url.as_str()).collect::<Vec<_>>().join(",")
    }

    /// The process sampled for RSS and CPU: the last node's (a crash of a several-node run
    /// kills the first, so the last one lives through the whole run).
    pub fn pid(&self) -> Option<u32> {
        self.nodes.last().and_then(|node| node.pid)
    }

    /// What samples the server's RSS and CPU: the process of [`Target::pid`], and for nginx
    /// its worker too, summed.
    pub fn watch(&self) -> Option<ProcWatch> {
        let pid = self.pid()?;
        Some(match self.nginx_worker {
            Some(_) => ProcWatch::with_children(pid),
            None => ProcWatch::new(pid),
        })
    }

    /// The fresh PostgreSQL database of this run, if any.
    pub fn database_name(&self) -> Option<&str> {
        self.database.as_ref().map(|database| database.name.as_str())
    }

    /// How many nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Each node's URL, pid and whether it was killed, for the summary.
    pub fn nodes_json(&self) -> serde_json::Value {
        self.nodes
            .iter()
            .map(|node| serde_json::json!({ "url": node.url, "pid": node.pid, "killed": node.killed() }))
            .collect()
    }

    /// Kills node `index` with SIGKILL and does not start it again: its visitors and agents
    /// carry on through the other nodes.
    pub fn kill_node(&mut self, index: usize) -> Result<(), String> {
        self.nodes.get_mut(index).ok_or(format!("no node {index}"))?.kill()
    }

    /// Kills the first node with SIGKILL — no shutdown, nothing flushed — and starts it again
    /// on the same store and port; answers how long until it answered again.
    pub async fn crash_and_restart(&mut self) -> Result<Duration, String> {
        let (Some((binary, env)), Some(dir)) = (&self.respawn, &self.dir) else {
            return Err("only a server this run spawned can be crashed".into());
        };
        let node = self.nodes.first_mut().ok_or("no node")?;
        let killed_at = Instant::now();
        node.kill()?;
        let port = node.port().ok_or("the node's port is unknown")?;
        let mut env = env.clone();
        env.push(("SWITCHBOARD_SERVER__PORT".to_string(), port.to_string()));
        let mut restarted = Node::spawn(switchboard_command(binary, dir, &env), &node_log(dir, 0))?;
        restarted.wait_ready(READY_PATH).await?;
        *node = restarted;
        Ok(killed_at.elapsed())
    }

    /// The last lines of each spawned node's log.
    pub fn log_tail(&self) -> String {
        let mut tail = String::new();
        if self.nginx_worker.is_some() {
            tail.push_str(&format!("nginx error log:\n{}\n", self.nchan_error_log()));
        }
        for (index, node) in self.nodes.iter().enumerate() {
            let lines = node.log_tail();
            if !lines.is_empty() {
                tail.push_str(&format!("log tail of node {index}:\n{lines}\n"));
            }
        }
        tail
    }

    /// Stops every spawned node (SIGTERM, then SIGKILL after 5 s) and removes what they left.
    pub async fn stop(mut self) {
        for node in &mut self.nodes {
            node.terminate();
        }
        let deadline = Instant::now() + STOP_GRACE;
        for node in &mut self.nodes {
            node.reap(deadline).await;
        }
        // Drop kills what is left and cleans up.
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // nginx's master takes its worker down on SIGTERM; a SIGKILL (what dropping a node
        // sends) would leave the worker serving the port.
        if let Some(worker) = self.nginx_worker {
            for node in &mut self.nodes {
                node.terminate();
                if !node.exited_within(STOP_GRACE) {
                    let _ = Command::new("kill").arg("-KILL").arg(worker.to_string()).status();
                }
            }
        }
        // Nodes first: the database is dropped once nothing uses it.
        self.nodes.clear();
        self.database.take();
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Refuses node counts and stores that cannot make a cluster.
fn check_cluster(args: &TargetArgs) -> Result<(), String> {
    let count = args.nodes;
    if count == 0 {
        return Err("--nodes must be at least 1".into());
    }
    if count > 1 && args.store == "sqlite" {
        return Err(format!(
            "--nodes {count} needs a PostgreSQL store (--store postgres://…): every node must share \
             one store, and a SQLite file belongs to one process"
        ));
    }
    if count > 1 && args.broker.is_none() {
        return Err(format!(
            "--nodes {count} needs --broker redis://HOST:PORT: nodes wake each other's held polls \
             through Redis"
        ));
    }
    Ok(())
}

/// A Redis key prefix no other run has: this process and a random tag.
fn run_prefix() -> String {
    format!("switchboard-load-{}-{:08x}", std::process::id(), rand::random::<u32>())
}

/// `switchboard --config DIR/config.toml serve` with `env` (later pairs win). A config file that
/// does not exist means every default; the SQLite file lands next to it.
fn switchboard_command(binary: &Path, dir: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(binary);
    command.arg("--config").arg(dir.join("config.toml")).arg("serve");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Where node `index` writes its log.
fn node_log(dir: &Path, index: usize) -> PathBuf {
    if index == 0 {
        dir.join("server.log")
    } else {
        dir.join(format!("server-{index}.log"))
    }
}

/// A port on 127.0.0.1 free a moment ago (nginx must be told its port).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|address| address.port()).map_err(|e| format!("no free port: {e}"))
}

/// A new empty folder under the system's temporary folder.
fn temp_dir(what: &str) -> Result<PathBuf, String> {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("switchboard-load-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
