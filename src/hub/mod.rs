//! Live state of this node: the chats in memory with their two bounded queues, the
//! participants with their held polls and presence leases. Nothing here is the truth (the store
//! is); everything here can be dropped and rebuilt from the store, which is what happens after
//! a restart, after eviction, and when a queue overflows.

mod chat;
mod participant;
mod poll_guard;
mod queue;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use uuid::Uuid;

pub use chat::{ChatMeta, LiveChat};
use participant::Participant;
pub use poll_guard::PollGuard;
pub use queue::{BelowHorizon, EventQueue};

use crate::domain::{AgentId, ChatId, ChatStatus, Cursor, Event, EventRecord, Principal, PrincipalKind, TabId};

/// Sizes and times the hub works with.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// Events per chat and direction kept in memory.
    pub queue_capacity: usize,
    /// Polls held at once on this node.
    pub max_held_polls: usize,
    /// A participant is present while holding a poll or within this long after one.
    pub presence_lease: Duration,
    /// How long a closed chat stays in memory so that held polls can still read its end.
    pub closed_chat_retention: Duration,
    /// How long an idle open chat or absent participant stays in memory.
    pub idle_retention: Duration,
}

/// Why a poll was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// The held-poll cap is reached.
    #[error("too many polls are held")]
    TooManyPolls,
    /// The node is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// What one chat has for a poll.
#[derive(Debug)]
pub enum ChatView {
    /// Memory can answer: `events` (maybe none) follow `seen`.
    Ready {
        /// The chat.
        chat_id: ChatId,
        /// What the client had seen.
        seen: i64,
        /// Newest seq of the chat.
        last_seq: i64,
        /// Whether the chat has ended.
        closed: bool,
        /// The events after `seen`, oldest first.
        events: Vec<Arc<EventRecord>>,
    },
    /// Only the store has the events after `seen`.
    InStore {
        /// The chat.
        chat_id: ChatId,
        /// What the client had seen.
        seen: i64,
        /// Newest seq of the chat.
        last_seq: i64,
        /// Whether the chat has ended.
        closed: bool,
    },
    /// The cursor names a chat this participant is not part of.
    NotMember(ChatId),
    /// The hub does not hold the chat; load it from the store and ask again.
    Unknown(ChatId),
}

/// The node's live state; see the module doc.
pub struct Hub {
    settings: HubSettings,
    chats: DashMap<ChatId, LiveChat>,
    visitors: DashMap<Uuid, Participant>,
    agents: DashMap<Uuid, Participant>,
    /// Polls held now, all participants; checked against `max_held_polls` on admission.
    held_polls: AtomicUsize,
    /// Source of poll generations; a tab's newest poll has the highest.
    generations: AtomicU64,
    /// Set once; every held poll answers at once and no new one is admitted.
    shutting_down: AtomicBool,
}

