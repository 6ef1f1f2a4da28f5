//! The pieces every chat scenario is built of: a room of agents and visitors whose poll loops
//! run and whose chats are open (chat i goes to agent i / max_chats, so each agent holds
//! exactly its `max_chats`), a window of sending at a rate or as fast as acknowledged, and the
//! end: drain, close every chat, drain again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::actors::{poll_loop, send_loop, Ctx, Poller, SendPlan, Sender, Stop, StopSwitch};
use crate::cli::TargetArgs;
use crate::client::decode;
use crate::ledger::{lock, Side};
use crate::population::{self, Agent, Visitor};
use crate::procstat::{self, MachineSample, ProcSample, ProcWatch};
use crate::report::{self, latency_json, Progress};
use crate::stats::Snapshot;
use crate::tap::Pause;
use crate::wire::Wire;

/// A chat this run started.
pub struct StartedChat {
    /// Its id.
    pub chat_id: String,
    /// Index of its visitor.
    pub visitor: usize,
    /// Index of its agent.
    pub agent: usize,
}

#[derive(Deserialize)]
struct StartAnswer {
    chat_id: String,
    seq: i64,
}

/// The tab visitor `index` polls from (and names in its sends).
fn visitor_tab(index: usize) -> String {
    format!("v{index}")
}

/// The tab agent `index` polls from (and names in its sends).
fn agent_tab(index: usize) -> String {
    format!("a{index}")
}

/// How long a close is tried again in a run with disruptions.
const CLOSE_RETRY_WINDOW: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct CloseAnswer {
    seq: i64,
}

/// How many people a room has.
pub struct RoomSize {
    /// Chats (one visitor each).
    pub chats: usize,
    /// Chats per agent (the agents' max_chats).
    pub max_chats: usize,
    /// Concurrent requests while creating people and starting or closing chats.
    pub setup_concurrency: usize,
}

/// Agents and visitors polling, their chats open.
pub struct ChatRoom {
    /// The logged-in agents.
    pub agents: Vec<Agent>,
    /// The visitors.
    pub visitors: Vec<Visitor>,
    /// The chats that could be started.
    pub started: Vec<StartedChat>,
    concurrency: usize,
    polls: Vec<JoinHandle<()>>,
    poll_switch: StopSwitch,
}

impl RoomSize {
    /// The room `--chats` (or `default_chats`) and its options ask for.
    pub fn of(args: &crate::cli::RoomArgs, default_chats: usize) -> Self {
        Self {
            chats: args.chats_or(default_chats),
            max_chats: args.agent_max_chats.max(1),
            setup_concurrency: args.setup_concurrency.max(1),
        }
    }

    /// Agents needed.
    pub fn agents(&self) -> usize {
        self.chats.div_ceil(self.max_chats.max(1))
    }

    /// Connections the room can have open at once with `sides` senders per chat: a poll per
    /// person, a send per sender, the setup's.
    pub fn connections(&self, sides: usize) -> u64 {
        (self.chats + self.agents() + self.chats * sides + self.setup_concurrency) as u64
    }
}

