//! The client side: a participant's poll loop (one held poll per tab covering all its chats,
//! echoing cursors, backing off as the server asks) and a chat side's send loop (idempotent
//! retries with the same `client_msg_id`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};

use crate::client::{decode, Api, CallError};
use crate::disruption::Disruptions;
use crate::ledger::{lock, ChatLedger, Ledger, MessageTag, Side};
use crate::stats::Stats;
use crate::tap::{epoch_micros, AnnouncementReceipt, Pause, Tap};
use crate::wire::{self, Wire};

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
    /// Crashes and faults of this run, timed from the start of sending. When any is
    /// scheduled, sends are retried until acknowledged.
    pub disruptions: Disruptions,
    /// What the target speaks.
    pub wire: Wire,
    /// The run's PostgreSQL database, whose backends' CPU each window reads too.
    pub store_database: Option<String>,
}

impl Ctx {
    /// Fresh counters toward `api`; a ledger when integrity is checked; nothing dropped.
    pub fn new(api: Api, ledger: Option<Arc<Ledger>>, hold: u64) -> Self {
        Self {
            api,
            stats: Arc::new(Stats::new()),
            ledger,
            hold,
            drop_every: None,
            received: AtomicU64::new(0),
            disruptions: Disruptions::none(),
            wire: Wire::Switchboard,
            store_database: None,
        }
    }
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
    /// What a scenario watches of this loop (announcements, a poll in flight), if anything.
    pub tap: Option<Arc<Tap>>,
    /// Pauses the loop (a tab gone to sleep), if a scenario wants to.
    pub pause: Option<Pause>,
}

impl Poller {
    /// A participant with nothing watched and no pause.
    pub fn new(token: Option<String>, side: Side, slot: usize, tab: String) -> Self {
        Self { token, side, slot, tab, tap: None, pause: None }
    }
}

/// A poll answer, its strings borrowed from the body where they hold no escapes (nearly
/// always): every answer is decoded, so owned strings were an allocation per field.
#[derive(Deserialize)]
struct PollAnswer<'a> {
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow)]
    cursor: Cow<'a, str>,
    #[serde(borrow)]
    events: Vec<WireEvent<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct WireEvent<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    chat_id: Option<Cow<'a, str>>,
    seq: Option<i64>,
    #[serde(borrow)]
    client_msg_id: Option<Cow<'a, str>>,
    /// Only on `announcement` notices.
    #[serde(borrow)]
    announcement_id: Option<Cow<'a, str>>,
}

impl<'a> WireEvent<'a> {
    /// A chat message at `seq` (what nchan's subscriber makes of a message it read).
    pub(crate) fn message(chat_id: &'a str, seq: i64, client_msg_id: &'a str) -> Self {
        Self {
            kind: Cow::Borrowed("message"),
            chat_id: Some(Cow::Borrowed(chat_id)),
            seq: Some(seq),
            client_msg_id: Some(Cow::Borrowed(client_msg_id)),
            announcement_id: None,
        }
    }
}

/// Notices travel outside the chats' seq spaces; only chat events go to the ledger.
fn is_notice(kind: &str) -> bool {
    matches!(kind, "typing" | "read" | "announcement")
}

/// Waits up to `retry_after` (or 1 s), with jitter, before the next try; false when stopped.
pub(crate) async fn back_off(stop: &mut Stop, retry_after: Option<Duration>) -> bool {
    let base = retry_after.unwrap_or(Duration::from_secs(1)).min(Duration::from_secs(10));
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    stop.sleep(base.mul_f64(jitter)).await
}

/// Resolves when `pause` turns on; never without one.
async fn until_paused(pause: &mut Option<Pause>) {
    match pause {
        Some(pause) => pause.paused().await,
        None => std::future::pending().await,
    }
}

/// How a poll request ended.
enum PollEnd<T> {
    Answered(T),
    Paused,
    Stopped,
}

