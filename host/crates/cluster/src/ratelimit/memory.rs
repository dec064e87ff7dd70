//! The in-process rate limiter: one keyed `governor` limiter per policy.
//! Keys idle long enough to be back at a full burst are dropped now and
//! then, so memory follows the number of recently active keys.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota as GovernorQuota};

use super::{Policy, Quota, RateLimitError, RateLimits, RetryAfter};

/// Checks between two sweeps of idle keys.
const CHECKS_PER_SWEEP: u64 = 16_384;

pub struct MemoryRateLimiter {
    limits: RateLimits,
    /// Indexed like [`Policy::ALL`].
    limiters: [DefaultKeyedRateLimiter<String>; Policy::ALL.len()],
    checks: AtomicU64,
}

impl MemoryRateLimiter {
    pub fn new(limits: RateLimits) -> Result<Self, RateLimitError> {
        limits.validate()?;
        let limiters = Policy::ALL.map(|policy| DefaultKeyedRateLimiter::dashmap(governor_quota(limits.quota(policy))));
        Ok(MemoryRateLimiter { limits, limiters, checks: AtomicU64::new(0) })
    }

    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Counts one request of `key` under `policy`.
    pub fn check(&self, policy: Policy, key: &str) -> Result<(), RateLimitError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CHECKS_PER_SWEEP == CHECKS_PER_SWEEP - 1 {
            self.forget_idle_keys();
        }
        let limiter = &self.limiters[policy as usize];
        limiter
            .check_key(&key.to_string())
            .map_err(|not_until| RateLimitError::Limited(RetryAfter(not_until.wait_time_from(limiter.clock().now()))))
    }

    /// Drops keys whose state equals a fresh one.
    pub fn forget_idle_keys(&self) {
        for limiter in &self.limiters {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Keys currently tracked under `policy`.
    pub fn tracked_keys(&self, policy: Policy) -> usize {
        self.limiters[policy as usize].len()
    }
}

/// The burst equals the count: a full quota at once, then one per interval.
fn governor_quota(quota: Quota) -> GovernorQuota {
    let burst = NonZeroU32::new(quota.burst).expect("validated: at least 1");
    GovernorQuota::with_period(quota.emission_interval()).expect("validated: a non-zero interval").allow_burst(burst)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn policies_are_indexed_in_declaration_order() {
        for (index, policy) in Policy::ALL.into_iter().enumerate() {
            assert_eq!(policy as usize, index);
        }
    }

    #[test]
    fn each_key_gets_its_own_full_burst() {
        let limiter = MemoryRateLimiter::new(RateLimits::default()).unwrap();
        for _ in 0..10 {
            limiter.check(Policy::Room, "room-a").unwrap();
        }
        let retry = limiter.check(Policy::Room, "room-a").unwrap_err().retry_after().unwrap();
        assert!(retry.0 > Duration::from_millis(50) && retry.0 <= Duration::from_millis(100), "{retry:?}");
        limiter.check(Policy::Room, "room-b").unwrap();
        limiter.check(Policy::Player, "room-a").unwrap();
        assert_eq!(limiter.tracked_keys(Policy::Room), 2);
    }
}
