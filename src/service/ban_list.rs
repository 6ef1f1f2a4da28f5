//! The bans in force, in memory, so that checking a visitor's request costs no store read.
//!
//! The store is the truth. This node changes the list when it bans or lifts (right after the
//! commit), and every node reads the whole list again from the store every
//! [`RELOAD_EVERY`](super::bans::RELOAD_EVERY): that is how a ban or lift made on another node
//! arrives, and how expired bans leave memory. A ban ends by itself at its `expires_at`
//! whether or not a reload has happened, because every check compares it with the time.

use std::net::IpAddr;

use dashmap::DashMap;
use uuid::Uuid;

use super::local_changes::LocalChanges;
use crate::domain::BannedAddress;

/// One ban as memory keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BanEntry {
    /// The ban's id.
    pub id: Uuid,
    /// The banned visitor, if one is.
    pub visitor: Option<Uuid>,
    /// The banned address, if one is.
    pub ip: Option<BannedAddress>,
    /// Epoch ms when it ends; `None` = until lifted.
    pub expires_at: Option<i64>,
}

impl BanEntry {
    fn in_force(&self, now_ms: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now_ms)
    }
}

/// What one visitor or address is banned by: usually one ban, sometimes a few.
type Bans = Vec<BanEntry>;

/// The bans in force, by visitor and by address.
#[derive(Default)]
pub struct BanList {
    by_visitor: DashMap<Uuid, Bans>,
    by_ip: DashMap<IpAddr, Bans>,
    /// A reload read from the store before a ban committed here must not undo that ban.
    changes: LocalChanges,
}

impl BanList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `visitor` is banned at `now_ms`.
    pub fn visitor_banned(&self, visitor: Uuid, now_ms: i64) -> bool {
        self.by_visitor.get(&visitor).is_some_and(|bans| bans.iter().any(|ban| ban.in_force(now_ms)))
    }

    /// Whether `address` is banned at `now_ms`.
    pub fn address_banned(&self, address: BannedAddress, now_ms: i64) -> bool {
        self.by_ip.get(&address.0).is_some_and(|bans| bans.iter().any(|ban| ban.in_force(now_ms)))
    }

    /// How many changes this node has made; a reload passes it back to [`BanList::replace`].
    pub fn changes(&self) -> u64 {
        self.changes.count()
    }

    /// Adds a ban just stored.
    pub fn add(&self, ban: BanEntry) {
        self.changes.make(|| insert(&self.by_visitor, &self.by_ip, ban));
    }

    /// Removes a ban just lifted.
    pub fn lift(&self, ban: &BanEntry) {
        self.changes.make(|| {
            if let Some(visitor) = ban.visitor {
                remove(&self.by_visitor, visitor, ban.id);
            }
            if let Some(ip) = ban.ip {
                remove(&self.by_ip, ip.0, ban.id);
            }
        });
    }

    /// Replaces the list by `bans`, read from the store at a moment when
    /// [`BanList::changes`] was `changes_before`; refused (false) when this node changed the
    /// list since, since the read may predate that change: the next reload applies.
    pub fn replace(&self, bans: &[BanEntry], changes_before: u64, now_ms: i64) -> bool {
        self.changes.replace_unless_changed_since(changes_before, || {
            let (by_visitor, by_ip) = (DashMap::new(), DashMap::new());
            for ban in bans.iter().filter(|ban| ban.in_force(now_ms)) {
                insert(&by_visitor, &by_ip, *ban);
            }
            // Key by key, never emptied: a ban still in force is never missing, even for a moment.
            self.by_visitor.retain(|key, _| by_visitor.contains_key(key));
            self.by_ip.retain(|key, _| by_ip.contains_key(key));
            for (key, bans) in by_visitor {
                self.by_visitor.insert(key, bans);
            }
            for (key, bans) in by_ip {
                self.by_ip.insert(key, bans);
            }
        })
    }

    /// Visitors and addresses with a ban in memory.
    pub fn len(&self) -> usize {
        self.by_visitor.len() + self.by_ip.len()
    }

    /// True when nothing is banned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn insert(by_visitor: &DashMap<Uuid, Bans>, by_ip: &DashMap<IpAddr, Bans>, ban: BanEntry) {
    if let Some(visitor) = ban.visitor {
        by_visitor.entry(visitor).or_default().push(ban);
    }
    if let Some(ip) = ban.ip {
        by_ip.entry(ip.0).or_default().push(ban);
    }
}

fn remove<K: std::hash::Hash + Eq>(map: &DashMap<K, Bans>, key: K, id: Uuid) {
    map.remove_if_mut(&key, |_, bans| {
        bans.retain(|ban| ban.id != id);
        bans.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> BannedAddress {
        BannedAddress::parse(text, "ip").expect("address")
    }

    fn ban(visitor: Option<Uuid>, ip: Option<&str>, expires_at: Option<i64>) -> BanEntry {
        BanEntry { id: Uuid::new_v4(), visitor, ip: ip.map(address), expires_at }
    }

    #[test]
    fn a_ban_holds_its_visitor_and_address_until_it_expires() {
        let list = BanList::new();
        let visitor = Uuid::new_v4();
        list.add(ban(Some(visitor), Some("203.0.113.9"), Some(1_000)));
        assert!(list.visitor_banned(visitor, 999));
        assert!(list.address_banned(address("::ffff:203.0.113.9"), 999));
        assert!(!list.visitor_banned(visitor, 1_000));
        assert!(!list.address_banned(address("203.0.113.9"), 1_000));
        assert!(!list.visitor_banned(Uuid::new_v4(), 0));
        assert!(!list.address_banned(address("203.0.113.10"), 0));
    }

    #[test]
    fn lifting_one_ban_leaves_another_on_the_same_visitor() {
        let list = BanList::new();
        let visitor = Uuid::new_v4();
        let (first, second) = (ban(Some(visitor), None, None), ban(Some(visitor), None, None));
        list.add(first);
        list.add(second);
        list.lift(&first);
        assert!(list.visitor_banned(visitor, 0));
        list.lift(&second);
        assert!(!list.visitor_banned(visitor, 0));
        assert!(list.is_empty());
    }

    #[test]
    fn a_reload_replaces_the_list_unless_this_node_changed_it_meanwhile() {
        let list = BanList::new();
        let (kept, dropped) = (ban(Some(Uuid::new_v4()), None, None), ban(None, Some("198.51.100.1"), None));
        list.add(kept);
        list.add(dropped);
        let read_at = list.changes();
        let fresh = ban(None, Some("198.51.100.2"), None);
        assert!(list.replace(&[kept, fresh], read_at, 0));
        assert!(list.visitor_banned(kept.visitor.expect("visitor"), 0));
        assert!(!list.address_banned(address("198.51.100.1"), 0));
        assert!(list.address_banned(address("198.51.100.2"), 0));

        // A ban made here after the read is not undone by that read.
        let made_here = ban(Some(Uuid::new_v4()), None, None);
        list.add(made_here);
        assert!(!list.replace(&[], read_at, 0));
        assert!(list.visitor_banned(made_here.visitor.expect("visitor"), 0));
    }

    #[test]
    fn a_reload_leaves_out_what_has_expired() {
        let list = BanList::new();
        let expired = ban(Some(Uuid::new_v4()), None, Some(10));
        assert!(list.replace(&[expired], list.changes(), 10));
        assert!(list.is_empty());
    }
}
