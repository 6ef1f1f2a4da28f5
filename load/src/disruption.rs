//! When disruptions (a crash, an injected fault) happen, and waiting for them to be over.
//!
//! A disruption is timed from the moment sending starts, so it always hits messages in flight
//! however long the setup took; the end of a run waits until every disruption has finished
//! before it drains, so that a dependency that came back late still gets its full drain.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::watch;

/// The run's disruption clock and how many disruptions are still to come or under way.
#[derive(Clone)]
pub struct Disruptions {
    /// When sending started; `None` before.
    sending_since: Arc<watch::Sender<Option<Instant>>>,
    /// Disruptions not yet over.
    pending: Arc<watch::Sender<usize>>,
    /// Turned true when the run ends: disruptions not yet begun are called off.
    called_off: Arc<watch::Sender<bool>>,
    /// Whether any was scheduled at all.
    scheduled: bool,
}

/// Holds a disruption as pending until dropped (finished, failed or abandoned alike).
pub struct Pending(Arc<watch::Sender<usize>>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.send_modify(|pending| *pending = pending.saturating_sub(1));
    }
}

impl Disruptions {
    /// A clock for `count` disruptions; each must take its [`Pending`] with
    /// [`Disruptions::pending`].
    pub fn new(count: usize) -> Self {
        Self {
            sending_since: Arc::new(watch::Sender::new(None)),
            pending: Arc::new(watch::Sender::new(count)),
            called_off: Arc::new(watch::Sender::new(false)),
            scheduled: count > 0,
        }
    }

    /// None scheduled.
    pub fn none() -> Self {
        Self::new(0)
    }

    /// Whether this run has any disruption: sends are then retried until acknowledged, and
    /// errors a retry rides out do not fail a strict run.
    pub fn scheduled(&self) -> bool {
        self.scheduled
    }

    /// The token of one of the disruptions counted in [`Disruptions::new`].
    pub fn pending(&self) -> Pending {
        Pending(Arc::clone(&self.pending))
    }

    /// Marks the start of sending (only the first call counts).
    pub fn sending_started(&self) {
        self.sending_since.send_if_modified(|since| {
            if since.is_some() {
                return false;
            }
            *since = Some(Instant::now());
            true
        });
    }

    /// When sending started, once it has.
    pub async fn sending_since(&self) -> Instant {
        let mut since = self.sending_since.subscribe();
        loop {
            if let Some(at) = *since.borrow_and_update() {
                return at;
            }
            // The sender lives as long as `self`, so this only ends by a change.
            if since.changed().await.is_err() {
                return Instant::now();
            }
        }
    }

    /// Sleeps until `after` past the start of sending; answers when sending started, or
    /// `None` when the run ended first (the disruption is then called off).
    pub async fn at(&self, after: Duration) -> Option<Instant> {
        let mut called_off = self.called_off.subscribe();
        let due = async {
            let since = self.sending_since().await;
            tokio::time::sleep_until(since + after).await;
            since
        };
        tokio::select! {
            since = due => Some(since),
            _ = called_off.wait_for(|off| *off) => None,
        }
    }

    /// The run is over: disruptions still waiting for their moment will not happen (those
    /// under way finish).
    pub fn call_off(&self) {
        self.called_off.send_replace(true);
    }

    /// Resolves once every scheduled disruption is over.
    pub async fn all_over(&self) {
        let mut pending = self.pending.subscribe();
        // The sender lives as long as `self`: an error cannot happen while waiting.
        let _ = pending.wait_for(|pending| *pending == 0).await;
    }

    /// Whether a disruption is still to come or under way.
    pub fn any_pending(&self) -> bool {
        *self.pending.borrow() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_disruption_waits_for_sending_and_the_end_waits_for_it() {
        let disruptions = Disruptions::new(1);
        let pending = disruptions.pending();
        let clock = disruptions.clone();
        let task = tokio::spawn(async move {
            let since = clock.at(Duration::from_secs(3)).await;
            drop(pending);
            since.map(|since| since.elapsed())
        });
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(disruptions.any_pending(), "nothing may happen before sending starts");
        disruptions.sending_started();
        disruptions.sending_started();
        disruptions.all_over().await;
        let waited = task.await.ok().flatten().unwrap_or_default();
        assert!(waited >= Duration::from_secs(3), "waited {waited:?}");
        assert!(!disruptions.any_pending());
    }

    #[tokio::test(start_paused = true)]
    async fn a_disruption_not_yet_begun_is_called_off_at_the_end() {
        let disruptions = Disruptions::new(1);
        let clock = disruptions.clone();
        let task = tokio::spawn(async move { clock.at(Duration::from_secs(3)).await });
        disruptions.call_off();
        assert!(matches!(task.await, Ok(None)));
    }
}
