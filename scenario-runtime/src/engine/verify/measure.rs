//! Ingestion lag and storage throughput, computed from the acceptance curve (the ledger) and
//! the visibility curve (the count samples). Pure functions: no clock, no I/O.

use serde::{Deserialize, Serialize};

/// What a lag is counted in: spans where the platform counts spans, otherwise traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LagUnit {
    Spans,
    Traces,
}

/// Ingestion lag: how long after acceptance the accepted data became visible.
///
/// With N the accepted total (in [`Lag::unit`]), A(t) the cumulative count accepted by time t
/// (from the ledger's acknowledgement times) and V(t) the count visible at t (from the count
/// samples), t_accepted(q) is the first time A(t) >= ceil(q*N) and t_visible(q) the first
/// *sample* time at which V(t) >= ceil(q*N). Then
///
/// `lag(q) = t_visible(q) - t_accepted(q)` (0 if visibility came first, which a count taken
/// while acknowledgements are still in flight can show).
///
/// `None` when V never reached ceil(q*N) within the budget, or nothing was accepted. Since
/// visibility is only sampled, each figure is an upper bound: the level became visible at or
/// before the sample that saw it, and after the last sample that did not (or, when no sample
/// between the acknowledgement and that one showed it missing, at any time after the
/// acknowledgement). The `*_low_ms` fields are those lower bounds; without counts during the run
/// they are 0 and the figures say only "visible within". The samples count the whole project in
/// the window: other traffic there makes the lag look shorter than it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lag {
    pub unit: LagUnit,
    /// N, the accepted total the quantiles refer to.
    pub accepted: u64,
    pub p50_ms: Option<u64>,
    pub p99_ms: Option<u64>,
    pub p100_ms: Option<u64>,
    /// The lag at each level was at least this (a sample after the acknowledgement still did
    /// not show it); 0 when no sample could tell.
    #[serde(default)]
    pub p50_low_ms: Option<u64>,
    #[serde(default)]
    pub p99_low_ms: Option<u64>,
    #[serde(default)]
    pub p100_low_ms: Option<u64>,
    /// The widest of the three intervals (figure minus its lower bound): the uncertainty.
    pub resolution_ms: Option<u64>,
}

/// Accepted and stored rates over the run, in [`Lag::unit`] per second.
///
/// - accepted: N / (last acknowledgement - first acknowledgement);
/// - stored: (V at the first sample that showed the final count - V at the first sample) /
///   (the time between those two samples).
///
/// `None` when the interval is empty (one acknowledgement time, fewer than two distinct samples)
/// or the final count was never seen to grow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub unit: LagUnit,
    pub accepted_per_sec: Option<f64>,
    pub stored_per_sec: Option<f64>,
}

fn target(q: f64, n: u64) -> u64 {
    ((q * n as f64).ceil() as u64).clamp(1, n.max(1))
}

/// Lags in milliseconds, each with how many units had it.
type Weighted = Vec<(u64, u64)>;

/// Each accepted unit's lag as bounds, weighted: units are taken to become visible in the order
/// they were accepted (the counts cannot say which unit is which), so unit `j` became visible
/// at the first sample counting `j` or more (the upper bound) and after the sample before it
/// (the lower bound). Units no sample reached are left out: their lag is not known.
fn unit_lags(accepted: &[(u64, u64)], visible: &[(u64, u64)]) -> (Weighted, Weighted) {
    let (mut high, mut low) = (Vec::new(), Vec::new());
    let (mut placed, mut sample) = (0u64, 0usize);
    'groups: for &(accepted_at, count) in accepted {
        let mut left = count;
        while left > 0 {
            while visible.get(sample).is_some_and(|&(_, seen)| seen <= placed) {
                sample += 1;
            }
            let Some(&(seen_at, seen)) = visible.get(sample) else { break 'groups };
            let take = left.min(seen - placed);
            let upper = seen_at.saturating_sub(accepted_at);
            let lower = sample
                .checked_sub(1)
                .map_or(0, |before| visible[before].0.saturating_sub(accepted_at))
                .min(upper);
            high.push((upper, take));
            low.push((lower, take));
            placed += take;
            left -= take;
        }
    }
    (high, low)
}

/// The lag within which a share `q` of all `n` units became visible, from weighted unit lags;
/// `None` when fewer than that share were ever seen.
fn quantile(lags: &mut [(u64, u64)], q: f64, n: u64) -> Option<u64> {
    lags.sort_unstable();
    let goal = target(q, n);
    let mut seen = 0u64;
    for &(lag, weight) in lags.iter() {
        seen += weight;
        if seen >= goal {
            return Some(lag);
        }
    }
    None
}

