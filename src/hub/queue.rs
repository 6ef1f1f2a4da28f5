//! A bounded queue of one chat's events toward one side.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::domain::EventRecord;

/// The newest events of one chat toward one side (visitor or agent).
///
/// `horizon` is what makes memory trustworthy: every event for this side with a seq above it is
/// in the queue. A cursor at or past the horizon is answered from memory; one below it is read
/// from the store. A full queue drops its oldest event and moves the horizon up, so it never
/// blocks a sender and never loses a message (the store keeps it).
#[derive(Debug)]
pub struct EventQueue {
    events: VecDeque<Arc<EventRecord>>,
    capacity: usize,
    horizon: i64,
}

/// The queue cannot answer for this cursor; the store must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BelowHorizon;

impl EventQueue {
    /// An empty queue that knows every event up to `horizon` already happened.
    pub fn new(capacity: usize, horizon: i64) -> Self {
        Self { events: VecDeque::with_capacity(capacity.min(16)), capacity, horizon }
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
mod tests {
    use super::*;
    use crate::domain::{Audience, ChatId};

    fn record(seq: i64) -> Arc<EventRecord> {
        Arc::new(EventRecord {
            chat_id: ChatId::default(),
            seq,
            audience: Audience::Both,
            json: serde_json::value::to_raw_value(&seq).expect("raw"),
        })
    }

    fn seqs(queue: &EventQueue, seen: i64) -> Result<Vec<i64>, BelowHorizon> {
        let mut out = Vec::new();
        queue.read_after(seen, usize::MAX, &mut out)?;
        Ok(out.iter().map(|e| e.seq).collect())
    }

    #[test]
    fn events_after_the_cursor_come_back_in_order() {
        let mut queue = EventQueue::new(8, 0);
        (1..=4).for_each(|seq| queue.push(record(seq)));
        assert_eq!(seqs(&queue, 0), Ok(vec![1, 2, 3, 4]));
        assert_eq!(seqs(&queue, 2), Ok(vec![3, 4]));
        assert_eq!(seqs(&queue, 4), Ok(vec![]));
    }

    #[test]
    fn a_full_queue_drops_its_oldest_and_sends_older_cursors_to_the_store() {
        let mut queue = EventQueue::new(3, 0);
        (1..=5).for_each(|seq| queue.push(record(seq)));
        assert_eq!(queue.len(), 3);
        assert_eq!(seqs(&queue, 1), Err(BelowHorizon));
        assert_eq!(seqs(&queue, 2), Ok(vec![3, 4, 5]));
    }

    #[test]
    fn a_queue_loaded_mid_chat_only_answers_from_its_horizon() {
        let mut queue = EventQueue::new(3, 10);
        assert_eq!(seqs(&queue, 9), Err(BelowHorizon));
        assert_eq!(seqs(&queue, 10), Ok(vec![]));
        queue.push(record(11));
        assert_eq!(seqs(&queue, 10), Ok(vec![11]));
    }

    #[test]
    fn reading_stops_at_max() {
        let mut queue = EventQueue::new(8, 0);
        (1..=5).for_each(|seq| queue.push(record(seq)));
        let mut out = Vec::new();
        queue.read_after(0, 2, &mut out).expect("in memory");
        assert_eq!(out.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    }
}
