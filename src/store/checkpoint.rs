//! WAL checkpoints (SQLite only): copied on a thread of their own, reset by the writer.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: on the one
//! writer thread, it copied the WAL into the database and waited for two `fsync`s while every
//! write queued behind it. With automatic checkpoints off (see `connection`), this thread runs
//! a `PASSIVE` checkpoint every interval instead: it copies what it can without blocking the
//! writer or readers.
//!
//! Copying is not enough under a steady stream of writes. SQLite starts the WAL over from its
//! beginning only when a write begins while *every* frame has been copied, and with the writer
//! appending all the time that moment never comes: the WAL grew by 200 MB/s, and appending to
//! a growing file made the kernel zero each new page before writing it (a quarter of the
//! server's CPU). So once the WAL passes [`RESET_AFTER_FRAMES`], this thread checkpoints again
//! at once until only a few frames are left uncopied, then asks the writer to catch up:
//! between two batches, where nothing else writes, the writer checkpoints those few frames
//! (two short `fsync`s), and its next transaction starts the WAL over. The WAL file then keeps
//! its size and is overwritten in place, and the writer pauses for milliseconds a few times a
//! minute instead of for tens of milliseconds every second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use diesel::sql_types::Integer;
use diesel::{QueryableByName, RunQueryDsl};

use super::{DbConn, DbConnectionManager};

/// WAL frames (pages of 4 KiB) past which the WAL is to be started over: 256 MiB.
const RESET_AFTER_FRAMES: i32 = 65_536;

/// Frames this thread leaves for the writer's catch-up at most: about 4 MiB to sync and copy.
const CATCH_UP_FRAMES: i32 = 1_024;

/// Back-to-back checkpoints this thread runs at most before it hands over anyway.
const MAX_CLOSING_IN: usize = 50;

/// Keeps the checkpoint thread running; it stops when the last clone is dropped.
#[derive(Clone)]
pub(super) struct Checkpointer {
    _alive: Sender<()>,
    reset: WalReset,
}

/// The writer's side: whether the checkpoint thread asked for a reset.
#[derive(Clone, Default)]
pub(super) struct WalReset {
    due: Arc<AtomicBool>,
}

impl WalReset {
    /// Between two batches, on the writer's connection: when a reset is due, checkpoints what
    /// the checkpoint thread has not copied yet, so that the next write starts the WAL over.
    pub fn catch_up_if_due(&self, conn: &mut DbConn) {
        if self.due.swap(false, Ordering::Relaxed) {
            let started = std::time::Instant::now();
            match passive_checkpoint(conn) {
                Ok(row) => log::debug!(
                    "WAL catch-up: {} of {} frames copied, writer paused {:?}",
                    row.checkpointed,
                    row.log,
                    started.elapsed()
                ),
                Err(error) => log::warn!("WAL catch-up checkpoint failed: {error}"),
            }
        }
    }
}

/// What `PRAGMA wal_checkpoint` answers.
#[derive(QueryableByName)]
struct CheckpointRow {
    /// 1 when a lock kept it from finishing.
    #[diesel(sql_type = Integer)]
    busy: i32,
    /// Frames in the WAL.
    #[diesel(sql_type = Integer)]
    log: i32,
    /// Frames of it copied into the database.
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

fn passive_checkpoint(conn: &mut DbConn) -> Result<CheckpointRow, String> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
        .get_result::<CheckpointRow>(conn)
        .map_err(|e| e.to_string())
}

impl Checkpointer {
    /// Starts the `store-checkpoint` thread, checkpointing every `every`.
    pub fn start(pool: r2d2::Pool<DbConnectionManager>, every: Duration) -> std::io::Result<Self> {
        let (alive, stopped) = bounded::<()>(0);
        let reset = WalReset::default();
        let due = Arc::clone(&reset.due);
        std::thread::Builder::new().name("store-checkpoint".to_string()).spawn(move || {
            // Wakes every interval until the store (the sending side) is gone.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let closed_in = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                    let mut row = passive_checkpoint(&mut conn)?;
                    if row.log <= RESET_AFTER_FRAMES {
                        return Ok(false);
                    }
                    // Close in on the writer. A pass reports the WAL as it was when the pass
                    // began; what the writer appended meanwhile is left for the next one. Pass
                    // again until one found only a few new frames: it was short, so the
                    // writer appended little during it, and that little is the catch-up's.
                    let started = std::time::Instant::now();
                    let mut passes = 1;
                    loop {
                        let before = row.log;
                        row = passive_checkpoint(&mut conn)?;
                        passes += 1;
                        let fresh = row.log - before;
                        if row.busy != 0 || fresh <= CATCH_UP_FRAMES || passes >= MAX_CLOSING_IN {
                            break;
                        }
                    }
                    log::debug!("WAL of {} frames: {passes} passes in {:?}", row.log, started.elapsed());
                    Ok(row.busy == 0)
                });
                match closed_in {
                    Ok(true) => due.store(true, Ordering::Relaxed),
                    Ok(false) => {}
                    Err(error) => log::warn!("WAL checkpoint failed: {error}"),
                }
            }
        })?;
        Ok(Self { _alive: alive, reset })
    }

    /// The handle the writer checks between batches.
    pub fn reset(&self) -> WalReset {
        self.reset.clone()
    }
}
