//! A chat scenario's run from start to verdict: its server (spawned or attached, one node or
//! several, always stopped), the shared counters and ledger, the live progress line, the
//! disruptions (a crash, an injected fault), and the figures every chat scenario reports
//! beside its own (server and nodes, errors by kind, disruptions, the integrity verdict, the
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
use crate::crash::spawn_crash;
use crate::disruption::Disruptions;
use crate::fault::spawn_fault;
use crate::ledger::{Ledger, Side, Verdict};
use crate::procstat::ProcWatch;
use crate::report::{self, PeakWatch, Progress};
use crate::server::Target;
use crate::wire::Wire;

/// What a chat scenario's run ends with.
pub struct ChatRun {
    /// The scenario's figures with the common ones added.
    pub figures: Value,
    /// What the ledger found.
    pub verdict: Verdict,
    /// Request errors of every kind.
    pub errors_total: u64,
    /// Of them, errors a retry rides out (no answer, 429, 503).
    pub transient_errors: u64,
    /// Whether a crash or fault was scheduled.
    pub disrupted: bool,
    /// Every scheduled disruption happened as asked (a fault command exited 0).
    pub disruptions_ok: bool,
    /// The last lines of each spawned node's log, for a run that failed.
    pub log_tail: String,
}

impl ChatRun {
    /// The strict verdict: the ledger is clean and no request failed — in a run with
    /// disruptions, none failed in a way a retry does not ride out — and every disruption
    /// happened as asked.
    pub fn strictly_ok(&self) -> bool {
        let failed =
            if self.disrupted { self.errors_total - self.transient_errors } else { self.errors_total };
        self.verdict.ok() && failed == 0 && self.disruptions_ok
    }
}

/// The disruptions of a run, timed from the start of sending.
#[derive(Debug, Clone, Default)]
pub struct Disrupt {
    /// kill -9 the server (the first node) this long into sending.
    pub crash_after: Option<Duration>,
    /// Run this shell command this long into sending.
    pub fault: Option<(Duration, String)>,
}

impl Disrupt {
    /// How many disruptions.
    fn count(&self) -> usize {
        usize::from(self.crash_after.is_some()) + usize::from(self.fault.is_some())
    }
}

