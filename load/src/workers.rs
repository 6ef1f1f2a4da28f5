//! Splitting a run's visitors over several processes, past one process's descriptor limit.
//!
//! The parent re-runs its own executable with the hidden `worker` subcommand and the same
//! target options (the server it spawned or attached to, by URL). Each worker holds a
//! [`Fleet`] and answers one JSON line on standard output per JSON line [`Command`] on standard
//! input. Workers end with the parent: it kills them when it is done or fails, and a worker
//! whose standard input closes (the parent died) stops on its own.
//!
//! With one process the fleet simply lives in this one; [`Shares`] hides the difference.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::cli::{TargetArgs, WorkerArgs};
use crate::client::Api;
use crate::fleet::{Command, Fleet, FleetReceipts, FleetStatus, Reply};
use crate::procstat::ProcWatch;
use crate::report::Progress;
use crate::stats::Stats;
use crate::wire::Wire;

/// Commands that create or ramp thousands of visitors may take minutes; others are quick.
const SLOW_COMMAND: Duration = Duration::from_secs(900);
const QUICK_COMMAND: Duration = Duration::from_secs(60);

/// Share `index` of `total` split over `parts` (the first ones take one more).
pub fn share(total: usize, parts: usize, index: usize) -> usize {
    let parts = parts.max(1);
    total / parts + usize::from(index < total % parts)
}

