//! Sign-in throttling, kept in memory (it protects one process; a restart forgets it).
//!
//! Two limits: a token bucket per client address (a short burst, then a steady trickle),
//! and at most [`LoginLimits::max_failures`] failures per hour per account *and* address.
//! Counting failures by pair rather than by account means nobody can lock a colleague out
//! by failing on purpose from another machine.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub burst: u32,
    pub refill_every: Duration,
    pub max_failures: usize,
    pub failure_window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            burst: 10,
            refill_every: Duration::from_secs(1),
            max_failures: 100,
            failure_window: Duration::from_secs(3600),
        }
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Default)]
struct State {
    buckets: HashMap<IpAddr, Bucket>,
    failures: HashMap<(IpAddr, String), VecDeque<Instant>>,
}

pub struct LoginLimiter {
    limits: LoginLimits,
    state: Mutex<State>,
}

/// Past this many tracked keys, stale entries are swept so memory stays bounded.
const SWEEP_ABOVE: usize = 10_000;

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    /// Takes one attempt from the address's bucket. `Err` carries the seconds to wait.
    pub fn check(&self, addr: IpAddr, account: &str, now: Instant) -> Result<(), u64> {
        let limits = self.limits;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.buckets.len() + state.failures.len() > SWEEP_ABOVE {
            sweep(&mut state, &limits, now);
        }
        if let Some(failures) = state.failures.get_mut(&(addr, account.to_owned())) {
            expire(failures, limits.failure_window, now);
            if failures.len() >= limits.max_failures
                && let Some(oldest) = failures.front()
            {
                return Err(seconds_until(*oldest + limits.failure_window, now));
            }
        }
        let bucket = state.buckets.entry(addr).or_insert(Bucket {
            tokens: limits.burst as f64,
            updated: now,
        });
        let refilled = now.saturating_duration_since(bucket.updated).as_secs_f64()
            / limits.refill_every.as_secs_f64();
        bucket.tokens = (bucket.tokens + refilled).min(limits.burst as f64);
        bucket.updated = now;
        if bucket.tokens < 1.0 {
            let wait = limits.refill_every.mul_f64(1.0 - bucket.tokens);
            return Err(wait.as_secs().max(1));
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    pub fn record_failure(&self, addr: IpAddr, account: &str, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .failures
            .entry((addr, account.to_owned()))
            .or_default()
            .push_back(now);
    }

    pub fn record_success(&self, addr: IpAddr, account: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.failures.remove(&(addr, account.to_owned()));
    }
}

fn expire(failures: &mut VecDeque<Instant>, window: Duration, now: Instant) {
    while failures
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        failures.pop_front();
    }
}

fn sweep(state: &mut State, limits: &LoginLimits, now: Instant) {
    let full_after = limits.refill_every * limits.burst;
    state
        .buckets
        .retain(|_, b| now.saturating_duration_since(b.updated) < full_after);
    state.failures.retain(|_, f| {
        expire(f, limits.failure_window, now);
        !f.is_empty()
    });
}

fn seconds_until(when: Instant, now: Instant) -> u64 {
    when.saturating_duration_since(now).as_secs().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn burst_then_refill() {
        let l = LoginLimiter::new(LoginLimits::default());
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(l.check(ip(1), "a", t0).is_ok());
        }
        assert!(l.check(ip(1), "a", t0).is_err());
        assert!(
            l.check(ip(2), "a", t0).is_ok(),
            "other addresses are unaffected"
        );
        assert!(
            l.check(ip(1), "a", t0 + Duration::from_millis(1100))
                .is_ok()
        );
    }

    #[test]
    fn failures_are_counted_per_account_and_address() {
        let limits = LoginLimits {
            burst: 1000,
            refill_every: Duration::from_millis(1),
            ..LoginLimits::default()
        };
        let l = LoginLimiter::new(limits);
        let t0 = Instant::now();
        for _ in 0..100 {
            l.check(ip(1), "victim", t0).unwrap();
            l.record_failure(ip(1), "victim", t0);
        }
        let wait = l.check(ip(1), "victim", t0).unwrap_err();
        assert!((3599..=3600).contains(&wait));
        assert!(
            l.check(ip(2), "victim", t0).is_ok(),
            "the victim can still sign in from elsewhere"
        );
        assert!(l.check(ip(1), "someone-else", t0).is_ok());
        assert!(
            l.check(ip(1), "victim", t0 + Duration::from_secs(3600))
                .is_ok(),
            "failures age out"
        );
    }

    #[test]
    fn success_clears_failures() {
        let l = LoginLimiter::new(LoginLimits {
            max_failures: 2,
            ..LoginLimits::default()
        });
        let t0 = Instant::now();
        l.record_failure(ip(1), "a", t0);
        l.record_success(ip(1), "a");
        l.record_failure(ip(1), "a", t0);
        assert!(l.check(ip(1), "a", t0).is_ok());
    }
}
