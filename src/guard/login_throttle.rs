//! Failed logins per employee ID and per client address within a sliding window.
//!
//! An attempt counts as failed from the moment it starts (so a burst of parallel guesses
//! cannot all pass the check while the password hashes run) until the handler says it was
//! not a guess: a success, or a failure of ours (store busy). A throttled attempt is refused
//! before the store is asked, so the answer is the same for an unknown ID as for a known one.

use std::collections::VecDeque;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::too_many;
use crate::http::error::ApiError;

/// Longest employee ID kept as a key (valid ones are at most 32 characters); longer text is
/// cut, so a flood of huge IDs cannot grow memory.
const MAX_KEY_CHARS: usize = 64;

/// Failures by key: the times of the recent ones, oldest first.
struct Failures<K: Hash + Eq> {
    limit: usize,
    window: Duration,
    times: DashMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn new(limit: u32, window: Duration) -> Option<Self> {
        let limit = usize::try_from(limit).ok().filter(|&limit| limit > 0)?;
        Some(Self { limit, window, times: DashMap::new() })
    }

    /// Counts a failure at `now`, or the wait until the oldest one leaves the window.
    fn count(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut times = self.times.entry(key.clone()).or_default();
        while times.front().is_some_and(|&at| now.saturating_duration_since(at) >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.limit {
            let oldest = times.front().copied().unwrap_or(now);
            return Err((oldest + self.window).saturating_duration_since(now));
        }
        times.push_back(now);
        Ok(())
    }

    /// Takes back one failure counted at `at`.
    fn uncount(&self, key: &K, at: Instant) {
        if let Some(mut times) = self.times.get_mut(key) {
            if let Some(position) = times.iter().rposition(|&time| time == at) {
                times.remove(position);
            }
        }
        self.times.remove_if(key, |_, times| times.is_empty());
    }

    fn clear(&self, key: &K) {
        self.times.remove(key);
    }

    fn sweep(&self, now: Instant) {
        self.times.retain(|_, times| {
            times.back().is_some_and(|&last| now.saturating_duration_since(last) < self.window)
        });
    }
}

/// The login limits; each is off when its count is 0.
pub struct LoginThrottle {
    per_employee_id: Option<Failures<String>>,
    per_ip: Option<Failures<IpAddr>>,
}

/// One login in progress, counted as failed until [`LoginAttempt::succeeded`] or
/// [`LoginAttempt::not_a_guess`]; dropping it keeps the failure.
#[must_use = "a login attempt stays counted as failed unless told otherwise"]
pub struct LoginAttempt<'a> {
    throttle: &'a LoginThrottle,
    employee_id: Option<String>,
    client: Option<IpAddr>,
    at: Instant,
}

fn throttled(wait: Duration, limit: &'static str) -> ApiError {
    crate::metrics::limit_hit(limit);
    too_many("login_throttled", "Too many failed logins; wait before trying again.", wait)
}

impl LoginThrottle {
    /// At most `per_employee_id` and `per_ip` failures within `window`.
    pub fn new(per_employee_id: u32, per_ip: u32, window: Duration) -> Self {
        Self {
            per_employee_id: Failures::new(per_employee_id, window),
            per_ip: Failures::new(per_ip, window),
        }
    }

    /// Starts a login to `employee_id` from `client` (`None`: an exempt address).
    pub fn attempt(&self, employee_id: &str, client: Option<IpAddr>) -> Result<LoginAttempt<'_>, ApiError> {
        let at = Instant::now();
        let key: String = employee_id.trim().chars().take(MAX_KEY_CHARS).collect();
        let mut attempt = LoginAttempt { throttle: self, employee_id: None, client: None, at };
        if let Some(failures) = &self.per_employee_id {
            failures.count(&key, at).map_err(|wait| throttled(wait, "login_per_employee_id"))?;
            attempt.employee_id = Some(key);
        }
        if let (Some(failures), Some(client)) = (&self.per_ip, client) {
            // On refusal the attempt drops with only the ID counted: take that back too.
            let counted = failures.count(&client, at);
            if let Err(wait) = counted {
                attempt.not_a_guess();
                return Err(throttled(wait, "login_per_ip"));
            }
            attempt.client = Some(client);
        }
        Ok(attempt)
    }

    /// Forgets failures older than the window.
    pub fn sweep(&self) {
        let now = Instant::now();
        if let Some(failures) = &self.per_employee_id {
            failures.sweep(now);
        }
        if let Some(failures) = &self.per_ip {
            failures.sweep(now);
        }
    }
}

