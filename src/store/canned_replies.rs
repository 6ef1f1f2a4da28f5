//! `canned_replies`: the team's canned replies (`owner_id` NULL) and each agent's own.

use diesel::prelude::*;

use super::schema::canned_replies;
use super::DbConn;
use crate::domain::AgentId;

/// A canned reply as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = canned_replies)]
pub struct CannedReplyRow {
    /// UUID.
    pub id: String,
    /// The agent whose own reply it is; `None` for a team reply.
    pub owner_id: Option<AgentId>,
    /// Typed after `/` in the console; unique among the team's, and among each agent's own.
    pub shortcut: String,
    /// The text it puts in the reply.
    pub body: String,
    /// The agent who made it.
    pub created_by: AgentId,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last change.
    pub updated_at: i64,
}

/// Stores a new canned reply.
pub fn insert(conn: &mut DbConn, row: &CannedReplyRow) -> QueryResult<()> {
    diesel::insert_into(canned_replies::table).values(row).execute(conn).map(drop)
}

/// The canned reply with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<CannedReplyRow>> {
    canned_replies::table.find(id).select(CannedReplyRow::as_select()).first(conn).optional()
}

/// The replies of one scope: the team's (`owner` `None`) or one agent's own, by shortcut.
pub fn of_scope(conn: &mut DbConn, owner: Option<AgentId>) -> QueryResult<Vec<CannedReplyRow>> {
    let query =
        canned_replies::table.order(canned_replies::shortcut.asc()).select(CannedReplyRow::as_select());
    match owner {
        Some(owner) => query.filter(canned_replies::owner_id.eq(owner)).load(conn),
        None => query.filter(canned_replies::owner_id.is_null()).load(conn),
    }
}

/// How many replies one scope holds.
pub fn count_of_scope(conn: &mut DbConn, owner: Option<AgentId>) -> QueryResult<i64> {
    let query = canned_replies::table.count();
    match owner {
        Some(owner) => query.filter(canned_replies::owner_id.eq(owner)).get_result(conn),
        None => query.filter(canned_replies::owner_id.is_null()).get_result(conn),
    }
}

/// Whether another reply of the same scope (`except` aside) has `shortcut`.
pub fn shortcut_taken(
    conn: &mut DbConn,
    owner: Option<AgentId>,
    shortcut: &str,
    except: Option<&str>,
) -> QueryResult<bool> {
    let same = canned_replies::table.filter(canned_replies::shortcut.eq(shortcut)).select(canned_replies::id);
    let ids: Vec<String> = match owner {
        Some(owner) => same.filter(canned_replies::owner_id.eq(owner)).load(conn)?,
        None => same.filter(canned_replies::owner_id.is_null()).load(conn)?,
    };
    Ok(ids.iter().any(|id| Some(id.as_str()) != except))
}

/// Changes a reply's shortcut and text.
pub fn update(conn: &mut DbConn, id: &str, shortcut: &str, body: &str, now: i64) -> QueryResult<()> {
    diesel::update(canned_replies::table.find(id))
        .set((
            canned_replies::shortcut.eq(shortcut),
            canned_replies::body.eq(body),
            canned_replies::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Deletes a reply; false when there was none.
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::delete(canned_replies::table.find(id)).execute(conn).map(|n| n > 0)
}
