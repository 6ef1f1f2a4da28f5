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
//! server's CPU). So once the WAL passes [`RESET_AFTER_FRAMES`], this thread asks the writer to
//! catch up: between two batches, where nothing else writes, the writer checkpoints the few
//! frames written since this thread's last pass, and its next transaction starts the WAL over.
//! The WAL file then keeps its size and is overwritten in place.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use diesel::sql_types::Integer;
use diesel::{QueryableByName, RunQueryDsl};

use super::{DbConn, DbConnectionManager};

/// WAL frames (pages of 4 KiB) past which the writer is asked to start the WAL over: 64 MiB.
const RESET_AFTER_FRAMES: i32 = 16_384;

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
            if let Err(error) = passive_checkpoint(conn) {
                log::warn!("WAL catch-up checkpoint failed: {error}");
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
                let checkpointed =
                    pool.get().map_err(|e| e.to_string()).and_then(|mut conn| passive_checkpoint(&mut conn));
                match checkpointed {
                    Ok(row) if row.busy == 0 && row.log > RESET_AFTER_FRAMES => {
                        due.store(true, Ordering::Relaxed)
                    }
                    Ok(_) => {}
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
