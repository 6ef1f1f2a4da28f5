//! Starting and ending chats. Capacity is taken and given back in the same transaction that
//! opens or closes the chat, by single conditional updates, so it holds under any concurrency
//! and on any number of nodes.

use super::error::is_unique_violation;
use super::{ServiceError, Services, Stored};
use crate::domain::{
    now_ms, AgentId, AgentRef, ChatId, ChatStatus, CloseReason, Event, EventPayload, Principal, PrincipalKind,
};
use crate::store::chats::{self, ChatRow};
use crate::store::messages::{self, MessageRow};
use crate::store::{agents, counters, DbConn};

/// A chat just started.
#[derive(Debug, Clone)]
pub struct StartedChat {
    /// The chat.
    pub chat_id: ChatId,
    /// The agent serving it.
    pub agent: AgentRef,
    /// Seq of its first event.
    pub seq: i64,
}

/// A chat just closed.
#[derive(Debug, Clone)]
pub struct ClosedChat {
    /// The chat.
    pub chat_id: ChatId,
    /// Seq of the `chat.closed` event.
    pub seq: i64,
    /// Why.
    pub reason: CloseReason,
}

/// Stores `payload` as the chat's event number `seq`.
pub(crate) fn store_event(
    conn: &mut DbConn,
    chat_id: ChatId,
    seq: i64,
    payload: EventPayload,
) -> Result<Event, ServiceError> {
    let event = Event { chat_id, seq, at: now_ms(), payload };
    messages::insert(conn, &MessageRow::from_event(&event)?)?;
    Ok(event)
}

/// The chat if `principal` takes part in it; `ChatNotFound` or `Forbidden` otherwise.
pub(crate) fn chat_of(
    conn: &mut DbConn,
    principal: &Principal,
    chat_id: ChatId,
) -> Result<ChatRow, ServiceError> {
    let row = chats::find(conn, &chat_id.to_string())?.ok_or(ServiceError::ChatNotFound)?;
    let me = principal.uuid().to_string();
    let member = match principal.kind() {
        PrincipalKind::Visitor => row.visitor_id == me,
        PrincipalKind::Agent => row.agent_id.as_deref() == Some(me.as_str()),
    };
    if member {
        Ok(row)
    } else {
        Err(ServiceError::Forbidden("this chat is not yours"))
    }
}

impl Services {
    /// A visitor starts a chat with the agent it picked.
    pub async fn start_chat(
        &self,
        principal: &Principal,
        agent_id: AgentId,
    ) -> Result<StartedChat, ServiceError> {
        let Principal::Visitor(visitor) = *principal else {
            return Err(ServiceError::Forbidden("only visitors start chats"));
        };
        let agent_present = self.hub.is_present(PrincipalKind::Agent, agent_id.0);
        let max_active = self.settings.chat.max_active_chats;
        self.write_chat(move |conn| {
            let agent_key = agent_id.to_string();
            let agent = agents::find(conn, &agent_key)?.ok_or(ServiceError::AgentNotFound)?;
            if !agent_present || agent.disabled != 0 || agent.status != "online" {
                return Err(ServiceError::AgentOffline);
            }
            // The chat row goes in first. If this visitor's previous chat is closing right now,
            // PostgreSQL makes the insert wait on the one-live-chat index before this
            // transaction holds the agent and counter rows the closing one needs next.
            let now = now_ms();
            let chat_id = ChatId::new();
            let row = ChatRow {
                id: chat_id.to_string(),
                visitor_id: visitor.to_string(),
                agent_id: Some(agent_key.clone()),
                status: ChatStatus::Open.as_str().to_string(),
                last_seq: 1,
                created_at: now,
                last_activity_at: now,
                closed_at: None,
                close_reason: None,
            };
            chats::insert(conn, &row).map_err(|e| {
                if is_unique_violation(&e) {
                    ServiceError::ChatAlreadyOpen
                } else {
                    e.into()
                }
            })?;
            if !agents::take_slot(conn, &agent_key)? {
                return Err(ServiceError::AgentFull);
            }
            if !counters::take(conn, counters::OPEN_CHATS, max_active)? {
                return Err(ServiceError::TooManyChats);
            }
            let agent = AgentRef { agent_id, name: agent.name };
            let event = store_event(conn, chat_id, 1, EventPayload::ChatAssigned { agent: agent.clone() })?;
            let started = StartedChat { chat_id, agent, seq: event.seq };
            Ok((started, Some(Stored { row, events: vec![event] })))
        })
        .await
    }

    /// Either side closes a chat.
    pub async fn close_chat(
        &self,
        principal: &Principal,
        chat_id: ChatId,
    ) -> Result<ClosedChat, ServiceError> {
        let reason = match principal.kind() {
            PrincipalKind::Visitor => CloseReason::ClosedByVisitor,
            PrincipalKind::Agent => CloseReason::ClosedByAgent,
        };
        let principal = *principal;
        self.write_chat(move |conn| {
            chat_of(conn, &principal, chat_id)?;
            let row = chats::close(conn, &chat_id.to_string(), reason.as_str(), now_ms())?
                .ok_or(ServiceError::ChatClosed)?;
            if let Some(agent) = &row.agent_id {
                agents::release_slot(conn, agent)?;
            }
            counters::release(conn, counters::OPEN_CHATS)?;
            let event = store_event(conn, chat_id, row.last_seq, EventPayload::ChatClosed { reason })?;
            let closed = ClosedChat { chat_id, seq: event.seq, reason };
            Ok((closed, Some(Stored { row, events: vec![event] })))
        })
        .await
    }
}
