//! Display names of senders, remembered in memory, so that a message is written without
//! reading its sender's row: on PostgreSQL that read was one of the writer's two round trips
//! per message.
//!
//! What may change behind a name decides how long it is trusted, as in `token_cache`: a
//! visitor's name changes only with a newer verified identity (`service::identity`), which
//! forgets it on the node that took it (another node may show the old one for up to
//! [`VISITOR_NAME_KEPT`]); an agent's is trusted for `auth.agent_token_recheck_secs`, and
//! this node's own renames forget it at once. Entries are swept once they are that old (a
//! visitor's after [`VISITOR_NAME_KEPT`]), so senders who left cost nothing. A name read while
//! this node changed a name is not kept: the read may have seen the old one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use uuid::Uuid;

use crate::domain::{Principal, PrincipalKind};

/// How long a visitor's name is kept after it was read.
pub const VISITOR_NAME_KEPT: Duration = Duration::from_secs(600);

struct Entry {
    name: Arc<str>,
    /// When it goes stale.
    until: Instant,
}

/// The names read lately, by visitor or agent id.
pub struct SenderNames {
    entries: DashMap<Uuid, Entry>,
    agent_recheck: Duration,
    /// Names forgotten so far: a read that began before a change is not remembered after it.
    forgotten: AtomicU64,
}

/// Taken before a name is read from the store, handed back to [`SenderNames::remember`].
#[derive(Debug, Clone, Copy)]
pub struct ReadMark(u64);

impl SenderNames {
    /// An empty cache that trusts an agent's name for `agent_recheck`.
    pub fn new(agent_recheck: Duration) -> Self {
        Self { entries: DashMap::new(), agent_recheck, forgotten: AtomicU64::new(0) }
    }

    /// The name of `sender`, if it is known and still trusted.
    pub fn get(&self, sender: &Principal) -> Option<Arc<str>> {
        let entry = self.entries.get(&sender.uuid())?;
        (entry.until > Instant::now()).then(|| Arc::clone(&entry.name))
    }

    /// To take before reading a name from the store.
    pub fn mark(&self) -> ReadMark {
        ReadMark(self.forgotten.load(Ordering::Acquire))
    }

    /// Remembers the name of `sender` read from the store after `mark` was taken — unless a
    /// name was forgotten since, when the read may have raced a rename.
    pub fn remember(&self, sender: &Principal, name: &str, mark: ReadMark) {
        if self.forgotten.load(Ordering::Acquire) != mark.0 {
            return;
        }
        let kept = match sender.kind() {
            PrincipalKind::Visitor => VISITOR_NAME_KEPT,
            PrincipalKind::Agent => self.agent_recheck,
        };
        self.entries.insert(sender.uuid(), Entry { name: name.into(), until: Instant::now() + kept });
    }

    /// Forgets a name this node has just changed.
    pub fn forget(&self, id: Uuid) {
        self.forgotten.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(&id);
    }

    /// Drops the names no longer trusted.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.entries.retain(|_, entry| entry.until > now);
    }

    /// Names remembered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgentId, Role, VisitorId};

    #[test]
    fn a_name_is_trusted_for_its_time_and_forgotten_on_a_change() {
        let names = SenderNames::new(Duration::from_millis(30));
        let agent = Principal::Agent(AgentId(Uuid::new_v4()), Role::Agent);
        let visitor = Principal::Visitor(VisitorId(Uuid::new_v4()));
        assert!(names.get(&agent).is_none());
        names.remember(&agent, "Ann", names.mark());
        names.remember(&visitor, "Guest 7", names.mark());
        assert_eq!(names.get(&agent).as_deref(), Some("Ann"));
        names.forget(agent.uuid());
        assert!(names.get(&agent).is_none(), "a rename on this node forgets at once");
        names.remember(&agent, "Ann B.", names.mark());
        std::thread::sleep(Duration::from_millis(40));
        assert!(names.get(&agent).is_none(), "an agent's name is asked again after the recheck time");
        assert_eq!(names.get(&visitor).as_deref(), Some("Guest 7"), "a visitor's name stays");
        names.sweep();
        assert_eq!(names.len(), 1, "the stale agent entry is swept, the visitor's kept");
    }

    #[test]
    fn a_name_read_across_a_rename_is_not_kept() {
        let names = SenderNames::new(Duration::from_secs(60));
        let agent = Principal::Agent(AgentId(Uuid::new_v4()), Role::Agent);
        let before_the_rename = names.mark();
        names.forget(agent.uuid());
        names.remember(&agent, "the old name, read before the rename committed", before_the_rename);
        assert!(names.get(&agent).is_none(), "the next message reads the name again");
        names.remember(&agent, "Ann B.", names.mark());
        assert_eq!(names.get(&agent).as_deref(), Some("Ann B."));
    }
}
