//! The one writer thread and its group commit.
//!
//! Every write of the server goes through here. The thread takes the next write, then every
//! other write already waiting (up to a batch), runs each inside its own savepoint of one
//! transaction, commits once, and only then tells each caller how its write ended. One writer
//! means SQLite's single write lock is never contended (contended SQLite writers wait in a
//! busy handler that sleeps), and one commit — one WAL append and sync — serves a whole batch.
//! Under light load a batch is one write and nothing waits for company.
//!
//! A savepoint per write keeps writes independent: one that fails (a closed chat, a bad
//! transfer) is rolled back to its savepoint and the others of its batch still commit. A
//! savepoint costs two statements (on PostgreSQL two round trips) and a copy of every page the
//! write touches, so the hot writes (a message) go without one: such a write refuses only
//! before it has written anything, and when it fails inside the store anyway it *breaks* the
//! batch — the whole transaction rolls back and the other writes of the batch are answered
//! `Busy`, which their callers retry.
//!
//! Messages — the hottest write — come as appends rather than as closures, so the appends that
//! stand next to each other in a batch are stored together (`messages::append_all`): on
//! PostgreSQL one statement, one round trip, for all of them, where one per message kept the
//! writer waiting on the network for most of its time.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

use super::checkpoint::WalReset;
use super::messages::{self, Appended, MessageRow};
use super::{DbConn, DbConnectionManager, StoreError};
use crate::domain::Principal;
use crate::pool::PoolError;

/// A write waiting for the writer.
pub(super) enum Job {
    /// Runs on its own in the batch's transaction.
    Write(WriteJob),
    /// A message to append; runs of them are stored together.
    Append(AppendJob),
}

/// A message to store, and what to do once it is (or is not).
pub(super) struct AppendJob {
    /// Who sends it.
    pub member: Principal,
    /// The message; its `seq` is set when it is stored.
    pub row: MessageRow,
    /// Runs with what the append did.
    pub then: AppendThen,
}

/// Runs inside the batch's transaction with what an append did, or with the error that kept
/// it from being stored (the append failed in the store, or the batch could not begin); hands
/// back what to do once the batch's commit is known.
pub(super) type AppendThen =
    Box<dyn FnOnce(Result<(&mut DbConn, Appended, MessageRow), StoreError>) -> Ran + Send + 'static>;

impl Job {
    /// Answers the job with `error`, without running it.
    fn refuse(self, error: &StoreError) {
        let ran = match self {
            Job::Write(job) => job(Err(error)),
            Job::Append(job) => (job.then)(Err(error.for_each_caller())),
        };
        (ran.finish)(Err(error));
    }
}

/// Runs a write inside the batch's transaction and hands back what to do once the batch's
/// commit is known. Given an error instead of a connection when the batch could not begin.
pub(super) type WriteJob = Box<dyn FnOnce(Result<&mut DbConn, &StoreError>) -> Ran + Send + 'static>;

/// What running a write left: how to answer its caller, and whether it broke the batch.
pub(super) struct Ran {
    /// Answers the caller once the batch's fate is known.
    pub finish: Finish,
    /// The write failed inside the store without a savepoint to roll back to: nothing of the
    /// batch can commit.
    pub broke_batch: bool,
}

/// Told whether the batch committed; answers the caller.
pub(super) type Finish = Box<dyn FnOnce(Result<(), &StoreError>) + Send + 'static>;

/// Handle to the writer thread; cloning shares it.
#[derive(Clone)]
pub(super) struct StoreWriter {
    jobs: Sender<Job>,
    /// Transactions committed so far: with the writes count, how well writes are grouped.
    commits: Arc<AtomicU64>,
}

impl StoreWriter {
    /// Starts the `store-writer` thread behind a queue of `queue_len` writes; it commits at
    /// most `max_batch` writes at once, and between batches lets `wal_reset` (SQLite) start the
    /// WAL over. The thread ends when the last handle is dropped.
    pub fn start(
        pool: r2d2::Pool<DbConnectionManager>,
        queue_len: usize,
        max_batch: usize,
        wal_reset: Option<WalReset>,
    ) -> std::io::Result<Self> {
        let (jobs, receiver) = bounded::<Job>(queue_len.max(1));
        let max_batch = max_batch.max(1);
        let commits = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&commits);
        std::thread::Builder::new()
            .name("store-writer".to_string())
            .spawn(move || run_batches(&pool, &receiver, max_batch, &counted, wal_reset.as_ref()))?;
        Ok(Self { jobs, commits })
    }

    /// Writes queued and not yet taken into a batch.
    pub fn waiting(&self) -> usize {
        self.jobs.len()
    }

    /// Transactions committed since start.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Queues a write; `Err(QueueFull)` at once when the writer is that far behind.
    pub fn submit(&self, job: Job) -> Result<(), PoolError> {
        self.jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => PoolError::QueueFull,
            TrySendError::Disconnected(_) => PoolError::Lost,
        })
    }
}

