//! Values with units: sizes (`40kb`), latencies (`400ms`, `200..800ms`), token counts,
//! probabilities (`2%`, `0.02`), route weights and repeat counts.
//!
//! Each function turns one literal into a checked value, or a `syn::Error` on that literal that
//! names what was written and what is expected.

use quote::ToTokens;

use crate::ast::{Amount, Number};

/// Bytes in a `kb`; sizes are binary (`1kb` = 1024 bytes, `1mb` = 1024 kb), as in most tools'
/// displays of payload sizes.
pub const KB: u64 = 1024;
pub const MB: u64 = 1024 * KB;
/// The largest tool result a step may declare: one span carrying more than this is not a
/// realistic trace and would exceed every backend's request limit.
pub const MAX_SIZE: u64 = 64 * MB;
/// The largest token count of one `input`/`output`: above any model's context window.
pub const MAX_TOKENS: u64 = 2_000_000;
/// The longest latency a step may declare: one hour.
pub const MAX_LATENCY_MICROS: u64 = 3_600_000_000;
/// The largest `repeat` count.
pub const MAX_REPEAT: u64 = 10_000;

/// The literal as the author wrote it, for messages.
pub fn written(n: &Number) -> String {
    format!(
        "{}{}{}",
        if n.negative { "-" } else { "" },
        n.lit.to_token_stream(),
        if n.percent { "%" } else { "" }
    )
}

fn error(n: &Number, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(n.span(), message)
}

/// The numeric value without the unit; `None` if the digits do not parse (they always do for
/// literals the lexer accepted).
fn magnitude(n: &Number) -> Option<f64> {
    n.digits().parse::<f64>().ok().map(|v| if n.negative { -v } else { v })
}

/// A literal that takes no unit: a whole number.
fn plain_integer(n: &Number, what: &str, example: &str) -> syn::Result<u64> {
    if n.percent || !n.suffix().is_empty() {
        return Err(error(
            n,
            format!(
                "unexpected unit on {what} `{}`: write a plain number, like `{example}`",
                written(n)
            ),
        ));
    }
    if n.negative {
        return Err(error(
            n,
            format!("{what} `{}` is negative: expected a positive whole number", written(n)),
        ));
    }
    if !n.is_integer() {
        return Err(error(
            n,
            format!("{what} `{}` is not a whole number, like `{example}`", written(n)),
        ));
    }
    n.digits().parse::<u64>().map_err(|_| error(n, format!("{what} `{}` is too large", written(n))))
}

/// A payload size with its unit, in bytes: `b`, `kb` (1024 bytes) or `mb` (1024 kb), more than 0
/// and at most `max`.
pub fn size(n: &Number, max: u64) -> syn::Result<u64> {
    let unit = match n.suffix() {
        "b" => 1,
        "kb" => KB,
        "mb" => MB,
        "" => {
            return Err(error(
                n,
                format!("missing unit on size `{0}`: write `{0}b`, `{0}kb` or `{0}mb`", written(n)),
            ));
        }
        other => {
            return Err(error(
                n,
                format!(
                    "unknown size unit `{other}` in `{}`: expected `b`, `kb` or `mb`",
                    written(n)
                ),
            ));
        }
    };
    if n.percent {
        return Err(error(n, format!("a size cannot be a percentage: `{}`", written(n))));
    }
    let bytes = if n.is_integer() {
        n.digits().parse::<u64>().ok().map(|v| u128::from(v) * u128::from(unit))
    } else {
        magnitude(n).map(|v| (v * unit as f64).round().max(0.0) as u128)
    };
    let bytes = bytes.unwrap_or(u128::MAX);
    if n.negative || bytes == 0 {
        return Err(error(
            n,
            format!("size `{}` is not positive: a size is at least `1b`", written(n)),
        ));
    }
    if bytes > u128::from(max) {
        return Err(error(
            n,
            format!("size `{}` is too large: at most {}", written(n), show_bytes(max)),
        ));
    }
    Ok(bytes as u64)
}

/// A latency in microseconds: `400ms`, `2s`, `1.5s`, `0ms`. `default_unit` applies when the
/// literal has none (the start of a range `200..800ms` takes the unit of its end).
fn duration_micros(n: &Number, default_unit: Option<&str>) -> syn::Result<u64> {
    let suffix = match (n.suffix(), default_unit) {
        ("", Some(unit)) => unit,
        (suffix, _) => suffix,
    };
    let unit = match suffix {
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        "" => {
            return Err(error(
                n,
                format!("missing unit on latency `{0}`: write `{0}ms` or `{0}s`", written(n)),
            ));
        }
        other => {
            return Err(error(
                n,
                format!("unknown latency unit `{other}` in `{}`: expected `ms` or `s`", written(n)),
            ));
        }
    };
    if n.percent {
        return Err(error(n, format!("a latency cannot be a percentage: `{}`", written(n))));
    }
    let value = magnitude(n).unwrap_or(f64::INFINITY);
    if value < 0.0 {
        return Err(error(n, format!("latency `{}` is negative", written(n))));
    }
    let micros = (value * unit).round();
    if micros > MAX_LATENCY_MICROS as f64 {
        return Err(error(n, format!("latency `{}` is too long: at most 3600s", written(n))));
    }
    Ok(micros as u64)
}

