//! The durable store: diesel over SQLite or PostgreSQL behind one r2d2 pool, with every call
//! run on the dedicated store threads (`executor`). Query functions live one file per table, take
//! `&mut DbConn` and return `QueryResult`; the service layer composes them in transactions.

pub mod agents;
pub mod announcements;
pub mod chats;
mod connection;
pub mod counters;
mod executor;
pub mod messages;
mod migrate;
pub mod offline_messages;
pub mod ratings;
pub mod schema;
pub mod tokens;
pub mod visitors;

use std::sync::Arc;
use std::time::Duration;

pub use connection::{write_transaction, ConnectError, DbConn, DbConnectionManager, StoreTarget};
pub use executor::{ExecutorError, StoreExecutor};

use crate::config::StoreSettings;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Too many calls are waiting for the store: answer 503 and let the client retry.
    #[error("the store is busy")]
    Busy,
    /// No connection could be had, or it broke.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A query failed for another reason (a bug or a constraint nobody expected).
    #[error("store query failed: {0}")]
    Query(diesel::result::Error),
    /// Stored data did not parse.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => StoreError::Unavailable(info.message().to_string()),
            // SQLite answers "database is locked" when busy_timeout runs out; PostgreSQL
            // aborts one side of a deadlock or serialisation conflict. All are worth a retry.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => StoreError::Busy,
            Error::DatabaseError(_, ref info)
                if info.message().contains("locked") || info.message().contains("deadlock detected") =>
            {
                StoreError::Busy
            }
            other => StoreError::Query(other),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

impl From<ExecutorError> for StoreError {
    fn from(error: ExecutorError) -> Self {
        match error {
            ExecutorError::QueueFull => StoreError::Busy,
            ExecutorError::Lost => StoreError::Unavailable(error.to_string()),
        }
    }
}

/// The store handle shared by every request: cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<DbConnectionManager>,
    executor: StoreExecutor,
    target: Arc<StoreTarget>,
}

impl Store {
    /// Opens the pool, starts the store threads and applies pending migrations. Blocks: call it
    /// before the async runtime serves requests, or from a store thread.
    pub fn open(settings: &StoreSettings) -> Result<Self, StoreOpenError> {
        let target = StoreTarget::from_url(&settings.url)?;
        let manager = DbConnectionManager::new(target.clone(), settings.sqlite_busy_timeout_ms);
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .build(manager)?;
        migrate::run(&mut *pool.get()?)?;
        let executor = StoreExecutor::start(settings.pool_size as usize, settings.max_queued_calls)?;
        Ok(Self { pool, executor, target: Arc::new(target) })
    }

    /// Runs `work` with a pooled connection on a store thread.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.executor
            .run(move || {
                // Getting a pooled connection blocks too, so it happens here, not on the caller.
                let mut conn = pool.get().map_err(StoreError::from)?;
                work(&mut conn)
            })
            .await
            .map_err(StoreError::from)?
    }

    /// Runs `work` with a pooled connection on the calling thread (CLI and startup only).
    pub fn run_blocking<T, E>(&self, work: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.pool.get().map_err(StoreError::from)?;
        work(&mut conn)
    }

    /// Which backend this store runs on.
    pub fn target(&self) -> &StoreTarget {
        &self.target
    }
}

/// Why the store could not be opened at start.
#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    /// Bad URL or refused connection.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The pool could not be filled.
    #[error("cannot connect to the store: {0}")]
    Pool(#[from] r2d2::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The store threads could not start.
    #[error("cannot start store threads: {0}")]
    Threads(#[from] std::io::Error),
}
