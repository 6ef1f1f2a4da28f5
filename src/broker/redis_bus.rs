//! The Redis end of the bus: one task publishes (batched, in order, retried while Redis is
//! away), one task listens (resubscribing after every loss), both on one channel,
//! `{prefix}:bus`.
//!
//! Frames on the channel, first byte first:
//! - `M` + the publishing node's id (36 bytes) + payload: for every other node;
//! - `N` + id + `|` + payload: numbered by Redis (a script takes the id and publishes in one
//!   step, so every node hears them in id order), for every node;
//! - `R` + node id: "I could not publish everything; forget memory and read the store".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::leases::Leases;
use super::{BrokerError, Inbound, InboundHandler};

/// Messages that may wait for Redis; past it the oldest give way to a resync.
const OUTBOX_CAPACITY: usize = 100_000;

/// Most messages sent in one pipeline.
const BATCH: usize = 256;

/// How often the listener checks that its connection still answers, and how long it waits.
const PING_EVERY: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Waits between attempts while Redis cannot be reached.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Takes a notice id from Redis's clock (microseconds, one more than the last when the clock
/// did not move or went back) and publishes the notice, in one atomic step.
const NUMBERED_PUBLISH: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local id = math.max(now, last + 1)
local text = string.format('%.0f', id)
redis.call('SET', KEYS[1], text)
redis.call('PUBLISH', KEYS[2], 'N' .. text .. '|' .. ARGV[1])
return text
";

enum Outgoing {
    Plain(Vec<u8>),
    Numbered(Vec<u8>),
}

/// See the module doc.
pub struct RedisBus {
    outbox: mpsc::Sender<Outgoing>,
    /// Set when a message had to be dropped; the publisher sends a resync before the next one.
    overflowed: Arc<AtomicBool>,
    subscribed: Arc<AtomicBool>,
    publishing: Arc<AtomicBool>,
    leases: Leases,
    /// Dropped with the bus: the listener then stops and lets its connection go.
    _stop: tokio::sync::watch::Sender<()>,
}

impl RedisBus {
    /// Starts the publisher and the listener; neither needs Redis to be up yet.
    pub(super) fn start(url: &str, prefix: &str, handler: InboundHandler) -> Result<Arc<Self>, BrokerError> {
        let client = redis::Client::open(url).map_err(|e| BrokerError::BadUrl(e.to_string()))?;
        let node_id = uuid::Uuid::new_v4().to_string();
        let channel = format!("{prefix}:bus");
        let (outbox, receiver) = mpsc::channel(OUTBOX_CAPACITY);
        let (stop, stopped) = tokio::sync::watch::channel(());
        let bus = Arc::new(Self {
            outbox,
            overflowed: Arc::new(AtomicBool::new(false)),
            subscribed: Arc::new(AtomicBool::new(false)),
            publishing: Arc::new(AtomicBool::new(true)),
            leases: Leases::new(client.clone(), prefix),
            _stop: stop,
        });
        let publisher = Publisher {
            client: client.clone(),
            channel: channel.clone(),
            counter: format!("{prefix}:notice-id"),
            node_id: node_id.clone(),
            overflowed: Arc::clone(&bus.overflowed),
            publishing: Arc::clone(&bus.publishing),
        };
        tokio::spawn(publisher.run(receiver));
        let listener =
            Listener { client, channel, node_id, handler, subscribed: Arc::clone(&bus.subscribed) };
        tokio::spawn(listener.run(stopped));
        Ok(bus)
    }

    pub(super) fn publish(&self, payload: Vec<u8>) {
        self.enqueue(Outgoing::Plain(payload));
    }

    pub(super) fn publish_numbered(&self, payload: Vec<u8>) {
        self.enqueue(Outgoing::Numbered(payload));
    }

    fn enqueue(&self, message: Outgoing) {
        if self.outbox.try_send(message).is_err() {
            // Full (Redis away for long) or the publisher is gone: what is dropped here is
            // made up for by every node re-reading the store once a resync gets through.
            self.overflowed.store(true, Ordering::Release);
        }
    }

    pub(super) fn is_connected(&self) -> bool {
        self.subscribed.load(Ordering::Acquire) && self.publishing.load(Ordering::Acquire)
    }

    pub(super) fn leases(&self) -> &Leases {
        &self.leases
    }
}

/// Grows a retry wait up to [`RETRY_MAX`].
fn next_wait(wait: Duration) -> Duration {
    (wait * 2).min(RETRY_MAX)
}

struct Publisher {
    client: redis::Client,
    channel: String,
    counter: String,
    node_id: String,
    overflowed: Arc<AtomicBool>,
    publishing: Arc<AtomicBool>,
}

