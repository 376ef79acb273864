//! Durations and sizes as people type and read them: one parser and one formatter of each for
//! every command, so `--duration 90`, `--report-every 90` and `--latency 90` mean the same.

use std::time::Duration;

/// A duration: a plain number of seconds, or a number with `ms`, `s`, `m` or `h` (`1.5s`).
/// Zero is accepted; callers that need a positive duration check it. The error says what was
/// expected, without the value's name (the caller adds it).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit `{other}`: expected a number of seconds or one with ms, \
                 s, m or h such as 500ms, 10s, 5m or 1h"
            ));
        }
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v * scale < 1e9 => {
            Ok(Duration::from_secs_f64(v * scale))
        }
        _ => Err("expected a duration such as 30, 500ms, 10s, 5m or 1h".to_owned()),
    }
}

/// A size with a binary unit: `b`, `kb`/`kib`/`k`, `mb`/`mib`/`m`, `gb`/`gib`/`g` (1kb = 1024
/// bytes, as in scenarios). At least one byte.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: f64 = match unit.trim() {
        "b" => 1.0,
        "kb" | "kib" | "k" => 1024.0,
        "mb" | "mib" | "m" => 1024.0 * 1024.0,
        "gb" | "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        "" => return Err("no unit: expected a size like 64mb, 512kb or 1000b".to_owned()),
        other => return Err(format!("unknown size unit `{other}`: expected b, kb, mb or gb")),
    };
    let value: f64 = number.parse().map_err(|_| "expected a size such as 64mb".to_owned())?;
    let bytes = value * scale;
    if !(1.0..=(u64::MAX as f64)).contains(&bytes) {
        return Err("out of range: expected at least 1 byte".to_owned());
    }
    Ok(bytes as u64)
}

/// A size in binary units, as scenarios declare them: `512 B`, `35.0 KiB`, `64 MiB` (whole
/// multiples without a decimal).
pub fn binary_bytes(value: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut unit = 0;
    let mut whole = value;
    while unit < UNITS.len() - 1 && whole >= 1024 {
        whole /= 1024;
        unit += 1;
    }
    if unit == 0 {
        return format!("{value} B");
    }
    let divisor = 1u64 << (10 * unit);
    if value.is_multiple_of(divisor) {
        format!("{} {}", value / divisor, UNITS[unit])
    } else {
        format!("{:.1} {}", value as f64 / divisor as f64, UNITS[unit])
    }
}

/// A measured volume in decimal units, as network volumes are quoted (`747 KB`, `11.2 GB`).
pub fn decimal_bytes(n: f64) -> String {
    for (unit, scale) in [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)] {
        if n >= scale {
            let v = n / scale;
            return if v >= 100.0 { format!("{v:.0} {unit}") } else { format!("{v:.1} {unit}") };
        }
    }
    format!("{n:.0} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_seconds() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 500ms "), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1H"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("5d").unwrap_err().contains("`d`"));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("1e12").is_err());
    }

    #[test]
    fn sizes_are_binary() {
        assert_eq!(parse_size("64mb"), Ok(64 << 20));
        assert_eq!(parse_size("1.5kb"), Ok(1536));
        assert_eq!(parse_size("1000b"), Ok(1000));
        assert!(parse_size("64").unwrap_err().contains("no unit"));
        assert!(parse_size("3tb").unwrap_err().contains("`tb`"));
        assert!(parse_size("0b").is_err());
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(binary_bytes(512), "512 B");
        assert_eq!(binary_bytes(35 * 1024), "35 KiB");
        assert_eq!(binary_bytes(35 * 1024 + 100), "35.1 KiB");
        assert_eq!(binary_bytes(2_411_724), "2.3 MiB");
        assert_eq!(binary_bytes(64 << 20), "64 MiB");
        assert_eq!(decimal_bytes(747_000.0), "747 KB");
        assert_eq!(decimal_bytes(11.2e9), "11.2 GB");
        assert_eq!(decimal_bytes(12.0), "12 B");
    }
}
