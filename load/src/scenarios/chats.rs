//! The chat scenarios: C chats between visitors and agents (agents holding up to their
//! `max_chats`), sending as fast as the server takes them or at a set rate; then every chat is
//! drained and closed, and the ledger says whether every acknowledged message reached the other
//! side exactly once and in order.
//!
//! `throughput` measures a window of `--duration` seconds after `--warmup`; `integrity` sends
//! `--messages` per chat and is strict: any request error fails the run too.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::Outcome;
use crate::actors::Ctx;
use crate::chatroom::{send_window, ChatRoom, RoomSize, Sending};
use crate::cli::{ChatArgs, Senders, TargetArgs};
use crate::ledger::Side;
use crate::procstat::{check_descriptors, ProcWatch};
use crate::report::{self, Progress};
use crate::session::{describe, run_chats, Disrupt};

/// Which chat scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Measure delivered messages/s and latency.
    Throughput,
    /// A short strict check for CI.
    Integrity,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Throughput => "throughput",
            Mode::Integrity => "integrity",
        }
    }
}

/// The sides that send, per `--senders`.
pub fn sending_sides(senders: Senders) -> Vec<Side> {
    match senders {
        Senders::Both => vec![Side::Visitor, Side::Agent],
        Senders::Visitor => vec![Side::Visitor],
        Senders::Agent => vec![Side::Agent],
    }
}

/// Runs a chat scenario against the target of `target_args`.
pub async fn run(
    target_args: &TargetArgs,
    args: &ChatArgs,
    mode: Mode,
    progress: &Progress,
) -> Result<Outcome, String> {
    let messages = args.messages.or((mode == Mode::Integrity).then_some(20));
    let duration = args.duration.or((mode == Mode::Throughput).then_some(30));
    let warmup = if mode == Mode::Integrity { 0 } else { args.warmup };
    let size = RoomSize::of(&args.room, 100);
    let sides = sending_sides(args.senders);
    let ulimit_needed = check_descriptors(size.connections(sides.len()))?;
    let sending = Sending {
        rate: args.rate,
        messages,
        warmup,
        duration,
        body: "x".repeat(args.room.body_chars.max(1)).into(),
        retries: args.room.send_retries,
    };
    let room_size = &size;
    let disrupt = Disrupt {
        crash_after: args.crash_after.map(Duration::from_secs_f64),
        fault: args.fault_after.map(Duration::from_secs_f64).zip(args.fault_cmd.clone()),
    };
    let drain_timeout = drain_timeout(args, target_args, &disrupt);
    let run =
        run_chats(target_args, progress, args.self_check_drop_every, &disrupt, |ctx, watch| async move {
            drive(&ctx, target_args, room_size, mode, progress, &sides, &sending, watch, drain_timeout).await
        })
        .await?;
    let ok = match mode {
        Mode::Integrity => run.strictly_ok(),
        Mode::Throughput => run.verdict.ok() && run.disruptions_ok,
    };
    if !ok {
        progress.log(&run.log_tail);
    }
    let mut figures = run.figures;
    let own = json!({
        "senders": format!("{:?}", args.senders).to_lowercase(),
        "messages_per_chat": messages,
        "duration_secs": duration,
        "warmup_secs": warmup,
        "rate": args.rate,
        "drain_timeout_secs": drain_timeout.as_secs(),
        "crash_after_secs": args.crash_after,
        "fault_after_secs": args.fault_after,
        "nodes": target_args.nodes,
    });
    describe(&mut figures, mode.name(), &size, args.room.body_chars, target_args, own, ulimit_needed);
    Ok(Outcome { summary: figures, ok })
}

