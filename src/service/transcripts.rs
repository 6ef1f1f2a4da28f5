//! Transcripts: a chat's stored events, page by page, for its visitor, its agent and admins —
//! and for an agent serving that visitor now (an open chat with it), who may read the visitor's
//! earlier chats with whoever served them (the console's customer panel).

use super::{ServiceError, Services};
use crate::domain::{Audience, ChatId, Event, PageLimit, Principal, Role};
use crate::store::chats::{self, ChatRow};
use crate::store::messages;

/// One page of a transcript.
#[derive(Debug, Clone)]
pub struct TranscriptPage {
    /// The chat.
    pub chat_id: ChatId,
    /// Its events after the requested seq, in order.
    pub events: Vec<Event>,
    /// The `after_seq` of the next page; `None` when this page reaches the end.
    pub next_after_seq: Option<i64>,
}

/// Who is reading a transcript, and so which events they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    Visitor,
    Staff,
}

/// May `principal` read this chat: its visitor, its current agent, or any admin.
pub(crate) fn reader_of(principal: &Principal, chat: &ChatRow) -> Result<Reader, ServiceError> {
    match *principal {
        Principal::Visitor(visitor) if chat.visitor_id == visitor => Ok(Reader::Visitor),
        Principal::Agent(_, Role::Admin) => Ok(Reader::Staff),
        Principal::Agent(agent, _) if chat.agent_id == Some(agent) => Ok(Reader::Staff),
        _ => Err(ServiceError::Forbidden("this chat is not yours")),
    }
}

impl Services {
    /// Up to `limit` events of `chat_id` after `after_seq`, in seq order.
    pub async fn transcript(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        after_seq: i64,
        limit: PageLimit,
    ) -> Result<TranscriptPage, ServiceError> {
        let principal = *principal;
        self.store
            .run(move |conn| {
                let chat = chats::find(conn, chat_id)?.ok_or(ServiceError::ChatNotFound)?;
                let reader = match (reader_of(&principal, &chat), principal) {
                    (Ok(reader), _) => reader,
                    (Err(refused), Principal::Agent(agent, _)) => {
                        if chats::serves(conn, agent, chat.visitor_id)? {
                            Reader::Staff
                        } else {
                            return Err(refused);
                        }
                    }
                    (Err(refused), Principal::Visitor(_)) => return Err(refused),
                };
                // One row more than asked tells whether another page follows.
                let mut rows = messages::after(conn, chat_id, after_seq, limit.get() + 1)?;
                let more = rows.len() as i64 > limit.get();
                rows.truncate(usize::try_from(limit.get()).unwrap_or(usize::MAX));
                let next_after_seq = if more { rows.last().map(|row| row.seq) } else { None };
                let mut events = Vec::with_capacity(rows.len());
                for row in rows {
                    let event = row.into_event()?;
                    if reader == Reader::Staff || event.payload.audience() == Audience::Both {
                        events.push(event);
                    }
                }
                Ok(TranscriptPage { chat_id, events, next_after_seq })
            })
            .await
    }
}
