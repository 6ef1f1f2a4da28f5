//! Caps derived from the process's file-descriptor limit.
//!
//! At the descriptor limit actix cannot accept and logs `Too many open files` for every new
//! connection: the server goes deaf. So the connection cap stays below the limit (minus what
//! the store, logs and listeners need), and the held-poll cap stays below the connection cap
//! (so sends, logins and health checks always find a connection).

/// The effective caps of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The soft `RLIMIT_NOFILE` after trying to raise it to the hard one.
    pub descriptors: u64,
    /// Client connections, all workers together.
    pub max_connections: usize,
    /// Polls held at once.
    pub max_held_polls: usize,
}

/// Descriptors kept back for everything that is not a client connection.
fn reserved_descriptors(store_pool_size: u32) -> u64 {
    // stdio, listeners, epoll and eventfds per worker, log files; SQLite opens up to 3 files
    // per connection (db, wal, shm), PostgreSQL one socket; the readers' connections, the
    // writer's and the checkpointer's.
    128 + (u64::from(store_pool_size) + 2) * 3
}

impl Limits {
    /// Caps for the asked `max_connections` and `max_held_polls`, given `descriptors`.
    pub fn derive(
        descriptors: u64,
        max_connections: usize,
        max_held_polls: usize,
        store_pool_size: u32,
    ) -> Self {
        let room = descriptors.saturating_sub(reserved_descriptors(store_pool_size));
        let max_connections = max_connections.min(usize::try_from(room).unwrap_or(usize::MAX)).max(1);
        // Keep a fortieth of the connections (at least 64) for everything that is not a poll:
        // sends and logins are short, so a few hundred serve many thousand waiting visitors.
        let headroom = (max_connections / 40).max(64);
        let max_held_polls = max_held_polls.min(max_connections.saturating_sub(headroom)).max(1);
        Self { descriptors, max_connections, max_held_polls }
    }

    /// Raises the soft descriptor limit as far as allowed and derives the caps from it.
    pub fn for_this_process(max_connections: usize, max_held_polls: usize, store_pool_size: u32) -> Self {
        let descriptors = rlimit::increase_nofile_limit(u64::MAX)
            .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
            .unwrap_or(1024);
        Self::derive(descriptors, max_connections, max_held_polls, store_pool_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_stay_below_the_descriptor_limit() {
        let limits = Limits::derive(20_000, 50_000, 50_000, 8);
        assert!(limits.max_connections < 20_000);
        assert!(limits.max_held_polls < limits.max_connections);
    }

    #[test]
    fn configured_caps_below_the_limit_are_kept() {
        let limits = Limits::derive(20_000, 1_000, 500, 8);
        assert_eq!((limits.max_connections, limits.max_held_polls), (1_000, 500));
    }

    #[test]
    fn held_polls_leave_room_for_other_requests() {
        let limits = Limits::derive(20_000, 1_000, 1_000, 8);
        assert_eq!(limits.max_held_polls, 936);
        let limits = Limits::derive(20_000, 19_900, 19_400, 4);
        assert_eq!((limits.max_connections, limits.max_held_polls), (19_854, 19_358));
    }
}
