//! Number formatting shared by the CLI's text output.

pub use scenario_runtime::units::{binary_bytes, decimal_bytes};

/// An integer with thousands separators: `185000` -> `185,000`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A token count as the reference prints it (`5K`, `185K`).
pub fn tokens(n: f64) -> String {
    if n >= 1000.0 { format!("{:.0}K", n / 1000.0) } else { format!("{n:.0}") }
}

/// Milliseconds with sensible precision.
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(185_000), "185,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
