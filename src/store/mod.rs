//! The durable store: diesel over SQLite or PostgreSQL behind one r2d2 pool. Reads run on the
//! dedicated store threads (a `crate::pool::BoundedPool`); every write runs on the one writer thread, which
//! commits waiting writes together (`writer`). Query functions live one file per table, take
//! `&mut DbConn` and return `QueryResult`; the service layer composes them into writes.

pub mod agents;
pub mod announcements;
pub mod backup;
pub mod bans;
pub mod canned_replies;
pub mod chats;
mod checkpoint;
mod connection;
pub mod counters;
pub mod data_rights;
pub mod feed;
pub mod integration_keys;
pub mod messages;
mod migrate;
pub mod offline_messages;
pub mod outbox;
pub mod page_views;
pub mod prechat;
pub mod ratings;
pub mod schema;
pub mod sites;
pub mod switches;
#[cfg(test)]
pub(crate) mod test_stores;
pub mod tokens;
mod values;
pub mod visitors;
pub mod webhooks;
mod writer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;

pub use connection::{ConnectError, DbConn, DbConnectionManager, StoreTarget};
use writer::{in_savepoint, AppendJob, AppendThen, Finish, Job, Ran, StoreWriter};

use crate::config::StoreSettings;
use crate::pool::{BoundedPool, PoolError};

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
            // PostgreSQL going down mid-batch: the server ends the session ("terminating
            // connection due to administrator command", SQLSTATE 57P01, or the connection just
            // closes), and diesel then calls the transaction manager broken. A 503, not a 500.
            Error::BrokenTransactionManager => StoreError::Unavailable("the connection broke".into()),
            Error::DatabaseError(_, ref info) if is_connection_loss(info.message()) => {
                StoreError::Unavailable(info.message().to_string())
            }
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

