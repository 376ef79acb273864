//! Faults the sink can inject, so that retries, splitting and dead-endpoint handling can be
//! tested end to end (and tried by hand with `scaletest sink`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::{Rng, SeedableRng, rngs::SmallRng};

/// When a per-request fault fires: on every `every`-th request (1-based, 0 = never) and/or with
/// `probability` on each request.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Trigger {
    pub every: u64,
    pub probability: f64,
}

impl Trigger {
    /// Fires on every `n`-th request.
    pub fn every(n: u64) -> Self {
        Self { every: n, probability: 0.0 }
    }

    /// Fires on each request with probability `p` (0..=1).
    pub fn probability(p: f64) -> Self {
        Self { every: 0, probability: p }
    }

    fn is_set(&self) -> bool {
        self.every > 0 || self.probability > 0.0
    }
}

/// Throttling answers: 429 or 503 with a `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Throttle {
    pub when: Trigger,
    /// 429 or 503 (gRPC: RESOURCE_EXHAUSTED or UNAVAILABLE, with a `google.rpc.RetryInfo`).
    pub status: u16,
    /// Sent as `Retry-After` in whole seconds, or fractional seconds under one second
    /// (not standard, but honoured by scaletest's exporter and handy in tests); over gRPC as
    /// the `RetryInfo`'s retry delay.
    pub retry_after: Option<Duration>,
}

/// The faults to inject. The default injects none.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Faults {
    /// Added before answering: fixed when both ends are equal, else uniform in the range.
    pub latency: Option<(Duration, Duration)>,
    pub throttle: Option<Throttle>,
    /// 413 for request bodies (as received, before decompression) larger than this (gRPC:
    /// RESOURCE_EXHAUSTED without `RetryInfo`, "message larger than max").
    pub reject_above: Option<usize>,
    /// 400 Bad Request.
    pub bad_request: Trigger,
    /// Close the connection without answering.
    pub reset: Trigger,
    /// After this many requests the sink stops: it closes its listener and every connection.
    pub stop_after_requests: Option<u64>,
    /// Same, this long after the sink started.
    pub stop_after: Option<Duration>,
    /// Seed for the probabilistic faults, so a test run can be repeated.
    pub seed: u64,
}

impl Faults {
    /// Whether any fault is configured.
    pub fn any(&self) -> bool {
        self.latency.is_some()
            || self.throttle.is_some()
            || self.reject_above.is_some()
            || self.bad_request.is_set()
            || self.reset.is_set()
            || self.stop_after_requests.is_some()
            || self.stop_after.is_some()
    }

    /// Checks ranges; the message names the bad value.
    pub fn validate(&self) -> Result<(), String> {
        let triggers = [
            ("throttle", self.throttle.map(|t| t.when)),
            ("bad request", Some(self.bad_request)),
            ("reset", Some(self.reset)),
        ];
        for (name, trigger) in triggers {
            if let Some(t) = trigger
                && !(0.0..=1.0).contains(&t.probability)
            {
                return Err(format!("{name} probability {} is not between 0 and 1", t.probability));
            }
        }
        if let Some(t) = self.throttle
            && t.status != 429
            && t.status != 503
        {
            return Err(format!("throttle status {} is not 429 or 503", t.status));
        }
        if let Some((low, high)) = self.latency
            && low > high
        {
            return Err(format!("latency range {low:?}..{high:?} is empty"));
        }
        Ok(())
    }
}

/// What to do with one request, decided when it arrives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Proceed,
    /// Close the connection without an answer.
    Reset,
    /// Answer with this status (and `Retry-After` for throttling).
    Respond {
        status: u16,
        retry_after: Option<Duration>,
    },
}

/// The faults plus their running state.
#[derive(Debug)]
pub struct FaultState {
    pub faults: Faults,
    rng: Mutex<SmallRng>,
    pub counts: FaultCounters,
}

/// How often each fault fired.
#[derive(Debug, Default)]
pub struct FaultCounters {
    pub delayed: AtomicU64,
    pub throttled: AtomicU64,
    pub bad_request: AtomicU64,
    pub too_large: AtomicU64,
    pub resets: AtomicU64,
    pub refused_after_stop: AtomicU64,
}

/// Snapshot of [`FaultCounters`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FaultCounts {
    pub delayed: u64,
    pub throttled: u64,
    pub bad_request: u64,
    pub too_large: u64,
    pub resets: u64,
    pub refused_after_stop: u64,
}

