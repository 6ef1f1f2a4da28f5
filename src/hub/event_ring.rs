//! The event ring: a bounded ring of one chat's newest events toward one side. (Not the
//! waiting line of chats for agents: that is `service::queue`.)

use std::collections::VecDeque;
use std::sync::Arc;

use crate::domain::EventRecord;

/// The newest events of one chat toward one side (visitor or agent).
///
/// `horizon` is what makes memory trustworthy: every event for this side with a seq above it is
/// in the ring. A cursor at or past the horizon is answered from memory; one below it is read
/// from the store. A full ring drops its oldest event and moves the horizon up, so it never
/// blocks a sender and never loses a message (the store keeps it).
#[derive(Debug)]
pub struct EventRing {
    events: VecDeque<Arc<EventRecord>>,
    capacity: usize,
    horizon: i64,
}

/// The ring cannot answer for this cursor; the store must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BelowHorizon;

impl EventRing {
    /// An empty ring that knows every event up to `horizon` already happened. Nothing is
    /// allocated until the first event: most chats in memory are idle, each with two rings.
    pub fn new(capacity: usize, horizon: i64) -> Self {
        Self { events: VecDeque::new(), capacity, horizon }
    }

    /// Appends the chat's next event for this side.
    pub fn push(&mut self, event: Arc<EventRecord>) {
        if self.events.len() >= self.capacity {
            if let Some(dropped) = self.events.pop_front() {
                self.horizon = dropped.seq;
            }
        }
        self.events.push_back(event);
    }

    /// Forgets everything and trusts memory only above `horizon` (after a gap in arrivals).
    pub fn reset(&mut self, horizon: i64) {
        self.events.clear();
        self.horizon = horizon;
    }

    /// Forgets every event but the one of seq `last` (if held), and trusts memory only from
    /// just below it: what an erased chat keeps, its `chat.closed`.
    pub fn keep_only(&mut self, last: i64) {
        let kept = self.events.pop_back().filter(|event| event.seq == last);
        self.reset(last - 1);
        self.events.extend(kept);
    }

    /// Appends to `out` up to `max` events with a seq above `seen`, oldest first.
    pub fn read_after(
        &self,
        seen: i64,
        max: usize,
        out: &mut Vec<Arc<EventRecord>>,
    ) -> Result<(), BelowHorizon> {
        if seen < self.horizon {
            return Err(BelowHorizon);
        }
        let start = self.events.partition_point(|event| event.seq <= seen);
        out.extend(self.events.range(start..).take(max).cloned());
        Ok(())
    }

    /// Every event for this side above this seq is in the ring.
    pub fn horizon(&self) -> i64 {
        self.horizon
    }

    /// Events held now.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::{Audience, ChatId};

    /// An event of seq `seq` (its JSON is the number), for the hub's tests.
    pub(in crate::hub) fn record(seq: i64) -> Arc<EventRecord> {
        Arc::new(EventRecord {
            chat_id: ChatId::default(),
            seq,
            audience: Audience::Both,
            json: serde_json::value::to_raw_value(&seq).expect("raw"),
        })
    }

    fn seqs(ring: &EventRing, seen: i64) -> Result<Vec<i64>, BelowHorizon> {
        let mut out = Vec::new();
        ring.read_after(seen, usize::MAX, &mut out)?;
        Ok(out.iter().map(|e| e.seq).collect())
    }

    #[test]
    fn events_after_the_cursor_come_back_in_order() {
        let mut ring = EventRing::new(8, 0);
        (1..=4).for_each(|seq| ring.push(record(seq)));
        assert_eq!(seqs(&ring, 0), Ok(vec![1, 2, 3, 4]));
        assert_eq!(seqs(&ring, 2), Ok(vec![3, 4]));
        assert_eq!(seqs(&ring, 4), Ok(vec![]));
    }

    #[test]
    fn a_full_ring_drops_its_oldest_and_sends_older_cursors_to_the_store() {
        let mut ring = EventRing::new(3, 0);
        (1..=5).for_each(|seq| ring.push(record(seq)));
        assert_eq!(ring.len(), 3);
        assert_eq!(seqs(&ring, 1), Err(BelowHorizon));
        assert_eq!(seqs(&ring, 2), Ok(vec![3, 4, 5]));
    }

    #[test]
    fn a_ring_loaded_mid_chat_only_answers_from_its_horizon() {
        let mut ring = EventRing::new(3, 10);
        assert_eq!(seqs(&ring, 9), Err(BelowHorizon));
        assert_eq!(seqs(&ring, 10), Ok(vec![]));
        ring.push(record(11));
        assert_eq!(seqs(&ring, 10), Ok(vec![11]));
    }

    #[test]
    fn reading_stops_at_max() {
        let mut ring = EventRing::new(8, 0);
        (1..=5).for_each(|seq| ring.push(record(seq)));
        let mut out = Vec::new();
        ring.read_after(0, 2, &mut out).expect("in memory");
        assert_eq!(out.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    }
}
