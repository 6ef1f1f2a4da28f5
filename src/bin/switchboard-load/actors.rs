//! The client side: a participant's poll loop (one held poll per tab covering all its chats,
//! echoing cursors, backing off as the server asks) and a chat side's send loop (idempotent
//! retries with the same `client_msg_id`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{oneshot, watch};

use crate::client::{decode, Api, CallError};
use crate::ledger::{lock, ChatLedger, Ledger, MessageTag, Side};
use crate::stats::Stats;

/// What every actor shares.
pub struct Ctx {
    /// The server.
    pub api: Api,
    /// Counters.
    pub stats: Arc<Stats>,
    /// Integrity bookkeeping; `None` where nothing is checked (the idle scenario).
    pub ledger: Option<Arc<Ledger>>,
    /// Seconds each poll asks to be held.
    pub hold: u64,
    /// Ignore every Nth chat event received (checks the checker).
    pub drop_every: Option<u64>,
    /// Chat events received, for `drop_every`.
    pub received: AtomicU64,
}

/// A stop signal: actors end when it turns true.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

/// Turns a [`Stop`] on.
pub struct StopSwitch(watch::Sender<bool>);

impl StopSwitch {
    /// A switch and its first signal.
    pub fn new() -> (Self, Stop) {
        let (sender, receiver) = watch::channel(false);
        (Self(sender), Stop(receiver))
    }

    /// Stops every actor holding a signal of this switch.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Stop {
    /// Resolves once stopped.
    pub async fn wait(&mut self) {
        // An error means the switch is gone, which also means stop.
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }

    /// Whether stop was asked.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Sleeps `duration`; false when stopped first.
    pub async fn sleep(&mut self, duration: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            () = self.wait() => false,
        }
    }
}

/// A participant as the poll loop sees it.
pub struct Poller {
    /// Bearer token; `None` for the baseline server.
    pub token: Option<String>,
    /// Which side of its chats it is.
    pub side: Side,
    /// Index of the pool (source address) it uses.
    pub slot: usize,
    /// Its tab id.
    pub tab: String,
}

#[derive(Deserialize)]
struct PollAnswer {
    status: String,
    cursor: String,
    events: Vec<WireEvent>,
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(rename = "type")]
    kind: String,
    chat_id: Option<String>,
    seq: Option<i64>,
    client_msg_id: Option<String>,
}

/// Notices travel outside the chats' seq spaces; only chat events go to the ledger.
fn is_notice(kind: &str) -> bool {
    matches!(kind, "typing" | "read" | "announcement")
}

/// Waits up to `retry_after` (or 1 s), with jitter, before the next try; false when stopped.
async fn back_off(stop: &mut Stop, retry_after: Option<Duration>) -> bool {
    let base = retry_after.unwrap_or(Duration::from_secs(1)).min(Duration::from_secs(10));
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    stop.sleep(base.mul_f64(jitter)).await
}

/// Polls until stopped. The first poll asks for no hold (`timeout=0`) and its answer is
/// reported on `online`: from then on the server counts the participant as present.
pub async fn poll_loop(ctx: Arc<Ctx>, poller: Poller, online: Option<oneshot::Sender<()>>, mut stop: Stop) {
    let mut online = online;
    let mut cursor = String::new();
    let mut chats: HashMap<String, Arc<Mutex<ChatLedger>>> = HashMap::new();
    let request_timeout = Duration::from_secs(ctx.hold + 15);
    let token = poller.token.as_deref();
    while !stop.is_stopped() {
        let hold = if online.is_some() { 0 } else { ctx.hold };
        let path = format!("/poll?timeout={hold}&tab={}&cursor={cursor}", poller.tab);
        let answer = {
            let _in_flight = ctx.stats.poll_started();
            tokio::select! {
                answer = ctx.api.get(poller.slot, &path, token, request_timeout) => answer,
                () = stop.wait() => break,
            }
        };
        let parsed = answer.and_then(|body| decode::<PollAnswer>(body.as_ref(), "poll answer"));
        let answer = match parsed {
            Ok(answer) => answer,
            Err(error) => {
                ctx.stats.error(error.kind("GET /poll"));
                if !back_off(&mut stop, error.retry_after()).await {
                    break;
                }
                continue;
            }
        };
        ctx.stats.poll_answered();
        match answer.status.as_str() {
            "ok" | "timeout" => {}
            other => {
                // superseded (we hold one poll per tab, so never expected) or shutdown
                ctx.stats.error(format!("GET /poll status {other}"));
                if !back_off(&mut stop, None).await {
                    break;
                }
            }
        }
        if let Some(ledger) = &ctx.ledger {
            record_events(&ctx, ledger, &mut chats, poller.side, &answer.events);
        }
        cursor = answer.cursor;
        if let Some(online) = online.take() {
            let _ = online.send(());
        }
    }
}

