//! Read-only views of chats for the console and the admin pages: the waiting queue, one chat's
//! details, and the history of closed chats. Who may see what follows the transcript rule: a
//! chat's visitor, its current agent, any admin.

use std::collections::HashMap;

use serde::Serialize;

use super::customer::{identity_of, VisitorIdentity};
use super::transcripts::{reader_of, Reader};
use super::{require_agent, ServiceError, Services};
use crate::domain::{
    AgentId, ChatId, ChatStatus, PageLimit, PrechatAnswer, PrechatAnswers, Principal, Role, VisitorId,
};
use crate::store::{agents, chats, prechat, ratings, visitors};

/// A chat waiting for an agent, as the console lists it.
#[derive(Debug, Clone, Serialize)]
pub struct WaitingChat {
    /// The chat.
    pub chat_id: ChatId,
    /// Who waits.
    pub visitor_id: VisitorId,
    /// The visitor's display name.
    pub visitor_name: String,
    /// Whether a signed identity vouched for the visitor.
    pub visitor_verified: bool,
    /// Place in the queue, 1 being next.
    pub position: usize,
    /// Epoch ms the chat started.
    pub waiting_since: i64,
}

/// The visitor of a chat, with the page it reported.
#[derive(Debug, Clone, Serialize)]
pub struct ChatVisitor {
    /// Id.
    pub visitor_id: VisitorId,
    /// Display name.
    pub name: String,
    /// The page it is on.
    pub page_url: Option<String>,
    /// That page's title.
    pub page_title: Option<String>,
    /// Where it came from.
    pub referrer: Option<String>,
    /// Its browser.
    pub user_agent: Option<String>,
    /// Who it is (`verified`, `customer_id`, `email`, `site`): shown to agents and admins, not
    /// in the visitor's own view of its chat.
    #[serde(flatten)]
    pub identity: Option<VisitorIdentity>,
}

/// An agent named in a view.
#[derive(Debug, Clone, Serialize)]
pub struct NamedAgent {
    /// Id.
    pub agent_id: AgentId,
    /// Display name.
    pub name: String,
}

/// One chat, as its participants and admins see it.
#[derive(Debug, Clone, Serialize)]
pub struct ChatDetails {
    /// Id.
    pub chat_id: ChatId,
    /// `queued`, `open` or `closed`.
    pub status: ChatStatus,
    /// Its visitor.
    pub visitor: ChatVisitor,
    /// The agent serving (or who served) it.
    pub agent: Option<NamedAgent>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms, once ended.
    pub closed_at: Option<i64>,
    /// Why it ended.
    pub close_reason: Option<String>,
    /// Seq of its newest event.
    pub last_seq: i64,
    /// How far the visitor has read.
    pub visitor_read_seq: i64,
    /// How far the agent has read.
    pub agent_read_seq: i64,
    /// The visitor's answers to its site's pre-chat form (`[]`: asked, nothing answered;
    /// `None`: its site has no form).
    pub prechat: Option<Vec<PrechatAnswer>>,
}

/// A closed chat in the history list.
#[derive(Debug, Clone, Serialize)]
pub struct PastChat {
    /// Id.
    pub chat_id: ChatId,
    /// Its visitor.
    pub visitor_id: VisitorId,
    /// The visitor's display name.
    pub visitor_name: String,
    /// Whether a signed identity vouched for the visitor.
    pub visitor_verified: bool,
    /// The agent who served it to the end, if any did.
    pub agent_id: Option<AgentId>,
    /// That agent's display name.
    pub agent_name: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub closed_at: Option<i64>,
    /// Why it ended.
    pub close_reason: Option<String>,
    /// The visitor's rating, 1–5.
    pub score: Option<i32>,
    /// The rating's words.
    pub comment: Option<String>,
}

impl Services {
    /// The waiting queue, next first (agents and admins).
    pub async fn waiting_queue(&self, principal: &Principal) -> Result<Vec<WaitingChat>, ServiceError> {
        require_agent(principal)?;
        self.store
            .run(|conn| {
                let rows = chats::queued_in_order(conn)?;
                let ids: Vec<VisitorId> = rows.iter().map(|row| row.visitor_id).collect();
                let names: HashMap<_, _> = visitors::names_verified_of(conn, &ids)?
                    .into_iter()
                    .map(|(id, name, verified)| (id, (name, verified != 0)))
                    .collect();
                Ok(rows
                    .into_iter()
                    .enumerate()
                    .map(|(index, row)| WaitingChat {
                        visitor_name: names
                            .get(&row.visitor_id)
                            .map(|(name, _)| name.clone())
                            .unwrap_or_default(),
                        visitor_verified: names.get(&row.visitor_id).is_some_and(|(_, verified)| *verified),
                        chat_id: row.id,
                        visitor_id: row.visitor_id,
                        position: index + 1,
                        waiting_since: row.created_at,
                    })
                    .collect())
            })
            .await
    }

