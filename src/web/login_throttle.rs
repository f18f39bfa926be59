//! Slows down password guessing: after [`MAX_FAILURES`] failed sign-ins for one login from
//! one address within [`WINDOW`], further attempts are refused (429) until the oldest
//! failure leaves the window. A success clears the count.
//!
//! Kept in memory only: a restart forgets it, which costs an attacker a restart of the
//! engine per five guesses. The clock is a parameter, so the rules are tested without
//! waiting:
//!
//! ```ignore
//! let mut throttle = LoginThrottle::default();
//! let key = ThrottleKey::new("suzuki", Some(ip));
//! if let Some(wait) = throttle.check(&key, now) { /* 429, Retry-After: wait */ }
//! throttle.failed(key, now); // or throttle.succeeded(&key)
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failed attempts allowed per login and address within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, keys with no failure in the window are dropped.
const PRUNE_ABOVE: usize = 10_000;
/// Logins are at most 64 characters; longer attempts are keyed by their first 64.
const KEY_LOGIN_CHARS: usize = 64;

/// Who is trying: the login typed and the address it came from (when known).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ThrottleKey {
    login: String,
    address: Option<IpAddr>,
}

impl ThrottleKey {
    pub fn new(login: &str, address: Option<IpAddr>) -> ThrottleKey {
        ThrottleKey {
            login: login.chars().take(KEY_LOGIN_CHARS).collect(),
            address,
        }
    }
}

/// Recent failures per key.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: HashMap<ThrottleKey, VecDeque<Instant>>,
}

impl LoginThrottle {
    /// `None` when `key` may try now; otherwise how long until it may.
    pub fn check(&mut self, key: &ThrottleKey, now: Instant) -> Option<Duration> {
        let recent = self.failures.get_mut(key)?;
        forget_old(recent, now);
        if recent.len() < MAX_FAILURES {
            return None;
        }
        let oldest = *recent.front()?;
        Some((oldest + WINDOW).saturating_duration_since(now))
    }

    /// Records a failed attempt.
    pub fn failed(&mut self, key: ThrottleKey, now: Instant) {
        if self.failures.len() >= PRUNE_ABOVE {
            self.failures.retain(|_, recent| {
                forget_old(recent, now);
                !recent.is_empty()
            });
        }
        let recent = self.failures.entry(key).or_default();
        forget_old(recent, now);
        recent.push_back(now);
        // Only the newest MAX_FAILURES matter for the decision.
        while recent.len() > MAX_FAILURES {
            recent.pop_front();
        }
    }

    /// A successful sign-in: the key starts afresh.
    pub fn succeeded(&mut self, key: &ThrottleKey) {
        self.failures.remove(key);
    }

    /// Keys currently tracked (for tests of the memory bound).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.failures.len()
    }
}

fn forget_old(recent: &mut VecDeque<Instant>, now: Instant) {
    while recent
        .front()
        .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
    {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(login: &str) -> ThrottleKey {
        ThrottleKey::new(login, Some(IpAddr::from([192, 0, 2, 1])))
    }

    fn fail_n(throttle: &mut LoginThrottle, key: &ThrottleKey, n: usize, now: Instant) {
        for _ in 0..n {
            throttle.failed(key.clone(), now);
        }
    }

    #[test]
    fn four_failures_still_allow_a_fifth_attempt() {
        let (mut throttle, now) = (LoginThrottle::default(), Instant::now());
        fail_n(&mut throttle, &key("a"), MAX_FAILURES - 1, now);
        assert_eq!(throttle.check(&key("a"), now), None);
    }

    #[test]
    fn five_failures_within_a_minute_block_until_the_first_leaves_the_window() {
        let (mut throttle, t0) = (LoginThrottle::default(), Instant::now());
        throttle.failed(key("a"), t0);
        let t1 = t0 + Duration::from_secs(10);
        fail_n(&mut throttle, &key("a"), MAX_FAILURES - 1, t1);
        assert_eq!(throttle.check(&key("a"), t1), Some(Duration::from_secs(50)));
        assert_eq!(throttle.check(&key("a"), t0 + WINDOW), None);
    }

    #[test]
    fn another_login_or_address_is_not_blocked() {
        let (mut throttle, now) = (LoginThrottle::default(), Instant::now());
        fail_n(&mut throttle, &key("a"), MAX_FAILURES, now);
        assert_eq!(throttle.check(&key("b"), now), None);
        let elsewhere = ThrottleKey::new("a", Some(IpAddr::from([192, 0, 2, 2])));
        assert_eq!(throttle.check(&elsewhere, now), None);
    }

    #[test]
    fn a_success_clears_the_failures() {
        let (mut throttle, now) = (LoginThrottle::default(), Instant::now());
        fail_n(&mut throttle, &key("a"), MAX_FAILURES - 1, now);
        throttle.succeeded(&key("a"));
        fail_n(&mut throttle, &key("a"), MAX_FAILURES - 1, now);
        assert_eq!(throttle.check(&key("a"), now), None);
    }

    #[test]
    fn keys_without_recent_failures_are_pruned_when_many_are_tracked() {
        let (mut throttle, t0) = (LoginThrottle::default(), Instant::now());
        for i in 0..PRUNE_ABOVE {
            throttle.failed(key(&format!("user{i}")), t0);
        }
        throttle.failed(key("late"), t0 + WINDOW);
        assert_eq!(throttle.tracked(), 1);
    }

    #[test]
    fn very_long_logins_share_a_key_by_their_first_64_characters() {
        let long = "x".repeat(1_000);
        let key = ThrottleKey::new(&long, None);
        assert_eq!(key.login.len(), KEY_LOGIN_CHARS);
    }
}
