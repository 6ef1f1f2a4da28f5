//! Who holds a token, remembered in memory, so that a poll or a send is authenticated without a
//! store read. Before it, every request cost a hop to a store thread; on an idle server that
//! hand-off was most of a held poll's CPU.
//!
//! What may change behind a token decides how long an answer is trusted:
//! - a visitor token names a visitor and nothing else; it is trusted until it expires;
//! - an agent token also carries the role and whether the agent is disabled. This node's own
//!   changes (logout, disable, password reset, role change) forget the agent's tokens at once;
//!   a change made elsewhere (the `switchboard agent` command, another node) is seen within
//!   `auth.agent_token_recheck_secs`, when the store is asked again.
//!
//! Entries not used for [`IDLE_EVICTION`] are swept, so visitors who left cost nothing.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::domain::Principal;

/// An entry unused this long is dropped; the next request reads the store once.
pub const IDLE_EVICTION: Duration = Duration::from_secs(600);

/// A token's SHA-256, the cache's key (the store keeps it in hex).
pub type TokenDigest = [u8; 32];

struct Entry {
    principal: Principal,
    /// Epoch ms after which the token is refused.
    expires_at: i64,
    /// Seconds since the cache started, when the store last confirmed the entry.
    confirmed_at: u32,
    /// Seconds since the cache started, when a request last used it. Atomic so that a hit
    /// needs only a shared lock of its shard.
    used_at: AtomicU32,
}

/// The tokens seen recently and who holds them.
pub struct TokenCache {
    entries: DashMap<TokenDigest, Entry>,
    started: Instant,
    agent_recheck: Duration,
}

impl TokenCache {
    /// An empty cache that rechecks agent tokens as `auth.agent_token_recheck_secs` says.
    pub fn for_settings(auth: &crate::config::AuthSettings) -> Self {
        Self::new(Duration::from_secs(auth.agent_token_recheck_secs))
    }

    /// An empty cache that asks the store again about agent tokens after `agent_recheck`.
    pub fn new(agent_recheck: Duration) -> Self {
        Self { entries: DashMap::new(), started: Instant::now(), agent_recheck }
    }

    fn seconds(&self) -> u32 {
        u32::try_from(self.started.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// Who holds the token, if it is known, unexpired at `now_ms` and still to be trusted.
    pub fn get(&self, digest: &TokenDigest, now_ms: i64) -> Option<Principal> {
        let entry = self.entries.get(digest)?;
        let now = self.seconds();
        let confirmed_for = Duration::from_secs(u64::from(now.saturating_sub(entry.confirmed_at)));
        let stale = matches!(entry.principal, Principal::Agent(..)) && confirmed_for >= self.agent_recheck;
        if entry.expires_at <= now_ms || stale {
            return None;
        }
        entry.used_at.store(now, Ordering::Relaxed);
        Some(entry.principal)
    }

    /// Remembers what the store said about a token.
    pub fn remember(&self, digest: TokenDigest, principal: Principal, expires_at: i64) {
        let now = self.seconds();
        self.entries
            .insert(digest, Entry { principal, expires_at, confirmed_at: now, used_at: AtomicU32::new(now) });
    }

    /// Forgets one token (logout).
    pub fn forget(&self, digest: &TokenDigest) {
        self.entries.remove(digest);
    }

    /// Forgets every token of one visitor or agent (disabled, password reset, role changed).
    pub fn forget_holder(&self, id: uuid::Uuid) {
        self.entries.retain(|_, entry| entry.principal.uuid() != id);
    }

    /// Drops expired entries and those unused for [`IDLE_EVICTION`].
    pub fn sweep(&self, now_ms: i64) {
        let now = self.seconds();
        let idle = u32::try_from(IDLE_EVICTION.as_secs()).unwrap_or(u32::MAX);
        self.entries.retain(|_, entry| {
            entry.expires_at > now_ms && now.saturating_sub(entry.used_at.load(Ordering::Relaxed)) < idle
        });
    }

    /// Tokens remembered now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no token is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgentId, Role, VisitorId};

    fn visitor() -> Principal {
        Principal::Visitor(VisitorId(uuid::Uuid::new_v4()))
    }

    #[test]
    fn a_remembered_token_is_known_until_it_expires() {
        let cache = TokenCache::new(Duration::from_secs(5));
        let who = visitor();
        cache.remember([1; 32], who, 1_000);
        assert_eq!(cache.get(&[1; 32], 999), Some(who));
        assert_eq!(cache.get(&[1; 32], 1_000), None);
        assert_eq!(cache.get(&[2; 32], 0), None);
    }

    #[test]
    fn an_agent_token_is_asked_about_again_after_the_recheck_time() {
        let agent = Principal::Agent(AgentId(uuid::Uuid::new_v4()), Role::Agent);
        let trusting = TokenCache::new(Duration::from_secs(60));
        trusting.remember([1; 32], agent, i64::MAX);
        assert_eq!(trusting.get(&[1; 32], 0), Some(agent));
        // A recheck time of zero: every lookup goes to the store; visitors are unaffected.
        let rechecking = TokenCache::new(Duration::ZERO);
        rechecking.remember([1; 32], agent, i64::MAX);
        let who = visitor();
        rechecking.remember([2; 32], who, i64::MAX);
        assert_eq!(rechecking.get(&[1; 32], 0), None);
        assert_eq!(rechecking.get(&[2; 32], 0), Some(who));
    }

    #[test]
    fn forgetting_a_holder_drops_all_its_tokens_and_no_others() {
        let cache = TokenCache::new(Duration::from_secs(5));
        let (mine, other) = (visitor(), visitor());
        cache.remember([1; 32], mine, i64::MAX);
        cache.remember([2; 32], mine, i64::MAX);
        cache.remember([3; 32], other, i64::MAX);
        cache.forget_holder(mine.uuid());
        assert_eq!(cache.get(&[1; 32], 0), None);
        assert_eq!(cache.get(&[2; 32], 0), None);
        assert_eq!(cache.get(&[3; 32], 0), Some(other));
        cache.forget(&[3; 32]);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_sweep_drops_expired_tokens() {
        let cache = TokenCache::new(Duration::from_secs(5));
        cache.remember([1; 32], visitor(), 100);
        cache.remember([2; 32], visitor(), 10_000);
        cache.sweep(5_000);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&[2; 32], 5_000).is_some());
    }
}