impl ChatRoom {
    /// Creates the people, brings the agents online, starts every visitor's poll loop (the
    /// first `paused` visitors' loops obey `pause`) and opens the chats.
    pub async fn open(
        ctx: &Arc<Ctx>,
        target_args: &TargetArgs,
        size: &RoomSize,
        pause: Option<(Pause, usize)>,
        progress: &Progress,
    ) -> Result<Self, String> {
        if ctx.wire == Wire::Nchan {
            return Ok(Self::channels(ctx, size));
        }
        let api = &ctx.api;
        let stats = &ctx.stats;
        let max_chats = size.max_chats.max(1);
        let admin =
            population::admin_token(api, &target_args.admin_employee_id, &target_args.admin_password).await?;
        let agents = population::agents(
            api,
            stats,
            progress,
            &admin,
            size.agents(),
            max_chats,
            size.setup_concurrency,
        )
        .await?;
        let visitors = population::visitors(api, stats, progress, size.chats, size.setup_concurrency).await?;

        let (poll_switch, poll_stop) = StopSwitch::new();
        let mut room = Self {
            agents,
            visitors,
            started: Vec::new(),
            concurrency: size.setup_concurrency.max(1),
            polls: Vec::new(),
            poll_switch,
        };
        room.agents_online(ctx, &poll_stop, progress).await?;
        for (index, visitor) in room.visitors.iter().enumerate() {
            let mut poller =
                Poller::new(Some(visitor.token.clone()), Side::Visitor, index, visitor_tab(index));
            poller.pause =
                pause.as_ref().filter(|(_, paused)| index < *paused).map(|(pause, _)| pause.clone());
            room.polls.push(tokio::spawn(poll_loop(Arc::clone(ctx), poller, None, poll_stop.clone())));
        }
        room.start_chats(ctx, max_chats, progress).await;
        if room.started.is_empty() {
            room.poll_switch.stop();
            return Err("no chat could be started (see the errors)".into());
        }
        Ok(room)
    }

    /// nginx + nchan's room: no people to create, one channel per chat (`c0`, `c1`, …), its
    /// visitor subscribed to it; the agent publishes without a subscription of its own.
    fn channels(ctx: &Arc<Ctx>, size: &RoomSize) -> Self {
        let (poll_switch, poll_stop) = StopSwitch::new();
        let started: Vec<StartedChat> = (0..size.chats)
            .map(|index| StartedChat {
                chat_id: format!("c{index}"),
                visitor: index,
                agent: index / size.max_chats.max(1),
            })
            .collect();
        let polls = started
            .iter()
            .map(|chat| {
                let poller = Poller::new(None, Side::Visitor, chat.visitor, chat.chat_id.clone());
                tokio::spawn(poll_loop(Arc::clone(ctx), poller, None, poll_stop.clone()))
            })
            .collect();
        Self {
            agents: Vec::new(),
            visitors: Vec::new(),
            started,
            concurrency: size.setup_concurrency.max(1),
            polls,
            poll_switch,
        }
    }

    /// Starts the agents' poll loops and waits for each one's first answer: from then on the
    /// server offers it chats.
    async fn agents_online(
        &mut self,
        ctx: &Arc<Ctx>,
        stop: &Stop,
        progress: &Progress,
    ) -> Result<(), String> {
        progress.phase("agents coming online", Some(self.agents.len() as u64));
        let mut onlines = Vec::new();
        for (index, agent) in self.agents.iter().enumerate() {
            let (online, arrived) = oneshot::channel();
            onlines.push(arrived);
            let poller = Poller::new(Some(agent.token.clone()), Side::Agent, index, agent_tab(index));
            self.polls.push(tokio::spawn(poll_loop(Arc::clone(ctx), poller, Some(online), stop.clone())));
        }
        for arrived in onlines {
            tokio::time::timeout(Duration::from_secs(60), arrived)
                .await
                .map_err(|_| "an agent's first poll got no answer within 60 s")?
                .map_err(|_| "an agent's poll loop ended before its first answer")?;
            progress.inc();
        }
        Ok(())
    }

    /// Each visitor starts a chat with its chosen agent.
    async fn start_chats(&mut self, ctx: &Ctx, max_chats: usize, progress: &Progress) {
        progress.phase("starting chats", Some(self.visitors.len() as u64));
        let (agents, ledger) = (&self.agents, ctx.ledger.as_deref());
        let results: Vec<Option<StartedChat>> = stream::iter(self.visitors.iter().enumerate())
            .map(|(index, visitor)| async move {
                let agent = index / max_chats;
                let body = json!({ "agent_id": &agents.get(agent)?.agent_id });
                let answer = ctx
                    .api
                    .post(index, "/api/chats", Some(&visitor.token), &body, Duration::from_secs(60))
                    .await
                    .and_then(|body| decode::<StartAnswer>(body.as_ref(), "chat start answer"));
                progress.inc();
                match answer {
                    Ok(answer) => {
                        if let Some(ledger) = ledger {
                            lock(&ledger.chat(&answer.chat_id)).reached(answer.seq);
                        }
                        Some(StartedChat { chat_id: answer.chat_id, visitor: index, agent })
                    }
                    Err(error) => {
                        ctx.stats.call_error("POST /api/chats", &error);
                        None
                    }
                }
            })
            .buffered(self.concurrency)
            .collect()
            .await;
        self.started = results.into_iter().flatten().collect();
    }

