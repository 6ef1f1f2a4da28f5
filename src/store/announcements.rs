//! `announcements`: what admins told everyone online, kept for the record.

use diesel::prelude::*;

use super::schema::announcements;
use super::DbConn;
use crate::domain::AgentId;

/// An announcement as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = announcements)]
pub struct AnnouncementRow {
    /// UUID.
    pub id: String,
    /// The admin who sent it.
    pub author_id: AgentId,
    /// The text.
    pub body: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// Stores an announcement.
pub fn insert(conn: &mut DbConn, row: &AnnouncementRow) -> QueryResult<()> {
    diesel::insert_into(announcements::table).values(row).execute(conn).map(drop)
}

/// The newest `limit` announcements, newest first.
pub fn newest(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<AnnouncementRow>> {
    announcements::table
        .order((announcements::created_at.desc(), announcements::id.desc()))
        .limit(limit)
        .select(AnnouncementRow::as_select())
        .load(conn)
}
