//! Starting and ending chats. Capacity is taken and given back (`capacity`) in the same
//! transaction that opens or closes the chat, by single conditional updates, so it holds under
//! any concurrency and on any number of nodes.

use super::capacity;
use super::chat_rows::{insert_chat, store_event};
use super::prechat::{answers_for, RawAnswers};
use super::queue::{self, drain_locked};
use super::{ServiceError, Services, Stored};
use crate::domain::{
    now_ms, AgentId, AgentRef, ChatId, CloseReason, EventPayload, Lang, Principal, PrincipalKind, VisitorId,
};
use crate::store::chats::{self, ChatRow};
use crate::store::DbConn;
use crate::store::{agents, prechat, visitors};

/// A chat just started.
#[derive(Debug, Clone)]
pub struct StartedChat {
    /// The chat.
    pub chat_id: ChatId,
    /// Assigned to an agent, or waiting in the queue.
    pub outcome: StartOutcome,
    /// Seq of its first event.
    pub seq: i64,
}

/// Where a new chat stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    /// An agent took it.
    Assigned(AgentRef),
    /// It waits at this queue position (1 = next).
    Queued(i32),
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

/// The chat if `principal` takes part in it; `ChatNotFound` or `Forbidden` otherwise.
pub(crate) fn chat_of(
    conn: &mut DbConn,
    principal: &Principal,
    chat_id: ChatId,
) -> Result<ChatRow, ServiceError> {
    let row = chats::find(conn, chat_id)?.ok_or(ServiceError::ChatNotFound)?;
    let member = match *principal {
        Principal::Visitor(visitor) => row.visitor_id == visitor,
        Principal::Agent(agent, _) => row.agent_id == Some(agent),
    };
    if member {
        Ok(row)
    } else {
        Err(ServiceError::Forbidden("this chat is not yours"))
    }
}

impl Services {
    /// A visitor starts a chat with the agent it picked, or with the next free agent when
    /// `agent_id` is `None`; `lang`, the widget's language, is remembered for the visitor in
    /// the same transaction (for the emails it may get later). `prechat`, the visitor's answers
    /// to its site's pre-chat form, is checked against the form first and stored with the chat
    /// (`service::prechat`): a refusal starts nothing.
    pub async fn start_chat(
        &self,
        principal: &Principal,
        agent_id: Option<AgentId>,
        lang: Option<Lang>,
        prechat: Option<RawAnswers>,
    ) -> Result<StartedChat, ServiceError> {
        let Principal::Visitor(visitor) = *principal else {
            return Err(ServiceError::Forbidden("only visitors start chats"));
        };
        match agent_id {
            Some(agent_id) => self.start_with_agent(visitor, agent_id, lang, prechat).await,
            None => self.start_with_any_agent(visitor, lang, prechat).await,
        }
    }

    async fn start_with_agent(
        &self,
        visitor: VisitorId,
        agent_id: AgentId,
        lang: Option<Lang>,
        prechat: Option<RawAnswers>,
    ) -> Result<StartedChat, ServiceError> {
        let agent_present = self.is_present(PrincipalKind::Agent, agent_id.0).await?;
        let max_active = self.settings.chat.max_active_chats;
        self.write_chat(move |conn| {
            let answers = answers_for(conn, visitor, prechat.as_ref())?;
            remember_lang(conn, visitor, lang)?;
            let agent = agents::find(conn, agent_id)?.ok_or(ServiceError::AgentNotFound)?;
            if !capacity::can_take_chats(&agent, agent_present) {
                return Err(ServiceError::AgentOffline);
            }
            let row = capacity::open_with_agent(conn, visitor, agent_id, max_active, now_ms())?;
            store_answers(conn, row.id, answers.as_deref())?;
            let agent = AgentRef { agent_id, name: agent.name };
            let event = store_event(conn, row.id, 1, EventPayload::ChatAssigned { agent: agent.clone() })?;
            let started =
                StartedChat { chat_id: event.chat_id, outcome: StartOutcome::Assigned(agent), seq: 1 };
            Ok((started, vec![Stored { row, events: vec![event] }]))
        })
        .await
    }

