//! The origins of the registered sites, in memory, so that CORS, the `embed_origin` check and
//! the widget frame's `frame-ancestors` consult them without a store read.
//!
//! The store is the truth. This node changes the set right after it commits a site's creation,
//! change or deletion, and every node reads all sites' origins again every [`RELOAD_EVERY`]:
//! that is how a change made on another node arrives (ordered against the changes made here by
//! `service::local_changes`, as the ban list is).

use std::collections::{BTreeMap, HashMap};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use super::local_changes::LocalChanges;
use crate::domain::{Origin, SiteId, SiteOrigins};

/// How often every node reads the sites' origins from the store again.
pub const RELOAD_EVERY: Duration = Duration::from_secs(3);

/// Each site's origins.
#[derive(Default)]
pub struct SiteOriginSet {
    by_site: RwLock<HashMap<SiteId, SiteOrigins>>,
    /// A reload read before a change made here must not undo it.
    changes: LocalChanges,
}

impl SiteOriginSet {
    /// No site.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether some site lists `origin`.
    pub fn admits(&self, origin: &Origin) -> bool {
        self.read().values().any(|origins| origins.contains(origin))
    }

    /// Every site's origins, each once, sorted (for the frame's `frame-ancestors`).
    pub fn all(&self) -> Vec<Origin> {
        let by_site = self.read();
        let all: BTreeMap<&str, &Origin> =
            by_site.values().flat_map(SiteOrigins::iter).map(|origin| (origin.as_str(), origin)).collect();
        all.into_values().cloned().collect()
    }

    /// How many changes this node has made; a reload passes it back to [`SiteOriginSet::replace`].
    pub fn changes(&self) -> u64 {
        self.changes.count()
    }

    /// A site was just stored with these origins (made or changed).
    pub fn put(&self, site: SiteId, origins: SiteOrigins) {
        self.changes.make(|| self.write().insert(site, origins));
    }

    /// A site was just deleted.
    pub fn remove(&self, site: SiteId) {
        self.changes.make(|| self.write().remove(&site));
    }

    /// Replaces the set by `sites`, read from the store when [`SiteOriginSet::changes`] was
    /// `changes_before`; refused (false) when this node changed the set since.
    pub fn replace(&self, sites: HashMap<SiteId, SiteOrigins>, changes_before: u64) -> bool {
        self.changes.replace_unless_changed_since(changes_before, || *self.write() = sites)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<SiteId, SiteOrigins>> {
        self.by_site.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<SiteId, SiteOrigins>> {
        self.by_site.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &[&str]) -> SiteOrigins {
        SiteOrigins::parse(list).expect("origins")
    }

    fn origin(text: &str) -> Origin {
        Origin::parse(text, "origin").expect("origin")
    }

    #[test]
    fn a_site_admits_its_origins_until_it_is_changed_or_removed() {
        let set = SiteOriginSet::new();
        let site = SiteId::new();
        set.put(site, origins(&["https://a.example", "https://b.example"]));
        assert!(set.admits(&origin("https://b.example")));
        assert!(!set.admits(&origin("https://c.example")));
        set.put(site, origins(&["https://c.example"]));
        assert!(!set.admits(&origin("https://b.example")));
        assert!(set.admits(&origin("https://c.example")));
        set.remove(site);
        assert!(!set.admits(&origin("https://c.example")));
    }

    #[test]
    fn all_lists_each_origin_once_in_order() {
        let set = SiteOriginSet::new();
        set.put(SiteId::new(), origins(&["https://b.example", "https://a.example"]));
        set.put(SiteId::new(), origins(&["https://a.example"]));
        let all: Vec<String> = set.all().iter().map(|o| o.as_str().to_string()).collect();
        assert_eq!(all, ["https://a.example", "https://b.example"]);
    }

    #[test]
    fn a_reload_read_before_a_change_made_here_does_not_undo_it() {
        let set = SiteOriginSet::new();
        let read_at = set.changes();
        let site = SiteId::new();
        set.put(site, origins(&["https://new.example"]));
        assert!(!set.replace(HashMap::new(), read_at));
        assert!(set.admits(&origin("https://new.example")));
        assert!(set.replace(HashMap::new(), set.changes()));
        assert!(!set.admits(&origin("https://new.example")));
    }
}
