//! Keyed rate limits (requests per address, sends per visitor, visitors per address): GCRA
//! token buckets from `governor`, one bucket per key in a `DashMap`.

use std::hash::Hash;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::too_many;
use crate::http::error::ApiError;

/// One keyed limit; off when its rate is 0.
pub struct KeyedRate<K: Hash + Eq + Clone> {
    /// The metric label of its refusals.
    name: &'static str,
    message: &'static str,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> KeyedRate<K> {
    fn with(name: &'static str, message: &'static str, quota: Option<Quota>) -> Self {
        Self { name, message, limiter: quota.map(RateLimiter::dashmap), clock: DefaultClock::default() }
    }

    /// `rate` a second sustained, `burst` at once (0 = `rate`).
    pub fn per_second(name: &'static str, message: &'static str, rate: u32, burst: u32) -> Self {
        let quota = NonZeroU32::new(rate)
            .map(|rate| Quota::per_second(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(rate)));
        Self::with(name, message, quota)
    }

    /// `rate` a minute, all of it at once if it comes at once.
    pub fn per_minute(name: &'static str, message: &'static str, rate: u32) -> Self {
        Self::with(name, message, NonZeroU32::new(rate).map(Quota::per_minute))
    }

    /// `rate` an hour, all of it at once if it comes at once.
    pub fn per_hour(name: &'static str, message: &'static str, rate: u32) -> Self {
        Self::with(name, message, NonZeroU32::new(rate).map(Quota::per_hour))
    }

    /// Takes one from `key`'s bucket, or 429 `rate_limited` with the wait until one is there.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        limiter.check_key(key).map_err(|not_until| {
            crate::metrics::limit_hit(self.name);
            too_many("rate_limited", self.message, not_until.wait_time_from(self.clock.now()))
        })
    }

    /// Drops the buckets that are full again (indistinguishable from a new key).
    pub fn sweep(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Keys currently held.
    pub fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, RateLimiter::len)
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_burst_the_answer_is_429_with_a_wait_and_other_keys_are_untouched() {
        let rate = KeyedRate::per_second("test", "slow down", 1, 3);
        for _ in 0..3 {
            assert!(rate.check(&1).is_ok());
        }
        let refused = rate.check(&1).expect_err("past the burst");
        assert_eq!(
            (refused.status.as_u16(), refused.code, refused.retry_after),
            (429, "rate_limited", Some(1))
        );
        assert!(rate.check(&2).is_ok());
    }

    #[test]
    fn a_rate_of_zero_is_off() {
        let rate = KeyedRate::per_second("test", "slow down", 0, 0);
        for _ in 0..1_000 {
            assert!(rate.check(&1).is_ok());
        }
        assert!(rate.is_empty());
    }

    #[test]
    fn a_sweep_forgets_full_buckets_only() {
        let rate = KeyedRate::per_minute("test", "slow down", 1);
        assert!(rate.check(&1).is_ok());
        rate.sweep();
        assert_eq!(rate.len(), 1, "a key that must still wait is kept");
        let idle = KeyedRate::per_second("test", "slow down", 1_000_000, 1);
        assert!(idle.check(&1).is_ok());
        std::thread::sleep(std::time::Duration::from_millis(5));
        idle.sweep();
        assert!(idle.is_empty(), "a full bucket is forgotten");
    }
}