/// Polls until stopped. The first poll asks for no hold (`timeout=0`) and its answer is
/// reported on `online`: from then on the server counts the participant as present. While
/// paused it holds no poll; a poll in flight when the pause starts is dropped unread, so the
/// next one repeats the old cursor as after a lost answer.
pub async fn poll_loop(ctx: Arc<Ctx>, poller: Poller, online: Option<oneshot::Sender<()>>, mut stop: Stop) {
    if ctx.wire == Wire::Nchan {
        return wire::subscribe_loop(ctx, poller, online, stop).await;
    }
    let mut online = online;
    let mut pause = poller.pause.clone();
    let tap = poller.tap.clone();
    let mut cursor = String::new();
    // Reused across polls: the path and the latencies of one answer.
    let mut path = String::new();
    let mut latencies = Vec::new();
    let mut chats: HashMap<String, Arc<Mutex<ChatLedger>>> = HashMap::new();
    let request_timeout = Duration::from_secs(ctx.hold + 15);
    let token = poller.token.as_deref();
    while !stop.is_stopped() {
        if let Some(pause) = pause.as_mut().filter(|pause| pause.is_paused()) {
            tokio::select! {
                () = pause.running() => {}
                () = stop.wait() => break,
            }
        }
        let hold = if online.is_some() { 0 } else { ctx.hold };
        path.clear();
        // Writing to a String cannot fail.
        let _ = write!(path, "/poll?timeout={hold}&tab={}&cursor={cursor}", poller.tab);
        let sent_us = epoch_micros();
        let end = {
            let _in_flight = ctx.stats.poll_started();
            if let Some(tap) = &tap {
                tap.poll_sent(sent_us);
            }
            let end = tokio::select! {
                answer = ctx.api.get(poller.slot, &path, token, request_timeout) => PollEnd::Answered(answer),
                () = until_paused(&mut pause) => PollEnd::Paused,
                () = stop.wait() => PollEnd::Stopped,
            };
            if let Some(tap) = &tap {
                tap.poll_ended();
            }
            end
        };
        let answer = match end {
            PollEnd::Answered(answer) => answer,
            PollEnd::Paused => continue,
            PollEnd::Stopped => break,
        };
        let body = match answer {
            Ok(body) => body,
            Err(error) => {
                ctx.stats.call_error("GET /poll", &error);
                if !back_off(&mut stop, error.retry_after()).await {
                    break;
                }
                continue;
            }
        };
        let answer = match decode::<PollAnswer>(&body, "poll answer") {
            Ok(answer) => answer,
            Err(error) => {
                ctx.stats.call_error("GET /poll", &error);
                if !back_off(&mut stop, error.retry_after()).await {
                    break;
                }
                continue;
            }
        };
        ctx.stats.poll_answered();
        if let Some(tap) = &tap {
            note_announcements(tap, &answer.events, sent_us);
        }
        match &*answer.status {
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
            record_events(&ctx, ledger, &mut chats, poller.side, &answer.events, &mut latencies);
        }
        cursor.clear();
        cursor.push_str(&answer.cursor);
        if let Some(online) = online.take() {
            let _ = online.send(());
        }
    }
}

/// Hands the announcements of an answer (to a poll sent at `sent_us`) to the tap.
fn note_announcements(tap: &Tap, events: &[WireEvent], sent_us: u64) {
    let received_us = epoch_micros();
    for event in events.iter().filter(|event| event.kind == "announcement") {
        if let Some(id) = &event.announcement_id {
            tap.announcement(AnnouncementReceipt {
                announcement_id: id.to_string(),
                poll_sent_us: sent_us,
                received_us,
            });
        }
    }
}

/// Enters a poll answer's chat events in the ledger and the delivery latencies in the stats.
pub(crate) fn record_events(
    ctx: &Ctx,
    ledger: &Ledger,
    chats: &mut HashMap<String, Arc<Mutex<ChatLedger>>>,
    side: Side,
    events: &[WireEvent],
    latencies: &mut Vec<u64>,
) {
    let stats = &ctx.stats;
    let now = stats.micros_now();
    latencies.clear();
    for event in events.iter().filter(|event| !is_notice(&event.kind)) {
        let (Some(chat_id), Some(seq)) = (&event.chat_id, event.seq) else {
            stats.error(format!("GET /poll event {} without chat_id or seq", event.kind));
            continue;
        };
        let received = ctx.received.fetch_add(1, Ordering::Relaxed) + 1;
        if ctx.drop_every.is_some_and(|every| every > 0 && received.is_multiple_of(every)) {
            continue;
        }
        // Looked up before inserting: `entry` would want an owned key for every event.
        let chat = match chats.get(&**chat_id) {
            Some(chat) => chat,
            None => chats.entry(chat_id.to_string()).or_insert_with(|| ledger.chat(chat_id)),
        };
        let tag = event.client_msg_id.as_deref().and_then(MessageTag::parse);
        let first = lock(chat).receive(side, seq, tag);
        if let Some(tag) = tag.filter(|tag| first && tag.from != side) {
            latencies.push(now.saturating_sub(tag.sent_at_us));
        }
    }
    stats.delivered(latencies);
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
    /// Retries of one message after a transport error, 429 or 503 (unbounded, until stopped,
    /// in a run with disruptions).
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
    /// The tab its side polls from: named in each send, so that poll is not woken by it.
    pub tab: String,
    /// Messages numbered so far (the next is `sent + 1`), so that a sender started again for
    /// a later step keeps its numbers unique in the chat.
    pub sent: u64,
}

