//! The server under load: started here on a fresh store (and always stopped again, also on an
//! early return), or an already running one this run attaches to.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::cli::TargetArgs;
use crate::client::Api;

/// A server this run drives.
pub struct Target {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base_url: String,
    /// Its process, when known (sampled for RSS and CPU).
    pub pid: Option<u32>,
    /// What it is, for the summary.
    pub description: String,
    child: Option<Child>,
    /// The temporary folder of a spawned server (store file, log).
    dir: Option<PathBuf>,
    /// A PostgreSQL database made for this run: (maintenance URL, database name).
    database: Option<(String, String)>,
    /// How a spawned switchboard was started (binary, environment), to start it again after a
    /// crash on the same store.
    respawn: Option<(PathBuf, Vec<(String, String)>)>,
}

impl Target {
    /// Spawns `switchboard` or attaches to `--url`, per the options.
    pub async fn switchboard(args: &TargetArgs) -> Result<Self, String> {
        if let Some(binary) = &args.spawn_server {
            return Self::spawn_switchboard(binary, args).await;
        }
        let url = args.url.clone().ok_or("give --spawn-server PATH or --url URL")?;
        Ok(Self {
            description: format!("attached to {url}"),
            base_url: url,
            pid: args.server_pid,
            child: None,
            dir: None,
            database: None,
            respawn: None,
        })
    }

    async fn spawn_switchboard(binary: &Path, args: &TargetArgs) -> Result<Self, String> {
        let dir = temp_dir("server")?;
        let mut env = vec![
            // The startup line says which port the server bound.
            ("RUST_LOG".to_string(), format!("{},switchboard::startup=info", args.server_log)),
            ("SWITCHBOARD_SERVER__HOST".to_string(), "127.0.0.1".to_string()),
            // Port 0: the server binds a free port itself. A port picked here could be taken
            // meanwhile by one of this run's own client sockets (they bind ephemeral ports).
            ("SWITCHBOARD_SERVER__PORT".to_string(), "0".to_string()),
            ("SWITCHBOARD_SERVER__WORKERS".to_string(), args.server_workers.to_string()),
            ("SWITCHBOARD_SERVER__PUBLIC_DIR".to_string(), String::new()),
        ];
        let mut database = None;
        let store = if args.store == "sqlite" {
            "sqlite".to_string()
        } else {
            let (server_url, name) = create_database(&args.store)?;
            env.push(("SWITCHBOARD_STORE__URL".to_string(), server_url));
            database = Some((args.store.clone(), name.clone()));
            format!("postgres database {name}")
        };
        for pair in &args.server_env {
            let (key, value) = pair.split_once('=').ok_or(format!("--server-env {pair}: not KEY=VALUE"))?;
            env.push((key.to_string(), value.to_string()));
        }
        let command = switchboard_command(binary, &dir, &env);
        let mut target = Self {
            base_url: String::new(),
            pid: None,
            description: format!("{} on {store}", binary.display()),
            child: None,
            dir: Some(dir.clone()),
            database,
            respawn: Some((binary.to_path_buf(), env)),
        };
        let child = spawn_logged(command, &dir.join("server.log"))?;
        target.pid = Some(child.id());
        target.child = Some(child);
        target.wait_ready(&dir.join("server.log"), "/healthz").await?;
        Ok(target)
    }

    /// Spawns the baseline server (a bare actix-web handler that only sleeps).
    pub async fn baseline(binary: &Path, workers: usize) -> Result<Self, String> {
        let dir = temp_dir("baseline")?;
        let mut command = Command::new(binary);
        command.arg("--port").arg("0").arg("--workers").arg(workers.to_string());
        let child = spawn_logged(command, &dir.join("baseline.log"))?;
        let mut target = Self {
            base_url: String::new(),
            pid: Some(child.id()),
            description: format!("{} (bare actix-web, sleeping handler)", binary.display()),
            child: Some(child),
            dir: Some(dir.clone()),
            database: None,
            respawn: None,
        };
        target.wait_ready(&dir.join("baseline.log"), "/healthz").await?;
        Ok(target)
    }