impl LoginAttempt<'_> {
    /// The login succeeded: its ID's failures are forgotten, and the address's count of this
    /// one.
    pub fn succeeded(self) {
        if let (Some(failures), Some(key)) = (&self.throttle.per_employee_id, &self.employee_id) {
            failures.clear(key);
        }
        if let (Some(failures), Some(client)) = (&self.throttle.per_ip, &self.client) {
            failures.uncount(client, self.at);
        }
    }

    /// The login failed for a reason of ours, not a wrong password: it does not count.
    pub fn not_a_guess(self) {
        if let (Some(failures), Some(key)) = (&self.throttle.per_employee_id, &self.employee_id) {
            failures.uncount(key, self.at);
        }
        if let (Some(failures), Some(client)) = (&self.throttle.per_ip, &self.client) {
            failures.uncount(client, self.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn past_the_failures_of_an_id_every_address_is_refused_and_others_ids_are_not() {
        let throttle = LoginThrottle::new(2, 0, Duration::from_secs(60));
        drop(throttle.attempt("E1", ip(1)).expect("first"));
        drop(throttle.attempt(" E1 ", ip(2)).expect("second"));
        let refused = throttle.attempt("E1", ip(3)).err().expect("third is refused");
        assert_eq!((refused.status.as_u16(), refused.code), (429, "login_throttled"));
        assert!(refused.retry_after.is_some_and(|seconds| (1..=60).contains(&seconds)));
        assert!(throttle.attempt("E2", ip(3)).is_ok());
    }

    #[test]
    fn a_success_clears_the_id_and_an_error_of_ours_does_not_count() {
        let throttle = LoginThrottle::new(2, 0, Duration::from_secs(60));
        drop(throttle.attempt("E1", ip(1)).expect("first"));
        throttle.attempt("E1", ip(1)).expect("second").succeeded();
        for _ in 0..5 {
            throttle.attempt("E1", ip(1)).expect("store busy").not_a_guess();
        }
        drop(throttle.attempt("E1", ip(1)).expect("after the success"));
        drop(throttle.attempt("E1", ip(1)).expect("still one left"));
        assert!(throttle.attempt("E1", ip(1)).is_err());
    }

    #[test]
    fn past_the_failures_of_an_address_every_id_is_refused_and_the_id_is_not_counted() {
        let throttle = LoginThrottle::new(1, 2, Duration::from_secs(60));
        drop(throttle.attempt("A", ip(1)).expect("first"));
        drop(throttle.attempt("B", ip(1)).expect("second"));
        assert!(throttle.attempt("C", ip(1)).is_err());
        assert!(throttle.attempt("C", ip(2)).is_ok(), "C's refusal from ip 1 did not count against C");
        assert!(throttle.attempt("D", None).is_ok(), "an exempt address has no per-address count");
    }

    #[test]
    fn failures_leave_the_window() {
        let throttle = LoginThrottle::new(1, 1, Duration::from_millis(20));
        drop(throttle.attempt("E1", ip(1)).expect("first"));
        assert!(throttle.attempt("E1", ip(1)).is_err());
        std::thread::sleep(Duration::from_millis(30));
        throttle.sweep();
        assert!(throttle.per_employee_id.as_ref().is_some_and(|f| f.times.is_empty()));
        assert!(throttle.attempt("E1", ip(1)).is_ok());
    }
}