/// What a finished send loop hands back.
pub struct SendOutcome {
    /// The sender, to be started again later.
    pub sender: Sender,
    /// Sends that were due but late (an acknowledgement took longer than the interval).
    pub late: u64,
}

/// The body of `POST /send`, serialised straight from borrowed fields.
#[derive(Serialize)]
struct SendBody<'a> {
    chat_id: &'a str,
    client_msg_id: &'a str,
    body: &'a str,
    tab: &'a str,
}

#[derive(Deserialize)]
struct SendAnswer {
    seq: i64,
}

/// The seq a 2xx answer to a send stands for: Switchboard's `seq`; nchan has none, and the
/// number of its channel's one sender stands in.
fn acknowledged_seq(wire: Wire, body: &[u8], tag: &MessageTag) -> Result<i64, CallError> {
    match wire {
        Wire::Switchboard => decode::<SendAnswer>(body, "send answer").map(|answer| answer.seq),
        Wire::Nchan => Ok(wire::nchan_seq(tag)),
    }
}

/// Sends per `plan` (its `messages` counted from this start) until done or stopped; hands the
/// sender back with how many sends were due but late, when sending at a rate.
pub async fn send_loop(ctx: Arc<Ctx>, mut sender: Sender, plan: SendPlan, mut stop: Stop) -> SendOutcome {
    let mut late = 0;
    let mut ticker = plan.interval.map(|every| {
        // Senders start at random phases: aligned ticks would send in bursts.
        let phase = every.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + phase, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        ticker
    });
    let timeout = Duration::from_secs(30);
    let first = sender.sent;
    while plan.messages.is_none_or(|total| sender.sent - first < total) {
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
        sender.sent += 1;
        let tag = MessageTag { from: sender.side, number: sender.sent, sent_at_us: ctx.stats.micros_now() };
        let client_msg_id = tag.client_msg_id();
        let message = SendBody {
            chat_id: &sender.chat_id,
            client_msg_id: &client_msg_id,
            body: &plan.body,
            tab: &sender.tab,
        };
        let (path, body) = match ctx.wire {
            // Serialising borrowed fields cannot fail.
            Wire::Switchboard => (Cow::Borrowed("/send"), serde_json::to_vec(&message).unwrap_or_default()),
            Wire::Nchan => {
                let (path, body) = wire::nchan_publish(&sender.chat_id, &client_msg_id, &plan.body);
                (Cow::Owned(path), body)
            }
        };
        let token = Some(sender.token.as_str()).filter(|token| !token.is_empty());
        let until_acknowledged = ctx.disruptions.scheduled();
        let mut attempt = 0;
        loop {
            attempt += 1;
            ctx.stats.send_started();
            let answer = ctx
                .api
                .post_raw(sender.slot, &path, token, &body, timeout)
                .await
                .and_then(|body| acknowledged_seq(ctx.wire, &body, &tag));
            match answer {
                Ok(seq) => {
                    lock(&sender.chat).ack(tag, seq);
                    ctx.stats.send_acked();
                    break;
                }
                Err(error) => {
                    ctx.stats.call_error("POST /send", &error);
                    if !error.is_transient() || (!until_acknowledged && attempt > plan.retries) {
                        ctx.stats.send_abandoned();
                        if error.code() == Some("chat_closed") {
                            return SendOutcome { sender, late };
                        }
                        break;
                    }
                    if !back_off(&mut stop, error.retry_after().or(Some(Duration::from_millis(200)))).await {
                        ctx.stats.send_abandoned();
                        return SendOutcome { sender, late };
                    }
                }
            }
        }
    }
    SendOutcome { sender, late }
}