/// A worker process and the lines it writes.
pub struct Worker {
    index: usize,
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Worker {
    fn spawn(index: usize, target_args: &TargetArgs, base_url: &str, wire: Wire) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let mut child = Process::new(exe)
            .args(target_args.worker_args(base_url, wire))
            .arg("worker")
            .arg("--index")
            .arg(index.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start worker {index}: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("worker {index}: no pipes"));
        };
        let (sender, lines) = mpsc::unbounded_channel();
        // The runtime has no process I/O here: a plain thread forwards the worker's lines.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Self { index, child, stdin, lines })
    }

    fn send(&mut self, command: &Command) -> Result<(), String> {
        let line = serde_json::to_string(command).map_err(|e| e.to_string())?;
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("worker {}: {e}", self.index))
    }

    async fn reply(&mut self, timeout: Duration) -> Result<Reply, String> {
        let line = tokio::time::timeout(timeout, self.lines.recv())
            .await
            .map_err(|_| format!("worker {}: no answer within {} s", self.index, timeout.as_secs()))?
            .ok_or_else(|| format!("worker {} exited", self.index))?;
        serde_json::from_str(&line)
            .map_err(|e| format!("worker {}: unreadable answer {line:?}: {e}", self.index))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The visitors of a run: one fleet here, or one per worker process.
pub enum Shares {
    /// All in this process.
    Local(Box<Fleet>),
    /// Split over workers.
    Remote(Vec<Worker>),
}

impl Shares {
    /// `processes` fleets toward `base_url`, which speaks `wire`: this process's own for 1,
    /// workers otherwise.
    pub fn start(
        processes: usize,
        target_args: &TargetArgs,
        base_url: &str,
        wire: Wire,
        progress: &Progress,
    ) -> Result<Self, String> {
        if processes <= 1 {
            let api =
                Api::new(base_url, target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
            return Ok(Shares::Local(Box::new(Fleet::new(api, wire, target_args.hold, 0, progress.clone()))));
        }
        let workers = (0..processes)
            .map(|index| Worker::spawn(index, target_args, base_url, wire))
            .collect::<Result<Vec<_>, _>>()?;
        progress.log(&format!("{processes} worker processes started"));
        Ok(Shares::Remote(workers))
    }

    /// How many fleets.
    pub fn count(&self) -> usize {
        match self {
            Shares::Local(_) => 1,
            Shares::Remote(workers) => workers.len(),
        }
    }

    /// The local fleet's counters, for the live progress line.
    pub fn local_stats(&self) -> Option<Arc<Stats>> {
        match self {
            Shares::Local(fleet) => Some(fleet.stats()),
            Shares::Remote(_) => None,
        }
    }

    /// Gives fleet i `command(i)` (all at once) and collects their replies in order; a
    /// `Failed` reply is an error.
    pub async fn ask(&mut self, command: impl Fn(usize) -> Command) -> Result<Vec<Reply>, String> {
        let replies = match self {
            Shares::Local(fleet) => vec![fleet.handle(command(0)).await],
            Shares::Remote(workers) => {
                let mut timeout = QUICK_COMMAND;
                for (index, worker) in workers.iter_mut().enumerate() {
                    let command = command(index);
                    if matches!(command, Command::Visitors { .. } | Command::Ramp { .. }) {
                        timeout = SLOW_COMMAND;
                    }
                    worker.send(&command)?;
                }
                let mut replies = Vec::new();
                for worker in workers.iter_mut() {
                    replies.push(worker.reply(timeout).await?);
                }
                replies
            }
        };
        for (index, reply) in replies.iter().enumerate() {
            if let Reply::Failed { error } = reply {
                return Err(format!("share {index}: {error}"));
            }
        }
        Ok(replies)
    }

    /// Every fleet's counters added up; the CPU and RSS are of every process that drives the
    /// load (this one included when the fleets are workers).
    pub async fn status(&mut self) -> Result<FleetStatus, String> {
        let mut total = FleetStatus::default();
        for reply in self.ask(|_| Command::Status).await? {
            if let Reply::Status(status) = reply {
                total.add(&status);
            }
        }
        if let (Shares::Remote(_), Some(me)) = (&*self, ProcWatch::this_process().sample()) {
            total.cpu_secs += me.cpu_secs;
            total.rss_kib += me.rss_kib;
        }
        Ok(total)
    }

    /// Every fleet's receipts of an announcement, added up.
    pub async fn receipts(
        &mut self,
        announcement_id: &str,
        posted_us: u64,
        times: bool,
    ) -> Result<FleetReceipts, String> {
        let mut total = FleetReceipts::default();
        let replies = self
            .ask(|_| Command::Receipts { announcement_id: announcement_id.to_string(), posted_us, times })
            .await?;
        for reply in replies {
            if let Reply::Receipts(receipts) = reply {
                total.add(receipts);
            }
        }
        Ok(total)
    }

    /// Stops every poll loop and every worker.
    pub async fn stop(mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let _ = tokio::time::timeout_at(deadline.into(), self.ask(|_| Command::Stop)).await;
        // Dropping the workers kills whatever did not exit.
    }
}

/// The worker's side: reads commands from standard input, carries them out on its fleet and
/// answers each on standard output, until `stop` or the end of its input (the parent is gone).
pub async fn serve(target_args: &TargetArgs, args: &WorkerArgs) -> Result<(), String> {
    let base_url = target_args.url.as_deref().ok_or("a worker needs --url")?;
    let api = Api::new(base_url, target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
    let mut fleet = Fleet::new(api, target_args.wire(), target_args.hold, args.index, Progress::silent());
    let (sender, mut commands) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = commands.recv().await {
        let reply = match serde_json::from_str::<Command>(&line) {
            Ok(command) => {
                let stop = matches!(command, Command::Stop);
                let reply = fleet.handle(command).await;
                answer(&reply)?;
                if stop {
                    return Ok(());
                }
                continue;
            }
            Err(error) => Reply::Failed { error: format!("unreadable command {line:?}: {error}") },
        };
        answer(&reply)?;
    }
    // The parent is gone: stop polling.
    fleet.handle(Command::Stop).await;
    Ok(())
}

/// Writes one reply line.
fn answer(reply: &Reply) -> Result<(), String> {
    let line = serde_json::to_string(reply).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| format!("standard output: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        let shares: Vec<usize> = (0..3).map(|index| share(19_000, 3, index)).collect();
        assert_eq!(shares, [6_334, 6_333, 6_333]);
        assert_eq!(share(5, 1, 0), 5);
    }
}
