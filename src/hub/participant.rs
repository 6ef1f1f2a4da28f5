//! A visitor or agent as the hub sees it: its open chats, its held polls, its presence.

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
    pub(super) chats: ChatSet,
    /// Whether `chats` has been filled from the store since this entry was made.
    pub(super) chats_loaded: bool,
    /// The newest poll generation of each tab; an older poll of the same tab is superseded.
    pub(super) tabs: Tabs,
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
            chats: ChatSet::default(),
            chats_loaded: false,
            tabs: Tabs::default(),
            polls_held: 0,
            mailbox: Mailbox::default(),
            last_seen: None,
        }
    }

    /// True when the one poll this participant (`id`) holds is the tab marked `mark`.
    pub(super) fn only_poll_is(&self, id: uuid::Uuid, mark: QuietMark) -> bool {
        self.polls_held == 1 && matches!(self.tabs.0[..], [(tab, _)] if QuietMark::of(id, tab) == mark)
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

/// A participant's chats. A vector, not a hash set: a visitor has one or two, an agent at most
/// its `max_chats` and the recently closed ones, and a held poll per participant makes the
/// smaller form count (a one-chat hash set allocates room for four and carries its hasher).
#[derive(Debug, Default)]
pub(super) struct ChatSet(Vec<ChatId>);

impl ChatSet {
    /// Adds `chat` unless it is there; the first one allocates room for one only.
    pub(super) fn insert(&mut self, chat: ChatId) {
        if !self.0.contains(&chat) {
            if self.0.is_empty() {
                self.0.reserve_exact(1);
            }
            self.0.push(chat);
        }
    }

    /// Adds each of `chats` not there yet.
    pub(super) fn extend(&mut self, chats: impl IntoIterator<Item = ChatId>) {
        chats.into_iter().for_each(|chat| self.insert(chat));
    }

    /// Keeps the chats `keep` says yes to.
    pub(super) fn retain(&mut self, keep: impl FnMut(&ChatId) -> bool) {
        self.0.retain(keep);
    }

    /// The chats, in the order they came.
    pub(super) fn iter(&self) -> impl Iterator<Item = &ChatId> {
        self.0.iter()
    }
}

/// The newest poll generation of each tab that holds one: a few at most, so a vector.
#[derive(Debug, Default)]
pub(super) struct Tabs(Vec<(TabId, u64)>);

impl Tabs {
    /// Sets `tab`'s generation; the one it replaces, if any.
    pub(super) fn insert(&mut self, tab: TabId, generation: u64) -> Option<u64> {
        if let Some((_, held)) = self.0.iter_mut().find(|(known, _)| *known == tab) {
            return Some(std::mem::replace(held, generation));
        }
        if self.0.is_empty() {
            self.0.reserve_exact(1);
        }
        self.0.push((tab, generation));
        None
    }

    /// `tab`'s newest generation.
    pub(super) fn get(&self, tab: &TabId) -> Option<&u64> {
        self.0.iter().find(|(known, _)| known == tab).map(|(_, generation)| generation)
    }

    /// Forgets `tab`.
    pub(super) fn remove(&mut self, tab: &TabId) {
        self.0.retain(|(known, _)| known != tab);
    }
}
