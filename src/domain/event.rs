use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{AgentId, ChatId};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The chat's visitor.
    Visitor,
    /// The chat's agent.
    Agent,
    /// Switchboard itself.
    System,
}

/// Why a chat ended; stored with the chat and sent in `chat.closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The visitor closed it.
    ClosedByVisitor,
    /// The agent closed it.
    ClosedByAgent,
    /// Nobody wrote for `chat.inactivity_secs`.
    Inactivity,
    /// The visitor left the site (no poll for lease and grace).
    VisitorLeft,
    /// An agent banned the visitor (or its address).
    VisitorBanned,
    /// An admin erased the visitor's data (`service::data_rights`): the chat ends, then goes.
    VisitorErased,
}

impl CloseReason {
    /// The spelling used in the store and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::ClosedByVisitor => "closed_by_visitor",
            CloseReason::ClosedByAgent => "closed_by_agent",
            CloseReason::Inactivity => "inactivity",
            CloseReason::VisitorLeft => "visitor_left",
            CloseReason::VisitorBanned => "visitor_banned",
            CloseReason::VisitorErased => "visitor_erased",
        }
    }
}

/// An agent as shown to visitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    /// The agent's id.
    pub agent_id: AgentId,
    /// Display name.
    pub name: String,
}

/// What happened, without where and when. Stored as JSON in the `messages.payload` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventPayload {
    /// An agent took the chat.
    #[serde(rename = "chat.assigned")]
    ChatAssigned {
        /// The agent now serving the chat.
        agent: AgentRef,
    },
    /// An agent opened the chat by inviting the visitor.
    #[serde(rename = "chat.invited")]
    ChatInvited {
        /// The inviting agent, now serving the chat.
        agent: AgentRef,
    },
    /// The chat moved from one agent to another.
    #[serde(rename = "chat.transferred")]
    ChatTransferred {
        /// The agent who handed it on.
        from: AgentRef,
        /// The agent now serving it.
        to: AgentRef,
    },
    /// The chat waits in the queue at `position` (1 = next).
    #[serde(rename = "chat.queued")]
    ChatQueued {
        /// Place in the queue, 1 being next.
        position: i32,
    },
    /// A chat message.
    #[serde(rename = "message")]
    Message {
        /// Who wrote it.
        from: Sender,
        /// The text, shown as text.
        body: String,
        /// The sender's idempotency id.
        client_msg_id: Option<String>,
        /// The sender's id.
        sender_id: Option<Uuid>,
        /// The sender's display name when it was sent.
        sender_name: Option<String>,
    },
    /// The chat ended.
    #[serde(rename = "chat.closed")]
    ChatClosed {
        /// Why.
        reason: CloseReason,
    },
}

/// Which side of a chat sees an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Visitor and agent.
    Both,
    /// Only the agent side (internal notes and the like).
    AgentOnly,
}

impl EventPayload {
    /// Which side of the chat sees this event.
    pub fn audience(&self) -> Audience {
        Audience::Both
    }

    /// The `type` spelling, also stored in `messages.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            EventPayload::ChatAssigned { .. } => "chat.assigned",
            EventPayload::ChatQueued { .. } => "chat.queued",
            EventPayload::ChatInvited { .. } => "chat.invited",
            EventPayload::ChatTransferred { .. } => "chat.transferred",
            EventPayload::Message { .. } => "message",
            EventPayload::ChatClosed { .. } => "chat.closed",
        }
    }
}

/// A durable chat event: the `seq`-th thing that happened in `chat_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The chat it belongs to.
    pub chat_id: ChatId,
    /// Position in the chat, 1, 2, 3 … without gaps.
    pub seq: i64,
    /// When it was stored, epoch ms.
    pub at: i64,
    /// What happened.
    #[serde(flatten)]
    pub payload: EventPayload,
}

/// An event as the hub keeps it: rendered to JSON once, shared by both queues and every poll.
#[derive(Debug)]
pub struct EventRecord {
    /// The chat it belongs to.
    pub chat_id: ChatId,
    /// Position in the chat.
    pub seq: i64,
    /// Which side sees it.
    pub audience: Audience,
    /// The wire form.
    pub json: Box<RawValue>,
}

impl From<&Event> for EventRecord {
    fn from(event: &Event) -> Self {
        // An Event is plain data (strings, integers, enums): serialising it cannot fail.
        let json = serde_json::value::to_raw_value(event).unwrap_or_default();
        Self { chat_id: event.chat_id, seq: event.seq, audience: event.payload.audience(), json }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_has_chat_id_seq_type_and_at_at_the_top_level() {
        let event = Event {
            chat_id: ChatId::new(),
            seq: 3,
            at: 1_700_000_000_000,
            payload: EventPayload::ChatClosed { reason: CloseReason::ClosedByAgent },
        };
        let json: serde_json::Value = serde_json::to_value(&event).expect("serialises");
        assert_eq!(json["seq"], 3);
        assert_eq!(json["type"], "chat.closed");
        assert_eq!(json["reason"], "closed_by_agent");
        assert_eq!(json["at"], 1_700_000_000_000i64);
        assert_eq!(json["chat_id"], event.chat_id.to_string());
    }

    #[test]
    fn a_payload_round_trips_through_its_stored_json() {
        let payload = EventPayload::Message {
            from: Sender::Visitor,
            body: "<i>hi</i>".into(),
            client_msg_id: Some("m1".into()),
            sender_id: None,
            sender_name: None,
        };
        let text = serde_json::to_string(&payload).expect("serialises");
        let back: EventPayload = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, payload);
        assert_eq!(payload.kind(), "message");
    }
}
