//! A consistent copy of a SQLite store taken while the server runs (`switchboard backup`).
//!
//! `VACUUM INTO` reads the database inside one read transaction: in WAL mode the server keeps
//! writing meanwhile, and the copy holds exactly the commits made before the copy began, as one
//! compact file with no WAL beside it. A PostgreSQL store is backed up with `pg_dump`.

use std::path::Path;

use diesel::{Connection, RunQueryDsl, SqliteConnection};

use super::connection::StoreTarget;

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store is PostgreSQL.
    #[error("store.url is PostgreSQL: back it up with pg_dump (see docs/operations.md)")]
    NotSqlite,
    /// The destination exists; a backup never overwrites.
    #[error("{0} exists; a backup never overwrites a file")]
    DestinationExists(String),
    /// The store URL could not be read.
    #[error(transparent)]
    Url(#[from] super::connection::ConnectError),
    /// The database could not be opened.
    #[error("cannot open the store: {0}")]
    Open(#[from] diesel::ConnectionError),
    /// SQLite refused the copy or the check.
    #[error("backup failed: {0}")]
    Copy(#[from] diesel::result::Error),
    /// The copy was made but does not pass `PRAGMA integrity_check`.
    #[error("the copy does not pass integrity_check: {0}")]
    Corrupt(String),
}

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// Copies the SQLite store at `store_url` to `destination`, then checks the copy. Waits up to
/// `busy_timeout_ms` for the server's writer, like the server's own connections.
pub fn backup_sqlite(store_url: &str, destination: &Path, busy_timeout_ms: u64) -> Result<(), BackupError> {
    let StoreTarget::Sqlite(source) = StoreTarget::from_url(store_url)? else {
        return Err(BackupError::NotSqlite);
    };
    if destination.exists() {
        return Err(BackupError::DestinationExists(destination.display().to_string()));
    }
    let mut conn = SqliteConnection::establish(&source)?;
    diesel::sql_query(format!("PRAGMA busy_timeout = {busy_timeout_ms}")).execute(&mut conn)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(destination.display().to_string())
        .execute(&mut conn)?;
    let mut copy = SqliteConnection::establish(&destination.display().to_string())?;
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
    match checks.as_slice() {
        [only] if only.integrity_check == "ok" => Ok(()),
        other => Err(BackupError::Corrupt(
            other.iter().map(|c| c.integrity_check.as_str()).collect::<Vec<_>>().join("; "),
        )),
    }
}
