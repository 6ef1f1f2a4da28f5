//! A chat scenario's run from start to verdict: its server (spawned or attached, always
//! stopped), the shared counters and ledger, the live progress line, and the figures every
//! chat scenario reports beside its own (server, errors by kind, the integrity verdict, the
//! server's peak RSS).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use serde_json::{json, Value};

use crate::actors::Ctx;
use crate::chatroom::RoomSize;
use crate::cli::TargetArgs;
use crate::client::Api;
use crate::ledger::{Ledger, Verdict};
use crate::procstat::ProcWatch;
use crate::report::{self, PeakWatch, Progress};
use crate::server::Target;

/// What a chat scenario's run ends with.
pub struct ChatRun {
    /// The scenario's figures with the common ones added.
    pub figures: Value,
    /// What the ledger found.
    pub verdict: Verdict,
    /// Request errors of every kind.
    pub errors_total: u64,
}

/// Starts the target, runs `drive` with the run's context (self-check: ignore every
/// `drop_every`th event; `crash_after`: kill -9 the spawned server that long after the start and
/// restart it on the same store), stops the target and adds the common figures.
pub async fn run_chats<F, Fut>(
    target_args: &TargetArgs,
    progress: &Progress,
    drop_every: Option<u64>,
    crash_after: Option<Duration>,
    drive: F,
) -> Result<ChatRun, String>
where
    F: FnOnce(Arc<Ctx>, Option<ProcWatch>) -> Fut,
    Fut: Future<Output = Result<Value, String>>,
{
    let target = Arc::new(Mutex::new(Target::switchboard(target_args).await?));
    let target_ref = target.lock().await;
    let (base_url, pid) = (target_ref.base_url.clone(), target_ref.pid);
    drop(target_ref);
    let watch = pid.map(ProcWatch::new);
    let ledger = Arc::new(Ledger::default());
    let api = Api::new(&base_url, target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
    let ctx = Arc::new(Ctx { drop_every, ..Ctx::new(api, Some(Arc::clone(&ledger)), target_args.hold) });
    let ticker = report::spawn_ticker(progress.clone(), Some(Arc::clone(&ctx.stats)), watch);
    let server_peak = watch.map(PeakWatch::start);
    let crash = crash_after.map(|after| spawn_crash(Arc::clone(&target), Arc::clone(&ctx), after, progress));
    let result = drive(Arc::clone(&ctx), watch).await;
    ticker.abort();
    let crashed = match crash {
        Some(task) => Some(task.await.map_err(|e| format!("the crash task failed: {e}"))??),
        None => None,
    };
    let target = Arc::try_unwrap(target).map_err(|_| "the server is still in use".to_string())?.into_inner();
    let server_desc = target.description.clone();
    let log_tail = target.log_tail();
    target.stop().await;
    let mut figures = result.map_err(|error| format!("{error}\n{log_tail}"))?;
    if let (Some(crashed), Some(object)) = (crashed, figures.as_object_mut()) {
        object.insert("crash".into(), crashed);
    }

    let verdict = ledger.verdict();
    let errors = ctx.stats.errors();
    let errors_total: u64 = errors.values().sum();
    if let Some(object) = figures.as_object_mut() {
        object.insert("server".into(), json!(server_desc));
        object.insert("errors".into(), json!(errors));
        object.insert("errors_total".into(), json!(errors_total));
        object.insert("integrity".into(), json!({ "ok": verdict.ok(), "verdict": verdict }));
        if let Some(peak) = server_peak {
            object.insert("server_rss_peak_kib".into(), json!(peak.peak_rss_kib()));
        }
    }
    progress.log(&format!(
        "integrity: {} acked, {} lost, {} duplicated, {} reordered, {} gaps, {} mismatched; {} of {} chats drained; {errors_total} request errors",
        verdict.acked, verdict.lost, verdict.duplicated, verdict.reordered, verdict.gaps, verdict.mismatched, verdict.drained_chats, verdict.chats
    ));
    Ok(ChatRun { figures, verdict, errors_total })
}

/// Kills the server with SIGKILL `after` the start, while messages are in flight, and starts
/// it again on the same store and port; answers what happened, for the summary. The ledger then
/// says whether every message acknowledged before the crash survived it.
fn spawn_crash(
    target: Arc<Mutex<Target>>,
    ctx: Arc<Ctx>,
    after: Duration,
    progress: &Progress,
) -> tokio::task::JoinHandle<Result<Value, String>> {
    let progress = progress.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let acked_before = ctx.stats.snapshot().sends_acked;
        let restarted_in = target.lock().await.crash_and_restart().await?;
        progress.log(&format!(
            "crash: kill -9 after {:.1} s with {acked_before} messages acknowledged; answering again after {} ms",
            after.as_secs_f64(),
            restarted_in.as_millis()
        ));
        Ok(json!({
            "after_secs": after.as_secs_f64(),
            "acked_before": acked_before,
            "restarted_in_ms": restarted_in.as_millis() as u64,
        }))
    })
}

/// Names the scenario in `figures` and adds its settings — what every chat scenario shares
/// (room size, message body, hold, connections, server), then `own`, the scenario's — and the
/// descriptor limit the run needed.
pub fn describe(
    figures: &mut Value,
    scenario: &str,
    size: &RoomSize,
    body_chars: usize,
    target_args: &TargetArgs,
    own: Value,
    ulimit_needed: u64,
) {
    let Some(object) = figures.as_object_mut() else { return };
    let mut settings = json!({
        "chats": size.chats,
        "agents": size.agents(),
        "agent_max_chats": size.max_chats,
        "body_chars": body_chars,
        "hold_secs": target_args.hold,
        "source_addrs": target_args.source_addrs,
        "server_workers": target_args.server_workers,
        "server_env": target_args.server_env,
    });
    if let (Some(settings), Value::Object(own)) = (settings.as_object_mut(), own) {
        settings.extend(own);
    }
    object.insert("scenario".into(), json!(scenario));
    object.insert("settings".into(), settings);
    object.insert("ulimit_n_needed".into(), json!(ulimit_needed));
}