    /// One sender per started chat and side in `sides`, numbering from 1.
    pub fn senders(&self, ctx: &Ctx, sides: &[Side]) -> Result<Vec<Sender>, String> {
        let ledger = ctx.ledger.as_ref().ok_or("no ledger")?;
        let mut senders = Vec::new();
        if ctx.wire == Wire::Nchan && sides != [Side::Agent] {
            return Err("nchan's channels have one publisher: give --senders agent".into());
        }
        for chat in &self.started {
            for side in sides {
                // nchan's publisher needs no token; each chat's sender has a slot of its own.
                let (token, slot, tab) = match side {
                    _ if ctx.wire == Wire::Nchan => (String::new(), chat.visitor, String::new()),
                    Side::Visitor => {
                        (self.visitors[chat.visitor].token.clone(), chat.visitor, visitor_tab(chat.visitor))
                    }
                    Side::Agent => (self.agents[chat.agent].token.clone(), chat.agent, agent_tab(chat.agent)),
                };
                senders.push(Sender {
                    chat_id: chat.chat_id.clone(),
                    chat: ledger.chat(&chat.chat_id),
                    side: *side,
                    token,
                    slot,
                    tab,
                    sent: 0,
                });
            }
        }
        Ok(senders)
    }

    /// Each visitor closes its chat; the closing event joins what both sides must receive. In
    /// a run with disruptions a close that got no answer (or a 429/503) is tried again for up to
    /// a minute; a `chat_closed` then means an earlier try did close it.
    pub async fn close_all(&self, ctx: &Ctx, progress: &Progress) {
        if ctx.wire == Wire::Nchan {
            // A channel has nothing to close.
            return;
        }
        progress.phase("closing chats", Some(self.started.len() as u64));
        let visitors = &self.visitors;
        let route = "POST /api/chats/{id}/close";
        stream::iter(&self.started)
            .for_each_concurrent(self.concurrency, |chat| async move {
                let path = format!("/api/chats/{}/close", chat.chat_id);
                let token = Some(visitors[chat.visitor].token.as_str());
                let deadline = Instant::now() + CLOSE_RETRY_WINDOW;
                let mut retried = false;
                loop {
                    let answer = ctx
                        .api
                        .post(chat.visitor, &path, token, &json!({}), Duration::from_secs(60))
                        .await
                        .and_then(|body| decode::<CloseAnswer>(body.as_ref(), "close answer"));
                    match (answer, ctx.ledger.as_deref()) {
                        (Ok(answer), Some(ledger)) => lock(&ledger.chat(&chat.chat_id)).reached(answer.seq),
                        (Ok(_), None) => {}
                        (Err(error), _) if retried && error.code() == Some("chat_closed") => {}
                        (Err(error), _) => {
                            ctx.stats.call_error(route, &error);
                            if error.is_transient()
                                && ctx.disruptions.scheduled()
                                && Instant::now() < deadline
                            {
                                retried = true;
                                let wait = error.retry_after().unwrap_or(Duration::from_millis(500));
                                tokio::time::sleep(wait.min(Duration::from_secs(5))).await;
                                continue;
                            }
                        }
                    }
                    break;
                }
                progress.inc();
            })
            .await;
    }

