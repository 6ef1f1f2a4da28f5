//! `sites`: the websites that embed the widget, with their sealed signing secrets and the
//! widget's look there.

use diesel::prelude::*;

use super::schema::sites;
use super::DbConn;
use crate::domain::SiteId;

/// A site as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
pub struct SiteRow {
    /// Its id.
    pub id: SiteId,
    /// What admins call it.
    pub name: String,
    /// Its origins, space-separated (`domain::SiteOrigins`).
    pub origins: String,
    /// The signing secret, sealed (`service::site_secrets`).
    pub secret_sealed: String,
    /// The secret's first characters, in clear.
    pub secret_prefix: String,
    /// Epoch ms the secret was made.
    pub secret_rotated_at: i64,
    /// The widget's greeting there.
    pub greeting: Option<String>,
    /// The widget's color there (`#rrggbb`).
    pub color: Option<String>,
    /// The widget's language there when the page does not say.
    pub default_lang: Option<String>,
    /// 1: visitors without a valid identity are refused.
    pub require_verified: i32,
    /// The pre-chat form's fields (JSON list; `[]`: none).
    pub prechat_form: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last change.
    pub updated_at: i64,
}

/// What an admin may change of a site; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = sites)]
pub struct SiteChange {
    /// New name.
    pub name: Option<String>,
    /// New origins.
    pub origins: Option<String>,
    /// New greeting (`Some(None)` clears it).
    pub greeting: Option<Option<String>>,
    /// New color (`Some(None)` clears it).
    pub color: Option<Option<String>>,
    /// New default language (`Some(None)` clears it).
    pub default_lang: Option<Option<String>>,
    /// New verification rule.
    pub require_verified: Option<i32>,
    /// New pre-chat form.
    pub prechat_form: Option<String>,
    /// Epoch ms of this change.
    pub updated_at: i64,
}

/// Stores a new site.
pub fn insert(conn: &mut DbConn, row: &SiteRow) -> QueryResult<()> {
    diesel::insert_into(sites::table).values(row).execute(conn).map(drop)
}

/// The site with this id.
pub fn find(conn: &mut DbConn, id: SiteId) -> QueryResult<Option<SiteRow>> {
    sites::table.find(id).select(SiteRow::as_select()).first(conn).optional()
}

/// Every site, oldest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<SiteRow>> {
    sites::table.order((sites::created_at.asc(), sites::id.asc())).select(SiteRow::as_select()).load(conn)
}

/// Changes a site; false when there is none with this id.
pub fn update(conn: &mut DbConn, id: SiteId, change: &SiteChange) -> QueryResult<bool> {
    diesel::update(sites::table.find(id)).set(change).execute(conn).map(|n| n == 1)
}

/// Replaces a site's secret; false when there is none with this id.
pub fn set_secret(conn: &mut DbConn, id: SiteId, sealed: &str, prefix: &str, now: i64) -> QueryResult<bool> {
    diesel::update(sites::table.find(id))
        .set((
            sites::secret_sealed.eq(sealed),
            sites::secret_prefix.eq(prefix),
            sites::secret_rotated_at.eq(now),
            sites::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Deletes a site; false when there is none with this id.
pub fn delete(conn: &mut DbConn, id: SiteId) -> QueryResult<bool> {
    diesel::delete(sites::table.find(id)).execute(conn).map(|n| n == 1)
}

/// Every site's id and origins (what each node keeps in memory).
pub fn all_origins(conn: &mut DbConn) -> QueryResult<Vec<(SiteId, String)>> {
    sites::table.select((sites::id, sites::origins)).load(conn)
}

/// The visitors of a site about to be deleted belong to no site any more; how many.
pub fn detach_visitors(conn: &mut DbConn, id: SiteId) -> QueryResult<usize> {
    use super::schema::visitors;
    diesel::update(visitors::table.filter(visitors::site_id.eq(id)))
        .set(visitors::site_id.eq(None::<SiteId>))
        .execute(conn)
}
