//! `switches`: settings admins change at run time, one row per name; a missing row means the
//! default.

use diesel::prelude::*;

use super::schema::switches;
use super::DbConn;

/// `on`/`off`: email to addresses visitors typed (default on).
pub const VISITOR_EMAIL: &str = "visitor_email";

/// The value of `name`, if ever set.
pub fn get(conn: &mut DbConn, name: &str) -> QueryResult<Option<String>> {
    switches::table.find(name).select(switches::value).first(conn).optional()
}

/// Sets `name` to `value` (`by`: the admin's id): one upsert, so two nodes setting it at once
/// both succeed and the later commit wins.
pub fn set(conn: &mut DbConn, name: &str, value: &str, by: &str, now: i64) -> QueryResult<()> {
    let row = (
        switches::name.eq(name),
        switches::value.eq(value),
        switches::updated_by.eq(Some(by)),
        switches::updated_at.eq(now),
    );
    let change = (switches::value.eq(value), switches::updated_by.eq(Some(by)), switches::updated_at.eq(now));
    let upsert =
        diesel::insert_into(switches::table).values(row).on_conflict(switches::name).do_update().set(change);
    match conn {
        DbConn::Postgres(pg) => upsert.execute(pg),
        DbConn::Sqlite(lite) => upsert.execute(lite),
    }
    .map(drop)
}

/// Whether email to visitor-typed addresses is on.
pub fn visitor_email_on(conn: &mut DbConn) -> QueryResult<bool> {
    get(conn, VISITOR_EMAIL).map(|value| value.as_deref() != Some("off"))
}
