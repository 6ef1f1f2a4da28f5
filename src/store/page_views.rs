//! `page_views`: every page a visitor reported (when it was made with one, and on each
//! navigation), so that agents see the pages of the current visit.

use diesel::prelude::*;

use super::schema::page_views;
use super::DbConn;
use crate::domain::VisitorId;

/// A page view as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = page_views)]
pub struct PageViewRow {
    /// Its id (a UUID).
    pub id: String,
    /// Who viewed the page.
    pub visitor_id: VisitorId,
    /// The page's URL.
    pub url: String,
    /// The page's title.
    pub title: Option<String>,
    /// Epoch ms of the report.
    pub at: i64,
}

/// Adds a page view.
pub fn insert(conn: &mut DbConn, view: &PageViewRow) -> QueryResult<()> {
    diesel::insert_into(page_views::table).values(view).execute(conn).map(drop)
}

/// The newest `limit` page views of `visitor`, newest first (ties by id, newest id first).
pub fn newest(conn: &mut DbConn, visitor: VisitorId, limit: i64) -> QueryResult<Vec<PageViewRow>> {
    page_views::table
        .filter(page_views::visitor_id.eq(visitor))
        .order((page_views::at.desc(), page_views::id.desc()))
        .limit(limit)
        .select(PageViewRow::as_select())
        .load(conn)
}
