//! `tokens`: bearer tokens, stored only as their SHA-256.

use diesel::prelude::*;

use super::schema::tokens;
use super::DbConn;

/// A token as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
pub struct TokenRow {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// `visitor` or `agent`.
    pub principal_kind: String,
    /// The visitor's or agent's id.
    pub principal_id: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms after which the token is refused.
    pub expires_at: i64,
}

/// Stores a token hash.
pub fn insert(conn: &mut DbConn, token: &TokenRow) -> QueryResult<()> {
    diesel::insert_into(tokens::table).values(token).execute(conn).map(drop)
}

/// The token with this hash, unless it has expired by `now`.
pub fn find_live(conn: &mut DbConn, token_hash: &str, now: i64) -> QueryResult<Option<TokenRow>> {
    tokens::table
        .find(token_hash)
        .filter(tokens::expires_at.gt(now))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()
}

/// Revokes a token.
pub fn delete(conn: &mut DbConn, token_hash: &str) -> QueryResult<()> {
    diesel::delete(tokens::table.find(token_hash)).execute(conn).map(drop)
}

/// How many tokens exist.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    tokens::table.count().get_result(conn)
}

/// Revokes every token of one visitor or agent (by its UUID); returns how many there were.
pub fn delete_for_principal(conn: &mut DbConn, principal_id: uuid::Uuid) -> QueryResult<usize> {
    let principal_id = principal_id.to_string();
    diesel::delete(tokens::table.filter(tokens::principal_id.eq(principal_id))).execute(conn)
}
