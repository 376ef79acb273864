//! Simulated latencies: fixed (`400ms`) or uniform over a range (`200..800ms`).

use rand::Rng;

/// A latency in microseconds, fixed when `min == max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Latency {
    pub min_micros: u64,
    pub max_micros: u64,
}

impl Latency {
    /// A fixed latency.
    pub const fn fixed_micros(micros: u64) -> Self {
        Self { min_micros: micros, max_micros: micros }
    }

    /// One latency drawn uniformly from the range.
    pub fn sample(&self, rng: &mut impl Rng) -> std::time::Duration {
        let micros = if self.min_micros >= self.max_micros {
            self.min_micros
        } else {
            rng.random_range(self.min_micros..=self.max_micros)
        };
        std::time::Duration::from_micros(micros)
    }
}

/// How much longer (or shorter) than declared every simulated step latency lasts: `2.0`
/// models agents on models twice as slow. It multiplies the latencies of model, tool,
/// retrieval and agent steps and the time to first token, on either clock; user think times
/// between the turns of a conversation are not latencies and stay as declared.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct LatencyScale(f64);

impl LatencyScale {
    /// Latencies as declared.
    pub const ONE: Self = Self(1.0);
    /// The largest factor accepted: a step of seconds lasting hours models nothing.
    pub const MAX: f64 = 1000.0;

    /// The factor, if it is a number above 0 and at most [`Self::MAX`].
    pub fn new(factor: f64) -> Option<Self> {
        (factor.is_finite() && factor > 0.0 && factor <= Self::MAX).then_some(Self(factor))
    }

    pub fn factor(self) -> f64 {
        self.0
    }

    /// `latency` as this scale makes it last.
    pub fn apply(self, latency: std::time::Duration) -> std::time::Duration {
        if self.0 == 1.0 { latency } else { latency.mul_f64(self.0) }
    }
}

impl TryFrom<f64> for LatencyScale {
    type Error = String;

    fn try_from(factor: f64) -> Result<Self, String> {
        Self::new(factor).ok_or_else(|| {
            format!("latency scale {factor}: expected a number above 0 and at most {}", Self::MAX)
        })
    }
}

impl From<LatencyScale> for f64 {
    fn from(scale: LatencyScale) -> f64 {
        scale.0
    }
}

impl Default for LatencyScale {
    fn default() -> Self {
        Self::ONE
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |micros: u64| {
            if micros.is_multiple_of(1_000_000) && micros > 0 {
                format!("{}s", micros / 1_000_000)
            } else if micros.is_multiple_of(1000) {
                format!("{}ms", micros / 1000)
            } else {
                format!("{}us", micros)
            }
        };
        if self.min_micros == self.max_micros {
            write!(f, "{}", show(self.min_micros))
        } else {
            write!(f, "{}..{}", show(self.min_micros), show(self.max_micros))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_scale_multiplies_latencies_and_refuses_what_is_not_a_factor() {
        let twice = LatencyScale::new(2.5).unwrap();
        assert_eq!(twice.apply(Duration::from_millis(400)), Duration::from_millis(1000));
        assert_eq!(LatencyScale::ONE.apply(Duration::from_micros(7)), Duration::from_micros(7));
        assert_eq!(
            LatencyScale::new(0.5).unwrap().apply(Duration::from_secs(3)),
            Duration::from_millis(1500)
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, LatencyScale::MAX * 1.01] {
            assert!(LatencyScale::new(bad).is_none(), "{bad} accepted");
        }
        assert!(LatencyScale::new(LatencyScale::MAX).is_some());
    }
}