fn run_batches(
    pool: &r2d2::Pool<DbConnectionManager>,
    receiver: &Receiver<Job>,
    max_batch: usize,
    commits: &AtomicU64,
    wal_reset: Option<&WalReset>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Ok(first) = receiver.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(pool, &mut batch, commits, wal_reset);
    }
}

/// Runs and commits one batch (counted in `commits` before any caller hears of it), then
/// finishes every write of it in order, so what they publish is published in commit order;
/// then, with every caller answered, lets `wal_reset` run.
fn commit_batch(
    pool: &r2d2::Pool<DbConnectionManager>,
    batch: &mut Vec<Job>,
    commits: &AtomicU64,
    wal_reset: Option<&WalReset>,
) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(error) => return refuse_all(batch, &StoreError::from(error)),
    };
    if let Err(error) = begin(&mut conn) {
        return refuse_all(batch, &StoreError::from(error));
    }
    let mut finishes = Vec::with_capacity(batch.len());
    let mut jobs = batch.drain(..).peekable();
    while let Some(job) = jobs.next() {
        let ran = catch_unwind(AssertUnwindSafe(|| match job {
            Job::Write(job) => vec![job(Ok(&mut *conn))],
            Job::Append(first) => {
                let mut run = vec![first];
                while let Some(Job::Append(next)) = jobs.next_if(|job| matches!(job, Job::Append(_))) {
                    run.push(next);
                }
                append_run(&mut conn, run)
            }
        }));
        match ran {
            Ok(ran) => {
                let broke_batch = ran.iter().any(|ran| ran.broke_batch);
                finishes.extend(ran.into_iter().map(|ran| ran.finish));
                if broke_batch {
                    // On PostgreSQL the transaction is aborted now; on SQLite the write may be
                    // half done. Every write of the batch is rolled back; the one that broke it
                    // reports its own error, the others `Busy`, and the rest are not run.
                    let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn);
                    let busy = StoreError::Busy;
                    finishes.into_iter().for_each(|finish| finish(Err(&busy)));
                    jobs.for_each(|job| job.refuse(&busy));
                    return;
                }
            }
            Err(_) => {
                // The panic left its savepoint open inside the batch's transaction; nothing of
                // this batch can be trusted. Roll back every level, so the connection goes back
                // to the pool usable (r2d2 would otherwise drop it for its open transaction).
                log::error!("a store write panicked; its batch is rolled back");
                while <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn).is_ok() {}
                let lost = StoreError::from(PoolError::Lost);
                finishes.into_iter().for_each(|finish| finish(Err(&lost)));
                jobs.for_each(|job| job.refuse(&lost));
                return;
            }
        }
    }
    let committed = <DbConn as Connection>::TransactionManager::commit_transaction(&mut conn).map_err(|e| {
        // Leave the connection usable; the commit error is the one worth reporting.
        let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn);
        StoreError::from(e)
    });
    if committed.is_ok() {
        commits.fetch_add(1, Ordering::Relaxed);
    }
    for finish in finishes {
        // A panicking publish must not take the writer with it; its caller sees `Lost`.
        if catch_unwind(AssertUnwindSafe(|| finish(committed.as_ref().map(|_| ())))).is_err() {
            log::error!("finishing a store write panicked");
        }
    }
    if let Some(wal_reset) = wal_reset {
        wal_reset.catch_up_if_due(&mut conn);
    }
}

fn refuse_all(batch: &mut Vec<Job>, error: &StoreError) {
    batch.drain(..).for_each(|job| job.refuse(error));
}