/// Enters a poll answer's chat events in the ledger and the delivery latencies in the stats.
fn record_events(
    ctx: &Ctx,
    ledger: &Ledger,
    chats: &mut HashMap<String, Arc<Mutex<ChatLedger>>>,
    side: Side,
    events: &[WireEvent],
) {
    let stats = &ctx.stats;
    let now = stats.micros_now();
    let mut latencies = Vec::new();
    for event in events.iter().filter(|event| !is_notice(&event.kind)) {
        let (Some(chat_id), Some(seq)) = (&event.chat_id, event.seq) else {
            stats.error(format!("GET /poll event {} without chat_id or seq", event.kind));
            continue;
        };
        let received = ctx.received.fetch_add(1, Ordering::Relaxed) + 1;
        if ctx.drop_every.is_some_and(|every| every > 0 && received.is_multiple_of(every)) {
            continue;
        }
        let chat = chats.entry(chat_id.clone()).or_insert_with(|| ledger.chat(chat_id));
        let tag = event.client_msg_id.as_deref().and_then(MessageTag::parse);
        let first = lock(chat).receive(side, seq, tag);
        if let Some(tag) = tag.filter(|tag| first && tag.from != side) {
            latencies.push(now.saturating_sub(tag.sent_at_us));
        }
    }
    stats.delivered(&latencies);
}

/// How one side of one chat sends.
#[derive(Clone)]
pub struct SendPlan {
    /// Messages to send; `None` until stopped.
    pub messages: Option<u64>,
    /// Time between two sends; `None` for as fast as acknowledged.
    pub interval: Option<Duration>,
    /// The message text.
    pub body: Arc<str>,
    /// Retries of one message after a transport error, 429 or 503.
    pub retries: u32,
}

/// One side of one chat.
pub struct Sender {
    /// The chat.
    pub chat_id: String,
    /// Its ledger.
    pub chat: Arc<Mutex<ChatLedger>>,
    /// Who sends.
    pub side: Side,
    /// The sender's token.
    pub token: String,
    /// Its pool.
    pub slot: usize,
}

#[derive(Deserialize)]
struct SendAnswer {
    seq: i64,
}

/// Sends per `plan` until done or stopped. Returns how many sends were due but late, when
/// sending at a rate (an acknowledgement took longer than the interval).
pub async fn send_loop(ctx: Arc<Ctx>, sender: Sender, plan: SendPlan, mut stop: Stop) -> u64 {
    let mut late = 0;
    let mut ticker = plan.interval.map(|every| {
        // Senders start at random phases: aligned ticks would send in bursts.
        let phase = every.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + phase, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        ticker
    });
    let timeout = Duration::from_secs(30);
    let mut number = 0;
    while plan.messages.is_none_or(|total| number < total) {
        if let Some(ticker) = ticker.as_mut() {
            let before = tokio::time::Instant::now();
            tokio::select! {
                scheduled = ticker.tick() => {
                    if before.duration_since(scheduled) > plan.interval.unwrap_or_default() {
                        late += 1;
                    }
                }
                () = stop.wait() => break,
            }
        }
        if stop.is_stopped() {
            break;
        }
        number += 1;
        let tag = MessageTag { from: sender.side, number, sent_at_us: ctx.stats.micros_now() };
        let body = json!({
            "chat_id": sender.chat_id,
            "client_msg_id": tag.client_msg_id(),
            "body": &*plan.body,
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            ctx.stats.send_started();
            let answer = ctx
                .api
                .post(sender.slot, "/send", Some(&sender.token), &body, timeout)
                .await
                .and_then(|body| decode::<SendAnswer>(body.as_ref(), "send answer"));
            match answer {
                Ok(answer) => {
                    lock(&sender.chat).ack(tag, answer.seq);
                    ctx.stats.send_acked();
                    break;
                }
                Err(error) => {
                    ctx.stats.error(error.kind("POST /send"));
                    if !retryable(&error) || attempt > plan.retries {
                        if error.code() == Some("chat_closed") {
                            return late;
                        }
                        break;
                    }
                    if !back_off(&mut stop, error.retry_after().or(Some(Duration::from_millis(200)))).await {
                        return late;
                    }
                }
            }
        }
    }
    late
}

/// Whether a send is worth repeating with the same `client_msg_id`.
fn retryable(error: &CallError) -> bool {
    match error {
        CallError::Transport(_) => true,
        CallError::Status { status, .. } => *status == 429 || *status == 503,
        CallError::Decode(_) => false,
    }
}
