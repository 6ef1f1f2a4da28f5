//! Notices: events outside any chat's seq space — typing, read markers, announcements, a
//! transfer seen by the agent who handed the chat on. They are not stored; each participant on
//! a node keeps the newest few for a short time, so a lost answer can be repeated, and the
//! cursor's notice mark keeps a repeated poll from showing one twice.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;

/// Notices kept per participant; older ones are dropped (they are ephemeral by nature).
const MAILBOX_CAPACITY: usize = 64;

/// One notice as the wire shows it.
#[derive(Debug)]
pub struct Notice {
    /// Increasing with time (microseconds since the epoch, made unique), so it stays
    /// meaningful across restarts; the cursor remembers the last one seen.
    pub id: i64,
    /// The wire form.
    pub json: Box<RawValue>,
    created: tokio::time::Instant,
}

impl Notice {
    /// A notice made now.
    pub fn new(id: i64, json: Box<RawValue>) -> Arc<Self> {
        Arc::new(Self { id, json, created: tokio::time::Instant::now() })
    }

    /// How long ago it was made (here).
    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    /// The notice `fields` (a JSON object holding at least `type`) with id `id`; `at` and `seq`
    /// are filled in when `fields` lacks them (`seq` is then the notice id).
    pub fn render(id: i64, fields: &serde_json::Value, at: i64) -> Arc<Self> {
        let mut fields = fields.clone();
        if let Some(object) = fields.as_object_mut() {
            object.entry("at").or_insert(serde_json::json!(at));
            object.entry("seq").or_insert(serde_json::json!(id));
        }
        Self::new(id, serde_json::value::to_raw_value(&fields).unwrap_or_default())
    }
}

/// A participant's recent notices.
#[derive(Debug, Default)]
pub struct Mailbox {
    notices: VecDeque<Arc<Notice>>,
}

impl Mailbox {
    /// Keeps `notice`, dropping the oldest when full.
    pub fn push(&mut self, notice: Arc<Notice>) {
        if self.notices.len() >= MAILBOX_CAPACITY {
            self.notices.pop_front();
        }
        self.notices.push_back(notice);
    }

    /// Puts `notice` in id order among the ones kept, unless one with its id is there: for a
    /// notice that reaches the mailbox late (see `Hub::catch_up_broadcasts`).
    pub fn insert(&mut self, notice: Arc<Notice>) {
        let at = self.notices.partition_point(|kept| kept.id < notice.id);
        if self.notices.get(at).is_some_and(|kept| kept.id == notice.id) {
            return;
        }
        self.notices.insert(at, notice);
        if self.notices.len() > MAILBOX_CAPACITY {
            self.notices.pop_front();
        }
    }

    /// Notices after `seen` that are younger than `ttl`, oldest first.
    pub fn read_after(&self, seen: i64, ttl: Duration, now: tokio::time::Instant) -> Vec<Arc<Notice>> {
        self.notices
            .iter()
            .filter(|notice| notice.id > seen && now.saturating_duration_since(notice.created) < ttl)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(id: i64) -> Arc<Notice> {
        Notice::new(id, serde_json::value::to_raw_value(&id).expect("raw"))
    }

    #[tokio::test(start_paused = true)]
    async fn notices_after_the_mark_come_back_until_they_expire() {
        let mut mailbox = Mailbox::default();
        mailbox.push(notice(10));
        mailbox.push(notice(20));
        let ids = |seen| {
            mailbox
                .read_after(seen, Duration::from_secs(5), tokio::time::Instant::now())
                .iter()
                .map(|n| n.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(0), vec![10, 20]);
        assert_eq!(ids(10), vec![20]);
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(ids(0), Vec::<i64>::new());
    }

    #[test]
    fn a_late_notice_goes_in_id_order_and_only_once() {
        let mut mailbox = Mailbox::default();
        mailbox.push(notice(10));
        mailbox.push(notice(30));
        mailbox.insert(notice(20));
        mailbox.insert(notice(30));
        let ids: Vec<i64> = mailbox
            .read_after(0, Duration::from_secs(60), tokio::time::Instant::now())
            .iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(ids, vec![10, 20, 30]);
    }

    #[test]
    fn a_full_mailbox_drops_the_oldest() {
        let mut mailbox = Mailbox::default();
        (0..=MAILBOX_CAPACITY as i64).for_each(|id| mailbox.push(notice(id)));
        let left = mailbox.read_after(-1, Duration::from_secs(60), tokio::time::Instant::now());
        assert_eq!(left.len(), MAILBOX_CAPACITY);
        assert_eq!(left.first().map(|n| n.id), Some(1));
    }
}