    /// Waits for every crash and fault to be over; then drains, closes every chat and drains
    /// again; stops the poll loops. True when both drains completed within `timeout`.
    pub async fn finish(self, ctx: &Ctx, progress: &Progress, timeout: Duration) -> bool {
        if ctx.disruptions.any_pending() {
            progress.phase("waiting for the disruption to be over", None);
            ctx.disruptions.all_over().await;
        }
        drain(ctx, progress, timeout).await;
        self.close_all(ctx, progress).await;
        let drained = drain(ctx, progress, timeout).await;
        self.poll_switch.stop();
        join_all(self.polls).await;
        drained
    }
}

/// Waits until both sides of every chat have received everything the server announced, or
/// `timeout`; true when they have.
pub async fn drain(ctx: &Ctx, progress: &Progress, timeout: Duration) -> bool {
    let Some(ledger) = ctx.ledger.as_deref() else { return true };
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
        // Short: the slow scenario times its catch-up by this loop.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How a window of sending goes.
pub struct Sending {
    /// Messages per second over all senders; 0 = each sends when the previous is acknowledged.
    pub rate: f64,
    /// Messages per chat, split between its senders; `None` until the window ends.
    pub messages: Option<u64>,
    /// Seconds of sending before the measured window.
    pub warmup: u64,
    /// Seconds of the measured window; `None` until every sender is done.
    pub duration: Option<u64>,
    /// The message text.
    pub body: Arc<str>,
    /// Retries of one message after a transport error, 429 or 503.
    pub retries: u32,
}

/// The counters and processes at one edge of a measured window.
pub struct Edge {
    at: Instant,
    counters: Snapshot,
    server: Option<ProcSample>,
    load: Option<ProcSample>,
    machine: Option<MachineSample>,
    /// CPU seconds of the run's PostgreSQL backends so far, when the store is PostgreSQL.
    store_cpu_secs: Option<f64>,
}

impl Edge {
    /// Reads everything now.
    pub fn now(ctx: &Ctx, server: Option<ProcWatch>) -> Self {
        Self {
            at: Instant::now(),
            counters: ctx.stats.snapshot(),
            server: server.and_then(|watch| watch.sample()),
            load: ProcWatch::this_process().sample(),
            machine: MachineSample::now(),
            store_cpu_secs: ctx.store_database.as_deref().map(procstat::postgres_backends_cpu_secs),
        }
    }
}

/// A measured window of sending.
pub struct Window {
    /// Its start (after the warm-up).
    pub from: Edge,
    /// Its end.
    pub to: Edge,
    /// Send→delivery latencies of the window, µs.
    pub latency: Histogram<u64>,
    /// Sends that were due but late.
    pub late: u64,
    /// Seconds of sending, warm-up included.
    pub send_secs: f64,
}

impl Window {
    /// Seconds between the edges.
    pub fn secs(&self) -> f64 {
        self.to.at.duration_since(self.from.at).as_secs_f64().max(1e-9)
    }

    /// Messages acknowledged per second in the window.
    pub fn acked_per_sec(&self) -> f64 {
        (self.to.counters.sends_acked - self.from.counters.sends_acked) as f64 / self.secs()
    }

    /// Messages delivered per second in the window.
    pub fn delivered_per_sec(&self) -> f64 {
        (self.to.counters.delivered - self.from.counters.delivered) as f64 / self.secs()
    }

    /// CPU of the server in the window, percent of one core.
    pub fn server_cpu_percent(&self) -> Option<f64> {
        let (from, to) = (self.from.server.as_ref()?, self.to.server.as_ref()?);
        Some(crate::procstat::cpu_percent(from, to))
    }

    /// RSS of the server at the end of the window, KiB.
    pub fn server_rss_kib(&self) -> Option<u64> {
        self.to.server.map(|sample| sample.rss_kib)
    }

    /// CPU of the run's PostgreSQL backends in the window, percent of one core.
    pub fn store_cpu_percent(&self) -> Option<f64> {
        let (from, to) = (self.from.store_cpu_secs?, self.to.store_cpu_secs?);
        Some((to - from) / self.secs() * 100.0)
    }

    /// One line for the log: rates and latency.
    pub fn line(&self) -> String {
        let latency = &self.latency;
        format!(
            "window {:.1} s: {:.0} messages/s acknowledged, {:.0} delivered; latency p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
            self.secs(),
            self.acked_per_sec(),
            self.delivered_per_sec(),
            latency.value_at_quantile(0.5),
            latency.value_at_quantile(0.99),
            latency.value_at_quantile(0.999),
            latency.max(),
        )
    }

    /// The window's figures: rates, latency, the server's and this process's CPU and RSS, the
    /// machine.
    pub fn json(&self) -> Value {
        let (from, to) = (&self.from, &self.to);
        json!({
            "window_secs": report::round1(self.secs()),
            "acked_per_sec": report::round1(self.acked_per_sec()),
            "delivered_per_sec": report::round1(self.delivered_per_sec()),
            "latency_us": latency_json(&self.latency),
            "server_process": report::process_json(from.server.as_ref(), to.server.as_ref(), None),
            "load_process": report::process_json(from.load.as_ref(), to.load.as_ref(), None),
            "store_backends_cpu_percent_of_one_core": self.store_cpu_percent().map(report::round1),
            "machine": report::machine_json(
                from.machine.as_ref(),
                to.machine.as_ref(),
                (from.server.as_ref(), to.server.as_ref()),
                (from.load.as_ref(), to.load.as_ref()),
            ),
        })
    }
}

/// Runs `senders` per `sending`: a warm-up, then the measured window, then stops them and
/// hands them back (to be started again for a later step) with the window's figures.
pub async fn send_window(
    ctx: &Arc<Ctx>,
    senders: Vec<Sender>,
    sending: &Sending,
    watch: Option<ProcWatch>,
    progress: &Progress,
) -> (Window, Vec<Sender>) {
    let stats = &ctx.stats;
    let (send_switch, send_stop) = StopSwitch::new();
    let interval = (sending.rate > 0.0).then(|| Duration::from_secs_f64(senders.len() as f64 / sending.rate));
    let both =
        senders.iter().any(|s| s.side == Side::Agent) && senders.iter().any(|s| s.side == Side::Visitor);
    let mut tasks = Vec::new();
    for sender in senders {
        // Split a chat's messages between its senders, the visitor taking the odd one.
        let index = u64::from(both && sender.side == Side::Agent);
        let sides = if both { 2 } else { 1 };
        let share = sending.messages.map(|total| (total + (sides - 1 - index)) / sides);
        let plan =
            SendPlan { messages: share, interval, body: Arc::clone(&sending.body), retries: sending.retries };
        tasks.push(tokio::spawn(send_loop(Arc::clone(ctx), sender, plan, send_stop.clone())));
    }
    progress.phase("sending", None);
    ctx.disruptions.sending_started();
    let mut senders_done = Box::pin(join_all(tasks));
    let mut finished = None;
    let send_start = Instant::now();
    if sending.warmup > 0 {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(sending.warmup)) => {}
            outcomes = &mut senders_done => finished = Some(outcomes),
        }
    }
    stats.reset_latency();
    let from = Edge::now(ctx, watch);
    if finished.is_none() {
        let window = async {
            match sending.duration {
                Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = window => {}
            outcomes = &mut senders_done => finished = Some(outcomes),
        }
    }
    let to = Edge::now(ctx, watch);
    send_switch.stop();
    let outcomes = match finished {
        Some(outcomes) => outcomes,
        None => senders_done.await,
    };
    let latency = stats.latency();
    let mut late = 0;
    let mut senders = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(outcome) => {
                late += outcome.late;
                senders.push(outcome.sender);
            }
            // A send task cannot panic on a reachable path; should one, its chat just stops
            // sending and the ledger still judges what it sent.
            Err(_) => stats.error("send task ended abnormally".into()),
        }
    }
    let window = Window { from, to, latency, late, send_secs: send_start.elapsed().as_secs_f64() };
    (window, senders)
}
