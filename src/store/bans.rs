//! `bans`: visitors and client addresses refused by an agent, until lifted or expired.

use diesel::prelude::*;

use super::schema::{bans, chats, visitors};
use super::DbConn;
use crate::domain::{AgentId, ChatId, ChatStatus, VisitorId};

/// A ban as stored: a visitor, an address, or both.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bans)]
pub struct BanRow {
    /// UUID.
    pub id: String,
    /// The banned visitor, if one is.
    pub visitor_id: Option<VisitorId>,
    /// The banned client address (canonical text form), if one is.
    pub ip: Option<String>,
    /// Why, as the agent wrote it.
    pub reason: Option<String>,
    /// The agent who banned.
    pub created_by: AgentId,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms when it ends by itself; `None` = until lifted.
    pub expires_at: Option<i64>,
    /// Epoch ms when an agent lifted it.
    pub lifted_at: Option<i64>,
    /// The agent who lifted it.
    pub lifted_by: Option<AgentId>,
}

/// Stores a new ban.
pub fn insert(conn: &mut DbConn, ban: &BanRow) -> QueryResult<()> {
    diesel::insert_into(bans::table).values(ban).execute(conn).map(drop)
}

/// The ban with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<BanRow>> {
    bans::table.find(id).select(BanRow::as_select()).first(conn).optional()
}

/// The bans in force at `now` (not lifted, not expired), newest first.
pub fn in_force(conn: &mut DbConn, now: i64) -> QueryResult<Vec<BanRow>> {
    bans::table
        .filter(bans::lifted_at.is_null())
        .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now)))
        .order((bans::created_at.desc(), bans::id.desc()))
        .select(BanRow::as_select())
        .load(conn)
}

/// Lifts a ban still in force at `now`; returns the row as it is after, or `None` when it was
/// not in force (already lifted, expired, or no such ban).
pub fn lift(conn: &mut DbConn, id: &str, by: AgentId, now: i64) -> QueryResult<Option<BanRow>> {
    let live = bans::table
        .find(id)
        .filter(bans::lifted_at.is_null())
        .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now)));
    let updated =
        diesel::update(live).set((bans::lifted_at.eq(now), bans::lifted_by.eq(by))).execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// The address a visitor last came from, `Ok(None)` for an unknown visitor and
/// `Ok(Some(None))` for one whose address was never recorded.
pub fn last_ip_of(conn: &mut DbConn, visitor_id: VisitorId) -> QueryResult<Option<Option<String>>> {
    visitors::table.find(visitor_id).select(visitors::last_ip).first(conn).optional()
}

/// The chats of a visitor that have not ended (queued or open): what a ban ends.
pub fn live_chats_of(conn: &mut DbConn, visitor_id: VisitorId) -> QueryResult<Vec<ChatId>> {
    chats::table
        .filter(chats::visitor_id.eq(visitor_id))
        .filter(chats::status.ne(ChatStatus::Closed))
        .select(chats::id)
        .load(conn)
}

/// The chats that have not ended of every visitor whose last address is `ip`.
pub fn live_chats_at(conn: &mut DbConn, ip: &str) -> QueryResult<Vec<ChatId>> {
    chats::table
        .inner_join(visitors::table)
        .filter(visitors::last_ip.eq(ip))
        .filter(chats::status.ne(ChatStatus::Closed))
        .select(chats::id)
        .load(conn)
}
