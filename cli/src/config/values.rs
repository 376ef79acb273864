//! Parsers of single values (durations, rates, headers, `k=v` lists, URLs, stages, mixes):
//! each returns the value or a [`ConfigError`] naming it and what is expected.

use std::time::Duration;

use scenario_runtime::AnyScenario;
use scenario_runtime::engine::schedule::Stage;

use scenario_runtime::platform::Header;

use super::{ConfigError, bad, is_secret_header};

/// Parses a positive duration: a plain number of seconds or a number with `ms`, `s`, `m` or `h`.
pub fn parse_duration(what: &str, text: &str) -> Result<Duration, ConfigError> {
    match scenario_runtime::units::parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => bad(format!(
            "invalid {what} `{text}`: expected a positive duration such as 30, 500ms, 10s, 5m or 1h"
        )),
    }
}

/// Like [`parse_duration`], 0 accepted (`--drain-timeout 0s`: no wait).
pub fn parse_duration_or_zero(what: &str, text: &str) -> Result<Duration, ConfigError> {
    scenario_runtime::units::parse_duration(text).map_err(|_| {
        ConfigError(format!(
            "invalid {what} `{text}`: expected a duration of 0 or more such as 0s, 500ms, 10s, \
             5m or 1h"
        ))
    })
}

/// Highest arrival rate accepted, traces/s: far beyond what one process can generate (the
/// dispatcher was measured exact to 50k/s), low enough that a typo cannot ask for 10^12.
pub const MAX_RATE: f64 = 1_000_000.0;
/// Most workers or in-flight traces accepted: each is a task with its own state.
pub const MAX_CONCURRENCY: u64 = 1_000_000;

pub(super) fn parse_rate(what: &str, text: &str) -> Result<f64, ConfigError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_RATE => Ok(v),
        _ => bad(format!(
            "invalid {what} `{text}`: expected a number of traces/s greater than 0 and at most \
             {MAX_RATE}"
        )),
    }
}

pub(super) fn parse_positive_u64(what: &str, text: &str) -> Result<u64, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(v) if v > 0 => Ok(v),
        _ => bad(format!("invalid {what} `{text}`: expected a whole number greater than 0")),
    }
}

pub(super) fn parse_concurrency(what: &str, text: &str) -> Result<u64, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(v) if v > 0 && v <= MAX_CONCURRENCY => Ok(v),
        _ => bad(format!(
            "invalid {what} `{text}`: expected a whole number from 1 to {MAX_CONCURRENCY}"
        )),
    }
}

/// Decodes `%XX` escapes (as in `OTEL_EXPORTER_OTLP_HEADERS`); `None` when the result is not
/// UTF-8 or an escape is malformed.
pub fn percent_decode(text: &str) -> Option<String> {
    // `percent-encoding` passes a malformed escape through; the headers spec wants it refused.
    let bytes = text.as_bytes();
    let malformed = bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !bytes.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if malformed {
        return None;
    }
    percent_encoding::percent_decode_str(text).decode_utf8().ok().map(|s| s.into_owned())
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses one `--header` (`name=value` or `name: value`). The error never shows the value.
pub fn parse_header(what: &str, text: &str) -> Result<Header, ConfigError> {
    let split = match (text.find(':'), text.find('=')) {
        (Some(c), Some(e)) => Some(c.min(e)),
        (Some(i), None) | (None, Some(i)) => Some(i),
        (None, None) => None,
    };
    let Some(at) = split else {
        return bad(format!(
            "invalid {what} `{}`: expected `name=value` or `name: value`",
            redact_header_text(text)
        ));
    };
    let name = text[..at].trim();
    let value = text[at + 1..].trim();
    if !valid_header_name(name) {
        return bad(format!(
            "invalid {what} name `{name}`: expected letters, digits and - _ . (no spaces)"
        ));
    }
    if value.contains(['\r', '\n']) {
        return bad(format!("invalid {what} value for `{name}`: line breaks are not allowed"));
    }
    Ok(Header { name: name.to_owned(), value: value.to_owned(), secret: is_secret_header(name) })
}

/// What of a bad header is safe to echo: its first word, cut to 12 characters. Enough to find
/// the mistake; a key pasted after it (`Bearer sk-...`) never shows.
fn redact_header_text(text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    let shown: String = first.chars().take(12).collect();
    if shown.len() < text.trim().len() { format!("{shown}...") } else { shown }
}

/// Parses a `k=v,k2=v2` list with percent-decoded values (`OTEL_EXPORTER_OTLP_HEADERS`,
/// `OTEL_RESOURCE_ATTRIBUTES`).
pub fn parse_pairs(what: &str, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            // Headers and resource attributes can both carry keys: show only the start.
            let shown = redact_header_text(item);
            return bad(format!("invalid {what} entry `{shown}`: expected `key=value`"));
        };
        let key = key.trim();
        let Some(decoded) = percent_decode(value.trim()) else {
            return bad(format!(
                "invalid {what} entry for `{key}`: bad percent-encoding (expected %XX escapes)"
            ));
        };
        if key.is_empty() {
            return bad(format!("invalid {what} entry: empty key (expected `key=value`)"));
        }
        out.push((key.to_owned(), decoded));
    }
    Ok(out)
}