/// Lag from `accepted` (time, increment) in time order and `visible` (time, count) samples in
/// time order: quantiles of the units' lags, each between a lower and an upper bound set by the
/// samples around it (so the quantiles grow with the level, as a distribution's do).
pub(crate) fn lag(unit: LagUnit, accepted: &[(u64, u64)], visible: &[(u64, u64)]) -> Option<Lag> {
    let n: u64 = accepted.iter().map(|&(_, k)| k).sum();
    if n == 0 {
        return None;
    }
    let (mut high, mut low) = unit_lags(accepted, visible);
    let at = |q: f64, high: &mut [(u64, u64)], low: &mut [(u64, u64)]| {
        let upper = quantile(high, q, n)?;
        Some((upper, quantile(low, q, n).unwrap_or(0).min(upper)))
    };
    let levels =
        [at(0.5, &mut high, &mut low), at(0.99, &mut high, &mut low), at(1.0, &mut high, &mut low)];
    let resolution_ms = levels.iter().flatten().map(|(high, low)| high - low).max();
    Some(Lag {
        unit,
        accepted: n,
        p50_ms: levels[0].map(|(high, _)| high),
        p99_ms: levels[1].map(|(high, _)| high),
        p100_ms: levels[2].map(|(high, _)| high),
        p50_low_ms: levels[0].map(|(_, low)| low),
        p99_low_ms: levels[1].map(|(_, low)| low),
        p100_low_ms: levels[2].map(|(_, low)| low),
        resolution_ms,
    })
}

pub(crate) fn throughput(
    unit: LagUnit,
    accepted: &[(u64, u64)],
    visible: &[(u64, u64)],
) -> Throughput {
    let n: u64 = accepted.iter().map(|&(_, k)| k).sum();
    let accepted_per_sec = match (accepted.first(), accepted.last()) {
        (Some(&(first, _)), Some(&(last, _))) if last > first && n > 0 => {
            Some(n as f64 * 1000.0 / (last - first) as f64)
        }
        _ => None,
    };
    let stored_per_sec = (|| {
        let &(t0, v0) = visible.first()?;
        let final_count = visible.iter().map(|&(_, v)| v).max()?;
        let &(t1, v1) = visible.iter().find(|&&(_, v)| v == final_count)?;
        (t1 > t0 && v1 > v0).then(|| (v1 - v0) as f64 * 1000.0 / (t1 - t0) as f64)
    })();
    Throughput { unit, accepted_per_sec, stored_per_sec }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_gap_between_reaching_each_quantile() {
        // 100 spans accepted: 50 at t=1000, 50 at t=2000.
        let accepted = [(1_000, 50), (2_000, 50)];
        // Visible: 0 at 1500, 50 at 3000, 99 at 4000, 100 at 6000.
        let visible = [(1_500, 0), (3_000, 50), (4_000, 99), (6_000, 100)];
        let lag = lag(LagUnit::Spans, &accepted, &visible).unwrap();
        assert_eq!(lag.accepted, 100);
        assert_eq!(lag.p50_ms, Some(2_000)); // 3000 - 1000
        assert_eq!(lag.p99_ms, Some(2_000)); // 4000 - 2000
        assert_eq!(lag.p100_ms, Some(4_000)); // 6000 - 2000
        // Lower bounds: the last sample that did not show the level yet.
        assert_eq!(lag.p50_low_ms, Some(500)); // 1500 - 1000
        assert_eq!(lag.p99_low_ms, Some(1_000)); // 3000 - 2000
        assert_eq!(lag.p100_low_ms, Some(2_000)); // 4000 - 2000
        assert_eq!(lag.resolution_ms, Some(2_000));
        // Counted once after the run: each figure is only "visible within".
        // Half was accepted 8 s before the count, half 7 s: the median unit waited at most 7 s.
        let once = super::lag(LagUnit::Spans, &accepted, &[(9_000, 100)]).unwrap();
        assert_eq!((once.p50_ms, once.p50_low_ms), (Some(7_000), Some(0)));
        assert_eq!((once.p99_ms, once.p100_ms), (Some(8_000), Some(8_000)));
        assert_eq!(once.resolution_ms, Some(8_000));
    }

    #[test]
    fn the_quantiles_grow_with_the_level() {
        // A run accepting 1 unit per second for 25 s, counted once 0.03 s after the last: the
        // old "lag of the q-th unit" said 50% within 12 s but 99% within 0.03 s.
        let accepted: Vec<(u64, u64)> = (0..25).map(|i| (i * 1_000, 1)).collect();
        let lag = lag(LagUnit::Traces, &accepted, &[(24_030, 25)]).unwrap();
        assert_eq!(lag.p50_ms, Some(12_030));
        assert_eq!(lag.p99_ms, Some(24_030));
        assert!(lag.p50_ms <= lag.p99_ms && lag.p99_ms <= lag.p100_ms, "{lag:?}");
    }

    #[test]
    fn a_quantile_never_reached_is_none_not_zero() {
        let lag = lag(LagUnit::Traces, &[(0, 10)], &[(5, 3), (10, 9)]).unwrap();
        assert_eq!((lag.p50_ms, lag.p99_ms, lag.p100_ms), (Some(10), None, None));
        assert!(super::lag(LagUnit::Spans, &[], &[(1, 1)]).is_none());
    }

    #[test]
    fn throughput_needs_an_interval() {
        let t = throughput(LagUnit::Spans, &[(0, 10), (2_000, 10)], &[(0, 0), (4_000, 20)]);
        assert_eq!(t.accepted_per_sec, Some(10.0));
        assert_eq!(t.stored_per_sec, Some(5.0));
        let t = throughput(LagUnit::Spans, &[(7, 10)], &[(9, 10)]);
        assert_eq!((t.accepted_per_sec, t.stored_per_sec), (None, None));
    }
}