impl Hub {
    /// An empty hub.
    pub fn new(settings: HubSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            chats: DashMap::new(),
            visitors: DashMap::new(),
            agents: DashMap::new(),
            held_polls: AtomicUsize::new(0),
            generations: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
        })
    }

    fn participants(&self, kind: PrincipalKind) -> &DashMap<Uuid, Participant> {
        match kind {
            PrincipalKind::Visitor => &self.visitors,
            PrincipalKind::Agent => &self.agents,
        }
    }

    /// Admits a poll of `principal` from `tab`: counts it, supersedes the tab's older poll, and
    /// renews the participant's presence.
    pub fn begin_poll(self: &Arc<Self>, principal: &Principal, tab: TabId) -> Result<PollGuard, AdmitError> {
        if self.is_shutting_down() {
            return Err(AdmitError::ShuttingDown);
        }
        let held = self.held_polls.fetch_add(1, Ordering::AcqRel);
        if held >= self.settings.max_held_polls {
            self.held_polls.fetch_sub(1, Ordering::AcqRel);
            return Err(AdmitError::TooManyPolls);
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (kind, id) = (principal.kind(), principal.uuid());
        let notify = {
            let mut participant = self.participants(kind).entry(id).or_insert_with(Participant::new);
            participant.polls_held += 1;
            participant.last_seen = tokio::time::Instant::now();
            let older = participant.tabs.insert(tab.clone(), generation);
            let notify = Arc::clone(&participant.notify);
            if older.is_some() {
                // Wake the older poll of this tab so it sees it is superseded.
                notify.notify_waiters();
            }
            notify
        };
        Ok(PollGuard { hub: Arc::clone(self), kind, id, tab, generation, notify })
    }

    /// Records the participant's open chats as read from the store, and the chats themselves.
    pub fn load_participant_chats(&self, principal: &Principal, open: Vec<ChatMeta>) {
        self.insert_chats(open.iter().cloned());
        if let Some(mut participant) = self.participants(principal.kind()).get_mut(&principal.uuid()) {
            participant.chats.extend(open.iter().map(|meta| meta.chat_id));
            participant.chats_loaded = true;
        }
    }

    /// Holds chats read from the store, unless memory already has them (then memory is newer).
    pub fn insert_chats(&self, metas: impl IntoIterator<Item = ChatMeta>) {
        for meta in metas {
            let capacity = self.settings.queue_capacity;
            self.chats.entry(meta.chat_id).or_insert_with(|| LiveChat::new(meta, capacity));
        }
    }

    /// Takes in events just stored for a chat (in seq order) and wakes the chat's participants.
    /// Must be called after the store transaction committed.
    pub fn publish(&self, meta: &ChatMeta, events: &[Event]) {
        {
            let capacity = self.settings.queue_capacity;
            let mut chat = self.chats.entry(meta.chat_id).or_insert_with(|| {
                // First sight of this chat here: memory starts just before these events.
                let first = events.first().map_or(meta.last_seq, |event| event.seq - 1);
                LiveChat::new(ChatMeta { last_seq: first, status: ChatStatus::Open, ..meta.clone() }, capacity)
            });
            for event in events {
                chat.apply(meta, Arc::new(EventRecord::from(event)));
            }
        }
        let open = meta.status == ChatStatus::Open;
        self.touch_member(PrincipalKind::Visitor, meta.visitor.0, meta.chat_id, open);
        if let Some(agent) = meta.agent {
            self.touch_member(PrincipalKind::Agent, agent.0, meta.chat_id, open);
        }
    }

    /// Keeps a member's open-chat set in step with the chat and wakes its polls.
    fn touch_member(&self, kind: PrincipalKind, id: Uuid, chat: ChatId, open: bool) {
        if let Some(mut participant) = self.participants(kind).get_mut(&id) {
            if open {
                participant.chats.insert(chat);
            } else {
                participant.chats.remove(&chat);
            }
            participant.notify.notify_waiters();
        }
    }

    /// What each of the participant's chats (open ones, and those the cursor names) has after
    /// the cursor, taking at most `max_events` events from memory in all.
    pub fn collect(&self, principal: &Principal, cursor: &Cursor, max_events: usize) -> Vec<ChatView> {
        let (kind, id) = (principal.kind(), principal.uuid());
        let mut chat_ids: Vec<ChatId> = cursor.chats().collect();
        if let Some(participant) = self.participants(kind).get(&id) {
            for chat in &participant.chats {
                if !chat_ids.contains(chat) {
                    chat_ids.push(*chat);
                }
            }
        }
        let mut budget = max_events;
        let mut views = Vec::with_capacity(chat_ids.len());
        for chat_id in chat_ids {
            let Some(chat) = self.chats.get(&chat_id) else {
                views.push(ChatView::Unknown(chat_id));
                continue;
            };
            if !chat.has_member(kind, id) {
                views.push(ChatView::NotMember(chat_id));
                continue;
            }
            let seen = cursor.seen(chat_id);
            let last_seq = chat.meta().last_seq;
            let closed = chat.meta().status == ChatStatus::Closed;
            let mut events = Vec::new();
            match chat.read_after(kind, seen, budget, &mut events) {
                Ok(()) => {
                    budget -= events.len();
                    views.push(ChatView::Ready { chat_id, seen, last_seq, closed, events });
                }
                Err(BelowHorizon) => views.push(ChatView::InStore { chat_id, seen, last_seq, closed }),
            }
        }
        views
    }

    /// Whether the participant is holding a poll or held one within the presence lease.
    pub fn is_present(&self, kind: PrincipalKind, id: Uuid) -> bool {
        let now = tokio::time::Instant::now();
        self.participants(kind).get(&id).is_some_and(|p| p.is_present(now, self.settings.presence_lease))
    }

    /// Agents present on this node now.
    pub fn present_agents(&self) -> Vec<AgentId> {
        let now = tokio::time::Instant::now();
        self.agents
            .iter()
            .filter(|entry| entry.value().is_present(now, self.settings.presence_lease))
            .map(|entry| AgentId(*entry.key()))
            .collect()
    }

    /// Polls held on this node now.
    pub fn held_polls(&self) -> usize {
        self.held_polls.load(Ordering::Acquire)
    }

    /// Chats held in memory now.
    pub fn live_chats(&self) -> usize {
        self.chats.len()
    }

    /// Answers every held poll at once and admits no new one.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Release);
        // The flag is set first: a poll that registers after this loop sees it on its re-check.
        for map in [&self.visitors, &self.agents] {
            for participant in map.iter() {
                participant.notify.notify_waiters();
            }
        }
    }

    /// True once [`Hub::shut_down`] ran.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Drops what memory no longer needs: closed chats every poll has had time to read, idle
    /// chats and absent participants (all of it is in the store).
    pub fn sweep(&self) {
        let now = tokio::time::Instant::now();
        let settings = &self.settings;
        self.chats.retain(|_, chat| match chat.closed_at() {
            Some(closed_at) => now.saturating_duration_since(closed_at) < settings.closed_chat_retention,
            None => now.saturating_duration_since(chat.touched_at()) < settings.idle_retention,
        });
        let keep = |p: &mut Participant| {
            p.polls_held > 0 || now.saturating_duration_since(p.last_seen) < settings.idle_retention
        };
        self.visitors.retain(|_, p| keep(p));
        self.agents.retain(|_, p| keep(p));
    }
}
