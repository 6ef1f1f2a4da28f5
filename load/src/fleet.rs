//! A fleet: the visitors one process holds polls for (all of them, or a worker's share of a
//! split run), driven by [`Command`]s that answer [`Reply`]s. The same commands reach a fleet in
//! this process by a call and a fleet in a worker process as JSON lines (see `workers`), so a
//! scenario is written once for both.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::actors::{poll_loop, Ctx, Poller, Stop, StopSwitch};
use crate::client::Api;
use crate::ledger::Side;
use crate::population;
use crate::procstat::ProcWatch;
use crate::report::Progress;
use crate::stats::Stats;
use crate::tap::Tap;
use crate::wire::Wire;

/// Concurrent requests while creating visitors; also connections a process keeps for them.
pub const SETUP_CONCURRENCY: usize = 16;

/// How long one setup request (a chat start) may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// What a fleet is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Create this many visitors (`POST /api/visitors`).
    Visitors {
        /// How many.
        count: usize,
    },
    /// Start poll loops until this many run, `rate` new ones a second: one per visitor created,
    /// or without a token when none was (the baseline server).
    Ramp {
        /// Poll loops wanted.
        polls: usize,
        /// New loops a second.
        rate: u32,
    },
    /// Start chats until this many of the fleet's visitors are in one: visitor `first + i`
    /// (`first` is the fleet's first visitor's number in the whole run) picks agent
    /// `(first + i) / per_agent` of `agents` (their ids).
    Chats {
        /// Visitors wanted in a chat.
        upto: usize,
        /// The fleet's first visitor's number in the run.
        first: usize,
        /// Agent ids.
        agents: Vec<String>,
        /// Chats per agent.
        per_agent: usize,
    },
    /// The counters now.
    Status,
    /// Who has received an announcement, as of now.
    Receipts {
        /// The announcement.
        announcement_id: String,
        /// When its `POST` started (epoch µs): a poll sent before it was held at that moment.
        posted_us: u64,
        /// Also list the receipt times (otherwise only the counts).
        times: bool,
    },
    /// Stop every poll loop.
    Stop,
}

/// A fleet's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// Visitors created.
    Visitors {
        /// How many could be.
        created: usize,
    },
    /// Visitors in a chat.
    Chats {
        /// How many.
        started: usize,
    },
    /// Poll loops running.
    Ramped {
        /// How many.
        polls: usize,
    },
    /// The counters.
    Status(FleetStatus),
    /// An announcement's receipts.
    Receipts(FleetReceipts),
    /// Every loop stopped.
    Stopped,
    /// The command could not be carried out.
    Failed {
        /// Why.
        error: String,
    },
}

/// A fleet's counters and its process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FleetStatus {
    /// Polls in flight now (held by the server, seen from this side).
    pub held: i64,
    /// Poll loops running.
    pub polls: usize,
    /// Poll answers received so far.
    pub answered: u64,
    /// Errors by kind so far.
    pub errors: BTreeMap<String, u64>,
    /// CPU time of the fleet's process (or processes, merged), seconds.
    pub cpu_secs: f64,
    /// RSS of the fleet's process (or processes, summed), KiB.
    pub rss_kib: u64,
}

impl FleetStatus {
    /// Adds another fleet's counters.
    pub fn add(&mut self, other: &FleetStatus) {
        self.held += other.held;
        self.polls += other.polls;
        self.answered += other.answered;
        for (kind, count) in &other.errors {
            *self.errors.entry(kind.clone()).or_insert(0) += count;
        }
        self.cpu_secs += other.cpu_secs;
        self.rss_kib += other.rss_kib;
    }
}

/// Who has an announcement. A visitor was *holding* when the poll that carried it (or the one
/// still in flight) was sent before the announcement's `POST` started.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FleetReceipts {
    /// Holding visitors that received it.
    pub held_received: usize,
    /// Holding visitors still waiting for it (their poll in flight since before the POST).
    pub held_missing: usize,
    /// Visitors not holding at that moment (between polls, refused) that received it later.
    pub later_received: usize,
    /// Visitors not holding at that moment that do not have it.
    pub not_holding_missing: usize,
    /// With `times`: when each holding visitor had read it, epoch µs.
    pub held_times_us: Vec<u64>,
    /// With `times`: when each later visitor had read it, epoch µs.
    pub later_times_us: Vec<u64>,
}

impl FleetReceipts {
    /// Adds another fleet's receipts.
    pub fn add(&mut self, other: FleetReceipts) {
        self.held_received += other.held_received;
        self.held_missing += other.held_missing;
        self.later_received += other.later_received;
        self.not_holding_missing += other.not_holding_missing;
        self.held_times_us.extend(other.held_times_us);
        self.later_times_us.extend(other.later_times_us);
    }
}

/// The visitors of one process and their poll loops.
pub struct Fleet {
    ctx: Arc<Ctx>,
    /// Worker number: keeps tab ids unique across processes.
    index: usize,
    tokens: Vec<String>,
    /// Visitors (from the first) that have started a chat.
    in_chats: usize,
    taps: Vec<Arc<Tap>>,
    polls: Vec<JoinHandle<()>>,
    switch: StopSwitch,
    stop: Stop,
    progress: Progress,
}

