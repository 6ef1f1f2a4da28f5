//! `integration_keys`: the keys outside systems read the event feed with, stored only as their
//! SHA-256 (like tokens); a revoked key keeps its row with `revoked_at` set.

use diesel::prelude::*;

use super::schema::integration_keys;
use super::DbConn;
use crate::domain::AgentId;

/// An integration key as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = integration_keys)]
pub struct IntegrationKeyRow {
    /// UUID.
    pub id: String,
    /// What the admin called it (`CRM sync`).
    pub name: String,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    /// The key's first characters, to tell keys apart (never enough to use it).
    pub key_prefix: String,
    /// What it may do, space-separated (`events:read`).
    pub scopes: String,
    /// The admin who made it.
    pub created_by: AgentId,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last request it made (recorded at most once a minute).
    pub last_used_at: Option<i64>,
    /// Epoch ms of its revocation; refused from then on.
    pub revoked_at: Option<i64>,
}

/// Stores a new key.
pub fn insert(conn: &mut DbConn, row: &IntegrationKeyRow) -> QueryResult<()> {
    diesel::insert_into(integration_keys::table).values(row).execute(conn).map(drop)
}

/// Every key, revoked ones too, newest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<IntegrationKeyRow>> {
    integration_keys::table
        .order((integration_keys::created_at.desc(), integration_keys::id.asc()))
        .select(IntegrationKeyRow::as_select())
        .load(conn)
}

/// The key with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<IntegrationKeyRow>> {
    integration_keys::table.find(id).select(IntegrationKeyRow::as_select()).first(conn).optional()
}

/// The key with this hash, unless it is revoked.
pub fn find_live(conn: &mut DbConn, key_hash: &str) -> QueryResult<Option<IntegrationKeyRow>> {
    integration_keys::table
        .filter(integration_keys::key_hash.eq(key_hash))
        .filter(integration_keys::revoked_at.is_null())
        .select(IntegrationKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Revokes a key at `now`; false when it was revoked already (or there is none).
pub fn revoke(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    diesel::update(integration_keys::table.find(id).filter(integration_keys::revoked_at.is_null()))
        .set(integration_keys::revoked_at.eq(now))
        .execute(conn)
        .map(|n| n > 0)
}

/// Records that the key was used at `now`.
pub fn touch(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<()> {
    diesel::update(integration_keys::table.find(id))
        .set(integration_keys::last_used_at.eq(now))
        .execute(conn)
        .map(drop)
}