impl FaultCounters {
    pub fn snapshot(&self) -> FaultCounts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FaultCounts {
            delayed: get(&self.delayed),
            throttled: get(&self.throttled),
            bad_request: get(&self.bad_request),
            too_large: get(&self.too_large),
            resets: get(&self.resets),
            refused_after_stop: get(&self.refused_after_stop),
        }
    }
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        let rng = Mutex::new(SmallRng::seed_from_u64(faults.seed));
        Self { faults, rng, counts: FaultCounters::default() }
    }

    fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.rng.lock().unwrap_or_else(|e| e.into_inner()).random_bool(p.min(1.0))
    }

    fn fires(&self, trigger: Trigger, request: u64) -> bool {
        (trigger.every > 0 && request.is_multiple_of(trigger.every))
            || self.chance(trigger.probability)
    }

    /// The delay to add to request number `request` (1-based), if any.
    pub fn delay(&self) -> Option<Duration> {
        let (low, high) = self.faults.latency?;
        self.counts.delayed.fetch_add(1, Ordering::Relaxed);
        if low >= high {
            return Some(low);
        }
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let picked = self
            .rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .random_range(nanos(low)..=nanos(high));
        Some(Duration::from_nanos(picked))
    }

    /// Decides the fate of request number `request` (1-based) whose body is `body_len` bytes
    /// as received (when known before reading it).
    pub fn decide(&self, request: u64, body_len: Option<usize>) -> Action {
        if self.faults.reset.is_set() && self.fires(self.faults.reset, request) {
            self.counts.resets.fetch_add(1, Ordering::Relaxed);
            return Action::Reset;
        }
        if let Some(throttle) = self.faults.throttle
            && self.fires(throttle.when, request)
        {
            self.counts.throttled.fetch_add(1, Ordering::Relaxed);
            return Action::Respond { status: throttle.status, retry_after: throttle.retry_after };
        }
        if self.faults.bad_request.is_set() && self.fires(self.faults.bad_request, request) {
            self.counts.bad_request.fetch_add(1, Ordering::Relaxed);
            return Action::Respond { status: 400, retry_after: None };
        }
        if let Some(len) = body_len {
            return self.check_size(len);
        }
        Action::Proceed
    }

    /// The 413 fault, for a body whose size is known.
    pub fn check_size(&self, body_len: usize) -> Action {
        match self.faults.reject_above {
            Some(limit) if body_len > limit => {
                self.counts.too_large.fetch_add(1, Ordering::Relaxed);
                Action::Respond { status: 413, retry_after: None }
            }
            _ => Action::Proceed,
        }
    }
}

/// Formats a `Retry-After` value: whole seconds when possible.
pub fn retry_after_value(after: Duration) -> String {
    if after.subsec_nanos() == 0 {
        after.as_secs().to_string()
    } else {
        format!("{:.3}", after.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_request_is_throttled() {
        let faults = Faults {
            throttle: Some(Throttle { when: Trigger::every(3), status: 429, retry_after: None }),
            ..Faults::default()
        };
        let state = FaultState::new(faults);
        let throttled: Vec<u64> = (1..=9)
            .filter(|&n| matches!(state.decide(n, None), Action::Respond { status: 429, .. }))
            .collect();
        assert_eq!(throttled, vec![3, 6, 9]);
        assert_eq!(state.counts.snapshot().throttled, 3);
    }

    #[test]
    fn probability_is_roughly_respected_and_sizes_checked() {
        let state = FaultState::new(Faults {
            bad_request: Trigger::probability(0.25),
            reject_above: Some(100),
            seed: 7,
            ..Faults::default()
        });
        let bad = (1..=4000).filter(|&n| state.decide(n, Some(10)) != Action::Proceed).count();
        assert!((800..1200).contains(&bad), "{bad} of 4000");
        assert_eq!(state.check_size(101), Action::Respond { status: 413, retry_after: None });
        assert_eq!(state.check_size(100), Action::Proceed);
    }

    #[test]
    fn latency_is_fixed_or_drawn_from_the_range() {
        let fixed = FaultState::new(Faults {
            latency: Some((Duration::from_millis(50), Duration::from_millis(50))),
            ..Faults::default()
        });
        assert_eq!(fixed.delay(), Some(Duration::from_millis(50)));
        let (low, high) = (Duration::from_millis(10), Duration::from_millis(200));
        let ranged = FaultState::new(Faults { latency: Some((low, high)), ..Faults::default() });
        let delays: Vec<Duration> = (0..200).filter_map(|_| ranged.delay()).collect();
        assert!(delays.iter().all(|d| (low..=high).contains(d)));
        assert!(delays.iter().any(|d| *d < Duration::from_millis(60)));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(150)));
        assert_eq!(ranged.counts.snapshot().delayed, 200);
        assert_eq!(FaultState::new(Faults::default()).delay(), None);
    }

    #[test]
    fn validation_names_bad_values() {
        let faults = Faults { reset: Trigger::probability(1.5), ..Faults::default() };
        assert_eq!(faults.validate().unwrap_err(), "reset probability 1.5 is not between 0 and 1");
        let faults = Faults {
            throttle: Some(Throttle { when: Trigger::every(1), status: 500, retry_after: None }),
            ..Faults::default()
        };
        assert!(faults.validate().unwrap_err().contains("500"));
        assert_eq!(retry_after_value(Duration::from_secs(2)), "2");
        assert_eq!(retry_after_value(Duration::from_millis(250)), "0.250");
    }
}
