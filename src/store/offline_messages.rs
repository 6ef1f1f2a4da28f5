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