/// Starts the target, runs `drive` with the run's context (self-check: ignore every
/// `drop_every`th event; `disrupt`: crash the server or run a fault command while sending),
/// stops the target and adds the common figures.
pub async fn run_chats<F, Fut>(
    target_args: &TargetArgs,
    progress: &Progress,
    drop_every: Option<u64>,
    disrupt: &Disrupt,
    drive: F,
) -> Result<ChatRun, String>
where
    F: FnOnce(Arc<Ctx>, Option<ProcWatch>) -> Fut,
    Fut: Future<Output = Result<Value, String>>,
{
    let wire = target_args.wire();
    if wire == Wire::Nchan && (disrupt.count() > 0 || target_args.nodes > 1) {
        return Err("nchan runs without --crash-after, --fault-after or --nodes".into());
    }
    let target = Target::switchboard(target_args).await?;
    let (urls, watch) = (target.urls(), target.watch());
    let store_database = target.database_name().map(str::to_string);
    let target = Arc::new(Mutex::new(target));
    // nchan's agent only publishes: its visitor is the one side that receives.
    let ledger = Arc::new(match wire {
        Wire::Switchboard => Ledger::default(),
        Wire::Nchan => Ledger::receiving_only(Side::Visitor),
    });
    let api = Api::new(&urls, target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
    let ctx = Arc::new(Ctx {
        drop_every,
        disruptions: Disruptions::new(disrupt.count()),
        wire,
        store_database,
        ..Ctx::new(api, Some(Arc::clone(&ledger)), target_args.hold)
    });
    let ticker = report::spawn_ticker(progress.clone(), Some(Arc::clone(&ctx.stats)), watch);
    let server_peak = watch.map(PeakWatch::start);
    let crash =
        disrupt.crash_after.map(|after| spawn_crash(Arc::clone(&target), Arc::clone(&ctx), after, progress));
    let fault = disrupt
        .fault
        .as_ref()
        .map(|(after, command)| spawn_fault(Arc::clone(&ctx), *after, command.clone(), progress));
    let result = drive(Arc::clone(&ctx), watch).await;
    ticker.abort();
    // A run that ended early (an error) calls off what has not begun; what is under way
    // finishes, so that a stopped dependency is started again.
    ctx.disruptions.call_off();
    let crashed = match crash {
        Some(task) => task.await.map_err(|e| format!("the crash task failed: {e}"))??,
        None => None,
    };
    let faulted = match fault {
        Some(task) => task.await.map_err(|e| format!("the fault task failed: {e}"))?,
        None => None,
    };
    let target = Arc::try_unwrap(target).map_err(|_| "the server is still in use".to_string())?.into_inner();
    let server_desc = target.description.clone();
    let log_tail = target.log_tail();
    let nodes = nodes_json(&target, &ctx.api);
    target.stop().await;
    let mut figures = result.map_err(|error| format!("{error}\n{log_tail}"))?;

    let verdict = ledger.verdict();
    let errors = ctx.stats.errors();
    let snapshot = ctx.stats.snapshot();
    let errors_total: u64 = errors.values().sum();
    // A fault asked for must have run and succeeded; a crash asked for must have happened.
    let disruptions_ok = (disrupt.fault.is_none() || faulted.as_ref().is_some_and(|record| record.succeeded))
        && (disrupt.crash_after.is_none() || crashed.is_some());
    if let Some(object) = figures.as_object_mut() {
        object.insert("target".into(), json!(wire));
        object.insert("server".into(), json!(server_desc));
        object.insert("nodes".into(), nodes);
        object.insert("rerouted".into(), json!(ctx.api.rerouted()));
        object.insert("errors".into(), json!(errors));
        object.insert("errors_total".into(), json!(errors_total));
        object.insert("transient_errors".into(), json!(snapshot.transient_errors));
        object.insert("sends_abandoned".into(), json!(snapshot.sends_abandoned));
        if let Some(mut crashed) = crashed {
            let before = crashed["acked_before"].as_u64().unwrap_or(0);
            crashed["acked_after"] = json!(snapshot.sends_acked.saturating_sub(before));
            object.insert("crash".into(), crashed);
        }
        if let Some(record) = &faulted {
            object.insert("fault".into(), record.json(snapshot.sends_acked));
        }
        object.insert("integrity".into(), json!({ "ok": verdict.ok(), "verdict": verdict }));
        if let Some(peak) = server_peak {
            object.insert("server_rss_peak_kib".into(), json!(peak.peak_rss_kib()));
        }
    }
    progress.log(&format!(
        "integrity: {} acked, {} lost, {} duplicated, {} reordered, {} gaps, {} mismatched; {} of {} chats drained; {errors_total} request errors ({} transient), {} rerouted",
        verdict.acked, verdict.lost, verdict.duplicated, verdict.reordered, verdict.gaps, verdict.mismatched, verdict.drained_chats, verdict.chats,
        snapshot.transient_errors, ctx.api.rerouted()
    ));
    if !disruptions_ok {
        progress.log("fault: the command failed (see fault.exit_code and fault.output_tail)");
    }
    Ok(ChatRun {
        figures,
        verdict,
        errors_total,
        transient_errors: snapshot.transient_errors,
        disrupted: ctx.disruptions.scheduled(),
        disruptions_ok,
        log_tail,
    })
}

/// Each node: its URL, pid, whether it was killed, and what it answered and refused.
fn nodes_json(target: &Target, api: &Api) -> Value {
    let mut nodes = target.nodes_json();
    if let Value::Array(list) = &mut nodes {
        for (node, count) in list.iter_mut().zip(api.node_counts()) {
            node["answered"] = json!(count.answered);
            node["refused"] = json!(count.refused);
        }
    }
    nodes
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