impl Fleet {
    /// An empty fleet toward `api` speaking `wire`, polls held `hold` seconds.
    pub fn new(api: Api, wire: Wire, hold: u64, index: usize, progress: Progress) -> Self {
        let (switch, stop) = StopSwitch::new();
        Self {
            ctx: Arc::new(Ctx { wire, ..Ctx::new(api, None, hold) }),
            index,
            tokens: Vec::new(),
            in_chats: 0,
            taps: Vec::new(),
            polls: Vec::new(),
            switch,
            stop,
            progress,
        }
    }

    /// The fleet's counters (for a live progress line).
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.ctx.stats)
    }

    /// Carries out `command`.
    pub async fn handle(&mut self, command: Command) -> Reply {
        match command {
            Command::Visitors { count } => {
                let made = population::visitors(
                    &self.ctx.api,
                    &self.ctx.stats,
                    &self.progress,
                    count,
                    SETUP_CONCURRENCY,
                )
                .await;
                match made {
                    Ok(visitors) => {
                        self.tokens.extend(visitors.into_iter().map(|visitor| visitor.token));
                        Reply::Visitors { created: self.tokens.len() }
                    }
                    Err(error) => Reply::Failed { error },
                }
            }
            Command::Ramp { polls, rate } => {
                self.ramp(polls, rate).await;
                Reply::Ramped { polls: self.polls.len() }
            }
            Command::Chats { upto, first, agents, per_agent } => {
                self.start_chats(upto, first, &agents, per_agent).await;
                Reply::Chats { started: self.in_chats }
            }
            Command::Status => Reply::Status(self.status()),
            Command::Receipts { announcement_id, posted_us, times } => {
                Reply::Receipts(self.receipts(&announcement_id, posted_us, times))
            }
            Command::Stop => {
                self.switch.stop();
                futures_util::future::join_all(self.polls.drain(..)).await;
                Reply::Stopped
            }
        }
    }

    /// Starts poll loops up to `target`, in batches every 10 ms.
    async fn ramp(&mut self, target: usize, rate: u32) {
        self.progress.phase(&format!("ramping to {target} polls"), Some(target as u64));
        let batch = (rate.max(100) / 100) as usize;
        while self.polls.len() < target {
            for _ in 0..batch.min(target - self.polls.len()) {
                let number = self.polls.len();
                let tap = Arc::new(Tap::default());
                let mut poller = Poller::new(
                    self.tokens.get(number).cloned(),
                    Side::Visitor,
                    number,
                    format!("w{}v{number}", self.index),
                );
                poller.tap = Some(Arc::clone(&tap));
                self.taps.push(tap);
                self.polls.push(tokio::spawn(poll_loop(
                    Arc::clone(&self.ctx),
                    poller,
                    None,
                    self.stop.clone(),
                )));
            }
            self.progress.set_position(self.polls.len() as u64);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Starts a chat for each visitor from `in_chats` up to `upto` (see [`Command::Chats`]);
    /// a refused start is counted as an error and the visitor is left without a chat.
    async fn start_chats(&mut self, upto: usize, first: usize, agents: &[String], per_agent: usize) {
        let upto = upto.min(self.tokens.len());
        let from = self.in_chats.min(upto);
        self.progress.phase(&format!("starting chats up to {upto}"), Some((upto - from) as u64));
        let (ctx, tokens, progress) = (&self.ctx, &self.tokens, &self.progress);
        stream::iter(from..upto)
            .for_each_concurrent(SETUP_CONCURRENCY, |number| async move {
                let agent = agents.get((first + number) / per_agent.max(1)).or(agents.last());
                let body = serde_json::json!({ "agent_id": agent });
                let answer = ctx
                    .api
                    .post(number, "/api/chats", tokens.get(number).map(String::as_str), &body, SETUP_TIMEOUT)
                    .await;
                if let Err(error) = answer {
                    ctx.stats.call_error("POST /api/chats", &error);
                }
                progress.inc();
            })
            .await;
        self.in_chats = upto;
    }

    fn status(&self) -> FleetStatus {
        let snapshot = self.ctx.stats.snapshot();
        let me = ProcWatch::this_process().sample();
        FleetStatus {
            held: snapshot.polls_in_flight,
            polls: self.polls.len(),
            answered: snapshot.polls_answered,
            errors: self.ctx.stats.errors(),
            cpu_secs: me.map_or(0.0, |sample| sample.cpu_secs),
            rss_kib: me.map_or(0, |sample| sample.rss_kib),
        }
    }

    fn receipts(&self, announcement_id: &str, posted_us: u64, times: bool) -> FleetReceipts {
        let mut receipts = FleetReceipts::default();
        for tap in &self.taps {
            match tap.receipt_of(announcement_id) {
                Some(receipt) if receipt.poll_sent_us < posted_us => {
                    receipts.held_received += 1;
                    if times {
                        receipts.held_times_us.push(receipt.received_us);
                    }
                }
                Some(receipt) => {
                    receipts.later_received += 1;
                    if times {
                        receipts.later_times_us.push(receipt.received_us);
                    }
                }
                None if tap.in_flight_since().is_some_and(|sent| sent < posted_us) => {
                    receipts.held_missing += 1;
                }
                None => receipts.not_holding_missing += 1,
            }
        }
        receipts
    }
}
