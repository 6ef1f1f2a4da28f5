//! One server process this run started: spawned with its output in a log file, ready once it
//! has said which port it bound and answers there, killed or stopped on demand and always on
//! drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::Api;

/// How long a process may take to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A server process of this run, or one it attached to (no child then).
pub struct Node {
    /// Its base URL, e.g. `http://127.0.0.1:41234`; empty until it is ready.
    pub url: String,
    /// Its process id, when known.
    pub pid: Option<u32>,
    /// The process, when this run started it.
    child: Option<Child>,
    /// Its log, when this run started it.
    log: Option<PathBuf>,
    /// Killed with SIGKILL on purpose (a crash of a several-node run), not to be started again.
    killed: bool,
}

impl Node {
    /// A server this run did not start, at `url` (its pid when given, for sampling).
    pub fn attached(url: &str, pid: Option<u32>) -> Self {
        Self { url: url.to_string(), pid, child: None, log: None, killed: false }
    }

    /// Starts `command` with its output going to `log`; not ready yet (see [`Node::wait_ready`]).
    pub fn spawn(mut command: Command, log: &Path) -> Result<Self, String> {
        let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = file.try_clone().map_err(|e| format!("{}: {e}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        Ok(Self {
            url: String::new(),
            pid: Some(child.id()),
            child: Some(child),
            log: Some(log.to_path_buf()),
            killed: false,
        })
    }

    /// Waits until the process has written `listening on 127.0.0.1:PORT` to its log (unless its
    /// URL was set already) and `path` answers 200 there, failing early if the process exits.
    pub async fn wait_ready(&mut self, path: &str) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut api = None;
        loop {
            if api.is_none() {
                // A URL set before (nginx's port is chosen for it) is not looked for in the log.
                if let Some(port) =
                    self.log.as_deref().filter(|_| self.url.is_empty()).and_then(listening_port)
                {
                    self.url = format!("http://127.0.0.1:{port}");
                }
                if !self.url.is_empty() {
                    api = Some(Api::new(&self.url, 1).map_err(|e| format!("HTTP client: {e}"))?);
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
                return Err(format!(
                    "the server was not ready within {} s; {}",
                    READY_TIMEOUT.as_secs(),
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets where it will listen (a server told its port, rather than saying which it bound).
    pub fn listening_at(&mut self, url: String) {
        self.url = url;
    }

    /// Whether the process has exited, waiting up to `grace` (blocking: for a `Drop`).
    pub fn exited_within(&mut self, grace: Duration) -> bool {
        let Some(child) = self.child.as_mut() else { return true };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The port it listens on (from its URL).
    pub fn port(&self) -> Option<u16> {
        self.url.rsplit(':').next()?.parse().ok()
    }

    /// Kills the process with SIGKILL — no shutdown, nothing flushed — and reaps it.
    pub fn kill(&mut self) -> Result<(), String> {
        let child = self.child.as_mut().ok_or("only a server this run started can be killed")?;
        child.kill().map_err(|e| format!("kill -9: {e}"))?;
        let _ = child.wait();
        self.killed = true;
        Ok(())
    }

    /// Whether it was killed on purpose.
    pub fn killed(&self) -> bool {
        self.killed
    }

    /// Asks the process to stop (SIGTERM); [`Node::reap`] waits for it.
    pub fn terminate(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Ok(None) = child.try_wait() {
                let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            }
        }
    }

    /// Waits until the process has exited, at most until `deadline`; true when it has (or
    /// there is none).
    pub async fn reap(&mut self, deadline: Instant) -> bool {
        let Some(child) = self.child.as_mut() else { return true };
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines of its log, without the connection pool's retries and their
    /// continuation lines (while a store is down they are all there is, and hide the server's
    /// own lines).
    pub fn log_tail(&self) -> String {
        let log = self.log.as_deref().and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default();
        let mut in_pool_record = false;
        let lines: Vec<&str> = log
            .lines()
            .filter(|line| {
                if line.starts_with('[') {
                    in_pool_record = line.contains(" r2d2]");
                }
                !in_pool_record
            })
            .collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// The port in the first `listening on 127.0.0.1:PORT` line of `log`.
fn listening_port(log: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(log).ok()?;
    let rest = text.split("listening on 127.0.0.1:").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}