/// Stores a run of appends together and runs what each wanted done next. When storing fails,
/// every append of the run breaks the batch: a lone one reports the store's error, several
/// report `Busy` (their callers retry each on its own terms).
fn append_run(conn: &mut DbConn, run: Vec<AppendJob>) -> Vec<Ran> {
    let (mut sends, thens): (Vec<_>, Vec<_>) =
        run.into_iter().map(|job| ((job.member, job.row), job.then)).unzip();
    match messages::append_all(conn, &mut sends) {
        Ok(appended) => sends
            .into_iter()
            .zip(appended)
            .zip(thens)
            .map(|(((_, row), appended), then)| then(Ok((&mut *conn, appended, row))))
            .collect(),
        Err(error) => {
            let error = StoreError::from(error);
            if thens.len() > 1 {
                log::warn!("storing {} messages together failed: {error}", thens.len());
            }
            let mut own = (thens.len() == 1).then_some(error);
            let broken = |then: AppendThen| {
                let error = own.take().unwrap_or(StoreError::Busy);
                Ran { broke_batch: true, ..then(Err(error)) }
            };
            thens.into_iter().map(broken).collect()
        }
    }
}

/// Opens the batch's transaction. On SQLite `BEGIN IMMEDIATE` takes the write lock at once: a
/// plain `BEGIN` upgrades later and fails without waiting if a CLI process wrote in between.
fn begin(conn: &mut DbConn) -> diesel::QueryResult<()> {
    match conn {
        DbConn::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE"),
        DbConn::Postgres(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn),
    }
}

