//! `messages`: every durable event of every chat, keyed by `(chat_id, seq)`.

use diesel::prelude::*;

use super::schema::messages;
use super::{DbConn, StoreError};
use crate::domain::{ChatId, Event, EventPayload};

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
// A `None` is bound as NULL, not written as DEFAULT: the insert then has one shape, so diesel
// keeps it prepared. With DEFAULT (its choice for Option fields) every send re-parsed it.
#[diesel(treat_none_as_default_value = false)]
pub struct MessageRow {
    /// The chat.
    pub chat_id: ChatId,
    /// Position in the chat.
    pub seq: i64,
    /// The event `type`.
    pub kind: String,
    /// The sender's idempotency id (messages only).
    pub client_msg_id: Option<String>,
    /// The [`EventPayload`] as JSON.
    pub payload: String,
    /// Epoch ms.
    pub created_at: i64,
}

impl MessageRow {
    /// The row for `event`.
    pub fn from_event(event: &Event) -> Result<Self, StoreError> {
        let client_msg_id = match &event.payload {
            EventPayload::Message { client_msg_id, .. } => client_msg_id.clone(),
            _ => None,
        };
        Ok(Self {
            chat_id: event.chat_id,
            seq: event.seq,
            kind: event.payload.kind().to_string(),
            client_msg_id,
            payload: serde_json::to_string(&event.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: event.at,
        })
    }

    /// The event this row holds.
    pub fn into_event(self) -> Result<Event, StoreError> {
        let corrupt =
            |what: String| StoreError::Corrupt(format!("message {}#{}: {what}", self.chat_id, self.seq));
        let payload: EventPayload =
            serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?;
        Ok(Event { chat_id: self.chat_id, seq: self.seq, at: self.created_at, payload })
    }
}

/// Stores an event.
pub fn insert(conn: &mut DbConn, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(messages::table).values(row).execute(conn).map(drop)
}

/// The seq already given to `client_msg_id` in this chat, if any.
pub fn seq_of_client_msg_id(
    conn: &mut DbConn,
    chat_id: ChatId,
    client_msg_id: &str,
) -> QueryResult<Option<i64>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::client_msg_id.eq(client_msg_id))
        .select(messages::seq)
        .first(conn)
        .optional()
}

/// Up to `limit` events of a chat after `after_seq`, in order.
pub fn after(conn: &mut DbConn, chat_id: ChatId, after_seq: i64, limit: i64) -> QueryResult<Vec<MessageRow>> {
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::seq.gt(after_seq))
        .order(messages::seq.asc())
        .limit(limit)
        .select(MessageRow::as_select())
        .load(conn)
}

/// How many events a chat has stored.
pub fn count_in_chat(conn: &mut DbConn, chat_id: ChatId) -> QueryResult<i64> {
    messages::table.filter(messages::chat_id.eq(chat_id)).count().get_result(conn)
}

/// How many events are stored in all.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    messages::table.count().get_result(conn)
}
