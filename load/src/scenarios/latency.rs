//! Scenario 3, latency under load: C chats (5,000 by default, agents holding 5 each) sending
//! open loop at fixed total rates, senders at random phases so the load is smooth. Each rate is
//! a step on the same chats: a warm-up, a measured window, then the senders stop and every
//! acknowledged message is drained before the next step, so one step's backlog never counts in
//! the next one's latency. At the end every chat is closed and the ledger judges the whole run.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::chats::sending_sides;
use super::Outcome;
use crate::actors::{Ctx, Sender};
use crate::chatroom::{drain, send_window, ChatRoom, RoomSize, Sending, Window};
use crate::cli::{LatencyArgs, TargetArgs};
use crate::plot::{chart, Series, YScale};
use crate::procstat::{check_descriptors, ProcWatch};
use crate::report::Progress;
use crate::session::{describe, run_chats, Disrupt};

/// The rate the targets are stated at, messages/s.
const TARGET_RATE: f64 = 5_000.0;
/// p99 send→delivery at that rate must be at most this, µs.
const TARGET_P99_US: u64 = 5_000;
/// p99.9 at that rate must be at most this, µs.
const TARGET_P99_9_US: u64 = 20_000;

/// One rate's figures.
struct Step {
    rate: f64,
    window: Window,
    drained: bool,
    errors: Value,
}

impl Step {
    fn quantile_ms(&self, quantile: f64) -> f64 {
        self.window.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// Whether this step is at the targets' rate and meets them; `None` at other rates.
    fn meets_targets(&self) -> Option<bool> {
        let latency = &self.window.latency;
        ((self.rate - TARGET_RATE).abs() < 0.5).then(|| {
            !latency.is_empty()
                && latency.value_at_quantile(0.99) <= TARGET_P99_US
                && latency.value_at_quantile(0.999) <= TARGET_P99_9_US
        })
    }

    fn json(&self) -> Value {
        let mut figures = self.window.json();
        if let Some(object) = figures.as_object_mut() {
            object.insert("rate".into(), json!(self.rate));
            object.insert("late_sends".into(), json!(self.window.late));
            object.insert("drained_after".into(), json!(self.drained));
            object.insert("errors_during_step".into(), self.errors.clone());
            object.insert("meets_targets".into(), json!(self.meets_targets()));
        }
        figures
    }
}

/// Runs scenario 3.
pub async fn run(
    target_args: &TargetArgs,
    args: &LatencyArgs,
    progress: &Progress,
) -> Result<Outcome, String> {
    if args.rates.is_empty() || args.rates.iter().any(|rate| !rate.is_finite() || *rate <= 0.0) {
        return Err("--rates: give one or more rates above 0, e.g. 1000,2000,5000".into());
    }
    let size = RoomSize::of(&args.room, 5_000);
    let sides = sending_sides(args.senders);
    let ulimit_needed = check_descriptors(size.connections(sides.len()))?;
    let room_size = &size;
    let run = run_chats(target_args, progress, None, &Disrupt::default(), |ctx, watch| async move {
        sweep(&ctx, target_args, args, room_size, &sides, watch, progress).await
    })
    .await?;
    let mut figures = run.figures;
    let own = json!({
        "senders": format!("{:?}", args.senders).to_lowercase(),
        "rates": args.rates,
        "warmup_secs": args.warmup,
        "duration_secs": args.duration,
    });
    describe(&mut figures, "latency", &size, args.room.body_chars, target_args, own, ulimit_needed);
    if let Some(object) = figures.as_object_mut() {
        object.insert(
            "targets".into(),
            json!({ "rate": TARGET_RATE, "p99_us_max": TARGET_P99_US, "p99_9_us_max": TARGET_P99_9_US }),
        );
    }
    Ok(Outcome { summary: figures, ok: run.verdict.ok() })
}

/// Opens the room, measures every rate on it, closes it; the steps' figures.
async fn sweep(
    ctx: &Arc<Ctx>,
    target_args: &TargetArgs,
    args: &LatencyArgs,
    size: &RoomSize,
    sides: &[crate::ledger::Side],
    watch: Option<ProcWatch>,
    progress: &Progress,
) -> Result<Value, String> {
    let room = ChatRoom::open(ctx, target_args, size, None, progress).await?;
    let mut senders: Vec<Sender> = room.senders(ctx, sides)?;
    let body: Arc<str> = "x".repeat(args.room.body_chars.max(1)).into();
    let drain_timeout = Duration::from_secs(args.room.drain_timeout);
    let mut steps = Vec::new();
    for &rate in &args.rates {
        progress.log(&format!(
            "rate {rate:.0} messages/s over {} senders: {} s warm-up, {} s measured",
            senders.len(),
            args.warmup,
            args.duration
        ));
        let errors_before = ctx.stats.errors();
        let sending = Sending {
            rate,
            messages: None,
            warmup: args.warmup,
            duration: Some(args.duration),
            body: Arc::clone(&body),
            retries: args.room.send_retries,
        };
        let (window, back) = send_window(ctx, senders, &sending, watch, progress).await;
        senders = back;
        let drained = drain(ctx, progress, drain_timeout).await;
        let step = Step { rate, window, drained, errors: json!(ctx.stats.errors_since(&errors_before)) };
        progress.log(&format!(
            "  {rate:.0}/s: {}; server CPU {}%, RSS {} MiB{}",
            step.window.line(),
            step.window.server_cpu_percent().map_or("?".into(), |cpu| format!("{cpu:.0}")),
            step.window.server_rss_kib().map_or("?".into(), |kib| (kib / 1024).to_string()),
            match step.meets_targets() {
                Some(true) =>
                    format!("; targets met (p99 ≤ {TARGET_P99_US} µs, p99.9 ≤ {TARGET_P99_9_US} µs)"),
                Some(false) =>
                    format!("; targets MISSED (p99 ≤ {TARGET_P99_US} µs, p99.9 ≤ {TARGET_P99_9_US} µs)"),
                None => String::new(),
            }
        ));
        steps.push(step);
    }
    let chats_started = room.started.len();
    let drained = room.finish(ctx, progress, drain_timeout).await;
    if let Some(path) = &args.plot {
        std::fs::write(path, plot(&steps)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let snapshot = ctx.stats.snapshot();
    Ok(json!({
        "chats_started": chats_started,
        "steps": steps.iter().map(Step::json).collect::<Vec<_>>(),
        "totals": {
            "sends_started": snapshot.sends_started,
            "acked": snapshot.sends_acked,
            "delivered": snapshot.delivered,
            "polls_answered": snapshot.polls_answered,
        },
        "drained": drained,
        "plot": args.plot.as_ref().map(|path| path.display().to_string()),
    }))
}

/// p50, p99 and p99.9 against the rate, milliseconds on a log scale.
fn plot(steps: &[Step]) -> String {
    let series = [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)].map(|(name, quantile)| Series {
        name: name.to_string(),
        points: steps
            .iter()
            .filter(|step| !step.window.latency.is_empty())
            .map(|step| (step.rate, step.quantile_ms(quantile)))
            .collect(),
    });
    chart(
        "Send→delivery latency against the offered rate",
        "messages/s (offered, both sides)",
        "latency (ms, log scale)",
        &series,
        YScale::Log,
    )
}
