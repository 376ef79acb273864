//! Number formatting shared by the CLI's text output.

/// Declared sizes in binary units, as scenarios write them (`1kb` = 1024 bytes).
pub fn binary_bytes(value: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut scaled = value as f64;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value} B") } else { format!("{scaled:.1} {}", UNITS[unit]) }
}

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

/// Measured bytes in decimal units, as network volumes are quoted (`747 KB`, `11.2 GB`).
pub fn decimal_bytes(n: f64) -> String {
    let units = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)];
    for (unit, scale) in units {
        if n >= scale {
            let v = n / scale;
            return if v >= 100.0 { format!("{v:.0} {unit}") } else { format!("{v:.1} {unit}") };
        }
    }
    format!("{n:.0} B")
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
    fn bytes_use_binary_units() {
        assert_eq!(binary_bytes(512), "512 B");
        assert_eq!(binary_bytes(35 * 1024), "35.0 KiB");
        assert_eq!(binary_bytes(2_411_724), "2.3 MiB");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(185_000), "185,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
