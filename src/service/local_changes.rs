//! The rule shared by the sets every node keeps in memory as a copy of the store (the ban list,
//! the registered sites' origins): a node changes its copy right after it commits a change, and
//! every node reads the whole set from the store again now and then, which is how another
//! node's changes arrive. A reload whose read began before a change made here could undo that
//! change in memory; it is refused, and the next reload applies.

use std::sync::{Mutex, PoisonError};

/// Counts the changes this node made to one in-memory set, and orders them against reloads.
/// Held by a change or a reload (both rare), never by a check of the set.
#[derive(Debug, Default)]
pub struct LocalChanges(Mutex<u64>);

impl LocalChanges {
    /// How many changes this node has made so far; a reload takes it before it reads the store
    /// and passes it back to [`LocalChanges::replace_unless_changed_since`].
    pub fn count(&self) -> u64 {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes a change to the set (just committed to the store) and counts it.
    pub fn make<T>(&self, change: impl FnOnce() -> T) -> T {
        let mut count = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *count += 1;
        change()
    }

    /// Replaces the set with what a reload read when the count was `count_before`, unless this
    /// node made a change since (the read may predate it); whether it replaced.
    pub fn replace_unless_changed_since(&self, count_before: u64, replace: impl FnOnce()) -> bool {
        let count = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if *count != count_before {
            return false;
        }
        replace();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_read_before_a_change_made_here_is_refused_and_the_next_one_applies() {
        let changes = LocalChanges::default();
        let read_at = changes.count();
        let mut replaced = 0;
        assert!(changes.replace_unless_changed_since(read_at, || replaced += 1));
        let read_at = changes.count();
        assert_eq!(changes.make(|| "changed"), "changed");
        assert!(!changes.replace_unless_changed_since(read_at, || replaced += 1));
        assert!(changes.replace_unless_changed_since(changes.count(), || replaced += 1));
        assert_eq!(replaced, 2);
    }
}
