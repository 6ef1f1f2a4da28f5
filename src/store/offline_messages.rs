//! `offline_messages`: what visitors leave when no agent is online, for agents to answer by
//! email.

use diesel::prelude::*;

use super::schema::offline_messages;
use super::DbConn;
use crate::domain::VisitorId;

/// An offline message as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offline_messages)]
pub struct OfflineMessageRow {
    /// UUID.
    pub id: String,
    /// The visitor who left it.
    pub visitor_id: VisitorId,
    /// The name the visitor gave.
    pub name: String,
    /// Where to answer.
    pub email: String,
    /// The message, shown as text.
    pub body: String,
    /// Epoch ms.
    pub created_at: i64,
    /// The widget's language when it was left (`en`, `zh`, `ko`), if the widget said.
    pub lang: Option<String>,
    /// The agent's answer, once given.
    pub answer: Option<String>,
    /// The agent who answered.
    pub answered_by: Option<String>,
    /// Epoch ms of the answer.
    pub answered_at: Option<i64>,
}

/// Adds an offline message.
pub fn insert(conn: &mut DbConn, message: &OfflineMessageRow) -> QueryResult<()> {
    diesel::insert_into(offline_messages::table).values(message).execute(conn).map(drop)
}

/// Up to `limit` messages left before `before` (epoch ms, exclusive; `None` = now), newest
/// first.
pub fn newest(conn: &mut DbConn, before: Option<i64>, limit: i64) -> QueryResult<Vec<OfflineMessageRow>> {
    let mut query = offline_messages::table
        .order((offline_messages::created_at.desc(), offline_messages::id.desc()))
        .limit(limit)
        .select(OfflineMessageRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(offline_messages::created_at.lt(before));
    }
    query.load(conn)
}

/// The offline message with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OfflineMessageRow>> {
    offline_messages::table.find(id).select(OfflineMessageRow::as_select()).first(conn).optional()
}

/// Stores the answer to `id` if it has none yet; returns whether it did.
pub fn answer(conn: &mut DbConn, id: &str, answer: &str, agent: &str, now: i64) -> QueryResult<bool> {
    diesel::update(offline_messages::table.find(id).filter(offline_messages::answer.is_null()))
        .set((
            offline_messages::answer.eq(Some(answer)),
            offline_messages::answered_by.eq(Some(agent)),
            offline_messages::answered_at.eq(Some(now)),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// How many offline messages are stored in all.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    offline_messages::table.count().get_result(conn)
}

/// The offline messages with these ids (in no order; unknown ids are left out).
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<OfflineMessageRow>> {
    offline_messages::table
        .filter(offline_messages::id.eq_any(ids))
        .select(OfflineMessageRow::as_select())
        .load(conn)
}
