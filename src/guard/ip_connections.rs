//! Open connections per client address.
//!
//! actix cannot refuse a connection in `on_connect`, so each connection gets a
//! [`ConnectionSlot`] in its extensions: it holds one count for its address until the
//! connection closes (its drop), and knows whether the address was over the cap when it
//! opened. The [`middleware`](super::middleware) answers every request on such a connection
//! 429 `too_many_connections` and closes it.

use std::net::IpAddr;
use std::sync::Arc;

use dashmap::DashMap;

/// Open connections by address.
pub struct ConnectionCounter {
    cap: usize,
    open: Arc<DashMap<IpAddr, usize>>,
}

impl ConnectionCounter {
    /// A counter that refuses past `cap` connections per address; 0 is off.
    pub fn new(cap: usize) -> Self {
        Self { cap, open: Arc::new(DashMap::new()) }
    }

    /// Counts a connection from `peer` until the returned slot is dropped; `None` when off.
    pub fn open(&self, peer: IpAddr) -> Option<ConnectionSlot> {
        if self.cap == 0 {
            return None;
        }
        let count = {
            let mut count = self.open.entry(peer).or_insert(0);
            *count += 1;
            *count
        };
        Some(ConnectionSlot { peer, over: count > self.cap, open: Arc::clone(&self.open) })
    }

    /// Connections now open from `peer` (counted ones).
    pub fn open_from(&self, peer: IpAddr) -> usize {
        self.open.get(&peer).map_or(0, |count| *count)
    }
}

/// One counted connection; see the module doc.
pub struct ConnectionSlot {
    peer: IpAddr,
    over: bool,
    open: Arc<DashMap<IpAddr, usize>>,
}

impl ConnectionSlot {
    /// True when its address already had the cap open when this connection came.
    pub fn is_over(&self) -> bool {
        self.over
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Some(mut count) = self.open.get_mut(&self.peer) {
            *count = count.saturating_sub(1);
        }
        self.open.remove_if(&self.peer, |_, count| *count == 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_cap_a_connection_is_over_and_closing_one_makes_room() {
        let counter = ConnectionCounter::new(2);
        let peer: IpAddr = "192.0.2.7".parse().expect("ip");
        let first = counter.open(peer).expect("on");
        let second = counter.open(peer).expect("on");
        let third = counter.open(peer).expect("on");
        assert!(!first.is_over() && !second.is_over());
        assert!(third.is_over());
        assert!(!counter.open("192.0.2.8".parse().expect("ip")).expect("on").is_over());
        drop(third);
        drop(first);
        assert_eq!(counter.open_from(peer), 1);
        assert!(!counter.open(peer).expect("on").is_over());
        drop(second);
        assert_eq!(counter.open_from(peer), 0);
        assert!(counter.open.is_empty(), "a closed address leaves nothing behind");
    }

    #[test]
    fn a_cap_of_zero_is_off() {
        assert!(ConnectionCounter::new(0).open("192.0.2.7".parse().expect("ip")).is_none());
    }
}