/// Whether a database error's message says the server or the connection went away.
fn is_connection_loss(message: &str) -> bool {
    const LOSS: [&str; 5] = [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "the database system is shutting down",
        "the database system is starting up",
    ];
    LOSS.iter().any(|loss| message.contains(loss))
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

impl From<PoolError> for StoreError {
    fn from(error: PoolError) -> Self {
        match error {
            PoolError::QueueFull => StoreError::Busy,
            PoolError::Lost => StoreError::Unavailable(error.to_string()),
        }
    }
}

impl StoreError {
    /// The same failure, for each of several callers (a batch's commit answers all its writes).
    fn for_each_caller(&self) -> StoreError {
        match self {
            StoreError::Busy => StoreError::Busy,
            StoreError::Corrupt(message) => StoreError::Corrupt(message.clone()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// Runs a write's work on the writer's connection: its outcome, and whether it broke the batch.
type RunWrite<F, T, E> = fn(&mut DbConn, F) -> (Result<T, E>, bool);

/// Where a write's answer goes.
type Reply<T, E> = tokio::sync::oneshot::Sender<Result<T, E>>;

/// Answers a write's caller once its batch's commit is known: `outcome` when it committed (after
/// `on_commit`), the commit's error otherwise.
fn answering<T, E, A>(outcome: Result<T, E>, on_commit: A, reply: Reply<T, E>) -> Finish
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    A: FnOnce(&T) + Send + 'static,
{
    Box::new(move |committed| {
        let result = match (committed, outcome) {
            (Ok(()), Ok(value)) => {
                on_commit(&value);
                Ok(value)
            }
            (Err(error), Ok(_)) => Err(E::from(error.for_each_caller())),
            (_, Err(error)) => Err(error),
        };
        // The caller may have gone (client disconnected); its answer is then not needed.
        let _ = reply.send(result);
    })
}

/// Tells a write's refusal (decided before it wrote anything) from a failure inside the store
/// (after which the batch's transaction cannot be trusted).
pub trait WriteError {
    /// True when the store failed, as opposed to the write refusing.
    fn is_store_failure(&self) -> bool;
}

impl WriteError for StoreError {
    fn is_store_failure(&self) -> bool {
        true
    }
}

/// Most writes committed together in one transaction, unless `store.max_write_batch` says.
const MAX_WRITE_BATCH: usize = 512;

/// How often the WAL is checkpointed into the SQLite file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// The store handle shared by every request: cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<DbConnectionManager>,
    executor: BoundedPool,
    writer: StoreWriter,
    /// SQLite only: keeps the checkpoint thread alive as long as the store.
    _checkpointer: Option<checkpoint::Checkpointer>,
    target: Arc<StoreTarget>,
}

impl Store {
    /// Opens the pool, starts the store threads and applies pending migrations. Blocks: call it
    /// before the async runtime serves requests, or from a store thread.
    pub fn open(settings: &StoreSettings) -> Result<Self, StoreOpenError> {
        let target = StoreTarget::from_url(&settings.url)?;
        let manager = DbConnectionManager::new(target.clone(), settings.sqlite_busy_timeout_ms);
        // Two connections more than reader threads: the writer's and the checkpointer's.
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size + 2)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .build(manager)?;
        migrate::run(&mut *pool.get()?)?;
        let executor = BoundedPool::start("store", settings.pool_size as usize, settings.max_queued_calls)?;
        let batch = match settings.max_write_batch {
            0 => MAX_WRITE_BATCH,
            n => n,
        };
        let checkpointer = match target {
            StoreTarget::Sqlite(_) => Some(checkpoint::Checkpointer::start(pool.clone(), CHECKPOINT_EVERY)?),
            StoreTarget::Postgres(_) => None,
        };
        let wal_reset = checkpointer.as_ref().map(checkpoint::Checkpointer::reset);
        let writer = StoreWriter::start(pool.clone(), settings.max_queued_calls, batch, wal_reset)?;
        Ok(Self { pool, executor, writer, _checkpointer: checkpointer, target: Arc::new(target) })
    }

    /// Runs `work` as one write: all of it or none of it is stored, and the answer comes once it
    /// is durable. Waits for the writer without blocking the caller's async worker.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        self.write_then(work, |_| {}).await
    }

    /// Like [`Store::write`], then runs `on_commit` on the writer thread once the write is
    /// durable and before the next batch begins: what it publishes is published in commit
    /// order, and it runs even when the caller has stopped waiting.
    pub async fn write_then<T, E, F, A>(&self, work: F, on_commit: A) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        self.submit(work, on_commit, |conn, work| (in_savepoint(conn, work), false)).await
    }

    /// Like [`Store::write_then`], without a savepoint of its own (see `writer`): for hot
    /// writes that refuse, if at all, before they write anything. An error that
    /// [`WriteError::is_store_failure`] calls a store failure rolls back the whole batch.
    pub async fn write_refusing_first_then<T, E, F, A>(&self, work: F, on_commit: A) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + WriteError + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        self.submit(work, on_commit, |conn, work| {
            let outcome = work(conn);
            let broke = outcome.as_ref().err().is_some_and(WriteError::is_store_failure);
            (outcome, broke)
        })
        .await
    }

    /// Appends message `row` from `member` as [`messages::append`] would — stored under the
    /// chat's next seq unless it is a repeat or the member may not write there — then runs
    /// `work` with what it did, in the same transaction and without a savepoint (`work` must
    /// refuse, if at all, before it writes). Appends waiting together are stored together: on
    /// PostgreSQL in one round trip. `on_commit` runs as for [`Store::write_then`].
    pub async fn append_then<T, E, F, A>(
        &self,
        member: crate::domain::Principal,
        row: messages::MessageRow,
        work: F,
        on_commit: A,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + WriteError + Send + 'static,
        F: FnOnce(&mut DbConn, messages::Appended, messages::MessageRow) -> Result<T, E> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        self.queue(|reply| {
            let then: AppendThen = Box::new(move |appended| {
                let (outcome, broke_batch) = match appended {
                    Ok((conn, appended, row)) => {
                        let outcome = work(conn, appended, row);
                        let broke = outcome.as_ref().err().is_some_and(WriteError::is_store_failure);
                        (outcome, broke)
                    }
                    Err(error) => (Err(E::from(error)), false),
                };
                Ran { finish: answering(outcome, on_commit, reply), broke_batch }
            });
            Job::Append(AppendJob { member, row, then })
        })
        .await
    }

    /// Queues `work` for the writer, run by `run` (in a savepoint or not; true when it broke the
    /// batch), and waits for its answer.
    async fn submit<T, E, F, A>(&self, work: F, on_commit: A, run: RunWrite<F, T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        self.queue(|reply| {
            Job::Write(Box::new(move |conn| {
                let (outcome, broke_batch) = match conn {
                    Ok(conn) => run(conn, work),
                    Err(error) => (Err(E::from(error.for_each_caller())), false),
                };
                Ran { finish: answering(outcome, on_commit, reply), broke_batch }
            }))
        })
        .await
    }

    /// Queues the job `job` makes around its reply channel, and waits for the answer.
    async fn queue<T, E>(&self, job: impl FnOnce(Reply<T, E>) -> Job) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let started = Instant::now();
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, E>>();
        self.writer.submit(job(reply)).map_err(|e| E::from(StoreError::from(e)))?;
        let result = answer.await.map_err(|_| E::from(StoreError::from(PoolError::Lost)))?;
        record_latency("write", started);
        result
    }

    /// Answers when a reader's connection runs a query: the store is reachable.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| diesel::sql_query("SELECT 1").execute(conn).map(drop).map_err(StoreError::from)).await
    }

    /// Transactions the writer has committed since start.
    pub fn write_commits(&self) -> u64 {
        self.writer.commits()
    }

    /// Writes waiting for the writer right now.
    pub fn writes_waiting(&self) -> usize {
        self.writer.waiting()
    }

    /// Runs `work` with a pooled connection on a store thread: for reads. Writes go through
    /// [`Store::write`].
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let started = Instant::now();
        let result = self
            .executor
            .run(move || {
                // Getting a pooled connection blocks too, so it happens here, not on the caller.
                let mut conn = pool.get().map_err(StoreError::from)?;
                work(&mut conn)
            })
            .await
            .map_err(StoreError::from)?;
        record_latency("read", started);
        result
    }

    /// Calls waiting for a store thread right now (reads) plus writes waiting for the writer.
    pub fn queued_calls(&self) -> usize {
        self.executor.queued() + self.writer.waiting()
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

/// Records how long a store call took as its caller saw it, queueing included
/// (`switchboard_store_seconds{op}` on `/metrics`).
fn record_latency(op: &'static str, started: Instant) {
    metrics::histogram!("switchboard_store_seconds", "op" => op).record(started.elapsed().as_secs_f64());
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn database_error(message: &str) -> Error {
        Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_string()))
    }

    #[test]
    fn a_store_going_down_is_unavailable_and_a_real_failure_is_not() {
        let down = [
            Error::BrokenTransactionManager,
            database_error("terminating connection due to administrator command"),
            database_error("server closed the connection unexpectedly"),
        ];
        for error in down {
            assert!(matches!(StoreError::from(error), StoreError::Unavailable(_)));
        }
        assert!(matches!(
            StoreError::from(database_error("syntax error at or near \"x\"")),
            StoreError::Query(_)
        ));
    }
}
