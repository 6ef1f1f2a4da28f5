//! `chats`: one row per chat, holding its participants, status and last `seq`.

use diesel::prelude::*;

use super::schema::chats;
use super::DbConn;
use crate::domain::ChatStatus;

/// A chat as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = chats)]
pub struct ChatRow {
    /// UUID.
    pub id: String,
    /// The visitor's id.
    pub visitor_id: String,
    /// The serving agent's id, if any.
    pub agent_id: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Seq of the chat's newest event; the next event gets `last_seq + 1`.
    pub last_seq: i64,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last event.
    pub last_activity_at: i64,
    /// Epoch ms.
    pub closed_at: Option<i64>,
    /// Why it ended.
    pub close_reason: Option<String>,
}

/// Adds a chat.
pub fn insert(conn: &mut DbConn, chat: &ChatRow) -> QueryResult<()> {
    diesel::insert_into(chats::table).values(chat).execute(conn).map(drop)
}

/// The chat with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ChatRow>> {
    chats::table.find(id).select(ChatRow::as_select()).first(conn).optional()
}

/// The chats with these ids.
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<ChatRow>> {
    chats::table.filter(chats::id.eq_any(ids)).select(ChatRow::as_select()).load(conn)
}

/// The visitor's chats that are open or closed after `closed_since` (epoch ms).
pub fn recent_for_visitor(
    conn: &mut DbConn,
    visitor_id: &str,
    closed_since: i64,
) -> QueryResult<Vec<ChatRow>> {
    chats::table
        .filter(chats::visitor_id.eq(visitor_id))
        .filter(chats::status.eq(ChatStatus::Open.as_str()).or(chats::closed_at.gt(closed_since)))
        .select(ChatRow::as_select())
        .load(conn)
}

/// The agent's chats that are open or closed after `closed_since` (epoch ms).
pub fn recent_for_agent(conn: &mut DbConn, agent_id: &str, closed_since: i64) -> QueryResult<Vec<ChatRow>> {
    chats::table
        .filter(chats::agent_id.eq(agent_id))
        .filter(chats::status.eq(ChatStatus::Open.as_str()).or(chats::closed_at.gt(closed_since)))
        .select(ChatRow::as_select())
        .load(conn)
}

/// Reserves the next seq of an open chat. The update locks the chat row until the transaction
/// ends, so concurrent writers to one chat take turns and commit in seq order. `None` when the
/// chat is not open.
pub fn next_seq(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<Option<i64>> {
    let updated = diesel::update(chats::table.find(id).filter(chats::status.eq(ChatStatus::Open.as_str())))
        .set((chats::last_seq.eq(chats::last_seq + 1), chats::last_activity_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    chats::table.find(id).select(chats::last_seq).first(conn).map(Some)
}

/// Marks an open chat closed and reserves the seq of its closing event. `None` when the chat
/// was not open.
pub fn close(conn: &mut DbConn, id: &str, reason: &str, now: i64) -> QueryResult<Option<ChatRow>> {
    let updated = diesel::update(chats::table.find(id).filter(chats::status.eq(ChatStatus::Open.as_str())))
        .set((
            chats::status.eq(ChatStatus::Closed.as_str()),
            chats::closed_at.eq(now),
            chats::close_reason.eq(reason),
            chats::last_seq.eq(chats::last_seq + 1),
            chats::last_activity_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// How many chats exist.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    chats::table.count().get_result(conn)
}
