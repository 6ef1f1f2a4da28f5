//! One live chat in memory: who is in it, how far it has got, and its two event rings.

use std::collections::VecDeque;
use std::sync::Arc;

use super::event_ring::{BelowHorizon, EventRing};
use super::quiet::QuietMark;
use crate::domain::{AgentId, Audience, ChatId, ChatStatus, EventRecord, PrincipalKind, VisitorId};

/// What the hub needs to know about a chat, as the store last said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMeta {
    /// The chat.
    pub chat_id: ChatId,
    /// Its visitor.
    pub visitor: VisitorId,
    /// Its agent, if one serves it.
    pub agent: Option<AgentId>,
    /// Open or closed.
    pub status: ChatStatus,
    /// Seq of its newest stored event.
    pub last_seq: i64,
}

/// A chat held in memory with a bounded event ring toward each side.
#[derive(Debug)]
pub struct LiveChat {
    meta: ChatMeta,
    to_visitor: EventRing,
    to_agent: EventRing,
    /// Messages that do not wake their sender's tab (`hub::quiet`), by seq, oldest first; only
    /// those still in a ring are kept.
    quiet: VecDeque<(i64, QuietMark)>,
    /// When the chat was seen closed, so the sweeper can drop it after polls have caught up.
    closed_at: Option<tokio::time::Instant>,
    /// Last time an event arrived, so idle chats can be dropped (the store has them).
    touched_at: tokio::time::Instant,
    /// When this node first held the chat: absence of its members is counted from no earlier.
    first_seen: tokio::time::Instant,
}

impl LiveChat {
    /// A chat whose events up to `meta.last_seq` are only in the store.
    pub fn new(meta: ChatMeta, capacity: usize) -> Self {
        let now = tokio::time::Instant::now();
        let closed_at = (meta.status == ChatStatus::Closed).then_some(now);
        Self {
            to_visitor: EventRing::new(capacity, meta.last_seq),
            to_agent: EventRing::new(capacity, meta.last_seq),
            quiet: VecDeque::new(),
            meta,
            closed_at,
            touched_at: now,
            first_seen: now,
        }
    }

    /// The chat as the hub knows it.
    pub fn meta(&self) -> &ChatMeta {
        &self.meta
    }

    /// Takes in a stored event. Events at or below what is known are ignored (a repeat); an
    /// event past a hole (one that never arrived here) makes both rings trust memory only
    /// from the hole on, so the store serves what is missing. `quiet`: the event does not wake
    /// the tab with this mark.
    pub fn apply(&mut self, meta: &ChatMeta, event: Arc<EventRecord>, quiet: Option<QuietMark>) {
        if event.seq <= self.meta.last_seq {
            return;
        }
        if event.seq > self.meta.last_seq + 1 {
            self.to_visitor.reset(event.seq - 1);
            self.to_agent.reset(event.seq - 1);
        }
        if event.audience == Audience::Both {
            self.to_visitor.push(Arc::clone(&event));
        }
        self.to_agent.push(Arc::clone(&event));
        // The agent's ring holds every event: what it dropped no poll reads from memory.
        let horizon = self.to_agent.horizon();
        while self.quiet.front().is_some_and(|(seq, _)| *seq <= horizon) {
            self.quiet.pop_front();
        }
        if let Some(mark) = quiet {
            self.quiet.push_back((event.seq, mark));
        }
        self.meta.last_seq = event.seq;
        self.meta.agent = meta.agent;
        self.touched_at = tokio::time::Instant::now();
        // Ended is final; before that the newest event's status holds (queued → open).
        if self.meta.status != ChatStatus::Closed {
            self.meta.status = meta.status;
            if meta.status == ChatStatus::Closed {
                self.closed_at = Some(self.touched_at);
            }
        }
    }

    /// Forgets the chat's events but its last (the `chat.closed` of an erased chat, which
    /// polls that have not yet seen it still get); the quiet marks go too.
    pub fn erase(&mut self) {
        let last = self.meta.last_seq;
        self.to_visitor.keep_only(last);
        self.to_agent.keep_only(last);
        self.quiet.clear();
    }

    /// Whether `kind` with `id` takes part in this chat.
    pub fn has_member(&self, kind: PrincipalKind, id: uuid::Uuid) -> bool {
        match kind {
            PrincipalKind::Visitor => self.meta.visitor.0 == id,
            PrincipalKind::Agent => self.meta.agent.is_some_and(|agent| agent.0 == id),
        }
    }

    /// Events toward `side` after `seen`, or `BelowHorizon` when only the store has them.
    pub fn read_after(
        &self,
        side: PrincipalKind,
        seen: i64,
        max: usize,
        out: &mut Vec<Arc<EventRecord>>,
    ) -> Result<(), BelowHorizon> {
        match side {
            PrincipalKind::Visitor => self.to_visitor.read_after(seen, max, out),
            PrincipalKind::Agent => self.to_agent.read_after(seen, max, out),
        }
    }

    /// Whether the event `seq` is a message that does not wake the tab marked `mark`.
    pub fn is_quiet(&self, seq: i64, mark: QuietMark) -> bool {
        self.quiet.iter().any(|quiet| *quiet == (seq, mark))
    }

    /// When it was seen closed.
    pub fn closed_at(&self) -> Option<tokio::time::Instant> {
        self.closed_at
    }

    /// When this node first held it.
    pub fn first_seen(&self) -> tokio::time::Instant {
        self.first_seen
    }

    /// When its last event arrived.
    pub fn touched_at(&self) -> tokio::time::Instant {
        self.touched_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::event_ring::tests::record;

    fn meta(last_seq: i64, status: ChatStatus) -> ChatMeta {
        ChatMeta {
            chat_id: ChatId::default(),
            visitor: VisitorId::default(),
            agent: Some(AgentId::default()),
            status,
            last_seq,
        }
    }

    fn read(chat: &LiveChat, seen: i64) -> Result<Vec<i64>, BelowHorizon> {
        let mut out = Vec::new();
        chat.read_after(PrincipalKind::Visitor, seen, 100, &mut out)?;
        Ok(out.iter().map(|e| e.seq).collect())
    }

    #[test]
    fn a_repeated_event_is_taken_once() {
        let m = meta(0, ChatStatus::Open);
        let mut chat = LiveChat::new(m.clone(), 8);
        chat.apply(&m, record(1), None);
        chat.apply(&m, record(1), None);
        assert_eq!(read(&chat, 0), Ok(vec![1]));
    }

    #[test]
    fn a_hole_in_arrivals_sends_older_cursors_to_the_store() {
        let m = meta(0, ChatStatus::Open);
        let mut chat = LiveChat::new(m.clone(), 8);
        chat.apply(&m, record(1), None);
        chat.apply(&m, record(3), None);
        assert_eq!(read(&chat, 1), Err(BelowHorizon));
        assert_eq!(read(&chat, 2), Ok(vec![3]));
    }

    #[test]
    fn a_closing_event_marks_the_chat_closed() {
        let mut chat = LiveChat::new(meta(1, ChatStatus::Open), 8);
        chat.apply(&meta(2, ChatStatus::Closed), record(2), None);
        assert_eq!(chat.meta().status, ChatStatus::Closed);
        assert!(chat.closed_at().is_some());
    }
}
