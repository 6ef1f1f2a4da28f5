//! The chat scenarios: C chats between visitors and agents (agents holding up to their
//! `max_chats`), sending as fast as the server takes them or at a set rate; then every chat is
//! drained and closed, and the ledger says whether every acknowledged message reached the other
//! side exactly once and in order.
//!
//! `throughput` measures a window of `--duration` seconds after `--warmup`; `integrity` sends
//! `--messages` per chat and is strict: any request error fails the run too.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::Outcome;
use crate::actors::{poll_loop, send_loop, Ctx, Poller, SendPlan, Sender, StopSwitch};
use crate::cli::{ChatArgs, Senders, TargetArgs};
use crate::client::{decode, Api};
use crate::ledger::{lock, Ledger, Side};
use crate::population::{self, Agent, Visitor};
use crate::procstat::{check_descriptors, MachineSample, ProcSample, ProcWatch};
use crate::report::{self, latency_json, PeakWatch, Progress};
use crate::server::Target;
use crate::stats::{Snapshot, Stats};

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

/// A chat this run started.
struct StartedChat {
    chat_id: String,
    visitor: usize,
    agent: usize,
}

#[derive(Deserialize)]
struct StartAnswer {
    chat_id: String,
    seq: i64,
}

#[derive(Deserialize)]
struct CloseAnswer {
    seq: i64,
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
    let chats = args.chats.max(1);
    let max_chats = args.agent_max_chats.max(1);
    let agent_count = chats.div_ceil(max_chats);
    let sides: Vec<Side> = match args.senders {
        Senders::Both => vec![Side::Visitor, Side::Agent],
        Senders::Visitor => vec![Side::Visitor],
        Senders::Agent => vec![Side::Agent],
    };
    let connections = chats + agent_count + chats * sides.len() + args.setup_concurrency;
    let ulimit_needed = check_descriptors(connections as u64)?;

