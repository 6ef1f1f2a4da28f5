//! Where stored events and notices go after the commit: into this node's hub, and through the
//! broker to every other node's. The wire form between nodes is defined here; the broker only
//! carries its bytes.
//!
//! - Chat events are published to this node's hub at once and sent to the other nodes, which
//!   take them in the same way (repeats are ignored by seq, holes send polls to the store).
//! - Notices (typing, read markers, announcements, a transfer told to the former agent) take
//!   their id from the broker with Redis, so every node gives the same notice the same id and
//!   a poll that moves between nodes sees it once; with `memory` this node numbers them.
//! - A message sent with a `tab` does not wake that tab's own held poll (`hub::quiet`): the
//!   send's write publishes the message with the tab's quiet mark, to this node's hub and to
//!   the others.
//! - A revoked token (logout) or every token of an agent (disabled, password reset) leaves the
//!   token cache of every node at once, not only after the agent recheck.
//! - An erased visitor (`service::data_rights`) leaves every node at once: its tokens leave the
//!   token cache and its chats leave the hub (`Hub::erase_chats`). The erase's `chat.closed`
//!   went out before, on the same channel, so every node has it first.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::token_cache::{TokenCache, TokenDigest};
use crate::broker::{Broker, Inbound, InboundHandler};
use crate::domain::{AgentId, ChatId, ChatStatus, Event, PrincipalKind, VisitorId};
use crate::hub::{quiet_event, ChatMeta, Hub, QuietMark};

/// This node's hub and its broker: what the writer thread and the services publish through.
#[derive(Clone)]
pub struct Relay {
    hub: Arc<Hub>,
    tokens: Arc<TokenCache>,
    broker: Broker,
}

/// What one node tells the others.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Wire {
    /// Events just stored in one chat, and the chat as they left it; `quiet`: the event of this
    /// seq does not wake the sender's tab with this mark.
    Chat {
        chat: WireChat,
        events: Vec<Event>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quiet: Option<(i64, QuietMark)>,
    },
    /// A notice for one participant (`to`), or for everyone present (`to` absent).
    Notice { to: Option<(WireKind, Uuid)>, fields: serde_json::Value },
    /// A token revoked: its digest.
    ForgetToken { digest: TokenDigest },
    /// Every token of this agent revoked.
    ForgetHolder { id: Uuid },
    /// A visitor erased: its tokens and chats are forgotten.
    Erased { visitor: Uuid, chats: Vec<ChatId> },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireKind {
    Visitor,
    Agent,
}

impl From<PrincipalKind> for WireKind {
    fn from(kind: PrincipalKind) -> Self {
        match kind {
            PrincipalKind::Visitor => WireKind::Visitor,
            PrincipalKind::Agent => WireKind::Agent,
        }
    }
}

impl From<WireKind> for PrincipalKind {
    fn from(kind: WireKind) -> Self {
        match kind {
            WireKind::Visitor => PrincipalKind::Visitor,
            WireKind::Agent => PrincipalKind::Agent,
        }
    }
}

/// [`ChatMeta`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct WireChat {
    id: ChatId,
    visitor: VisitorId,
    agent: Option<AgentId>,
    status: String,
    last_seq: i64,
}

impl From<&ChatMeta> for WireChat {
    fn from(meta: &ChatMeta) -> Self {
        Self {
            id: meta.chat_id,
            visitor: meta.visitor,
            agent: meta.agent,
            status: meta.status.as_str().to_string(),
            last_seq: meta.last_seq,
        }
    }
}

impl From<WireChat> for ChatMeta {
    fn from(chat: WireChat) -> Self {
        Self {
            chat_id: chat.id,
            visitor: chat.visitor,
            agent: chat.agent,
            status: ChatStatus::from_store(&chat.status),
            last_seq: chat.last_seq,
        }
    }
}

impl Relay {
    /// The relay of this node.
    pub fn new(hub: Arc<Hub>, tokens: Arc<TokenCache>, broker: Broker) -> Self {
        Self { hub, tokens, broker }
    }

    /// The broker (for presence and readiness).
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Publishes events just committed in one chat, here and on every other node; `quiet`:
    /// the tab whose own send these events are, which they must not wake (see `hub::quiet`).
    pub fn publish(&self, meta: &ChatMeta, events: &[Event], quiet: Option<QuietMark>) {
        let quiet = quiet_event(events, quiet);
        self.hub.publish(meta, events, quiet);
        if self.broker.is_shared() {
            self.send(&Wire::Chat { chat: meta.into(), events: events.to_vec(), quiet }, false);
        }
    }