/// How long the end waits for every message: `--drain-timeout`, and after a disruption at
/// least two poll holds and a margin — a wake-up lost while a dependency was down arrives at the
/// next store re-check, at worst a hold later.
fn drain_timeout(args: &ChatArgs, target_args: &TargetArgs, disrupt: &Disrupt) -> Duration {
    let asked = Duration::from_secs(args.room.drain_timeout);
    if disrupt.crash_after.is_none() && disrupt.fault.is_none() {
        return asked;
    }
    asked.max(Duration::from_secs(2 * target_args.hold + 5))
}

/// The run itself, between starting and stopping the server; returns the measured figures.
#[allow(clippy::too_many_arguments)]
async fn drive(
    ctx: &Arc<Ctx>,
    target_args: &TargetArgs,
    size: &RoomSize,
    mode: Mode,
    progress: &Progress,
    sides: &[Side],
    sending: &Sending,
    watch: Option<ProcWatch>,
    drain_timeout: Duration,
) -> Result<Value, String> {
    let room = ChatRoom::open(ctx, target_args, size, None, progress).await?;
    let senders = room.senders(ctx, sides)?;
    let (window, _) = send_window(ctx, senders, sending, watch, progress).await;
    let chats_started = room.started.len();
    let drained = room.finish(ctx, progress, drain_timeout).await;

    let final_snapshot = ctx.stats.snapshot();
    progress.log(&format!("{}: {chats_started} chats, {}", mode.name(), window.line()));
    let mut figures = window.json();
    if let Some(object) = figures.as_object_mut() {
        object.insert("chats_started".into(), json!(chats_started));
        object.insert(
            "totals".into(),
            json!({
                "send_secs": report::round1(window.send_secs),
                "sends_started": final_snapshot.sends_started,
                "acked": final_snapshot.sends_acked,
                "delivered": final_snapshot.delivered,
                "polls_answered": final_snapshot.polls_answered,
                "polls_peak": final_snapshot.polls_peak,
                "late_sends": window.late,
            }),
        );
        object.insert("drained".into(), json!(drained));
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Scenario};

    /// `integrity` against a real nginx + nchan spawned for the test, with `extra` options;
    /// `None` (said loudly) where nginx or the nchan module is not installed.
    async fn integrity_on_nchan(extra: &[&str]) -> Option<Outcome> {
        let cli = Cli::parse_from(
            ["switchboard-load", "--spawn-nchan", "--no-progress", "--hold", "5", "integrity"]
                .iter()
                .chain(["--chats", "5", "--messages", "30", "--senders", "agent"].iter())
                .chain(extra),
        );
        let missing = [cli.target.spawn_nchan.as_deref(), Some(cli.target.nchan_module.as_path())]
            .into_iter()
            .flatten()
            .find(|path| !path.exists());
        if let Some(path) = missing {
            eprintln!(
                "SKIPPED: {} is not installed (apt-get install nginx-light libnginx-mod-nchan)",
                path.display()
            );
            return None;
        }
        let Scenario::Integrity(args) = &cli.scenario else { panic!("integrity expected") };
        let outcome = run(&cli.target, args, Mode::Integrity, &Progress::silent()).await;
        Some(outcome.expect("the run could be carried out"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_loop_on_real_nchan_delivers_every_message_once_in_order() {
        let Some(outcome) = integrity_on_nchan(&[]).await else { return };
        let summary = &outcome.summary;
        assert!(outcome.ok, "{summary:#}");
        assert_eq!(summary["target"], "nchan");
        assert_eq!(summary["integrity"]["verdict"]["acked"], 150, "{summary:#}");
        assert_eq!(summary["integrity"]["verdict"]["drained_chats"], 5);
        assert_eq!(summary["totals"]["delivered"], 150);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_check_on_nchan_fails_when_deliveries_are_ignored() {
        let Some(outcome) =
            integrity_on_nchan(&["--self-check-drop-every", "7", "--drain-timeout", "2"]).await
        else {
            return;
        };
        assert!(!outcome.ok, "{:#}", outcome.summary);
        assert!(outcome.summary["integrity"]["verdict"]["lost"].as_u64() > Some(0));
    }
}
