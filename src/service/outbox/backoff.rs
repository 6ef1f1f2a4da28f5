//! When to try a failed delivery again: exponential backoff with jitter, for a bounded time.

use std::time::Duration;

use rand::Rng;

/// Retry schedule: the n-th retry waits `first × 2^(n-1)` (at most `longest`), give or take a
/// fifth, and none is made once `give_up_after` has passed since the row was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub first: Duration,
    /// The longest wait between two tries.
    pub longest: Duration,
    /// How long after the row was written its tries stop.
    pub give_up_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            longest: Duration::from_secs(30 * 60),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl Backoff {
    /// When a row tried `attempts` times so far may be tried next (epoch ms), from `now`;
    /// `None` when the wait would not fit in an epoch-ms clock.
    pub fn next_try(&self, attempts: i32, now: i64) -> Option<i64> {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let wait = self.first.saturating_mul(1u32 << doublings).min(self.longest);
        let wait_ms = u64::try_from(wait.as_millis()).ok()?;
        let jitter = rand::thread_rng().gen_range(0.8..=1.2);
        // Rounding a product of finite positives: the cast cannot misbehave.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let jittered = (wait_ms as f64 * jitter) as u64;
        now.checked_add(i64::try_from(jittered).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_up_to_the_longest_give_or_take_a_fifth() {
        let backoff = Backoff {
            first: Duration::from_secs(10),
            longest: Duration::from_secs(60),
            give_up_after: Duration::from_secs(600),
        };
        let wait = |attempts| backoff.next_try(attempts, 0).expect("fits");
        for (attempts, expected) in [(1, 10_000), (2, 20_000), (3, 40_000), (4, 60_000), (30, 60_000)] {
            let waited = wait(attempts);
            assert!(
                (expected * 4 / 5..=expected * 6 / 5).contains(&waited),
                "try {attempts}: waited {waited} ms, expected about {expected}"
            );
        }
    }
}
