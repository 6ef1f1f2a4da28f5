//! `visitors`: anonymous website visitors.

use diesel::prelude::*;

use super::schema::visitors;
use super::DbConn;

/// A visitor as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = visitors)]
pub struct VisitorRow {
    /// UUID.
    pub id: String,
    /// Display name shown to agents.
    pub name: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// Adds a visitor.
pub fn insert(conn: &mut DbConn, visitor: &VisitorRow) -> QueryResult<()> {
    diesel::insert_into(visitors::table).values(visitor).execute(conn).map(drop)
}

/// The visitor with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<VisitorRow>> {
    visitors::table.find(id).select(VisitorRow::as_select()).first(conn).optional()
}

/// How many visitors exist.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    visitors::table.count().get_result(conn)
}
