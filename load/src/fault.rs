//! Generic fault injection: a shell command (`--fault-cmd`) run once, `--fault-after` seconds
//! into sending — restart a Redis, stop PostgreSQL for a while, cut a network — and what the
//! run looked like before, during and after it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::actors::Ctx;
use crate::report::{self, Progress};
use crate::stats::Snapshot;

/// The last characters of the command's output kept for the summary.
const OUTPUT_TAIL_CHARS: usize = 2000;

/// What the fault did, measured when it ended.
pub struct FaultRecord {
    /// Whether the command ran and exited 0.
    pub succeeded: bool,
    /// The summary's `fault` object, without what comes after the fault.
    figures: Value,
    /// Acknowledged messages when the command ended.
    acked_at_end: u64,
}

impl FaultRecord {
    /// The summary's `fault` object; `acked_total` (at the end of the run) gives how many
    /// messages were acknowledged after the fault.
    pub fn json(&self, acked_total: u64) -> Value {
        let mut figures = self.figures.clone();
        if let Some(object) = figures.as_object_mut() {
            object.insert("acked_after".into(), json!(acked_total.saturating_sub(self.acked_at_end)));
        }
        figures
    }
}

/// Runs `command` with `sh -c` once, `after` the start of sending; answers what happened, or
/// `None` when the run ended before its moment.
pub fn spawn_fault(
    ctx: Arc<Ctx>,
    after: Duration,
    command: String,
    progress: &Progress,
) -> JoinHandle<Option<FaultRecord>> {
    let progress = progress.clone();
    let pending = ctx.disruptions.pending();
    tokio::spawn(async move {
        let _pending = pending;
        let sending_since = ctx.disruptions.at(after).await?;
        let before = ctx.stats.snapshot();
        let errors_before = ctx.stats.errors();
        let started = Instant::now();
        progress.log(&format!(
            "fault: running `{command}` {:.1} s into sending, {} messages acknowledged",
            started.duration_since(sending_since).as_secs_f64(),
            before.sends_acked
        ));
        let shell = command.clone();
        let outcome = tokio::task::spawn_blocking(move || run_shell(&shell))
            .await
            .unwrap_or_else(|error| Err(format!("the fault task failed: {error}")));
        let took = started.elapsed();
        let at_end = ctx.stats.snapshot();
        let (succeeded, exit_code, output) = match &outcome {
            Ok((code, output)) => (*code == Some(0), *code, output.clone()),
            Err(error) => (false, None, error.clone()),
        };
        progress.log(&format!(
            "fault: took {:.2} s, exit status {}; {} messages acknowledged meanwhile",
            took.as_secs_f64(),
            exit_code
                .map_or("none (killed by a signal, or not started)".to_string(), |code| code.to_string()),
            at_end.sends_acked - before.sends_acked
        ));
        Some(FaultRecord {
            succeeded,
            acked_at_end: at_end.sends_acked,
            figures: json!({
                "command": command,
                "after_secs": after.as_secs_f64(),
                "started_at_secs": report::round1(started.duration_since(sending_since).as_secs_f64()),
                "started_at_epoch_ms": epoch_millis_ago(started.elapsed()),
                "took_secs": report::round3(took.as_secs_f64()),
                "exit_code": exit_code,
                "succeeded": succeeded,
                "output_tail": output,
                "acked_before": before.sends_acked,
                "acked_during": at_end.sends_acked - before.sends_acked,
                "errors_during": ctx.stats.errors_since(&errors_before),
                "transient_errors_during": transient_between(&before, &at_end),
            }),
        })
    })
}

/// Errors a retry rides out, counted between two snapshots.
fn transient_between(before: &Snapshot, after: &Snapshot) -> u64 {
    after.transient_errors.saturating_sub(before.transient_errors)
}

/// Wall-clock milliseconds since the epoch, `ago` before now.
fn epoch_millis_ago(ago: Duration) -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(now.saturating_sub(ago).as_millis()).unwrap_or(u64::MAX)
}

/// `sh -c command`, its output into a file rather than a pipe (a daemon it starts may keep a
/// pipe open for ever); its exit code (`None` when killed by a signal) and the output's tail.
fn run_shell(command: &str) -> Result<(Option<i32>, String), String> {
    let log = output_file();
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| format!("{}: {e}", log.display()))?;
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .status()
        .map_err(|e| format!("cannot run sh -c: {e}"));
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let status = status?;
    let tail_start = output.char_indices().rev().nth(OUTPUT_TAIL_CHARS).map_or(0, |(at, _)| at);
    Ok((status.code(), output[tail_start..].to_string()))
}

/// A fresh file for the command's output.
fn output_file() -> PathBuf {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("switchboard-load-fault-{}-{nanos}.log", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::run_shell;

    #[test]
    fn the_exit_code_and_output_of_the_command_are_kept() {
        let (code, output) = run_shell("echo before; echo oops >&2; exit 3").unwrap_or((None, String::new()));
        assert_eq!(code, Some(3));
        assert_eq!(output, "before\noops\n");
    }

    #[test]
    fn a_background_process_does_not_hold_the_command() {
        let started = std::time::Instant::now();
        let (code, _) = run_shell("sleep 5 & echo started").unwrap_or((None, String::new()));
        assert_eq!(code, Some(0));
        assert!(started.elapsed() < std::time::Duration::from_secs(4));
    }
}
