//! A visitor or agent as the hub sees it: its open chats, its held polls, its presence.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::Notify;

use super::notice::Mailbox;
use super::quiet::QuietMark;
use crate::domain::{ChatId, TabId};

/// One participant's live state on this node.
#[derive(Debug)]
pub struct Participant {
    /// Wakes every poll this participant holds. Each poll registers interest *before* it
    /// re-checks for events, so a wake-up between the check and the wait is never lost.
    pub(super) notify: Arc<Notify>,
    /// The participant's chats: open ones, and closed ones until the sweeper retires them (see
    /// `Hub::collect`). Chats published while the store was being read are added here too, which
    /// is why this set is merged with the store's answer, never replaced by it.
    pub(super) chats: HashSet<ChatId>,
    /// Whether `chats` has been filled from the store since this entry was made.
    pub(super) chats_loaded: bool,
    /// The newest poll generation of each tab; an older poll of the same tab is superseded.
    pub(super) tabs: HashMap<TabId, u64>,
    /// Polls held right now.
    pub(super) polls_held: usize,
    /// Recent notices (typing, read markers, announcements).
    pub(super) mailbox: Mailbox,
    /// When a poll last started or ended (`None`: never, on this node); presence is a lease
    /// renewed by polling.
    pub(super) last_seen: Option<tokio::time::Instant>,
}

impl Participant {
    pub(super) fn new() -> Self {
        Self {
            notify: Arc::new(Notify::new()),
            chats: HashSet::new(),
            chats_loaded: false,
            tabs: HashMap::new(),
            polls_held: 0,
            mailbox: Mailbox::default(),
            last_seen: None,
        }
    }

    /// True when the one poll this participant (`id`) holds is the tab marked `mark`.
    pub(super) fn only_poll_is(&self, id: uuid::Uuid, mark: QuietMark) -> bool {
        self.polls_held == 1
            && self.tabs.len() == 1
            && self.tabs.keys().all(|tab| QuietMark::of(id, *tab) == mark)
    }

    /// Holding a poll, or held one within `lease`.
    pub(super) fn is_present(&self, now: tokio::time::Instant, lease: std::time::Duration) -> bool {
        self.polls_held > 0 || self.last_seen.is_some_and(|seen| now.saturating_duration_since(seen) <= lease)
    }

    /// Time since the last poll started or ended; `None` when it never polled here.
    pub(super) fn idle_for(&self, now: tokio::time::Instant) -> Option<std::time::Duration> {
        self.last_seen.map(|seen| now.saturating_duration_since(seen))
    }
}
