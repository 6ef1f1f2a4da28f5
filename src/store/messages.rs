//! `messages`: every durable event of every chat, keyed by `(chat_id, seq)`.

mod append;
mod append_all;

use diesel::prelude::*;

use self::append::BumpAndAppend;
use self::append_all::{AppendAll, StoredAt};
use super::chats::seq_update::BumpSeq;
use super::chats::ChatRow;
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

/// What [`append`] did.
#[derive(Debug)]
pub enum Appended {
    /// Stored under the chat's next seq (now `row.seq`); the chat as this message left it
    /// (its `last_seq` is the message's, even when later messages of the same batch follow).
    Stored(ChatRow),
    /// The chat already has the row's `client_msg_id`, under this seq; nothing written.
    Duplicate(i64),
    /// The member may not write in the chat (unknown, someone else's, or ended); nothing
    /// written.
    Refused,
}

/// Stores a message `row` from `member` under the chat's next seq — unless the chat already
/// has its `client_msg_id`, or `member` may no longer write in it (it is not the chat's visitor
/// or serving agent, or the chat has ended). `row`'s `seq` is set when it is stored.
///
/// The common case is one reservation that is made only when the chat does not hold the
/// `client_msg_id` yet, then the insert: on PostgreSQL both in one statement (one round trip),
/// on SQLite (in the process) two, run on SQLite's own connection so diesel finds them prepared
/// by their type instead of writing their SQL again for each send. A repeat or a refusal (rare)
/// is told apart after.
pub fn append(conn: &mut DbConn, member: &Principal, row: &mut MessageRow) -> QueryResult<Appended> {
    let member_id = member.uuid().to_string();
    let Some(client_msg_id) = row.client_msg_id.as_deref() else {
        return Err(diesel::result::Error::QueryBuilderError("a sent message has a client_msg_id".into()));
    };
    let (id, member_id, at) = (&row.chat_id, member_id.as_str(), row.created_at);
    let by_visitor = matches!(member, Principal::Visitor(_));
    let stored = match &mut *conn {
        DbConn::Sqlite(lite) => {
            macro_rules! bump {
                ($by_visitor:literal) => {
                    BumpSeq::<_, $by_visitor>::new(id, member_id, at, client_msg_id)
                        .get_result::<ChatRow>(lite)
                        .optional()?
                };
            }
            let bumped = if by_visitor { bump!(true) } else { bump!(false) };
            if let Some(chat) = &bumped {
                row.seq = chat.last_seq;
                diesel::insert_into(messages::table).values(&*row).execute(lite)?;
            }
            bumped
        }
        DbConn::Postgres(pg) => {
            macro_rules! append {
                ($by_visitor:literal) => {
                    BumpAndAppend::<$by_visitor> {
                        bump: BumpSeq::new(id, member_id, at, client_msg_id),
                        kind: &row.kind,
                        client_msg_id,
                        payload: &row.payload,
                        at,
                    }
                    .get_result::<ChatRow>(pg)
                    .optional()?
                };
            }
            let stored = if by_visitor { append!(true) } else { append!(false) };
            if let Some(chat) = &stored {
                row.seq = chat.last_seq;
            }
            stored
        }
    };
    if let Some(chat) = stored {
        return Ok(Appended::Stored(chat));
    }
    // Nothing stored: a repeat, or refused. Rare, so asked apart.
    Ok(match duplicate_of(conn, row)? {
        Some(seq) => Appended::Duplicate(seq),
        None => Appended::Refused,
    })
}

