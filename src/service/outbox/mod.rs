//! The outbox sender: works through the store's `outbox` rows (`store::outbox`) — emails,
//! webhook calls — at least once, with retries and exponential backoff.
//!
//! Each channel has a [`Courier`] that knows how to deliver its rows; this module knows only
//! when. A round claims the due rows of every courier's channel (a claim is a lease, so a row
//! whose sender died is claimed again once the lease runs out; on PostgreSQL several nodes
//! claim with `SKIP LOCKED` and never take one row together), delivers them a few at a time,
//! and writes down how each went: sent, tried again later, or given up on. A row is marked sent
//! as soon as its receiver took it, so only a crash in between sends it twice, and then with
//! the same id: the receiver's idempotency key.

mod backoff;

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt;
use tokio::sync::Notify;

pub use backoff::Backoff;

use crate::domain::now_ms;
use crate::store::outbox::{self, OutboxRow};
use crate::store::{Store, StoreError};

/// How one try of a delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver took it (with this answer code, if it gave one).
    Sent {
        /// The HTTP status or SMTP reply code.
        status: Option<i32>,
    },
    /// It failed and may work later: try again after a backoff.
    Retry {
        /// The answer code, if there was an answer.
        status: Option<i32>,
        /// What went wrong, for the delivery log.
        error: String,
    },
    /// It cannot work (a receiver that refused it for good, an endpoint gone): no retry.
    Refused {
        /// The answer code, if there was an answer.
        status: Option<i32>,
        /// Why, for the delivery log.
        error: String,
    },
}

/// A boxed future of a delivery.
pub type Delivering<'a> = Pin<Box<dyn Future<Output = Delivery> + Send + 'a>>;

/// Delivers the rows of one channel.
pub trait Courier: Send + Sync + 'static {
    /// The `outbox.channel` whose rows it takes (`email`, `webhook`).
    fn channel(&self) -> &'static str;

    /// When to try a failed row again, and for how long before giving up.
    fn backoff(&self) -> Backoff {
        Backoff::default()
    }

    /// Tries to deliver `row` once.
    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> Delivering<'a>;

    /// Told how a try of `row` ended once that is stored (`gave_up`: no more tries): a place to
    /// count failures, or to disable an endpoint that keeps failing. Runs on the sender's task.
    fn settled<'a>(&'a self, _row: &'a OutboxRow, _delivery: &'a Delivery, _gave_up: bool) -> Delivering<'a> {
        Box::pin(async { Delivery::Sent { status: None } })
    }
}

/// The sender's settings.
#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// How long a claim lasts: longer than any one delivery may take.
    pub lease: Duration,
    /// Most rows claimed in one round.
    pub batch: i64,
    /// Deliveries in flight at once.
    pub parallel: usize,
    /// Longest wait between two rounds when nobody wakes the sender (rows that came due, other
    /// nodes' rows).
    pub idle: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self { lease: Duration::from_secs(120), batch: 64, parallel: 8, idle: Duration::from_secs(1) }
    }
}

/// Works through the outbox for a set of couriers.
#[derive(Clone)]
pub struct OutboxSender {
    store: Store,
    couriers: Arc<HashMap<&'static str, Arc<dyn Courier>>>,
    settings: SenderSettings,
    wake: Arc<Notify>,
}

impl OutboxSender {
    /// A sender over `store` for `couriers`; `wake` is notified when rows were added.
    pub fn new(
        store: Store,
        couriers: Vec<Arc<dyn Courier>>,
        settings: SenderSettings,
        wake: Arc<Notify>,
    ) -> Self {
        let couriers = couriers.into_iter().map(|courier| (courier.channel(), courier)).collect();
        Self { store, couriers: Arc::new(couriers), settings, wake }
    }

    /// True when no courier is configured: nothing to send.
    pub fn is_idle(&self) -> bool {
        self.couriers.is_empty()
    }

    /// Runs rounds until `stopped` says so: a round right after a full one, otherwise after a
    /// wake-up or `settings.idle`.
    pub async fn run(self, stopped: impl Fn() -> bool) {
        while !stopped() {
            let full = match self.round().await {
                Ok(claimed) => claimed as i64 >= self.settings.batch,
                Err(error) => {
                    log::warn!("outbox: a round failed: {error}");
                    false
                }
            };
            if !full {
                let _ = tokio::time::timeout(self.settings.idle, self.wake.notified()).await;
            }
        }
    }

    /// Claims the due rows and tries each once; answers how many it claimed.
    pub async fn round(&self) -> Result<usize, StoreError> {
        let channels: Vec<&'static str> = self.couriers.keys().copied().collect();
        if channels.is_empty() {
            return Ok(0);
        }
        let (lease_ms, batch) = (millis(self.settings.lease), self.settings.batch);
        let rows = self
            .store
            .write(move |conn| {
                outbox::claim(conn, &channels, now_ms(), lease_ms, batch).map_err(StoreError::from)
            })
            .await?;
        let claimed = rows.len();
        stream::iter(rows).for_each_concurrent(self.settings.parallel.max(1), |row| self.try_once(row)).await;
        Ok(claimed)
    }

    /// Delivers `row` once and stores how it went.
    async fn try_once(&self, row: OutboxRow) {
        let Some(courier) = self.couriers.get(row.channel.as_str()).cloned() else {
            return;
        };
        // A courier that panics must not take the sender — every channel's — with it: the try
        // counts as failed and the row is tried again after its backoff.
        let delivery = match AssertUnwindSafe(courier.deliver(&row)).catch_unwind().await {
            Ok(delivery) => delivery,
            Err(_) => {
                log::error!("outbox: the {} courier panicked delivering {}", courier.channel(), row.id);
                Delivery::Retry { status: None, error: "the courier failed unexpectedly".to_string() }
            }
        };
        let now = now_ms();
        let backoff = courier.backoff();
        let next_at = backoff.next_try(row.attempts, now);
        let gave_up = match &delivery {
            Delivery::Sent { .. } => false,
            Delivery::Refused { .. } => true,
            Delivery::Retry { .. } => {
                next_at.is_none_or(|at| at > row.created_at + millis(backoff.give_up_after))
            }
        };
        metrics::counter!("switchboard_outbox_tries_total", "channel" => courier.channel(), "outcome" => outcome(&delivery, gave_up)).increment(1);
        let (id, stored) = (row.id.clone(), delivery.clone());
        let written = self
            .store
            .write(move |conn| {
                match &stored {
                    Delivery::Sent { status } => outbox::mark_sent(conn, &id, *status, now),
                    Delivery::Retry { status, error } | Delivery::Refused { status, error } => {
                        match next_at {
                            Some(at) if !gave_up => outbox::retry_at(conn, &id, *status, error, at),
                            _ => outbox::mark_failed(conn, &id, *status, error, now),
                        }
                    }
                }
                .map_err(StoreError::from)
            })
            .await;
        match written {
            // Not written: the lease runs out and the row is tried again.
            Err(error) => log::warn!("outbox: how {} went was not stored: {error}", row.id),
            Ok(_) => {
                if AssertUnwindSafe(courier.settled(&row, &delivery, gave_up)).catch_unwind().await.is_err() {
                    log::error!("outbox: the {} courier panicked after {}", courier.channel(), row.id);
                }
            }
        }
    }
}

fn outcome(delivery: &Delivery, gave_up: bool) -> &'static str {
    match (delivery, gave_up) {
        (Delivery::Sent { .. }, _) => "sent",
        (_, true) => "failed",
        (_, false) => "retry",
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