/// The URL without `user:password@`, query or fragment, for messages.
pub use scenario_runtime::engine::plan::redact_url;

/// Checks an endpoint: an `http://` or `https://` URL with a host (IPv6 literals such as
/// `http://[::1]:4318` included) and, if given, a port from 1 to 65535.
pub fn check_url(what: &str, text: &str) -> Result<(), ConfigError> {
    let expected = "expected an http:// or https:// URL such as http://127.0.0.1:4318";
    // Messages show the URL without credentials or query: it may carry a key.
    let shown = redact_url(text);
    let ok = url::Url::parse(text).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.port() != Some(0)
    });
    if !ok || text.contains(char::is_whitespace) {
        return bad(format!("invalid {what} `{shown}`: {expected}"));
    }
    Ok(())
}

/// The traces URL from a base endpoint: `/v1/traces` appended unless already there (gRPC
/// endpoints are used as they are).
pub fn traces_url(base: &str, grpc: bool) -> String {
    let base = base.trim();
    // A query string (or fragment) stays after the path.
    let (path, rest) = base.split_at(base.find(['?', '#']).unwrap_or(base.len()));
    if grpc || path.trim_end_matches('/').ends_with("/v1/traces") {
        return base.to_owned();
    }
    format!("{}/v1/traces{rest}", path.trim_end_matches('/'))
}

/// Parses `--stages`.
pub fn parse_stages(what: &str, text: &str) -> Result<Vec<Stage>, ConfigError> {
    let expected = "expected `DURATION:RATE,...` such as `30s:100,1m:100,10s:500`";
    let mut stages = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return bad(format!("invalid {what} `{text}`: an empty stage; {expected}"));
        }
        let Some((duration, target)) = item.split_once(':') else {
            return bad(format!("invalid {what} stage `{item}`: {expected}"));
        };
        let duration = parse_duration(&format!("{what} stage duration"), duration)?;
        let target = match target.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=MAX_RATE).contains(&v) => v,
            _ => {
                return bad(format!(
                    "invalid {what} stage rate `{target}` in `{item}`: expected traces/s from 0 \
                     to {MAX_RATE}"
                ));
            }
        };
        stages.push(Stage { duration, target });
    }
    if stages.iter().all(|s| s.target == 0.0) {
        return bad(format!("invalid {what} `{text}`: every stage targets 0 traces/s"));
    }
    Ok(stages)
}

/// Known scenario names, for error messages.
pub(super) fn known_scenarios() -> String {
    scenarios::all().iter().map(|s| s.meta().name).collect::<Vec<_>>().join(", ")
}

pub(super) fn find_scenario(
    what: &str,
    name: &str,
) -> Result<&'static dyn AnyScenario, ConfigError> {
    scenarios::find(name.trim()).ok_or_else(|| {
        ConfigError(format!(
            "unknown scenario `{name}` in {what}: expected one of {}",
            known_scenarios()
        ))
    })
}

/// Parses `--mix name=weight,...`.
pub fn parse_mix(
    what: &str,
    text: &str,
) -> Result<Vec<(&'static dyn AnyScenario, f64)>, ConfigError> {
    let expected = "expected `name=weight,...` such as `simple_query=0.4,delegated_booking=0.6`";
    let mut mix: Vec<(&'static dyn AnyScenario, f64)> = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return bad(format!("invalid {what} `{text}`: an empty entry; {expected}"));
        }
        let Some((name, weight)) = item.split_once('=') else {
            return bad(format!("invalid {what} entry `{item}`: {expected}"));
        };
        let scenario = find_scenario(what, name)?;
        if mix.iter().any(|(s, _)| s.meta().name == scenario.meta().name) {
            return bad(format!(
                "invalid {what} `{text}`: `{}` given twice; expected each scenario once",
                name.trim()
            ));
        }
        let weight = match weight.trim().parse::<f64>() {
            Ok(w) if w.is_finite() && w >= 0.0 => w,
            _ => {
                return bad(format!(
                    "invalid weight `{weight}` for `{}` in {what}: expected a number, 0 or more",
                    name.trim()
                ));
            }
        };
        mix.push((scenario, weight));
    }
    if mix.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
        return bad(format!("invalid {what} `{text}`: weights sum to 0; {expected}"));
    }
    Ok(mix)
}
