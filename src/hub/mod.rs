//! Live state of this node: the chats in memory with their two event rings (`event_ring`), the
//! participants with their held polls and presence leases. Nothing here is the truth (the store
//! is); everything here can be dropped and rebuilt from the store, which is what happens after
//! a restart, after eviction, and when a ring overflows.

mod chat;
mod cluster;
mod event_ring;
mod feed_hold;
mod notice;
mod participant;
mod poll_guard;
mod quiet;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use uuid::Uuid;

pub use chat::{ChatMeta, LiveChat};
pub use event_ring::{BelowHorizon, EventRing};
pub use feed_hold::FeedHold;
pub use notice::Notice;
use participant::Participant;
pub use poll_guard::PollGuard;
pub use quiet::{quiet_event, QuietMark};

use crate::domain::{ChatId, ChatStatus, Cursor, Event, EventRecord, Principal, PrincipalKind, TabId};

/// Sizes and times the hub works with.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// Events per chat and direction kept in memory (`chat.queue_capacity`).
    pub ring_capacity: usize,
    /// Polls held at once on this node.
    pub max_held_polls: usize,
    /// A participant is present (listed, offered chats) while holding a poll or within this
    /// long after one.
    pub presence_lease: Duration,
    /// After the lease, this much longer before a participant counts as gone and its chats are
    /// ended or handed back (a page reload fits inside).
    pub presence_grace: Duration,
    /// How long a closed chat stays in memory so that held polls can still read its end.
    pub closed_chat_retention: Duration,
    /// How long an idle open chat or absent participant stays in memory.
    pub idle_retention: Duration,
    /// How long a notice can still be fetched (a lost answer repeated).
    pub notice_ttl: Duration,
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
        /// Whether the chat is still in the participant's set (see [`Hub::collect`]).
        retained: bool,
        /// What the client had seen.
        seen: i64,
        /// Newest seq of the chat.
        last_seq: i64,
        /// Whether the chat has ended.
        closed: bool,
        /// The events after `seen`, oldest first.
        events: Vec<Arc<EventRecord>>,
        /// Whether one of `events` is not quiet for the asking tab (see `hub::quiet`).
        wakes: bool,
    },
    /// Only the store has the events after `seen`.
    InStore {
        /// The chat.
        chat_id: ChatId,
        /// Whether the chat is still in the participant's set (see [`Hub::collect`]).
        retained: bool,
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
    /// Chats and participants are boxed: a map keeps room for more entries than it holds (up
    /// to twice as many just after it grew), and an empty slot costs the size of one entry.
    chats: DashMap<ChatId, Box<LiveChat>>,
    visitors: DashMap<Uuid, Box<Participant>>,
    agents: DashMap<Uuid, Box<Participant>>,
    /// Polls held now, all participants; checked against `max_held_polls` on admission.
    held_polls: AtomicUsize,
    /// Source of poll generations; a tab's newest poll has the highest.
    generations: AtomicU64,
    /// Set once; every held poll answers at once and no new one is admitted.
    shutting_down: AtomicBool,
    /// The last notice id handed out (microseconds since the epoch, bumped to stay unique).
    notice_clock: AtomicI64,
    /// Notices to everyone of the last `notice_ttl`, for participants that arrive here after
    /// one went out but were online elsewhere when it did (see [`Hub::catch_up_broadcasts`]).
    recent_broadcasts: std::sync::Mutex<std::collections::VecDeque<Arc<Notice>>>,
    /// Bumped each time memory is forgotten because the broker may have missed something (see
    /// [`Hub::forget_all`]); a store read taken before a bump must not be put into memory.
    memory_epoch: AtomicU64,
    /// Woken when this node stores or hears of something the event feed may now hold (see
    /// [`Hub::feed_wake`]).
    feed_wake: tokio::sync::Notify,
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
            notice_clock: AtomicI64::new(0),
            memory_epoch: AtomicU64::new(0),
            recent_broadcasts: std::sync::Mutex::default(),
            feed_wake: tokio::sync::Notify::new(),
        })
    }

    fn participants(&self, kind: PrincipalKind) -> &DashMap<Uuid, Box<Participant>> {
        match kind {
            PrincipalKind::Visitor => &self.visitors,
            PrincipalKind::Agent => &self.agents,
        }
    }

    /// Admits a poll of `principal` from `tab`: counts it, supersedes the tab's older poll, and
    /// renews the participant's presence.
    pub fn begin_poll(
        self: &Arc<Self>,
        principal: &Principal,
        tab: Option<TabId>,
    ) -> Result<PollGuard, AdmitError> {
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
        let now = tokio::time::Instant::now();
        let lease = self.settings.presence_lease;
        let (notify, arrived) = {
            let mut participant =
                self.participants(kind).entry(id).or_insert_with(|| Box::new(Participant::new()));
            let arrived = participant.polls_held == 0 && !participant.is_present(now, lease);
            participant.polls_held += 1;
            participant.last_seen = Some(now);
            let older = tab.and_then(|tab| participant.tabs.insert(tab, generation));
            let notify = Arc::clone(&participant.notify);
            if older.is_some() {
                // Wake the older poll of this tab so it sees it is superseded.
                notify.notify_waiters();
            }
            (notify, arrived)
        };
        Ok(PollGuard { hub: Arc::clone(self), kind, id, tab, generation, notify, arrived })
    }

    /// Admits a held read of the event feed (`GET /api/events`): it counts against the same
    /// cap as held polls.
    pub fn begin_feed_hold(self: &Arc<Self>) -> Result<FeedHold, AdmitError> {
        if self.is_shutting_down() {
            return Err(AdmitError::ShuttingDown);
        }
        let held = self.held_polls.fetch_add(1, Ordering::AcqRel);
        if held >= self.settings.max_held_polls {
            self.held_polls.fetch_sub(1, Ordering::AcqRel);
            return Err(AdmitError::TooManyPolls);
        }
        Ok(FeedHold { hub: Arc::clone(self) })
    }

    /// What held reads of the event feed wait on: woken by every chat event this node publishes
    /// or receives from another node, by [`Hub::feed_grew`], and by shutdown. Only a hint: other
    /// nodes' ratings and offline messages wake nobody here, so readers look at the store again
    /// on their own too.
    pub fn feed_wake(&self) -> &tokio::sync::Notify {
        &self.feed_wake
    }

    /// Wakes held reads of the event feed after a write that adds to it without a chat event
    /// (a rating, an offline message).
    pub fn feed_grew(&self) {
        self.feed_wake.notify_waiters();
    }

    /// What to pass to [`Hub::insert_chats`] and [`Hub::load_participant_chats`]: taken
    /// *before* the store read whose answer goes into memory.
    pub fn memory_epoch(&self) -> u64 {
        self.memory_epoch.load(Ordering::Acquire)
    }

    /// Records the participant's chats as read from the store (open ones and those closed within
    /// the retention), and the chats themselves — unless memory was forgotten since `read_at`
    /// (then the next poll reads again).
    pub fn load_participant_chats(&self, read_at: u64, principal: &Principal, chats: Vec<ChatMeta>) {
        let ids: Vec<ChatId> = chats.iter().map(|meta| meta.chat_id).collect();
        if let Some(mut participant) = self.participants(principal.kind()).get_mut(&principal.uuid()) {
            // Checked under the participant's entry: `forget_all` clears the flag under it too.
            if self.memory_epoch() != read_at {
                return;
            }
            self.insert_chats(read_at, chats);
            participant.chats.extend(ids);
            participant.chats_loaded = true;
        }
    }

    /// Holds chats read from the store, unless memory already has them (then memory is newer)
    /// or memory was forgotten since `read_at` (then the read may be older than what was
    /// missed).
    pub fn insert_chats(&self, read_at: u64, metas: impl IntoIterator<Item = ChatMeta>) {
        for meta in metas {
            if self.memory_epoch() != read_at {
                return;
            }
            let capacity = self.settings.ring_capacity;
            self.chats.entry(meta.chat_id).or_insert_with(|| Box::new(LiveChat::new(meta, capacity)));
        }
    }

    /// Takes in events just stored for a chat (in seq order) and wakes the chat's participants.
    /// Must be called after the store transaction committed. `quiet`: the event of this seq does
    /// not wake the tab with this mark (see `hub::quiet`).
    pub fn publish(&self, meta: &ChatMeta, events: &[Event], quiet: Option<(i64, QuietMark)>) {
        // Quiet only when the publish is that one event alone (see `quiet_event`).
        let quiet =
            quiet.filter(|(seq, _)| matches!(events, [event] if event.seq == *seq)).map(|(_, mark)| mark);
        let members = {
            let capacity = self.settings.ring_capacity;
            let mut chat = self.chats.entry(meta.chat_id).or_insert_with(|| {
                // First sight of this chat here: memory starts just before these events.
                let first = events.first().map_or(meta.last_seq, |event| event.seq - 1);
                Box::new(LiveChat::new(ChatMeta { last_seq: first, ..meta.clone() }, capacity))
            });
            for event in events {
                chat.apply(meta, Arc::new(EventRecord::from(event)), quiet);
            }
            // The members as of the chat's newest event, not as of this (maybe stale) publish.
            (chat.meta().visitor, chat.meta().agent)
        };
        self.feed_wake.notify_waiters();
        // A publish that is only the quiet message may leave its sender's one poll asleep.
        self.touch_member(PrincipalKind::Visitor, members.0 .0, meta.chat_id, quiet);
        if let Some(agent) = members.1 {
            self.touch_member(PrincipalKind::Agent, agent.0, meta.chat_id, quiet);
        }
    }

    /// Puts the chat in a member's set and wakes its polls. Sets only grow here, whatever the
    /// chat's status: publishes of one chat may arrive out of order, so a stale "open" must not
    /// undo a "closed", nor the reverse. Only [`Hub::sweep`] takes chats out. When the only
    /// poll the member holds is the tab marked `quiet`, nothing is woken: that poll would find
    /// nothing but the quiet event, which does not answer it.
    fn touch_member(&self, kind: PrincipalKind, id: Uuid, chat: ChatId, quiet: Option<QuietMark>) {
        if let Some(mut participant) = self.participants(kind).get_mut(&id) {
            participant.chats.insert(chat);
            if !quiet.is_some_and(|mark| participant.only_poll_is(id, mark)) {
                participant.notify.notify_waiters();
            }
        }
    }

    /// What each of the participant's chats has after the cursor, taking at most `max_events`
    /// events from memory in all.
    ///
    /// The participant's set holds its open chats and, for `closed_chat_retention`, its closed
    /// ones; the cursor may name more (closed chats that already left the set). A chat in the set
    /// but not in the cursor is one the client has not seen at all, so it is read from its start.
    /// That is why a cursor may only forget a closed chat once the chat has left the set
    /// (`retained == false`): forgetting it earlier would make it look unseen and replay it.
    ///
    /// `quiet` is the asking tab's mark: each view says whether an event of it is not quiet for
    /// that tab (see `hub::quiet`).
    pub fn collect(
        &self,
        principal: &Principal,
        cursor: &Cursor,
        max_events: usize,
        quiet: Option<QuietMark>,
    ) -> Vec<ChatView> {
        let (kind, id) = (principal.kind(), principal.uuid());
        let retained: Vec<ChatId> = self
            .participants(kind)
            .get(&id)
            .map(|participant| participant.chats.iter().copied().collect())
            .unwrap_or_default();
        let mut chat_ids: Vec<ChatId> = cursor.chats().collect();
        // The cursor's chats come sorted (a BTreeMap): a binary search keeps an agent's merge of
        // many chats linear-logarithmic.
        let in_cursor = chat_ids.len();
        for chat in &retained {
            if chat_ids[..in_cursor].binary_search(chat).is_err() {
                chat_ids.push(*chat);
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
            let retained = retained.contains(&chat_id);
            let mut events = Vec::new();
            if seen >= last_seq {
                // Nothing newer in this chat (every ring's horizon is at most its last seq): the
                // common case for an agent's many chats, answered without reading a ring.
                views.push(ChatView::Ready {
                    chat_id,
                    retained,
                    seen,
                    last_seq,
                    closed,
                    events,
                    wakes: false,
                });
                continue;
            }
            match chat.read_after(kind, seen, budget, &mut events) {
                Ok(()) => {
                    budget -= events.len();
                    let wakes = match quiet {
                        None => !events.is_empty(),
                        Some(mark) => events.iter().any(|event| !chat.is_quiet(event.seq, mark)),
                    };
                    views.push(ChatView::Ready { chat_id, retained, seen, last_seq, closed, events, wakes });
                }
                Err(BelowHorizon) => {
                    views.push(ChatView::InStore { chat_id, retained, seen, last_seq, closed })
                }
            }
        }
        views
    }

    /// A fresh notice id: the time in microseconds, or one more than the last id if the clock
    /// has not moved (or went back).
    fn next_notice_id(&self) -> i64 {
        let now = crate::domain::now_ms().saturating_mul(1000);
        let previous = self
            .notice_clock
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| Some(now.max(last + 1)))
            .unwrap_or(now);
        now.max(previous + 1)
    }

    /// Gives a notice made of `fields` to a participant present on this node and wakes its
    /// polls; an absent one does not get it (notices are about now). The id is taken while the
    /// participant's entry is locked, so its mailbox is always in id order and a cursor's notice
    /// mark can never pass over a notice still being delivered.
    pub fn notify(&self, kind: PrincipalKind, id: Uuid, fields: &serde_json::Value) {
        if let Some(mut participant) = self.participants(kind).get_mut(&id) {
            let notice = Notice::render(self.next_notice_id(), fields, crate::domain::now_ms());
            participant.mailbox.push(notice);
            participant.notify.notify_waiters();
        }
    }

    /// Gives a notice made of `fields` to every participant present on this node
    /// (announcements).
    pub fn notify_everyone(&self, fields: &serde_json::Value) {
        self.deliver_to_everyone(Notice::render(self.next_notice_id(), fields, crate::domain::now_ms()));
    }

    /// Puts one notice into every present participant's mailbox. One notice shared by every
    /// mailbox: rendering it once instead of once per participant keeps a broadcast to 19,000
    /// waiting visitors cheap.
    fn deliver_to_everyone(&self, notice: Arc<Notice>) {
        let now = tokio::time::Instant::now();
        for map in [&self.visitors, &self.agents] {
            for mut participant in map.iter_mut() {
                if participant.is_present(now, self.settings.presence_lease) {
                    participant.mailbox.push(Arc::clone(&notice));
                    participant.notify.notify_waiters();
                }
            }
        }
    }

    /// The participant's notices after `seen`.
    pub fn notices_after(&self, principal: &Principal, seen: i64) -> Vec<Arc<Notice>> {
        let now = tokio::time::Instant::now();
        self.participants(principal.kind())
            .get(&principal.uuid())
            .map(|p| p.mailbox.read_after(seen, self.settings.notice_ttl, now))
            .unwrap_or_default()
    }

    /// The chat as this node knows it, if it holds it.
    pub fn chat_meta(&self, chat_id: ChatId) -> Option<ChatMeta> {
        self.chats.get(&chat_id).map(|chat| chat.meta().clone())
    }

    /// Whether the participant is holding a poll or held one within the presence lease.
    pub fn is_present(&self, kind: PrincipalKind, id: Uuid) -> bool {
        let now = tokio::time::Instant::now();
        self.participants(kind).get(&id).is_some_and(|p| p.is_present(now, self.settings.presence_lease))
    }

    /// Whether the participant has been away longer than lease and grace, counting from the
    /// later of its last poll and `since` (when this node first held the chat in question): a
    /// participant never seen here gets a full lease and grace from then, after a restart too.
    pub fn is_gone(&self, kind: PrincipalKind, id: Uuid, since: tokio::time::Instant) -> bool {
        let now = tokio::time::Instant::now();
        let limit = self.settings.presence_lease + self.settings.presence_grace;
        let last_seen = match self.participants(kind).get(&id) {
            Some(p) if p.polls_held > 0 => return false,
            Some(p) => p.last_seen,
            None => None,
        };
        let origin = last_seen.map_or(since, |seen| seen.max(since));
        now.saturating_duration_since(origin) > limit
    }

    /// The chats held in memory that have not ended, with when this node first held each.
    pub fn live_chat_metas(&self) -> Vec<(ChatMeta, tokio::time::Instant)> {
        self.chats
            .iter()
            .filter(|chat| chat.meta().status != ChatStatus::Closed)
            .map(|chat| (chat.meta().clone(), chat.first_seen()))
            .collect()
    }

    /// Participants of `kind` present on this node now (holding a poll or within the lease).
    pub fn present(&self, kind: PrincipalKind) -> Vec<Uuid> {
        let now = tokio::time::Instant::now();
        self.participants(kind)
            .iter()
            .filter(|entry| entry.value().is_present(now, self.settings.presence_lease))
            .map(|entry| *entry.key())
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
        self.feed_wake.notify_waiters();
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

    /// Drops what memory no longer needs (all of it is in the store): closed chats every poll
    /// has had time to read — from the chat map and from their members' sets together —, idle
    /// open chats (their ids stay in the sets and are reloaded on demand), and absent
    /// participants.
    pub fn sweep(&self) {
        let now = tokio::time::Instant::now();
        let settings = &self.settings;
        let mut expired = std::collections::HashSet::new();
        self.chats.retain(|chat_id, chat| match chat.closed_at() {
            Some(closed_at) if now.saturating_duration_since(closed_at) >= settings.closed_chat_retention => {
                expired.insert(*chat_id);
                false
            }
            Some(_) => true,
            None => now.saturating_duration_since(chat.touched_at()) < settings.idle_retention,
        });
        let keep = |p: &mut Participant| {
            if !expired.is_empty() {
                p.chats.retain(|chat| !expired.contains(chat));
            }
            p.polls_held > 0 || p.idle_for(now).is_none_or(|idle| idle < settings.idle_retention)
        };
        self.visitors.retain(|_, p| keep(p));
        self.agents.retain(|_, p| keep(p));
    }

    /// How long closed chats stay in memory and in their members' sets.
    pub fn closed_chat_retention(&self) -> Duration {
        self.settings.closed_chat_retention
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CloseReason, EventPayload, VisitorId};

    fn hub() -> Arc<Hub> {
        Hub::new(HubSettings {
            ring_capacity: 8,
            max_held_polls: 4,
            presence_lease: Duration::from_secs(1),
            presence_grace: Duration::from_secs(1),
            closed_chat_retention: Duration::from_secs(60),
            idle_retention: Duration::from_secs(600),
            notice_ttl: Duration::from_secs(30),
        })
    }

    fn closing(meta: &ChatMeta) -> (ChatMeta, Event) {
        let meta = ChatMeta { status: ChatStatus::Closed, last_seq: meta.last_seq + 1, ..meta.clone() };
        let event = Event {
            chat_id: meta.chat_id,
            seq: meta.last_seq,
            at: 0,
            payload: EventPayload::ChatClosed { reason: CloseReason::ClosedByVisitor },
        };
        (meta, event)
    }

    fn retained(views: &[ChatView], chat: ChatId) -> Option<bool> {
        views.iter().find_map(|view| match view {
            ChatView::Ready { chat_id, retained, .. } | ChatView::InStore { chat_id, retained, .. }
                if *chat_id == chat =>
            {
                Some(*retained)
            }
            _ => None,
        })
    }

    /// A new open chat of `visitor` (seq 1, no agent), loaded into the visitor's chat set.
    fn open_chat_loaded_for(hub: &Hub, visitor: &Principal) -> ChatMeta {
        let open = ChatMeta {
            chat_id: ChatId::new(),
            visitor: VisitorId(visitor.uuid()),
            agent: None,
            status: ChatStatus::Open,
            last_seq: 1,
        };
        hub.load_participant_chats(hub.memory_epoch(), visitor, vec![open.clone()]);
        open
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_open_publish_after_the_close_keeps_the_chat_closed() {
        let hub = hub();
        let visitor = Principal::Visitor(VisitorId::new());
        let _poll = hub.begin_poll(&visitor, None).expect("admitted");
        let open = open_chat_loaded_for(&hub, &visitor);
        let (closed, close_event) = closing(&open);
        hub.publish(&closed, std::slice::from_ref(&close_event), None);
        // A send's publish that committed before the close arrives after it.
        hub.publish(&open, &[], None);
        let views = hub.collect(&visitor, &Cursor::default(), 10, None);
        match &views[..] {
            [ChatView::Ready { closed, .. } | ChatView::InStore { closed, .. }] => assert!(*closed),
            other => panic!("unexpected views {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_chat_stays_in_the_set_for_the_retention_and_then_leaves() {
        let hub = hub();
        let visitor = Principal::Visitor(VisitorId::new());
        let poll = hub.begin_poll(&visitor, None).expect("admitted");
        let open = open_chat_loaded_for(&hub, &visitor);
        let (closed, close_event) = closing(&open);
        hub.publish(&closed, std::slice::from_ref(&close_event), None);
        let mut cursor = Cursor::default();
        cursor.advance(open.chat_id, 2);

        tokio::time::advance(Duration::from_secs(30)).await;
        hub.sweep();
        assert_eq!(retained(&hub.collect(&visitor, &cursor, 10, None), open.chat_id), Some(true));

        tokio::time::advance(Duration::from_secs(31)).await;
        hub.sweep();
        let views = hub.collect(&visitor, &cursor, 10, None);
        assert!(matches!(&views[..], [ChatView::Unknown(id)] if *id == open.chat_id), "{views:?}");
        drop(poll);
    }

    #[tokio::test]
    async fn the_held_poll_cap_refuses_and_frees_on_drop() {
        let hub = hub();
        let polls: Vec<_> = (0..4)
            .map(|_| hub.begin_poll(&Principal::Visitor(VisitorId::new()), None).expect("admitted"))
            .collect();
        let extra = Principal::Visitor(VisitorId::new());
        assert!(matches!(hub.begin_poll(&extra, None), Err(AdmitError::TooManyPolls)));
        drop(polls);
        assert_eq!(hub.held_polls(), 0);
        assert!(hub.begin_poll(&extra, None).is_ok());
    }

    #[tokio::test]
    async fn a_newer_poll_of_a_tab_supersedes_even_after_it_ended() {
        let hub = hub();
        let visitor = Principal::Visitor(VisitorId::new());
        let tab = crate::domain::TabId::parse(Some("t1")).expect("tab");
        let older = hub.begin_poll(&visitor, tab).expect("admitted");
        let untabbed = hub.begin_poll(&visitor, None).expect("admitted");
        assert!(!older.is_superseded());
        drop(hub.begin_poll(&visitor, tab).expect("admitted"));
        assert!(older.is_superseded());
        assert!(!untabbed.is_superseded());
    }
}
