//! The held read of the event feed (`GET /api/events`): every event after the reader's cursor,
//! in feed order, or a wait until there is one, the hold runs out, or the server stops.
//!
//! The store is the only truth here: the hub's wake-up (`Hub::feed_wake`, poked by every chat
//! event this node publishes or hears of, and by ratings and offline messages stored here) only
//! makes an answer come sooner. Events stored by other nodes without a chat event wake nobody
//! here, so a held read also looks at the store again every [`RECHECK_EVERY`].

use std::time::Duration;

use super::feed::FeedEvent;
use super::poll::PollStatus;
use super::{ServiceError, Services};
use crate::domain::{FeedCursor, InvalidInput};

/// How often a held read looks at the store again without a wake-up.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// What the reader asked for.
#[derive(Debug, Clone, Copy)]
pub struct FeedRequest {
    /// Where the reader stands.
    pub cursor: FeedCursor,
    /// Most events in the answer.
    pub limit: i64,
    /// How long to wait for an event.
    pub hold: Duration,
}

/// The answer to one read.
#[derive(Debug)]
pub struct FeedAnswer {
    /// `Ok` with events, `Timeout` without, `Shutdown` when the server is stopping.
    pub status: PollStatus,
    /// The cursor to send next time: after the last event returned, or the one sent.
    pub cursor: FeedCursor,
    /// The events after the cursor, in feed order, without gaps.
    pub events: Vec<FeedEvent>,
}

impl Services {
    /// Serves one `GET /api/events` (the caller's key is checked already); see the module doc.
    /// A cursor ahead of the feed's newest event is one this server never issued: `400
    /// invalid_cursor`.
    pub async fn read_feed(&self, request: FeedRequest) -> Result<FeedAnswer, ServiceError> {
        let _hold = self.hub.begin_feed_hold()?;
        let deadline = tokio::time::Instant::now() + request.hold;
        let after = request.cursor.pos();
        let unchanged = |status| FeedAnswer { status, cursor: request.cursor, events: Vec::new() };
        let mut head_checked = false;
        loop {
            // Register for wake-ups before looking, so nothing published in between is missed.
            let notified = self.hub.feed_wake().notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.hub.is_shutting_down() {
                return Ok(unchanged(PollStatus::Shutdown));
            }
            let events = self.feed_after(after, request.limit).await?;
            if let Some(last) = events.last() {
                return Ok(FeedAnswer { status: PollStatus::Ok, cursor: FeedCursor::at(last.id), events });
            }
            if !head_checked {
                if after > self.feed_head().await? {
                    return Err(InvalidInput::new("cursor", "is ahead of the event feed").into());
                }
                head_checked = true;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(unchanged(PollStatus::Timeout));
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline.min(now + RECHECK_EVERY)) => {}
            }
        }
    }
}
