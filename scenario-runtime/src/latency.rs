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
