//! Scenario 5, slow consumers: C chats whose agents send at a set total rate while (a share
//! of) the visitors stop polling for `--pause` seconds — their poll loops pause and a held poll
//! is dropped, as a tab gone to sleep. The server's RSS is read every second of the pause: with
//! bounded in-memory queues it stays flat, whatever piles up. Then the senders stop, the
//! visitors resume with their old cursors and must catch up — older events come from the
//! store — with nothing lost, repeated or out of order; the catch-up time is from the resume to
//! the moment every acknowledged message has been delivered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Outcome;
use crate::actors::Ctx;
use crate::chatroom::{drain, send_window, ChatRoom, RoomSize, Sending};
use crate::cli::{SlowArgs, TargetArgs};
use crate::ledger::Side;
use crate::procstat::{check_descriptors, ProcWatch};
use crate::report::{latency_json, Progress};
use crate::session::{describe, run_chats, Disrupt};
use crate::tap::PauseSwitch;

/// The presence grace a spawned server gets beyond the pause, seconds: without it the paused
/// visitors would count as gone (lease + grace, 30 s by default) and their chats be closed.
const GRACE_MARGIN_SECS: u64 = 60;
const GRACE_KEY: &str = "SWITCHBOARD_PRESENCE__GRACE_SECS";

/// Runs scenario 5.
pub async fn run(target_args: &TargetArgs, args: &SlowArgs, progress: &Progress) -> Result<Outcome, String> {
    if !(0.0..=1.0).contains(&args.slow_fraction) {
        return Err("--slow-fraction must be between 0 and 1".into());
    }
    if args.rate <= 0.0 || !args.rate.is_finite() {
        return Err("--rate must be above 0".into());
    }
    let size = RoomSize::of(&args.room, 200);
    let ulimit_needed = check_descriptors(size.connections(1))?;
    let mut target_args = target_args.clone();
    if target_args.spawn_server.is_some()
        && !target_args.server_env.iter().any(|pair| pair.starts_with(&format!("{GRACE_KEY}=")))
    {
        target_args.server_env.push(format!("{GRACE_KEY}={}", args.pause + GRACE_MARGIN_SECS));
    }
    let target_args = &target_args;
    let room_size = &size;
    let run = run_chats(target_args, progress, None, &Disrupt::default(), |ctx, watch| async move {
        drive(&ctx, target_args, args, room_size, watch, progress).await
    })
    .await?;
    let mut figures = run.figures;
    let own = json!({
        "senders": "agent",
        "rate": args.rate,
        "warmup_secs": args.warmup,
        "pause_secs": args.pause,
        "slow_fraction": args.slow_fraction,
    });
    describe(&mut figures, "slow", &size, args.room.body_chars, target_args, own, ulimit_needed);
    Ok(Outcome { summary: figures, ok: run.verdict.ok() })
}

/// The room, the paused window, the catch-up; the figures.
async fn drive(
    ctx: &Arc<Ctx>,
    target_args: &TargetArgs,
    args: &SlowArgs,
    size: &RoomSize,
    watch: Option<ProcWatch>,
    progress: &Progress,
) -> Result<Value, String> {
    let ledger = ctx.ledger.clone().ok_or("no ledger")?;
    let (pause_switch, pause) = PauseSwitch::new();
    let paused = ((size.chats as f64) * args.slow_fraction).round() as usize;
    let room = ChatRoom::open(ctx, target_args, size, Some((pause, paused)), progress).await?;
    let senders = room.senders(ctx, &[Side::Agent])?;
    let sending = Sending {
        rate: args.rate,
        messages: None,
        warmup: args.warmup,
        duration: Some(args.pause),
        body: "x".repeat(args.room.body_chars.max(1)).into(),
        retries: args.room.send_retries,
    };
    // The measured window of the sending is the pause: the visitors stop when the warm-up ends.
    let watch_pause = async {
        tokio::time::sleep(Duration::from_secs(args.warmup)).await;
        progress.log(&format!("pausing {paused} visitors for {} s", args.pause));
        pause_switch.set(true);
        rss_every_second(watch, args.pause).await
    };
    let ((window, _), rss) = tokio::join!(send_window(ctx, senders, &sending, watch, progress), watch_pause);

    // The senders have stopped and every acknowledgement is in: what the visitors owe is fixed.
    let pending = ledger.verdict().lost;
    let before = ctx.stats.snapshot();
    ctx.stats.reset_latency();
    progress.log(&format!("resuming: {pending} acknowledged messages not yet delivered"));
    let resumed = Instant::now();
    pause_switch.set(false);
    let drain_timeout = Duration::from_secs(args.room.drain_timeout.max(args.pause));
    let caught_up = drain(ctx, progress, drain_timeout).await;
    let catch_up_secs = resumed.elapsed().as_secs_f64();
    let caught_up_latency = ctx.stats.latency();
    let delivered_after = ctx.stats.snapshot().delivered - before.delivered;
    let rss_after = watch.and_then(|watch| watch.sample()).map(|sample| sample.rss_kib);
    progress.log(&format!(
        "caught up: {} in {catch_up_secs:.2} s, {delivered_after} messages delivered after the resume",
        if caught_up { "yes" } else { "NO (drain timed out)" }
    ));

    let chats_started = room.started.len();
    let drained = room.finish(ctx, progress, Duration::from_secs(args.room.drain_timeout)).await;
    let rss_start = rss.first().copied();
    let rss_peak = rss.iter().copied().max();
    let rss_end = rss.last().copied();
    let rss_min = rss.iter().copied().min();
    progress.log(&format!(
        "server RSS during the pause: start {} KiB, peak {} KiB, lowest {} KiB, end {} KiB",
        rss_start.map_or("?".into(), |kib| kib.to_string()),
        rss_peak.map_or("?".into(), |kib| kib.to_string()),
        rss_min.map_or("?".into(), |kib| kib.to_string()),
        rss_end.map_or("?".into(), |kib| kib.to_string()),
    ));
    Ok(json!({
        "chats_started": chats_started,
        "visitors_paused": paused.min(chats_started),
        "sending_during_pause": window.json(),
        "pause": {
            "secs": args.pause,
            "server_rss_kib_every_second": rss,
            "rss_start_kib": rss_start,
            "rss_peak_kib": rss_peak,
            "rss_end_kib": rss_end,
            "rss_growth_kib": rss_start.zip(rss_end).map(|(start, end)| end as i64 - start as i64),
            "rss_peak_above_start_kib": rss_start.zip(rss_peak).map(|(start, peak)| peak as i64 - start as i64),
            // The allocator hands setup memory (Argon2 arenas) back at some moment of the run,
            // which reads as a fall; growth from the lowest reading is what the pause added.
            "rss_min_kib": rss_min,
            "rss_end_above_min_kib": rss_min.zip(rss_end).map(|(min, end)| end - min),
        },
        "catch_up": {
            "acked_not_delivered_at_resume": pending,
            "delivered_after_resume": delivered_after,
            "complete": caught_up,
            "secs": (catch_up_secs * 1000.0).round() / 1000.0,
            "latency_of_caught_up_us": latency_json(&caught_up_latency),
            "server_rss_after_kib": rss_after,
        },
        "drained": drained,
    }))
}

/// The server's RSS (KiB) every second for `secs` seconds, the first reading at once.
async fn rss_every_second(watch: Option<ProcWatch>, secs: u64) -> Vec<u64> {
    let Some(watch) = watch else { return Vec::new() };
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut samples = Vec::new();
    for _ in 0..=secs {
        ticker.tick().await;
        if let Some(sample) = watch.sample() {
            samples.push(sample.rss_kib);
        }
    }
    samples
}
