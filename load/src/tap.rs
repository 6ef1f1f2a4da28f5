//! What a scenario watches of one participant's poll loop (is a poll in flight, which
//! announcements arrived when) and how it steers it (pause and resume), without the poll loop
//! knowing any scenario.
//!
//! Times here are wall-clock epoch microseconds, not the run's [`crate::stats::Stats`] clock:
//! several processes on one machine share the wall clock, so a parent can compare a time taken
//! in a worker with one of its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Microseconds since the Unix epoch, now.
pub fn epoch_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_micros()).unwrap_or(0))
}

/// One announcement as one participant received it.
#[derive(Debug, Clone)]
pub struct AnnouncementReceipt {
    /// `announcement_id` of the notice.
    pub announcement_id: String,
    /// When the poll that carried it was sent (epoch µs).
    pub poll_sent_us: u64,
    /// When the answer carrying it had been read (epoch µs).
    pub received_us: u64,
}

/// A participant's poll loop as a scenario sees it.
#[derive(Debug, Default)]
pub struct Tap {
    /// When the poll now in flight was sent (epoch µs); 0 while none is.
    poll_sent_us: AtomicU64,
    /// Announcements received, oldest first (a handful per run).
    announcements: Mutex<Vec<AnnouncementReceipt>>,
}

impl Tap {
    /// A poll was sent at `at_us`.
    pub fn poll_sent(&self, at_us: u64) {
        self.poll_sent_us.store(at_us, Ordering::Relaxed);
    }

    /// The poll in flight ended (answered, failed or dropped).
    pub fn poll_ended(&self) {
        self.poll_sent_us.store(0, Ordering::Relaxed);
    }

    /// When the poll now in flight was sent, if one is.
    pub fn in_flight_since(&self) -> Option<u64> {
        Some(self.poll_sent_us.load(Ordering::Relaxed)).filter(|at| *at > 0)
    }

    /// Keeps an announcement received.
    pub fn announcement(&self, receipt: AnnouncementReceipt) {
        self.announcements.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(receipt);
    }

    /// The first receipt of `announcement_id`, if it arrived.
    pub fn receipt_of(&self, announcement_id: &str) -> Option<AnnouncementReceipt> {
        let announcements = self.announcements.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        announcements.iter().find(|receipt| receipt.announcement_id == announcement_id).cloned()
    }
}

/// Pauses the poll loops holding a [`Pause`] of this switch: while paused they hold no poll
/// (one in flight is dropped, closing its connection) and send none, as a tab that went to
/// sleep.
pub struct PauseSwitch(watch::Sender<bool>);

/// A poll loop's side of a [`PauseSwitch`].
#[derive(Clone)]
pub struct Pause(watch::Receiver<bool>);

impl PauseSwitch {
    /// A switch, not paused, and its first signal.
    pub fn new() -> (Self, Pause) {
        let (sender, receiver) = watch::channel(false);
        (Self(sender), Pause(receiver))
    }

    /// Pauses (`true`) or resumes (`false`) every loop of this switch.
    pub fn set(&self, paused: bool) {
        self.0.send_replace(paused);
    }
}

impl Pause {
    /// Whether the loops are paused now.
    pub fn is_paused(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when the loops are (or already were) paused.
    pub async fn paused(&mut self) {
        // The switch gone means nobody will ever pause: wait forever.
        if self.0.wait_for(|paused| *paused).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Resolves when the loops are (or already were) running.
    pub async fn running(&mut self) {
        // The switch gone means nobody will ever pause again: run.
        let _ = self.0.wait_for(|paused| !*paused).await;
    }
}
