//! WAL checkpoints on a thread of their own (SQLite only).
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: on the one
//! writer thread, it copied the WAL into the database and waited for two `fsync`s (8–10 ms
//! each here) while every write queued behind it. With automatic checkpoints off (see
//! `connection`), this thread runs a `PASSIVE` checkpoint every interval instead: it copies what
//! it can without blocking the writer or readers, and the writer only appends to the WAL.

use std::time::Duration;

use crossbeam_channel::{bounded, RecvTimeoutError, Sender};
use diesel::connection::SimpleConnection;

use super::DbConnectionManager;

/// Keeps the checkpoint thread running; it stops when the last clone is dropped.
#[derive(Clone)]
pub(super) struct Checkpointer {
    _alive: Sender<()>,
}

impl Checkpointer {
    /// Starts the `store-checkpoint` thread, checkpointing every `every`.
    pub fn start(pool: r2d2::Pool<DbConnectionManager>, every: Duration) -> std::io::Result<Self> {
        let (alive, stopped) = bounded::<()>(0);
        std::thread::Builder::new().name("store-checkpoint".to_string()).spawn(move || {
            // Wakes every interval until the store (the sending side) is gone.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let checkpointed = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                    conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)").map_err(|e| e.to_string())
                });
                if let Err(error) = checkpointed {
                    log::warn!("WAL checkpoint failed: {error}");
                }
            }
        })?;
        Ok(Self { _alive: alive })
    }
}
