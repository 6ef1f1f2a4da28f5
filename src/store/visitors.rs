//! `visitors`: anonymous website visitors.

use diesel::prelude::*;

use super::schema::visitors;
use super::DbConn;
use crate::domain::{SiteId, VisitorId};

/// A visitor as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = visitors)]
pub struct VisitorRow {
    /// Its id.
    pub id: VisitorId,
    /// Display name shown to agents.
    pub name: String,
    /// Epoch ms.
    pub created_at: i64,
    /// The site whose widget made it, if it said.
    pub site_id: Option<SiteId>,
}

/// Adds a visitor.
pub fn insert(conn: &mut DbConn, visitor: &VisitorRow) -> QueryResult<()> {
    diesel::insert_into(visitors::table).values(visitor).execute(conn).map(drop)
}

/// The visitor with this id.
pub fn find(conn: &mut DbConn, id: VisitorId) -> QueryResult<Option<VisitorRow>> {
    visitors::table.find(id).select(VisitorRow::as_select()).first(conn).optional()
}

/// How many visitors exist.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    visitors::table.count().get_result(conn)
}

/// The page fields of a visitor, written when the widget loads and on every navigation. `None`
/// leaves a column as it is; `Some(None)` clears it.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = visitors)]
pub struct PageUpdate {
    /// The page's URL.
    pub page_url: Option<String>,
    /// The page's title.
    pub page_title: Option<Option<String>>,
    /// Where the visitor came from.
    pub referrer: Option<String>,
    /// The browser's `User-Agent`, cut to size.
    pub user_agent: Option<String>,
    /// Epoch ms of this report.
    pub last_seen_at: i64,
    /// The client address the report came from (what a ban with `include_ip` bans).
    pub last_ip: Option<String>,
}

/// A visitor with the page it is on, as agents see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = visitors)]
pub struct VisitorPageRow {
    /// Its id.
    pub id: VisitorId,
    /// Display name shown to agents.
    pub name: String,
    /// Epoch ms: first seen.
    pub created_at: i64,
    /// The page's URL.
    pub page_url: Option<String>,
    /// The page's title.
    pub page_title: Option<String>,
    /// Where the visitor came from.
    pub referrer: Option<String>,
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
    /// Epoch ms of the latest page report.
    pub last_seen_at: Option<i64>,
    /// The site whose widget made it.
    pub site_id: Option<SiteId>,
    /// The site's user id of the verified customer it is.
    pub customer_id: Option<String>,
    /// The customer's email, from the identity.
    pub email: Option<String>,
    /// 1 when a signed identity vouched for it, else 0.
    pub verified: i32,
}

/// Records the language the widget shows `id` (`en`, `zh`, `ko`).
pub fn set_lang(conn: &mut DbConn, id: VisitorId, lang: &str) -> QueryResult<()> {
    diesel::update(visitors::table.find(id)).set(visitors::lang.eq(Some(lang))).execute(conn).map(drop)
}

/// The language the widget last showed `id`, if it said.
pub fn lang(conn: &mut DbConn, id: VisitorId) -> QueryResult<Option<String>> {
    visitors::table.find(id).select(visitors::lang).first(conn).optional().map(Option::flatten)
}

/// Records the page a visitor is on; returns whether the visitor exists.
pub fn set_page(conn: &mut DbConn, id: VisitorId, page: &PageUpdate) -> QueryResult<bool> {
    diesel::update(visitors::table.find(id)).set(page).execute(conn).map(|n| n == 1)
}

/// The visitors with these ids, with their pages.
pub fn pages_of(conn: &mut DbConn, ids: &[VisitorId]) -> QueryResult<Vec<VisitorPageRow>> {
    visitors::table.filter(visitors::id.eq_any(ids)).select(VisitorPageRow::as_select()).load(conn)
}

/// Of the visitors `ids`, those with a chat that has not ended (queued or open).
pub fn with_live_chat(conn: &mut DbConn, ids: &[VisitorId]) -> QueryResult<Vec<VisitorId>> {
    use super::schema::chats;
    chats::table
        .filter(chats::visitor_id.eq_any(ids))
        .filter(chats::status.ne(crate::domain::ChatStatus::Closed))
        .select(chats::visitor_id)
        .distinct()
        .load(conn)
}

/// Display names of the visitors with these ids, as (id, name).
pub fn names_of(conn: &mut DbConn, ids: &[VisitorId]) -> QueryResult<Vec<(VisitorId, String)>> {
    visitors::table.filter(visitors::id.eq_any(ids)).select((visitors::id, visitors::name)).load(conn)
}

/// Display names of the visitors with these ids and whether each is verified, as (id, name,
/// verified 0/1).
pub fn names_verified_of(conn: &mut DbConn, ids: &[VisitorId]) -> QueryResult<Vec<(VisitorId, String, i32)>> {
    visitors::table
        .filter(visitors::id.eq_any(ids))
        .select((visitors::id, visitors::name, visitors::verified))
        .load(conn)
}

/// One visitor with its page fields.
pub fn page_of(conn: &mut DbConn, id: VisitorId) -> QueryResult<Option<VisitorPageRow>> {
    visitors::table.find(id).select(VisitorPageRow::as_select()).first(conn).optional()
}

/// A visitor with what a verified identity says of it: the customer of a site it is bound to
/// (`customer_id`, the identity token's `sub`), when it is one.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = visitors)]
pub struct CustomerRow {
    /// Its id.
    pub id: VisitorId,
    /// Display name shown to agents.
    pub name: String,
    /// Epoch ms.
    pub created_at: i64,
    /// The site whose widget made it.
    pub site_id: Option<SiteId>,
    /// The site's id for the customer; `None` for an anonymous visitor.
    pub customer_id: Option<String>,
    /// The customer's email address, as the newest identity gave it.
    pub email: Option<String>,
    /// 1 when a site's server signed who it is.
    pub verified: i32,
    /// Epoch ms: the issue time (`iat`) of the newest identity accepted for it.
    pub identity_at: Option<i64>,
}

/// Adds a verified visitor; the unique index `visitors_customer` refuses a second one for the
/// same customer of the same site.
pub fn insert_customer(conn: &mut DbConn, row: &CustomerRow) -> QueryResult<()> {
    diesel::insert_into(visitors::table).values(row).execute(conn).map(drop)
}

/// The visitor of customer `customer_id` of site `site_id`, if there is one.
pub fn find_customer(
    conn: &mut DbConn,
    site_id: SiteId,
    customer_id: &str,
) -> QueryResult<Option<CustomerRow>> {
    visitors::table
        .filter(visitors::site_id.eq(site_id))
        .filter(visitors::customer_id.eq(customer_id))
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()
}

/// A visitor with its identity fields.
pub fn find_with_identity(conn: &mut DbConn, id: VisitorId) -> QueryResult<Option<CustomerRow>> {
    visitors::table.find(id).select(CustomerRow::as_select()).first(conn).optional()
}

/// Records a newer identity of a verified visitor: its name, email and issue time.
pub fn set_identity(
    conn: &mut DbConn,
    id: VisitorId,
    name: &str,
    email: Option<&str>,
    identity_at: i64,
) -> QueryResult<()> {
    diesel::update(visitors::table.find(id))
        .set((
            visitors::name.eq(name),
            visitors::email.eq(email),
            visitors::verified.eq(1),
            visitors::identity_at.eq(Some(identity_at)),
        ))
        .execute(conn)
        .map(drop)
}