    let target = Target::switchboard(target_args).await?;
    let watch = target.pid.map(ProcWatch::new);
    let stats = Arc::new(Stats::new());
    let ledger = Arc::new(Ledger::default());
    let api =
        Api::new(&target.base_url, target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
    let ctx = Arc::new(Ctx {
        api: api.clone(),
        stats: Arc::clone(&stats),
        ledger: Some(Arc::clone(&ledger)),
        hold: target_args.hold,
        drop_every: args.self_check_drop_every,
        received: AtomicU64::new(0),
    });
    let ticker = report::spawn_ticker(progress.clone(), Arc::clone(&stats), watch);
    let server_peak = watch.map(PeakWatch::start);
    let result =
        drive(&ctx, &api, target_args, args, mode, progress, &sides, (messages, duration, warmup), watch)
            .await;
    ticker.abort();
    let server_desc = target.description.clone();
    let log_tail = target.log_tail();
    target.stop().await;
    let mut figures = result.map_err(|error| format!("{error}\n{log_tail}"))?;

    let verdict = ledger.verdict();
    let errors = stats.errors();
    let errors_total: u64 = errors.values().sum();
    let ok = verdict.ok() && (mode == Mode::Throughput || errors_total == 0);
    if let Some(object) = figures.as_object_mut() {
        object.insert("scenario".into(), json!(mode.name()));
        object.insert("server".into(), json!(server_desc));
        object.insert(
            "settings".into(),
            json!({
                "chats": chats,
                "agents": agent_count,
                "agent_max_chats": max_chats,
                "senders": format!("{:?}", args.senders).to_lowercase(),
                "messages_per_chat": messages,
                "duration_secs": duration,
                "warmup_secs": warmup,
                "rate": args.rate,
                "body_chars": args.body_chars,
                "hold_secs": target_args.hold,
                "source_addrs": target_args.source_addrs,
                "server_workers": target_args.server_workers,
            }),
        );
        object.insert("ulimit_n_needed".into(), json!(ulimit_needed));
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
    Ok(Outcome { summary: figures, ok })
}

/// The run itself, between starting and stopping the server; returns the measured figures.
#[allow(clippy::too_many_arguments)]
async fn drive(
    ctx: &Arc<Ctx>,
    api: &Api,
    target_args: &TargetArgs,
    args: &ChatArgs,
    mode: Mode,
    progress: &Progress,
    sides: &[Side],
    (messages, duration, warmup): (Option<u64>, Option<u64>, u64),
    watch: Option<ProcWatch>,
) -> Result<Value, String> {
    let stats = &ctx.stats;
    let ledger = ctx.ledger.clone().ok_or("no ledger")?;
    let chats = args.chats.max(1);
    let max_chats = args.agent_max_chats.max(1);
    let admin =
        population::admin_token(api, &target_args.admin_employee_id, &target_args.admin_password).await?;
    let agents = population::agents(
        api,
        stats,
        progress,
        &admin,
        chats.div_ceil(max_chats),
        max_chats,
        args.setup_concurrency,
    )
    .await?;
    let visitors = population::visitors(api, stats, progress, chats, args.setup_concurrency).await?;

    let (poll_switch, poll_stop) = StopSwitch::new();
    let mut polls = Vec::new();
    progress.phase("agents coming online", Some(agents.len() as u64));
    let mut onlines = Vec::new();
    for (index, agent) in agents.iter().enumerate() {
        let (online, arrived) = oneshot::channel();
        onlines.push(arrived);
        let poller = Poller {
            token: Some(agent.token.clone()),
            side: Side::Agent,
            slot: index,
            tab: format!("a{index}"),
        };
        polls.push(tokio::spawn(poll_loop(Arc::clone(ctx), poller, Some(online), poll_stop.clone())));
    }
    for arrived in onlines {
        tokio::time::timeout(Duration::from_secs(60), arrived)
            .await
            .map_err(|_| "an agent's first poll got no answer within 60 s")?
            .map_err(|_| "an agent's poll loop ended before its first answer")?;
        progress.inc();
    }
    for (index, visitor) in visitors.iter().enumerate() {
        let poller = Poller {
            token: Some(visitor.token.clone()),
            side: Side::Visitor,
            slot: index,
            tab: format!("v{index}"),
        };
        polls.push(tokio::spawn(poll_loop(Arc::clone(ctx), poller, None, poll_stop.clone())));
    }

    let started =
        start_chats(api, stats, &ledger, progress, &agents, &visitors, max_chats, args.setup_concurrency)
            .await;
    if started.is_empty() {
        poll_switch.stop();
        return Err("no chat could be started (see the errors)".into());
    }

    // Sending.
    let (send_switch, send_stop) = StopSwitch::new();
    let senders_total = started.len() * sides.len();
    let interval = (args.rate > 0.0).then(|| Duration::from_secs_f64(senders_total as f64 / args.rate));
    let body: Arc<str> = "x".repeat(args.body_chars.max(1)).into();
    let mut sends = Vec::new();
    for chat in &started {
        for (index, side) in sides.iter().enumerate() {
            let (token, slot) = match side {
                Side::Visitor => (visitors[chat.visitor].token.clone(), chat.visitor),
                Side::Agent => (agents[chat.agent].token.clone(), chat.agent),
            };
            // Split the chat's messages between the senders, the visitor taking the odd one.
            let share = messages.map(|total| (total + (sides.len() - 1 - index) as u64) / sides.len() as u64);
            let plan =
                SendPlan { messages: share, interval, body: Arc::clone(&body), retries: args.send_retries };
            let sender = Sender {
                chat_id: chat.chat_id.clone(),
                chat: ledger.chat(&chat.chat_id),
                side: *side,
                token,
                slot,
            };
            sends.push(tokio::spawn(send_loop(Arc::clone(ctx), sender, plan, send_stop.clone())));
        }
    }
    progress.phase("sending", None);
    let mut senders_done = Box::pin(join_all(sends));
    let mut late_sends = None;
    let send_start = Instant::now();
    if warmup > 0 {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(warmup)) => {}
            late = &mut senders_done => late_sends = Some(late),
        }
    }
    stats.reset_latency();
    let window_from = Edge::now(stats, watch);
    if late_sends.is_none() {
        let window = async {
            match duration {
                Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = window => {}
            late = &mut senders_done => late_sends = Some(late),
        }
    }
    let window_to = Edge::now(stats, watch);
    send_switch.stop();
    let late_sends = match late_sends {
        Some(late) => late,
        None => senders_done.await,
    };
    let late_sends: u64 = late_sends.into_iter().map(|late| late.unwrap_or(0)).sum();
    let latency = stats.latency();
    let send_secs = send_start.elapsed().as_secs_f64();

    // Drain, close every chat, drain again.
    let drain_timeout = Duration::from_secs(args.drain_timeout);
    drain(&ledger, progress, drain_timeout).await;
    close_chats(api, stats, &ledger, progress, &visitors, &started, args.setup_concurrency).await;
    let drained = drain(&ledger, progress, drain_timeout).await;
    poll_switch.stop();
    join_all(polls).await;

    let window_secs = window_to.at.duration_since(window_from.at).as_secs_f64().max(1e-9);
    let delivered = window_to.counters.delivered - window_from.counters.delivered;
    let acked = window_to.counters.sends_acked - window_from.counters.sends_acked;
    let final_snapshot = stats.snapshot();
    progress.log(&format!(
        "{}: {} chats, window {window_secs:.1} s: {:.0} messages/s acknowledged, {:.0} delivered; latency p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
        mode.name(),
        started.len(),
        acked as f64 / window_secs,
        delivered as f64 / window_secs,
        latency.value_at_quantile(0.5),
        latency.value_at_quantile(0.99),
        latency.value_at_quantile(0.999),
        latency.max(),
    ));
    Ok(json!({
        "chats_started": started.len(),
        "window_secs": report::round1(window_secs),
        "acked_per_sec": report::round1(acked as f64 / window_secs),
        "delivered_per_sec": report::round1(delivered as f64 / window_secs),
        "latency_us": latency_json(&latency),
        "totals": {
            "send_secs": report::round1(send_secs),
            "sends_started": final_snapshot.sends_started,
            "acked": final_snapshot.sends_acked,
            "delivered": final_snapshot.delivered,
            "polls_answered": final_snapshot.polls_answered,
            "polls_peak": final_snapshot.polls_peak,
            "late_sends": late_sends,
        },
        "drained": drained,
        "server_process": report::process_json(window_from.server.as_ref(), window_to.server.as_ref(), None),
        "load_process": report::process_json(window_from.load.as_ref(), window_to.load.as_ref(), None),
        "machine": report::machine_json(
            window_from.machine.as_ref(),
            window_to.machine.as_ref(),
            (window_from.server.as_ref(), window_to.server.as_ref()),
            (window_from.load.as_ref(), window_to.load.as_ref()),
        ),
    }))
}

/// The counters and processes at one edge of the measured window.
struct Edge {
    at: Instant,
    counters: Snapshot,
    server: Option<ProcSample>,
    load: Option<ProcSample>,
    machine: Option<MachineSample>,
}

impl Edge {
    fn now(stats: &Stats, server: Option<ProcWatch>) -> Self {
        Self {
            at: Instant::now(),
            counters: stats.snapshot(),
            server: server.and_then(|watch| watch.sample()),
            load: ProcWatch::this_process().sample(),
            machine: MachineSample::now(),
        }
    }
}

/// Each visitor starts a chat with its chosen agent (chat i goes to agent i / max_chats, so
/// each agent holds exactly its `max_chats`).
#[allow(clippy::too_many_arguments)]
async fn start_chats(
    api: &Api,
    stats: &Stats,
    ledger: &Ledger,
    progress: &Progress,
    agents: &[Agent],
    visitors: &[Visitor],
    max_chats: usize,
    concurrency: usize,
) -> Vec<StartedChat> {
    progress.phase("starting chats", Some(visitors.len() as u64));
    let results: Vec<Option<StartedChat>> = stream::iter(visitors.iter().enumerate())
        .map(|(index, visitor)| async move {
            let agent = index / max_chats;
            let agent_id = &agents.get(agent)?.agent_id;
            let body = json!({ "agent_id": agent_id });
            let answer = api
                .post(index, "/api/chats", Some(&visitor.token), &body, Duration::from_secs(60))
                .await
                .and_then(|body| decode::<StartAnswer>(body.as_ref(), "chat start answer"));
            progress.inc();
            match answer {
                Ok(answer) => {
                    lock(&ledger.chat(&answer.chat_id)).reached(answer.seq);
                    Some(StartedChat { chat_id: answer.chat_id, visitor: index, agent })
                }
                Err(error) => {
                    stats.error(error.kind("POST /api/chats"));
                    None
                }
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().flatten().collect()
}

/// Each visitor closes its chat; the closing event joins what both sides must receive.
async fn close_chats(
    api: &Api,
    stats: &Stats,
    ledger: &Ledger,
    progress: &Progress,
    visitors: &[Visitor],
    started: &[StartedChat],
    concurrency: usize,
) {
    progress.phase("closing chats", Some(started.len() as u64));
    stream::iter(started)
        .for_each_concurrent(concurrency.max(1), |chat| async move {
            let path = format!("/api/chats/{}/close", chat.chat_id);
            let answer = api
                .post(
                    chat.visitor,
                    &path,
                    Some(&visitors[chat.visitor].token),
                    &json!({}),
                    Duration::from_secs(60),
                )
                .await
                .and_then(|body| decode::<CloseAnswer>(body.as_ref(), "close answer"));
            match answer {
                Ok(answer) => lock(&ledger.chat(&chat.chat_id)).reached(answer.seq),
                Err(error) => stats.error(error.kind("POST /api/chats/{id}/close")),
            }
            progress.inc();
        })
        .await;
}

/// Waits until both sides of every chat have received everything the server announced, or
/// `timeout`; true when they have.
async fn drain(ledger: &Ledger, progress: &Progress, timeout: Duration) -> bool {
    let (_, total) = ledger.drained();
    progress.phase("draining", Some(total as u64));
    let deadline = Instant::now() + timeout;
    loop {
        let (drained, total) = ledger.drained();
        progress.set_position(drained as u64);
        if drained == total {
            return true;
        }
        if Instant::now() > deadline {
            progress.log(&format!("drain timed out: {drained} of {total} chats drained"));
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