    /// Kills a spawned switchboard with SIGKILL — no shutdown, nothing flushed — and starts it
    /// again on the same store and port; answers how long until it answered again.
    pub async fn crash_and_restart(&mut self) -> Result<Duration, String> {
        let (Some(child), Some((binary, env)), Some(dir)) = (self.child.as_mut(), &self.respawn, &self.dir)
        else {
            return Err("only a server this run spawned can be crashed".into());
        };
        let killed_at = Instant::now();
        child.kill().map_err(|e| format!("kill -9: {e}"))?;
        let _ = child.wait();
        let port = self.base_url.rsplit(':').next().unwrap_or("0").to_string();
        let mut env = env.clone();
        env.push(("SWITCHBOARD_SERVER__PORT".to_string(), port));
        let log = dir.join("server.log");
        let child = spawn_logged(switchboard_command(binary, dir, &env), &log)?;
        self.pid = Some(child.id());
        self.child = Some(child);
        self.wait_ready(&log, "/healthz").await?;
        Ok(killed_at.elapsed())
    }

    /// Waits until the process has written `listening on 127.0.0.1:PORT` to `log` and `path`
    /// answers 200 there, failing early if the process exits.
    async fn wait_ready(&mut self, log: &Path, path: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut api = None;
        loop {
            if api.is_none() {
                if let Some(port) = listening_port(log) {
                    self.base_url = format!("http://127.0.0.1:{port}");
                    api = Some(Api::new(&self.base_url, 1).map_err(|e| format!("HTTP client: {e}"))?);
                }
            }
            if let Some(api) = &api {
                if api.get(0, path, None, Duration::from_secs(2)).await.is_ok() {
                    return Ok(());
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "the server exited ({status}) before it was ready; {}",
                        self.log_tail()
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err(format!("the server was not ready within 60 s; {}", self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of a spawned server's log.
    pub fn log_tail(&self) -> String {
        let Some(dir) = &self.dir else { return String::new() };
        let log = std::fs::read_dir(dir)
            .ok()
            .and_then(|entries| {
                entries.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "log"))
            })
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!("log tail:\n{}", lines[lines.len().saturating_sub(20)..].join("\n"))
    }

    /// Stops a spawned server (SIGTERM, then SIGKILL after 5 s) and removes what it left.
    pub async fn stop(mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Drop kills what is left and cleans up.
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        if let Some((url, name)) = self.database.take() {
            if let Err(error) = drop_database(&url, &name) {
                eprintln!("switchboard-load: could not drop database {name}: {error}");
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Starts `command` with its output going to `log`.
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

fn spawn_logged(mut command: Command, log: &Path) -> Result<Child, String> {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| format!("{}: {e}", log.display()))?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))
}

/// The port in the first `listening on 127.0.0.1:PORT` line of `log`.
fn listening_port(log: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(log).ok()?;
    let rest = text.split("listening on 127.0.0.1:").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A new empty folder under the system's temporary folder.
fn temp_dir(what: &str) -> Result<PathBuf, String> {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("switchboard-load-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Creates a fresh database on the PostgreSQL server of `url`; returns its URL and name.
fn create_database(url: &str) -> Result<(String, String), String> {
    let (server, _) = url.rsplit_once('/').ok_or(format!("--store {url}: not a postgres:// URL"))?;
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(format!("--store {url}: give `sqlite` or a postgres:// URL"));
    }
    let name = format!("switchboard_load_{}_{}", std::process::id(), rand::random::<u32>());
    let mut conn = PgConnection::establish(url).map_err(|e| format!("PostgreSQL at {url}: {e}"))?;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
    Ok((format!("{server}/{name}"), name))
}

fn drop_database(url: &str, name: &str) -> Result<(), String> {
    let mut conn = PgConnection::establish(url).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    Ok(())
}
