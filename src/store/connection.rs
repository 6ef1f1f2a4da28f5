//! One connection type for both backends, picked from the URL scheme, and the r2d2 manager
//! that opens it. diesel's own `establish` would try each backend in turn and report the wrong
//! error, so the scheme decides.

use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};

/// A connection to whichever store the URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// `postgres://…`
    Postgres(PgConnection),
    /// `sqlite://path`
    Sqlite(SqliteConnection),
}

/// Which backend a store URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTarget {
    /// A SQLite file at this path.
    Sqlite(String),
    /// A PostgreSQL server at this URL.
    Postgres(String),
}

impl StoreTarget {
    /// `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn from_url(url: &str) -> Result<Self, ConnectError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(path.to_string())),
            _ => Err(ConnectError::UnknownScheme(url.split(':').next().unwrap_or("").to_string())),
        }
    }

    /// True for SQLite, whose writers take one lock for the whole file.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Why a connection could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The store URL has a scheme we do not speak.
    #[error("store.url must start with sqlite:// or postgres:// (got `{0}:`)")]
    UnknownScheme(String),
    /// The backend refused the connection.
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    /// A statement on a fresh connection failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// r2d2 manager that opens [`DbConn`]s for one [`StoreTarget`].
#[derive(Debug)]
pub struct DbConnectionManager {
    target: StoreTarget,
    sqlite_busy_timeout_ms: u64,
}

impl DbConnectionManager {
    /// A manager for `target`; SQLite connections wait `sqlite_busy_timeout_ms` on a lock.
    pub fn new(target: StoreTarget, sqlite_busy_timeout_ms: u64) -> Self {
        Self { target, sqlite_busy_timeout_ms }
    }
}

impl r2d2::ManageConnection for DbConnectionManager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        match &self.target {
            StoreTarget::Postgres(url) => Ok(DbConn::Postgres(PgConnection::establish(url)?)),
            StoreTarget::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // busy_timeout first: switching to WAL itself needs the lock.
                // synchronous=NORMAL in WAL mode survives a crash of the process (what a 200
                // promises); only an OS crash or power cut can lose the last commits.
                // No automatic checkpoints: the checkpoint thread runs them (`checkpoint`).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0;",
                    self.sqlite_busy_timeout_ms
                ))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        conn.ping().map_err(ConnectError::Query)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        assert_eq!(StoreTarget::from_url("sqlite://a.db").ok(), Some(StoreTarget::Sqlite("a.db".into())));
        assert_eq!(
            StoreTarget::from_url("sqlite:/tmp/a.db").ok(),
            Some(StoreTarget::Sqlite("/tmp/a.db".into()))
        );
        assert!(matches!(StoreTarget::from_url("postgres://h/db"), Ok(StoreTarget::Postgres(_))));
        assert!(matches!(StoreTarget::from_url("postgresql://h/db"), Ok(StoreTarget::Postgres(_))));
        assert!(
            matches!(StoreTarget::from_url("mysql://h/db"), Err(ConnectError::UnknownScheme(s)) if s == "mysql")
        );
        assert!(StoreTarget::from_url("sqlite://").is_err());
    }
}