/// A latency, fixed or a range, as `(min, max)` microseconds. `0ms` is allowed (a step that
/// takes no time); a range must not end before it starts.
pub fn latency(amount: &Amount) -> syn::Result<(u64, u64)> {
    match amount {
        Amount::One(n) => duration_micros(n, None).map(|v| (v, v)),
        Amount::Range(a, b) => {
            let end = duration_micros(b, None)?;
            let start = duration_micros(a, Some(b.suffix()))?;
            if start > end {
                return Err(amount.error(format!(
                        "inverted range `{}..{}`: it starts after it ends; write the smaller bound first",
                        written(a),
                        written(b)
                    )));
            }
            Ok((start, end))
        }
    }
}

/// A token count: a plain whole number, more than 0 and at most [`MAX_TOKENS`].
pub fn tokens(n: &Number) -> syn::Result<u32> {
    let value = plain_integer(n, "token count", "1200")?;
    if value == 0 {
        return Err(error(n, "zero tokens: a model call reads and writes at least 1 token"));
    }
    if value > MAX_TOKENS {
        return Err(error(
            n,
            format!("token count `{}` is too large: at most 2_000_000 per call", written(n)),
        ));
    }
    Ok(value as u32)
}

/// A probability written `2%` or `0.02`: more than 0 and at most 1.
pub fn probability(n: &Number) -> syn::Result<f64> {
    if !n.suffix().is_empty() {
        return Err(error(
            n,
            format!("unexpected unit on probability `{}`: write `2%` or `0.02`", written(n)),
        ));
    }
    let value = magnitude(n).unwrap_or(f64::NAN);
    let value = if n.percent { value / 100.0 } else { value };
    if !(value > 0.0 && value <= 1.0) {
        return Err(error(
            n,
            format!(
                "fail probability `{}` is out of range: expected more than 0 and at most 1, like `2%` or `0.02`",
                written(n)
            ),
        ));
    }
    Ok(value)
}

/// A route weight written `0.9` or `90%`: more than 0.
pub fn weight(n: &Number) -> syn::Result<f64> {
    if !n.suffix().is_empty() {
        return Err(error(
            n,
            format!("unexpected unit on route weight `{}`: write `0.9` or `90%`", written(n)),
        ));
    }
    let value = magnitude(n).unwrap_or(f64::NAN);
    let value = if n.percent { value / 100.0 } else { value };
    if value.is_nan() || value <= 0.0 {
        return Err(error(
            n,
            format!(
                "route weight `{}` is not positive: every branch needs a weight above 0",
                written(n)
            ),
        ));
    }
    Ok(value)
}

/// A `repeat` count: a whole number from 1 to [`MAX_REPEAT`].
pub fn repeat_count(n: &Number) -> syn::Result<u32> {
    let value = plain_integer(n, "repeat count", "3")?;
    if value == 0 {
        return Err(error(
            n,
            "`repeat 0` never runs its block: repeat at least once, or remove the block",
        ));
    }
    if value > MAX_REPEAT {
        return Err(error(n, format!("repeat count `{}` is too large: at most 10000", written(n))));
    }
    Ok(value as u32)
}

/// A plain count in `expect:` (spans, depth, calls, tokens).
pub fn count(n: &Number) -> syn::Result<u64> {
    plain_integer(n, "expected count", "25")
}

/// A byte count in `expect:`: a size with its unit, with no upper bound.
pub fn expected_bytes(n: &Number) -> syn::Result<u64> {
    size(n, u64::MAX)
}

/// Bytes as people read them: `512b`, `40kb`, `2.3mb` (binary units, as in the language).
pub fn show_bytes(bytes: u64) -> String {
    if bytes < KB {
        format!("{bytes}b")
    } else if bytes < MB {
        trim(bytes as f64 / KB as f64, "kb")
    } else {
        trim(bytes as f64 / MB as f64, "mb")
    }
}

fn trim(value: f64, unit: &str) -> String {
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text}{unit}")
}

/// Most documents a `retrieve` step may ask for.
pub const MAX_TOP_K: u64 = 1_000;
/// Most dimensions an `embed` step may ask for.
pub const MAX_DIMENSIONS: u64 = 65_536;

/// `top_k` of a `retrieve` step: a whole number from 1 to [`MAX_TOP_K`].
pub fn top_k(n: &Number) -> syn::Result<u32> {
    let value = plain_integer(n, "document count", "8")?;
    if value == 0 || value > MAX_TOP_K {
        return Err(error(
            n,
            format!("`top_k: {}` is out of range: ask for 1 to 1000 documents", written(n)),
        ));
    }
    Ok(value as u32)
}

/// `dimensions` of an `embed` step: a whole number from 1 to [`MAX_DIMENSIONS`].
pub fn dimensions(n: &Number) -> syn::Result<u32> {
    let value = plain_integer(n, "dimension count", "1536")?;
    if value == 0 || value > MAX_DIMENSIONS {
        return Err(error(
            n,
            format!("`dimensions: {}` is out of range: expected 1 to 65536", written(n)),
        ));
    }
    Ok(value as u32)
}

/// Most turns a `session:` may declare.
pub const MAX_TURNS: u64 = 1_000;

/// A number of turns in `session:`: a whole number from 1 to [`MAX_TURNS`].
pub fn turns(n: &Number) -> syn::Result<u32> {
    let value = plain_integer(n, "turn count", "3")?;
    if value == 0 || value > MAX_TURNS {
        return Err(error(
            n,
            format!("`{} turns` is out of range: a session has 1 to 1000 turns", written(n)),
        ));
    }
    Ok(value as u32)
}
