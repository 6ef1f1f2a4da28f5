//! Quiet sends: a message sent with a `tab` does not wake that tab's own held poll. The send
//! hands the tab's [`QuietMark`] to the write that stores the message, which publishes the
//! message's seq with it; the chat keeps the mark beside the event. A poll of that tab does not
//! answer for quiet events alone: they stay in the stream and go out with the tab's next answer
//! (another event, a notice, or the hold's end), so the cursor rules and "exactly once" are
//! untouched.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{digest64, TabId};

/// One tab of one participant, as a digest: what a quiet event remembers of its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietMark(u64);

impl QuietMark {
    /// The mark of `participant`'s tab `tab`, the same on every node (see [`digest64`]).
    pub fn of(participant: Uuid, tab: TabId) -> Self {
        Self(digest64(&[participant.as_bytes(), &tab.digest().to_le_bytes()]))
    }
}

/// The seq of the event a publish must not wake `mark`'s tab for: only when that event is all
/// the publish holds (a quiet send publishes exactly its message).
pub fn quiet_event(events: &[crate::domain::Event], mark: Option<QuietMark>) -> Option<(i64, QuietMark)> {
    match (events, mark) {
        ([event], Some(mark)) => Some((event.seq, mark)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChatId, Event, EventPayload, Sender};

    #[test]
    fn a_mark_is_one_tab_of_one_participant_and_applies_to_a_lone_event() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let tab = |text| TabId::parse(Some(text)).expect("tab").expect("some");
        let mark = QuietMark::of(ann, tab("t1"));
        assert_eq!(mark, QuietMark::of(ann, tab("t1")));
        assert_ne!(mark, QuietMark::of(ann, tab("t2")));
        assert_ne!(mark, QuietMark::of(bob, tab("t1")));
        let payload = EventPayload::Message {
            from: Sender::Visitor,
            body: "hi".into(),
            client_msg_id: Some("m1".into()),
            sender_id: Some(ann),
            sender_name: None,
        };
        let event = |seq| Event { chat_id: ChatId::new(), seq, at: 0, payload: payload.clone() };
        assert_eq!(quiet_event(&[event(3)], Some(mark)), Some((3, mark)));
        assert_eq!(quiet_event(&[event(3), event(4)], Some(mark)), None);
        assert_eq!(quiet_event(&[event(3)], None), None);
    }
}