    async fn start_with_any_agent(
        &self,
        visitor: VisitorId,
        lang: Option<Lang>,
        prechat: Option<RawAnswers>,
    ) -> Result<StartedChat, ServiceError> {
        let present = self.present_agents().await?;
        let max_active = self.settings.chat.max_active_chats;
        self.write_chat(move |conn| {
            let answers = answers_for(conn, visitor, prechat.as_ref())?;
            remember_lang(conn, visitor, lang)?;
            let row = ChatRow::queued(visitor, now_ms());
            // The insert comes before the queue lock (see the lock order in `queue`); the
            // ticket that places the chat in line is taken with the lock.
            insert_chat(conn, &row)?;
            store_answers(conn, row.id, answers.as_deref())?;
            let ticket = queue::lock(conn)?;
            if agents::count_online_in(conn, &present)? == 0 {
                return Err(ServiceError::NoAgentOnline);
            }
            chats::set_queue_ticket(conn, row.id, ticket)?;
            capacity::count_chat(conn, max_active)?;
            let stored = drain_locked(conn, &present)?;
            let mine = stored
                .iter()
                .find(|s| s.row.id == row.id)
                .and_then(|s| s.events.first())
                .ok_or(ServiceError::ChatNotFound)?;
            let outcome = match &mine.payload {
                EventPayload::ChatAssigned { agent } => StartOutcome::Assigned(agent.clone()),
                EventPayload::ChatQueued { position } => StartOutcome::Queued(*position),
                _ => return Err(ServiceError::ChatNotFound),
            };
            let started = StartedChat { chat_id: mine.chat_id, outcome, seq: mine.seq };
            Ok((started, stored))
        })
        .await
    }

    /// Either side closes a chat; the queue then drains into the freed slot.
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
        let present = self.present_agents().await?;
        self.write_chat(move |conn| {
            queue::lock(conn)?;
            chat_of(conn, &principal, chat_id)?;
            let closing = end_chat(conn, chat_id, reason, None)?.ok_or(ServiceError::ChatClosed)?;
            let seq = closing.events.first().map_or(0, |event| event.seq);
            let mut stored = vec![closing];
            stored.extend(drain_locked(conn, &present)?);
            Ok((ClosedChat { chat_id, seq, reason }, stored))
        })
        .await
    }
}

/// Stores a new chat's pre-chat answers, when its site asked.
fn store_answers(conn: &mut DbConn, chat: ChatId, answers: Option<&str>) -> Result<(), ServiceError> {
    if let Some(answers) = answers {
        prechat::set_answers(conn, chat, answers)?;
    }
    Ok(())
}

/// Stores the widget's language for `visitor`, when it said one.
fn remember_lang(conn: &mut DbConn, visitor: VisitorId, lang: Option<Lang>) -> Result<(), ServiceError> {
    if let Some(lang) = lang {
        visitors::set_lang(conn, visitor, lang.as_str())?;
    }
    Ok(())
}

/// Ends a chat that has not ended, for `reason`: gives back its capacity and stores
/// `chat.closed`. With `idle_before`, only if nothing happened in the chat since then (a send
/// that committed after the caller looked keeps the chat open). `None` when it did not end here.
/// Runs under the queue lock; the caller drains the queue into the freed room.
pub(crate) fn end_chat(
    conn: &mut DbConn,
    chat_id: ChatId,
    reason: CloseReason,
    idle_before: Option<i64>,
) -> Result<Option<Stored>, ServiceError> {
    let Some(row) = chats::close(conn, chat_id, reason.as_str(), now_ms(), idle_before)? else {
        return Ok(None);
    };
    capacity::release_chat(conn, &row)?;
    let event = store_event(conn, chat_id, row.last_seq, EventPayload::ChatClosed { reason })?;
    Ok(Some(Stored { row, events: vec![event] }))
}
