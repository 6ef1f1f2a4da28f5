//! Quiet sends: a message sent with a `tab` does not wake that tab's own held poll. The send
//! registers what it is about to store ([`OwnSends::expect`]); the publish that follows finds
//! it ([`OwnSends::mark_of`]) and the chat keeps the message's seq with the sender tab's
//! [`QuietMark`]. A poll of that tab does not answer for quiet events alone: they stay in the
//! stream and go out with the tab's next answer (another event, a notice, or the hold's end),
//! so the cursor rules and "exactly once" are untouched.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Hub;
use crate::domain::{ChatId, Event, EventPayload, TabId};

/// One tab of one participant, as a digest: what a quiet event remembers of its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietMark(u64);

impl QuietMark {
    /// The mark of `participant`'s tab `tab` (the same on every node of one build).
    pub fn of(participant: Uuid, tab: TabId) -> Self {
        let mut digest = std::hash::DefaultHasher::new();
        participant.hash(&mut digest);
        tab.hash(&mut digest);
        Self(digest.finish())
    }
}

/// A send in flight from a tab that asked not to be woken by it.
#[derive(Debug)]
struct Pending {
    client_msg_id: Box<str>,
    sender: Uuid,
    mark: QuietMark,
    /// Tells this registration from a later one of the same message (a retry from another tab).
    id: u64,
}

/// Sends in flight that were made with a `tab`, by chat.
#[derive(Debug, Default)]
pub(super) struct OwnSends {
    pending: DashMap<ChatId, Vec<Pending>>,
    next_id: AtomicU64,
}

impl OwnSends {
    /// What [`Hub::own_send_mark`] answers.
    pub(super) fn mark_of(&self, chat_id: ChatId, events: &[Event]) -> Option<(i64, QuietMark)> {
        let [event] = events else { return None };
        let EventPayload::Message { client_msg_id: Some(client_msg_id), sender_id: Some(sender), .. } =
            &event.payload
        else {
            return None;
        };
        let pending = self.pending.get(&chat_id)?;
        pending
            .iter()
            .find(|p| p.sender == *sender && *p.client_msg_id == **client_msg_id)
            .map(|p| (event.seq, p.mark))
    }
}

/// Keeps a send registered until it is dropped (after the send answered, whatever way).
#[must_use = "the registration ends when this is dropped"]
pub struct OwnSendGuard {
    hub: Arc<Hub>,
    chat_id: ChatId,
    id: u64,
}

impl Hub {
    /// Registers a send of `client_msg_id` in `chat_id` by `sender` from `tab`: its message,
    /// published while the guard lives, does not wake that tab's held poll.
    pub fn expect_own_send(
        self: &Arc<Self>,
        chat_id: ChatId,
        client_msg_id: &str,
        sender: Uuid,
        tab: TabId,
    ) -> OwnSendGuard {
        let sends = &self.own_sends;
        let id = sends.next_id.fetch_add(1, Ordering::Relaxed);
        let mark = QuietMark::of(sender, tab);
        sends.pending.entry(chat_id).or_default().push(Pending {
            client_msg_id: client_msg_id.into(),
            sender,
            mark,
            id,
        });
        OwnSendGuard { hub: Arc::clone(self), chat_id, id }
    }

    /// The quiet mark of the message among `events` that a registered send is storing, with its
    /// seq — only when that message is all `events` holds (a send publishes exactly its message).
    pub fn own_send_mark(&self, chat_id: ChatId, events: &[Event]) -> Option<(i64, QuietMark)> {
        self.own_sends.mark_of(chat_id, events)
    }
}

impl Drop for OwnSendGuard {
    fn drop(&mut self) {
        self.hub.own_sends.pending.remove_if_mut(&self.chat_id, |_, pending| {
            pending.retain(|p| p.id != self.id);
            pending.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Sender;
    use crate::hub::HubSettings;

    fn message(chat_id: ChatId, seq: i64, client_msg_id: &str, sender: Uuid) -> Event {
        Event {
            chat_id,
            seq,
            at: 0,
            payload: EventPayload::Message {
                from: Sender::Visitor,
                body: "hi".into(),
                client_msg_id: Some(client_msg_id.into()),
                sender_id: Some(sender),
                sender_name: None,
            },
        }
    }

    #[test]
    fn a_registered_send_marks_its_message_until_the_guard_is_dropped() {
        let hub = Hub::new(HubSettings {
            ring_capacity: 8,
            max_held_polls: 4,
            presence_lease: std::time::Duration::from_secs(1),
            presence_grace: std::time::Duration::from_secs(1),
            closed_chat_retention: std::time::Duration::from_secs(60),
            idle_retention: std::time::Duration::from_secs(600),
            notice_ttl: std::time::Duration::from_secs(30),
        });
        let (chat, sender) = (ChatId::new(), Uuid::new_v4());
        let tab = TabId::parse(Some("t1")).expect("tab").expect("some");
        let guard = hub.expect_own_send(chat, "m1", sender, tab);
        let mark = QuietMark::of(sender, tab);
        assert_eq!(hub.own_send_mark(chat, &[message(chat, 3, "m1", sender)]), Some((3, mark)));
        // Another message, another sender, or more than the message: not marked.
        assert_eq!(hub.own_send_mark(chat, &[message(chat, 3, "m2", sender)]), None);
        assert_eq!(hub.own_send_mark(chat, &[message(chat, 3, "m1", Uuid::new_v4())]), None);
        let two = [message(chat, 3, "m1", sender), message(chat, 4, "m1", sender)];
        assert_eq!(hub.own_send_mark(chat, &two), None);
        drop(guard);
        assert_eq!(hub.own_send_mark(chat, &[message(chat, 3, "m1", sender)]), None);
        assert!(hub.own_sends.pending.is_empty());
    }
}