/// Stores each of `sends` — a member and its message row — as [`append`] would, in order, and
/// says what it did with each. On PostgreSQL two or more go in one statement (one round trip
/// instead of one per message); elsewhere they go one by one.
pub fn append_all(conn: &mut DbConn, sends: &mut [(Principal, MessageRow)]) -> QueryResult<Vec<Appended>> {
    if let [(member, row)] = sends {
        return append(conn, member, row).map(|appended| vec![appended]);
    }
    let DbConn::Postgres(pg) = &mut *conn else {
        return sends.iter_mut().map(|(member, row)| append(conn, member, row)).collect();
    };
    let mut statement = AppendAll {
        chat_ids: Vec::with_capacity(sends.len()),
        members: Vec::with_capacity(sends.len()),
        by_visitor: Vec::with_capacity(sends.len()),
        kinds: Vec::with_capacity(sends.len()),
        client_msg_ids: Vec::with_capacity(sends.len()),
        payloads: Vec::with_capacity(sends.len()),
        ats: Vec::with_capacity(sends.len()),
    };
    for (member, row) in sends.iter() {
        let Some(client_msg_id) = row.client_msg_id.as_deref() else {
            return Err(diesel::result::Error::QueryBuilderError(
                "a sent message has a client_msg_id".into(),
            ));
        };
        statement.chat_ids.push(row.chat_id);
        statement.members.push(member.uuid().to_string());
        statement.by_visitor.push(matches!(member, Principal::Visitor(_)));
        statement.kinds.push(&row.kind);
        statement.client_msg_ids.push(client_msg_id);
        statement.payloads.push(&row.payload);
        statement.ats.push(row.created_at);
    }
    let stored: Vec<StoredAt> = statement.load(pg)?;
    let mut appended: Vec<Option<Appended>> = sends.iter().map(|_| None).collect();
    for (place, chat) in stored {
        let index = usize::try_from(place - 1).ok().filter(|&i| i < sends.len());
        let Some(index) = index else {
            return Err(diesel::result::Error::QueryBuilderError(format!("no send at place {place}").into()));
        };
        sends[index].1.seq = chat.last_seq;
        appended[index] = Some(Appended::Stored(chat));
    }
    // Left out: a repeat (of a stored message, or of one earlier in this batch), or refused.
    // Rare, so asked apart.
    sends
        .iter()
        .zip(appended)
        .map(|((_, row), appended)| match appended {
            Some(appended) => Ok(appended),
            None => Ok(match duplicate_of(conn, row)? {
                Some(seq) => Appended::Duplicate(seq),
                None => Appended::Refused,
            }),
        })
        .collect()
}

/// The seq under which the chat holds `row`'s `client_msg_id`, if it does.
fn duplicate_of(conn: &mut DbConn, row: &MessageRow) -> QueryResult<Option<i64>> {
    match &row.client_msg_id {
        Some(client_msg_id) => seq_of_client_msg_id(conn, row.chat_id, client_msg_id),
        None => Ok(None),
    }
}

/// The display name of a sender, `None` when it no longer exists.
pub fn sender_name(conn: &mut DbConn, sender: &Principal) -> QueryResult<Option<String>> {
    let names = match *sender {
        Principal::Visitor(id) => {
            super::visitors::names_of(conn, &[id])?.into_iter().map(|(_, name)| name).next()
        }
        Principal::Agent(id, _) => {
            super::agents::names_of(conn, &[id])?.into_iter().map(|(_, name)| name).next()
        }
    };
    Ok(names)
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

/// Whether an agent wrote in `chat_id`: a stored message whose payload starts with
/// `{"type":"message","from":"agent"` (the payload's field order is fixed by `EventPayload`;
/// a quote inside a body is escaped, so no body can fake it).
pub fn has_agent_message(conn: &mut DbConn, chat_id: ChatId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        messages::table
            .filter(messages::chat_id.eq(chat_id))
            .filter(messages::kind.eq("message"))
            .filter(messages::payload.like(r#"{"type":"message","from":"agent"%"#)),
    ))
    .get_result(conn)
}

/// How many events a chat has stored.
pub fn count_in_chat(conn: &mut DbConn, chat_id: ChatId) -> QueryResult<i64> {
    messages::table.filter(messages::chat_id.eq(chat_id)).count().get_result(conn)
}

/// How many events are stored in all.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    messages::table.count().get_result(conn)
}

#[cfg(test)]
mod tests;