    /// Gives a notice to a participant wherever it polls.
    pub fn notify(&self, kind: PrincipalKind, id: Uuid, fields: &serde_json::Value) {
        if self.broker.is_shared() {
            self.send(&Wire::Notice { to: Some((kind.into(), id)), fields: fields.clone() }, true);
        } else {
            self.hub.notify(kind, id, fields);
        }
    }

    /// Gives a notice to everyone present, on every node.
    pub fn notify_everyone(&self, fields: &serde_json::Value) {
        if self.broker.is_shared() {
            self.send(&Wire::Notice { to: None, fields: fields.clone() }, true);
        } else {
            self.hub.notify_everyone(fields);
        }
    }

    /// Forgets a revoked token here and on every other node.
    pub fn forget_token(&self, digest: &TokenDigest) {
        self.tokens.forget(digest);
        if self.broker.is_shared() {
            self.send(&Wire::ForgetToken { digest: *digest }, false);
        }
    }

    /// Forgets every token of `id` here and on every other node.
    pub fn forget_holder(&self, id: Uuid) {
        self.tokens.forget_holder(id);
        if self.broker.is_shared() {
            self.send(&Wire::ForgetHolder { id }, false);
        }
    }

    /// Forgets an erased visitor (every token of it) and its chats, here and on every other
    /// node.
    pub fn forget_erased(&self, visitor: Uuid, chats: &[ChatId]) {
        self.tokens.forget_holder(visitor);
        self.hub.erase_chats(chats);
        if self.broker.is_shared() {
            self.send(&Wire::Erased { visitor, chats: chats.to_vec() }, false);
        }
    }

    fn send(&self, message: &Wire, numbered: bool) {
        // Plain data (ids, strings, numbers): serialising cannot fail.
        let Ok(bytes) = serde_json::to_vec(message) else { return };
        if numbered {
            self.broker.publish_numbered(bytes);
        } else {
            self.broker.publish(bytes);
        }
    }
}

/// What this node does with what the broker brings: events and notices go into the hub,
/// revoked tokens leave the token cache, a resync makes it forget memory.
pub fn inbound_handler(hub: Arc<Hub>, tokens: Arc<TokenCache>) -> InboundHandler {
    Arc::new(move |inbound| match inbound {
        Inbound::Message(bytes) => match serde_json::from_slice::<Wire>(&bytes) {
            Ok(Wire::Chat { chat, events, quiet }) => hub.publish(&chat.into(), &events, quiet),
            Ok(Wire::ForgetToken { digest }) => tokens.forget(&digest),
            Ok(Wire::ForgetHolder { id }) => tokens.forget_holder(id),
            Ok(Wire::Erased { visitor, chats }) => {
                tokens.forget_holder(visitor);
                hub.erase_chats(&chats);
            }
            Ok(Wire::Notice { .. }) => log::warn!("broker: an unnumbered notice was ignored"),
            Err(error) => log::warn!("broker: a message did not parse: {error}"),
        },
        Inbound::Numbered { id, payload } => match serde_json::from_slice::<Wire>(&payload) {
            Ok(Wire::Notice { to: Some((kind, participant)), fields }) => {
                hub.deliver_notice(kind.into(), participant, id, &fields)
            }
            Ok(Wire::Notice { to: None, fields }) => hub.deliver_notice_to_everyone(id, &fields),
            Ok(_) => log::warn!("broker: a numbered message that is not a notice was ignored"),
            Err(error) => log::warn!("broker: a notice did not parse: {error}"),
        },
        Inbound::Resync => {
            log::info!("broker: (re)subscribed; memory is read again from the store");
            hub.forget_all();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CloseReason, EventPayload, TabId};

    #[test]
    fn a_chat_message_round_trips_through_the_wire_form() {
        let meta = ChatMeta {
            chat_id: ChatId::new(),
            visitor: VisitorId::new(),
            agent: Some(AgentId::new()),
            status: ChatStatus::Closed,
            last_seq: 4,
        };
        let event = Event {
            chat_id: meta.chat_id,
            seq: 4,
            at: 1,
            payload: EventPayload::ChatClosed { reason: CloseReason::Inactivity },
        };
        let mark = QuietMark::of(Uuid::new_v4(), TabId::parse(Some("t1")).expect("tab").expect("some"));
        let wire = Wire::Chat { chat: (&meta).into(), events: vec![event.clone()], quiet: Some((4, mark)) };
        let bytes = serde_json::to_vec(&wire).expect("serialises");
        match serde_json::from_slice::<Wire>(&bytes).expect("parses") {
            Wire::Chat { chat, events, quiet } => {
                assert_eq!(ChatMeta::from(chat), meta);
                assert_eq!(events, vec![event]);
                assert_eq!(quiet, Some((4, mark)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