/// Runs `work` in a savepoint of the open batch transaction: released on success, rolled back
/// on error.
pub(super) fn in_savepoint<T, E>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    // Inside an open transaction diesel's `transaction` is a SAVEPOINT.
    conn.transaction(work)
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::BigInt;
    use diesel::{QueryableByName, RunQueryDsl};

    use crate::config::StoreSettings;
    use crate::store::{Store, StoreError};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn scratch_store(folder: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}", folder.path().join("writer.db").display());
        let store = Store::open(&StoreSettings { url, ..StoreSettings::default() }).expect("store opens");
        store
            .run_blocking(|conn| {
                diesel::sql_query("CREATE TABLE scratch (name TEXT PRIMARY KEY)")
                    .execute(conn)
                    .map_err(StoreError::from)
            })
            .expect("table");
        store
    }

    fn insert(name: &str) -> impl FnOnce(&mut crate::store::DbConn) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO scratch (name) VALUES ('{name}')");
        move |conn| diesel::sql_query(sql).execute(conn).map(drop).map_err(StoreError::from)
    }

    /// A write of `work` that owns its handle, so it can be spawned.
    fn write<T: Send + 'static>(
        store: &Store,
        work: impl FnOnce(&mut crate::store::DbConn) -> Result<T, StoreError> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static {
        let store = store.clone();
        async move { store.write(work).await }
    }

    fn names(store: &Store) -> i64 {
        store
            .run_blocking(|conn| {
                diesel::sql_query("SELECT count(*) AS n FROM scratch")
                    .get_result::<Count>(conn)
                    .map(|c| c.n)
                    .map_err(StoreError::from)
            })
            .expect("count")
    }

    /// Holds the writer inside a write until the returned sender is dropped or sent to.
    async fn hold_the_writer(store: &Store) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        let holder = store.clone();
        let held = tokio::spawn(async move {
            let _ = holder
                .write(move |_| {
                    let _ = started.send(());
                    let _ = wait.recv();
                    Ok::<_, StoreError>(())
                })
                .await;
        });
        tokio::task::spawn_blocking(move || running.recv()).await.expect("join").expect("writer held");
        (release, held)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_that_wait_together_commit_together() {
        let folder = tempfile::tempdir().expect("temp dir");
        let store = scratch_store(&folder);
        let (release, held) = hold_the_writer(&store).await;
        let before = store.write_commits();
        let writes: Vec<_> = (0..50).map(|i| write(&store, insert(&format!("n{i}")))).collect();
        let all = tokio::spawn(futures_util::future::join_all(writes));
        // Let every write reach the writer's queue before releasing it.
        while store.writes_waiting() < 50 {
            tokio::task::yield_now().await;
        }
        release.send(()).expect("release");
        held.await.expect("join");
        let results = all.await.expect("join");
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(names(&store), 50);
        // The held write's own commit, then one for the 50 that waited.
        assert_eq!(store.write_commits() - before, 2);
    }

    /// A write's error that is either a refusal (nothing written) or the store's failure.
    #[derive(Debug)]
    enum Refusable {
        Refused,
        Store(StoreError),
    }

    impl From<StoreError> for Refusable {
        fn from(error: StoreError) -> Self {
            Refusable::Store(error)
        }
    }

    impl From<diesel::result::Error> for Refusable {
        fn from(error: diesel::result::Error) -> Self {
            Refusable::Store(error.into())
        }
    }

    impl crate::store::WriteError for Refusable {
        fn is_store_failure(&self) -> bool {
            matches!(self, Refusable::Store(_))
        }
    }

    /// Three writes held until they share one batch: `a` (in a savepoint), `middle` (without
    /// one), `c` (without one); what each answered.
    async fn batch_around(
        store: &Store,
        middle: impl FnOnce(&mut crate::store::DbConn) -> Result<(), Refusable> + Send + 'static,
    ) -> (Result<(), StoreError>, Result<(), Refusable>, Result<(), Refusable>) {
        let (release, held) = hold_the_writer(store).await;
        let first = write(store, insert("a"));
        let (s2, s3) = (store.clone(), store.clone());
        let second = async move { s2.write_refusing_first_then(middle, |_| {}).await };
        let third = async move { s3.write_refusing_first_then(|conn| Ok(insert("c")(conn)?), |_| {}).await };
        let all = tokio::spawn(async move { tokio::join!(first, second, third) });
        while store.writes_waiting() < 3 {
            tokio::task::yield_now().await;
        }
        release.send(()).expect("release");
        held.await.expect("join");
        all.await.expect("join")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_without_savepoint_that_refuses_leaves_its_batch_stored() {
        let folder = tempfile::tempdir().expect("temp dir");
        let store = scratch_store(&folder);
        let (first, refused, last) = batch_around(&store, |_| Err(Refusable::Refused)).await;
        assert!(first.is_ok() && last.is_ok());
        assert!(matches!(refused, Err(Refusable::Refused)));
        assert_eq!(names(&store), 2, "a and c stored");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_without_savepoint_that_fails_in_the_store_rolls_back_its_batch() {
        let folder = tempfile::tempdir().expect("temp dir");
        let store = scratch_store(&folder);
        let (first, failed, last) = batch_around(&store, |conn| {
            insert("b")(conn)?;
            // The same name again: a real constraint failure after a write.
            Ok(insert("b")(conn)?)
        })
        .await;
        assert!(matches!(first, Err(StoreError::Busy)), "a rolled back with its batch: {first:?}");
        assert!(matches!(failed, Err(Refusable::Store(StoreError::Query(_)))), "{failed:?}");
        assert!(matches!(last, Err(Refusable::Store(StoreError::Busy))), "c never ran: {last:?}");
        assert_eq!(names(&store), 0, "nothing of the batch stored");
        // The writer goes on with the next batch.
        assert!(write(&store, insert("d")).await.is_ok());
        assert_eq!(names(&store), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_is_reported_and_the_writer_goes_on() {
        let folder = tempfile::tempdir().expect("temp dir");
        let store = scratch_store(&folder);
        let lost = write(&store, |conn| {
            insert("a")(conn)?;
            panic!("a bug in a write");
        })
        .await;
        assert!(matches!(lost, Err::<(), _>(StoreError::Unavailable(_))));
        // The writer thread lives on, and the next batch begins and commits.
        assert!(write(&store, insert("b")).await.is_ok());
        assert_eq!(names(&store), 1, "b stored, a rolled back with its batch");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_leaves_the_rest_of_its_batch_stored() {
        let folder = tempfile::tempdir().expect("temp dir");
        let store = scratch_store(&folder);
        let (release, held) = hold_the_writer(&store).await;
        let first = write(&store, insert("a"));
        let failing = write(&store, |conn| {
            insert("b")(conn)?;
            Err::<(), _>(StoreError::Corrupt("refused after writing".into()))
        });
        let last = write(&store, insert("c"));
        let all = tokio::spawn(async move { tokio::join!(first, failing, last) });
        while store.writes_waiting() < 3 {
            tokio::task::yield_now().await;
        }
        release.send(()).expect("release");
        held.await.expect("join");
        let (first, failing, last) = all.await.expect("join");
        assert!(first.is_ok() && last.is_ok());
        assert!(matches!(failing, Err(StoreError::Corrupt(_))));
        assert_eq!(names(&store), 2, "a and c stored, b rolled back to its savepoint");
    }
}
