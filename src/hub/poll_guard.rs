//! The token a held poll carries: it counts against the held-poll cap and marks the tab's
//! newest poll, and its `Drop` undoes both whatever way the poll ends (answered, timed out,
//! superseded, or dropped by actix when the client went away).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::Notify;

use super::Hub;
use crate::domain::{PrincipalKind, TabId};

/// Proof that a poll is admitted; see the module doc.
pub struct PollGuard {
    pub(super) hub: Arc<Hub>,
    pub(super) kind: PrincipalKind,
    pub(super) id: uuid::Uuid,
    /// The tab, when the client named one.
    pub(super) tab: Option<TabId>,
    pub(super) generation: u64,
    pub(super) notify: Arc<Notify>,
    /// Whether this poll made the participant present again (it was absent before).
    pub(super) arrived: bool,
}

impl PollGuard {
    /// The participant's wake-up; register with `notified().enable()` before re-checking.
    pub fn notify(&self) -> &Notify {
        &self.notify
    }

    /// True once a newer poll of the same tab has arrived (even if that one has already ended
    /// and removed its mark). Polls without a tab are never superseded.
    pub fn is_superseded(&self) -> bool {
        let Some(tab) = &self.tab else {
            return false;
        };
        self.hub
            .participants(self.kind)
            .get(&self.id)
            .is_none_or(|p| p.tabs.get(tab) != Some(&self.generation))
    }

    /// True when this poll brought the participant back from absent (or here for the first
    /// time): for an agent, the moment to hand it waiting chats.
    pub fn arrived(&self) -> bool {
        self.arrived
    }

    /// True until the participant's open chats have been read from the store on this node.
    pub fn needs_chat_load(&self) -> bool {
        self.hub.participants(self.kind).get(&self.id).is_some_and(|p| !p.chats_loaded)
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        self.hub.held_polls.fetch_sub(1, Ordering::AcqRel);
        if let Some(mut participant) = self.hub.participants(self.kind).get_mut(&self.id) {
            participant.polls_held = participant.polls_held.saturating_sub(1);
            participant.last_seen = Some(tokio::time::Instant::now());
            if let Some(tab) = &self.tab {
                if participant.tabs.get(tab) == Some(&self.generation) {
                    participant.tabs.remove(tab);
                }
            }
        }
    }
}
