//! Chats an agent starts or hands on: invitations (proactive chat with a visitor on the site
//! now) and transfers. Both check capacity with the same conditional update as every other
//! path, inside the transaction, so no path can push an agent past `max_chats`.

use serde_json::json;

use super::capacity;
use super::chat_rows::store_event;
use super::queue::{self, drain_locked};
use super::relay::Relay;
use super::{require_agent, ServiceError, Services, Stored};
use crate::domain::{
    now_ms, AgentId, AgentRef, ChatId, EventPayload, InvalidInput, Principal, PrincipalKind, VisitorId,
};
use crate::store::chats;
use crate::store::{agents, visitors, DbConn};

/// The agent's name, or `AgentNotFound`.
fn agent_ref(conn: &mut DbConn, agent_id: AgentId) -> Result<(AgentRef, agents::AgentRow), ServiceError> {
    let row = agents::find(conn, agent_id)?.ok_or(ServiceError::AgentNotFound)?;
    Ok((AgentRef { agent_id, name: row.name.clone() }, row))
}

impl Services {
    /// An agent invites a visitor who is on the site now: the chat opens at once, counts
    /// against the agent's capacity, and the visitor's poll gets `chat.invited`.
    pub async fn invite(
        &self,
        principal: &Principal,
        visitor: VisitorId,
    ) -> Result<(ChatId, i64), ServiceError> {
        let agent_id = require_agent(principal)?;
        if self.bans.visitor_banned(visitor.0, now_ms()) {
            return Err(ServiceError::Forbidden("this visitor is banned"));
        }
        let visitor_present = self.is_present(PrincipalKind::Visitor, visitor.0).await?;
        let max_active = self.settings.chat.max_active_chats;
        self.write_chat(move |conn| {
            visitors::find(conn, visitor)?.ok_or(ServiceError::VisitorNotFound)?;
            if !visitor_present {
                return Err(ServiceError::VisitorOffline);
            }
            let (agent, _) = agent_ref(conn, agent_id)?;
            let row = capacity::open_with_agent(conn, visitor, agent_id, max_active, now_ms()).map_err(
                |e| match e {
                    ServiceError::ChatAlreadyOpen => ServiceError::VisitorInChat,
                    other => other,
                },
            )?;
            let chat_id = row.id;
            let event = store_event(conn, chat_id, 1, EventPayload::ChatInvited { agent })?;
            Ok(((chat_id, 1), vec![Stored { row, events: vec![event] }]))
        })
        .await
    }

    /// The chat's agent hands it to another online agent with room; the transcript follows,
    /// both agents and the visitor are told, and the freed slot drains the queue.
    pub async fn transfer(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        to: AgentId,
    ) -> Result<i64, ServiceError> {
        let from = require_agent(principal)?;
        let to_present = self.is_present(PrincipalKind::Agent, to.0).await?;
        let present = self.present_agents().await?;
        let principal = *principal;
        // The agent who handed the chat on no longer reads it; a notice tells its console.
        let notify_former = move |relay: &Relay, (seq, from_ref, to_ref): &(i64, AgentRef, AgentRef)| {
            let fields = json!({
                "chat_id": chat_id, "seq": seq, "type": "chat.transferred", "from": from_ref, "to": to_ref,
            });
            relay.notify(PrincipalKind::Agent, from.0, &fields);
        };
        let (seq, _, _) = self
            .write_chat_then(
                move |conn| {
                    queue::lock(conn)?;
                    super::chats::chat_of(conn, &principal, chat_id)?;
                    if from == to {
                        return Err(InvalidInput::new("agent_id", "must be another agent").into());
                    }
                    let (to_ref, target) = agent_ref(conn, to)?;
                    if !capacity::can_take_chats(&target, to_present) {
                        return Err(ServiceError::AgentOffline);
                    }
                    let (from_ref, _) = agent_ref(conn, from)?;
                    let now = now_ms();
                    let row =
                        chats::reassign(conn, chat_id, from, to, now)?.ok_or(ServiceError::ChatClosed)?;
                    capacity::move_slot(conn, from, to, now)?;
                    let payload =
                        EventPayload::ChatTransferred { from: from_ref.clone(), to: to_ref.clone() };
                    let event = store_event(conn, chat_id, row.last_seq, payload)?;
                    let seq = event.seq;
                    let mut stored = vec![Stored { row, events: vec![event] }];
                    stored.extend(drain_locked(conn, &present)?);
                    Ok(((seq, from_ref, to_ref), stored))
                },
                notify_former,
            )
            .await?;
        Ok(seq)
    }
}
