//! `messages`: every durable event of every chat, keyed by `(chat_id, seq)`.

mod append;
mod send_lookup;

use diesel::prelude::*;

use self::append::BumpAndAppend;
use self::send_lookup::SendLookup;
use super::chats::seq_update::BumpSeq;
use super::chats::{self, ChatRow};
use super::schema::messages;
use super::{DbConn, StoreError};
use crate::domain::{ChatId, Event, EventPayload, Principal};

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

/// Reserves the chat's next seq for `row` — when `member` may still write in the chat: it is
/// its visitor or serving agent and the chat has not ended — and stores `row` under it, its
/// `seq` set. The chat as it now stands, or `None` with nothing written.
pub fn append(conn: &mut DbConn, member: &Principal, row: &mut MessageRow) -> QueryResult<Option<ChatRow>> {
    let DbConn::Postgres(pg) = &mut *conn else {
        // SQLite runs in the process: two statements cost no round trip.
        let Some(chat) = chats::next_message_seq(conn, row.chat_id, member, row.created_at)? else {
            return Ok(None);
        };
        row.seq = chat.last_seq;
        insert(conn, row)?;
        return Ok(Some(chat));
    };
    let member_id = member.uuid().to_string();
    let (id, member_id, at) = (&row.chat_id, member_id.as_str(), row.created_at);
    macro_rules! append {
        ($by_visitor:literal) => {
            BumpAndAppend::<$by_visitor> {
                bump: BumpSeq::new(id, member_id, at),
                kind: &row.kind,
                client_msg_id: row.client_msg_id.as_deref(),
                payload: &row.payload,
                at,
            }
            .get_result::<ChatRow>(pg)
            .optional()?
        };
    }
    let chat = if matches!(member, Principal::Visitor(_)) { append!(true) } else { append!(false) };
    if let Some(chat) = &chat {
        row.seq = chat.last_seq;
    }
    Ok(chat)
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

/// Before a send writes: the seq already given to `client_msg_id` in the chat, if any, and the
/// display name of `sender` (`None` when it no longer exists).
pub fn send_lookup(
    conn: &mut DbConn,
    chat_id: ChatId,
    client_msg_id: &str,
    sender: &Principal,
) -> QueryResult<(Option<i64>, Option<String>)> {
    let sender_id = sender.uuid().to_string();
    let (chat_id, sender_id) = (&chat_id, sender_id.as_str());
    macro_rules! lookup {
        ($inner:expr, $by_visitor:literal) => {
            SendLookup::<$by_visitor> { chat_id, client_msg_id, sender_id }.get_result($inner)
        };
    }
    match (conn, matches!(sender, Principal::Visitor(_))) {
        (DbConn::Sqlite(inner), true) => lookup!(inner, true),
        (DbConn::Sqlite(inner), false) => lookup!(inner, false),
        (DbConn::Postgres(inner), true) => lookup!(inner, true),
        (DbConn::Postgres(inner), false) => lookup!(inner, false),
    }
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