impl Publisher {
    async fn run(self, mut receiver: mpsc::Receiver<Outgoing>) {
        let mut connection: Option<redis::aio::MultiplexedConnection> = None;
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            if receiver.recv_many(&mut batch, BATCH).await == 0 {
                return; // Every sender is gone: the node stopped.
            }
            let mut wait = RETRY_FIRST;
            loop {
                let conn = match &mut connection {
                    Some(conn) => conn,
                    None => match self.client.get_multiplexed_async_connection().await {
                        Ok(conn) => connection.insert(conn),
                        Err(error) => {
                            self.failed(&error, wait).await;
                            wait = next_wait(wait);
                            continue;
                        }
                    },
                };
                match self.send(conn, &batch).await {
                    Ok(()) => {
                        self.publishing.store(true, Ordering::Release);
                        batch.clear();
                        break;
                    }
                    Err(error) => {
                        connection = None;
                        self.failed(&error, wait).await;
                        wait = next_wait(wait);
                    }
                }
            }
        }
    }

    async fn failed(&self, error: &redis::RedisError, wait: Duration) {
        if self.publishing.swap(false, Ordering::AcqRel) {
            log::warn!("broker: cannot publish to Redis ({error}); retrying");
        }
        tokio::time::sleep(wait).await;
    }

    /// Sends a batch as one pipeline, preceded by a resync if messages were dropped.
    async fn send(
        &self,
        conn: &mut redis::aio::MultiplexedConnection,
        batch: &[Outgoing],
    ) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        let resync = self.overflowed.swap(false, Ordering::AcqRel);
        if resync {
            let frame = [b"R".as_slice(), self.node_id.as_bytes()].concat();
            pipe.publish(&self.channel, frame).ignore();
        }
        for message in batch {
            match message {
                Outgoing::Plain(payload) => {
                    let frame = [b"M".as_slice(), self.node_id.as_bytes(), payload].concat();
                    pipe.publish(&self.channel, frame).ignore();
                }
                Outgoing::Numbered(payload) => {
                    // Plain EVAL: notices are rare (typing, read markers, announcements), and
                    // a pipeline cannot fall back from EVALSHA to loading the script.
                    pipe.cmd("EVAL")
                        .arg(NUMBERED_PUBLISH)
                        .arg(2)
                        .arg(&self.counter)
                        .arg(&self.channel)
                        .arg(payload.as_slice())
                        .ignore();
                }
            }
        }
        let outcome = pipe.query_async::<()>(conn).await;
        if outcome.is_err() && resync {
            // Not sent after all: send it with the next attempt.
            self.overflowed.store(true, Ordering::Release);
        }
        outcome
    }
}

struct Listener {
    client: redis::Client,
    channel: String,
    node_id: String,
    handler: InboundHandler,
    subscribed: Arc<AtomicBool>,
}

impl Listener {
    async fn run(self, mut stopped: tokio::sync::watch::Receiver<()>) {
        let mut wait = RETRY_FIRST;
        loop {
            tokio::select! {
                outcome = self.listen() => {
                    if let Err(error) = outcome {
                        log::warn!("broker: not subscribed to Redis ({error}); retrying");
                    }
                }
                // The bus is gone: the node stopped.
                _ = stopped.changed() => return,
            }
            // After a subscription that held, the first retry comes soon again.
            let was_subscribed = self.subscribed.swap(false, Ordering::AcqRel);
            wait = if was_subscribed { RETRY_FIRST } else { next_wait(wait) };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stopped.changed() => return,
            }
        }
    }

    /// Subscribes and hands every message to the handler until the connection is lost.
    async fn listen(&self) -> redis::RedisResult<()> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(&self.channel).await?;
        let (mut sink, mut stream) = pubsub.split();
        self.subscribed.store(true, Ordering::Release);
        log::info!("broker: subscribed to {}", self.channel);
        // Whatever was published while this node was not listening is in the store only.
        (self.handler)(Inbound::Resync);
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                message = stream.next() => {
                    let Some(message) = message else {
                        return Err(redis::RedisError::from(std::io::Error::other("the connection closed")));
                    };
                    self.dispatch(message.get_payload_bytes());
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => return Err(error),
                        Err(_) => return Err(redis::RedisError::from(std::io::Error::other("ping timed out"))),
                    }
                }
            }
        }
    }

    fn dispatch(&self, frame: &[u8]) {
        let node = self.node_id.as_bytes();
        match frame.split_first() {
            Some((b'M', rest)) if rest.len() >= node.len() && &rest[..node.len()] != node => {
                (self.handler)(Inbound::Message(rest[node.len()..].to_vec()));
            }
            Some((b'N', rest)) => {
                let Some(bar) = rest.iter().position(|&byte| byte == b'|') else { return };
                let id = std::str::from_utf8(&rest[..bar]).ok().and_then(|text| text.parse().ok());
                if let Some(id) = id {
                    (self.handler)(Inbound::Numbered { id, payload: rest[bar + 1..].to_vec() });
                }
            }
            Some((b'R', rest)) if rest != node => (self.handler)(Inbound::Resync),
            _ => {}
        }
    }
}