    /// One chat with its visitor and agent, for its visitor, its current agent and admins.
    pub async fn chat_details(
        &self,
        principal: &Principal,
        chat_id: ChatId,
    ) -> Result<ChatDetails, ServiceError> {
        let principal = *principal;
        self.store
            .run(move |conn| {
                let chat = chats::find(conn, chat_id)?.ok_or(ServiceError::ChatNotFound)?;
                let reader = reader_of(&principal, &chat)?;
                let visitor = visitors::page_of(conn, chat.visitor_id)?.ok_or(ServiceError::ChatNotFound)?;
                let identity = match reader {
                    Reader::Staff => Some(identity_of(conn, &visitor)?),
                    Reader::Visitor => None,
                };
                let agent = match chat.agent_id {
                    Some(id) => agents::names_of(conn, &[id])?
                        .into_iter()
                        .next()
                        .map(|(agent_id, name)| NamedAgent { agent_id, name }),
                    None => None,
                };
                Ok(ChatDetails {
                    chat_id: chat.id,
                    status: chat.status,
                    visitor: ChatVisitor {
                        visitor_id: visitor.id,
                        name: visitor.name,
                        page_url: visitor.page_url,
                        page_title: visitor.page_title,
                        referrer: visitor.referrer,
                        user_agent: visitor.user_agent,
                        identity,
                    },
                    agent,
                    created_at: chat.created_at,
                    closed_at: chat.closed_at,
                    close_reason: chat.close_reason,
                    last_seq: chat.last_seq,
                    visitor_read_seq: chat.visitor_read_seq,
                    agent_read_seq: chat.agent_read_seq,
                    prechat: PrechatAnswers::from_stored(prechat::answers(conn, chat.id)?.as_deref()),
                })
            })
            .await
    }

    /// Closed chats, most recently closed first: the ones an agent served to the end, or every
    /// one for admins. `before` is where the previous page ended: its last chat's `closed_at`
    /// and id (chats closed in the same millisecond are told apart by id, so none is skipped).
    pub async fn chat_history(
        &self,
        principal: &Principal,
        before: Option<(i64, String)>,
        limit: PageLimit,
    ) -> Result<Vec<PastChat>, ServiceError> {
        let me = require_agent(principal)?;
        let only_mine = !matches!(principal, Principal::Agent(_, Role::Admin));
        self.store
            .run(move |conn| {
                let agent_filter = only_mine.then_some(me);
                let rows = chats::closed_page(conn, agent_filter, before, limit.get())?;
                let chat_ids: Vec<ChatId> = rows.iter().map(|row| row.id).collect();
                let visitor_ids: Vec<VisitorId> = rows.iter().map(|row| row.visitor_id).collect();
                let agent_ids: Vec<AgentId> = rows.iter().filter_map(|row| row.agent_id).collect();
                let visitor_names: HashMap<_, _> = visitors::names_verified_of(conn, &visitor_ids)?
                    .into_iter()
                    .map(|(id, name, verified)| (id, (name, verified != 0)))
                    .collect();
                let agent_names: HashMap<_, _> = agents::names_of(conn, &agent_ids)?.into_iter().collect();
                let rated: HashMap<_, _> =
                    ratings::of_chats(conn, &chat_ids)?.into_iter().map(|r| (r.chat_id, r)).collect();
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let rating = rated.get(&row.id);
                        PastChat {
                            visitor_name: visitor_names
                                .get(&row.visitor_id)
                                .map(|(name, _)| name.clone())
                                .unwrap_or_default(),
                            visitor_verified: visitor_names.get(&row.visitor_id).is_some_and(|(_, v)| *v),
                            agent_name: row.agent_id.as_ref().and_then(|id| agent_names.get(id).cloned()),
                            score: rating.map(|r| r.score),
                            comment: rating.and_then(|r| r.comment.clone()),
                            chat_id: row.id,
                            visitor_id: row.visitor_id,
                            agent_id: row.agent_id,
                            created_at: row.created_at,
                            closed_at: row.closed_at,
                            close_reason: row.close_reason,
                        }
                    })
                    .collect())
            })
            .await
    }
}
