//! Arrival plans: when the k-th trace of an open-model run is due.
//!
//! A plan is a start rate and k6-style stages, each ramping the rate linearly to its target over
//! its duration; after the last stage the last rate holds. The number of arrivals due by time
//! `t` is the integral of the rate (exact for piecewise-linear rates), and the intended start of
//! arrival `k` is where that integral reaches `k`, so rates are exact whatever the tick.

use std::time::Duration;

/// One k6-style stage: ramp linearly to `target` traces/s over `duration`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    /// Traces per second at the end of the stage.
    pub target: f64,
}

/// The arrival rate over time.
#[derive(Clone, Debug, PartialEq)]
pub struct RatePlan {
    /// Rate (traces/s) at time zero.
    pub start_rate: f64,
    pub stages: Vec<Stage>,
    /// Whether the stages are the user's (`--stages`), not a ramp-up to a constant rate.
    pub from_stages: bool,
}

impl RatePlan {
    /// A constant rate.
    pub fn constant(rate: f64) -> Self {
        Self { start_rate: rate, stages: Vec::new(), from_stages: false }
    }

    /// A linear ramp from 0 to `rate` over `ramp_up`, then `rate`.
    pub fn ramp_up(rate: f64, ramp_up: Duration) -> Self {
        if ramp_up.is_zero() {
            return Self::constant(rate);
        }
        Self {
            start_rate: 0.0,
            stages: vec![Stage { duration: ramp_up, target: rate }],
            from_stages: false,
        }
    }

    /// k6 stages, starting from 0 traces/s.
    pub fn stages(stages: Vec<Stage>) -> Self {
        Self { start_rate: 0.0, stages, from_stages: true }
    }

    /// The target rate of a constant or ramped plan; `None` for user stages.
    pub fn constant_rate(&self) -> Option<f64> {
        (!self.from_stages).then(|| self.final_rate())
    }

    /// The user's stages as `(duration_s, target traces/s)`; empty for a constant or ramp.
    pub fn stages_as_pairs(&self) -> Vec<(f64, f64)> {
        if !self.from_stages {
            return Vec::new();
        }
        self.stages.iter().map(|s| (s.duration.as_secs_f64(), s.target)).collect()
    }

    /// Total length of the stages.
    pub fn stages_duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// The rate held after the last stage.
    fn final_rate(&self) -> f64 {
        self.stages.last().map_or(self.start_rate, |s| s.target)
    }

