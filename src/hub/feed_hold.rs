//! The token a held read of the event feed carries: it counts against the held-poll cap, and
//! its `Drop` gives the place back however the read ends (answered, timed out, or dropped by
//! actix when the client went away).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Hub;

/// Proof that a read of the event feed is admitted; see the module doc.
pub struct FeedHold {
    pub(super) hub: Arc<Hub>,
}

impl Drop for FeedHold {
    fn drop(&mut self) {
        self.hub.held_polls.fetch_sub(1, Ordering::AcqRel);
    }
}