    /// Segments `(start_s, duration_s, rate_from, rate_to, arrivals_before)`.
    fn segments(&self) -> impl Iterator<Item = (f64, f64, f64, f64, f64)> + '_ {
        let mut t = 0.0;
        let mut rate = self.start_rate;
        let mut cumulative = 0.0;
        self.stages.iter().map(move |stage| {
            let d = stage.duration.as_secs_f64();
            let segment = (t, d, rate, stage.target, cumulative);
            cumulative += (rate + stage.target) / 2.0 * d;
            t += d;
            rate = stage.target;
            segment
        })
    }

    /// The rate (traces/s) at `t`.
    pub fn rate_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        for (t0, d, r0, r1, _) in self.segments() {
            if t < t0 + d {
                return if d > 0.0 { r0 + (r1 - r0) * (t - t0) / d } else { r1 };
            }
        }
        self.final_rate()
    }

    /// Arrivals expected in `0..t` (not rounded).
    pub fn cumulative(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let mut end = (0.0, 0.0);
        for (t0, d, r0, r1, c0) in self.segments() {
            if t < t0 + d {
                let tau = t - t0;
                let slope = if d > 0.0 { (r1 - r0) / d } else { 0.0 };
                return c0 + r0 * tau + slope * tau * tau / 2.0;
            }
            end = (t0 + d, c0 + (r0 + r1) / 2.0 * d);
        }
        end.1 + self.final_rate() * (t - end.0)
    }

    /// Number of arrivals due in `0..=t`: arrival `k` is due once `cumulative` reaches `k`, so
    /// the first one starts at time zero.
    pub fn due(&self, t: Duration) -> u64 {
        self.cumulative(t).floor() as u64 + 1
    }

    /// Arrivals in a run of length `duration` (those intended strictly before its end).
    pub fn total(&self, duration: Duration) -> u64 {
        self.cumulative(duration).ceil() as u64
    }

    /// When arrival `k` (from 0) is due, or `None` if the rate never gets there.
    pub fn time_of(&self, k: u64) -> Option<Duration> {
        let k = k as f64;
        let mut end = (0.0, 0.0);
        for (t0, d, r0, r1, c0) in self.segments() {
            let c1 = c0 + (r0 + r1) / 2.0 * d;
            if k < c1 {
                // Solve c0 + r0*tau + a*tau^2 = k with a = (r1 - r0) / (2d), in the form that
                // stays stable when a is zero or negative.
                let a = if d > 0.0 { (r1 - r0) / (2.0 * d) } else { 0.0 };
                let rest = k - c0;
                let root = (r0 * r0 + 4.0 * a * rest).max(0.0).sqrt();
                let denominator = r0 + root;
                let tau = if denominator > 0.0 { 2.0 * rest / denominator } else { 0.0 };
                return Some(Duration::from_secs_f64(t0 + tau.clamp(0.0, d)));
            }
            end = (t0 + d, c1);
        }
        let rate = self.final_rate();
        if rate <= 0.0 {
            return None;
        }
        Some(Duration::from_secs_f64(end.0 + (k - end.1).max(0.0) / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(f64) -> Duration = Duration::from_secs_f64;

    #[test]
    fn constant_rate_is_exact() {
        let plan = RatePlan::constant(200.0);
        assert_eq!(plan.total(S(3.0)), 600);
        assert_eq!(plan.time_of(0), Some(Duration::ZERO));
        assert_eq!(plan.time_of(200), Some(S(1.0)));
        assert_eq!(plan.due(S(0.0)), 1);
        assert_eq!(plan.due(S(0.0049)), 1);
        assert_eq!(plan.due(S(0.005)), 2);
    }

    #[test]
    fn stages_interpolate_linearly() {
        // 0 -> 100/s over 10 s (500 arrivals), hold 100/s for 10 s (1000), down to 0 over 10 s (500).
        let plan = RatePlan::stages(vec![
            Stage { duration: S(10.0), target: 100.0 },
            Stage { duration: S(10.0), target: 100.0 },
            Stage { duration: S(10.0), target: 0.0 },
        ]);
        assert_eq!(plan.stages_duration(), S(30.0));
        assert!((plan.cumulative(S(10.0)) - 500.0).abs() < 1e-9);
        assert!((plan.cumulative(S(30.0)) - 2000.0).abs() < 1e-9);
        assert!((plan.rate_at(S(5.0)) - 50.0).abs() < 1e-9);
        assert!((plan.rate_at(S(25.0)) - 50.0).abs() < 1e-9);
        assert_eq!(plan.total(S(30.0)), 2000);
        // time_of inverts cumulative on every kind of segment.
        for k in [1u64, 125, 499, 500, 1200, 1500, 1875, 1999] {
            let t = plan.time_of(k).map(|t| t.as_secs_f64()).unwrap_or(f64::NAN);
            assert!((plan.cumulative(S(t)) - k as f64).abs() < 1e-6, "k={k} t={t}");
        }
        assert_eq!(plan.time_of(2000), None);
    }

    #[test]
    fn ramp_up_then_hold() {
        let plan = RatePlan::ramp_up(100.0, S(2.0));
        assert!((plan.cumulative(S(2.0)) - 100.0).abs() < 1e-9);
        assert!((plan.cumulative(S(3.0)) - 200.0).abs() < 1e-9);
        let t = plan.time_of(150).map(|t| t.as_secs_f64()).unwrap_or(0.0);
        assert!((t - 2.5).abs() < 1e-9);
    }
}
