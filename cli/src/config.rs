//! `scaletest run` configuration: flags, environment, `.env`, defaults, validated into
//! [`Settings`].
//!
//! Precedence is flags > environment > `.env` > defaults: every flag names its environment
//! variable (clap reads it when the flag is absent, and `--help` lists it), and the `.env` file
//! is loaded into the environment before parsing without overriding variables already set.
//!
//! The load model follows from what is given: `--rate` or `--stages` (with or without
//! `--concurrency`) is the open model, traces starting on schedule whatever the backend does,
//! and `--concurrency` then caps traces in flight (as does `--max-in-flight`, which wins);
//! `--concurrency` alone is the closed model, N workers each starting a trace when its last one
//! ends (the reference tool's `SCALE_TEST_CONCURRENCY`); nothing at all is the open model at
//! [`DEFAULT_RATE`] traces/s. `--stages` sets the duration; `--ramp-up` lies within it.
//!
//! Every invalid value becomes one [`ConfigError`] that names the value and what is expected;
//! the binary prints it and exits with code 2. Header values are never part of an error or of
//! `Debug` output.

use std::path::PathBuf;
use std::time::Duration;

use scenario_runtime::AnyScenario;
use scenario_runtime::engine::schedule::{ClockKind, Load, RatePlan, Stage};

use crate::threshold::Threshold;

/// Default arrival rate of the open model, in traces/s.
pub const DEFAULT_RATE: f64 = 50.0;
/// Default run length when neither `--duration`, `--count` nor `--stages` is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Default drain: long enough for the slowest built-in scenario with the real clock (tens of
/// seconds of simulated model and tool latency), so a run's last traces arrive whole.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(60);

/// Reference scenario behind each `SCALE_TEST_MIX_*` variable, with its default weight.
const REFERENCE_MIX: [(&str, &str, f64); 4] = [
    ("SIMPLE", "simple_query", 0.4),
    ("SEARCH", "single_service_search", 0.3),
    ("BOOKING", "delegated_booking", 0.2),
    ("COMPLEX", "multi_service_complex", 0.1),
];

/// Flags of `scaletest run`, each with its environment variable.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "Target")]
pub struct RunArgs {
    /// Backend profile: console, otlp, braintrust, langsmith, langfuse, phoenix, mlflow, datadog,
    /// opik, weave [default: otlp]
    #[arg(long, env = "OTEL_PLATFORM")]
    pub platform: Option<String>,
    /// OTLP base URL; `/v1/traces` is appended unless the path already ends with it. Without an
    /// endpoint (and platform otlp) the embedded sink is the target.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", hide_env_values = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Full traces URL, used as is (wins over --endpoint).
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub traces_endpoint: Option<String>,
    /// Extra request header, `name=value` or `name: value`; repeatable.
    #[arg(long = "header", value_name = "HEADER")]
    pub header: Vec<String>,
    /// Extra request headers as `k=v,k2=v2` (values percent-decoded).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_HEADERS", hide_env_values = true, value_name = "LIST")]
    pub headers: Option<String>,
    /// OTLP protocol: http/protobuf, http/json or grpc [default: http/protobuf]
    #[arg(long, env = "OTEL_EXPORTER_OTLP_PROTOCOL")]
    pub protocol: Option<String>,
    /// Request compression: none, gzip or zstd [default: gzip]
    #[arg(long, env = "OTEL_EXPORTER_OTLP_COMPRESSION")]
    pub compression: Option<String>,
    /// Per-request timeout in milliseconds [default: 10000]
    #[arg(long = "timeout-ms", env = "OTEL_EXPORTER_OTLP_TIMEOUT", value_name = "MS")]
    pub timeout_ms: Option<String>,
    /// Export path: direct (our OTLP encoder, every request measured) or sdk (the OpenTelemetry
    /// SDK pipeline) [default: direct]
    #[arg(long, env = "SCALE_TEST_EXPORTER")]
    pub exporter: Option<String>,
    /// Requests in flight at once [default: 8]
    #[arg(long, env = "SCALE_TEST_MAX_REQUESTS", value_name = "N")]
    pub max_requests: Option<String>,
    /// `service.name` resource attribute [default: scaletest]
    #[arg(long, env = "OTEL_SERVICE_NAME")]
    pub service_name: Option<String>,
    /// More resource attributes, `k=v,k2=v2` (values percent-decoded).
    #[arg(long, env = "OTEL_RESOURCE_ATTRIBUTES", hide_env_values = true, value_name = "LIST")]
    pub resource_attributes: Option<String>,
    /// Project name for platforms that route by project.
    #[arg(long, env = "OTEL_PROJECT_NAME")]
    pub project: Option<String>,

    /// Run only this scenario (repeatable: equal weights). Exclusive with --mix.
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_SCENARIOS", value_delimiter = ',')]
    pub scenario: Vec<String>,
    /// Weighted mix, `name=weight,...` [default: the reference mix 40/30/20/10]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_MIX")]
    pub mix: Option<String>,
    /// Weight of simple_query in the default mix [default: 0.4]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_MIX_SIMPLE")]
    pub mix_simple: Option<String>,
    /// Weight of single_service_search in the default mix [default: 0.3]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_MIX_SEARCH")]
    pub mix_search: Option<String>,
    /// Weight of delegated_booking in the default mix [default: 0.2]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_MIX_BOOKING")]
    pub mix_booking: Option<String>,
    /// Weight of multi_service_complex in the default mix [default: 0.1]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_MIX_COMPLEX")]
    pub mix_complex: Option<String>,
    /// Open model: traces started per second [default: 50 unless --concurrency alone is given]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_RATE_LIMIT",
        value_name = "TRACES_PER_S",
        allow_hyphen_values = true
    )]
    pub rate: Option<String>,
    /// Alone: closed model with N looping workers. With --rate or --stages: cap on traces in
    /// flight.
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_CONCURRENCY",
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub concurrency: Option<String>,
    /// Open model: cap on traces in flight (starts beyond it wait and count as late).
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_MAX_IN_FLIGHT",
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub max_in_flight: Option<String>,
    /// How long to start traces: seconds or `500ms`, `10s`, `5m`, `1h` [default: 10s]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_DURATION",
        allow_hyphen_values = true
    )]
    pub duration: Option<String>,
    /// Number of traces to start (alone: no time limit).
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_COUNT", allow_hyphen_values = true)]
    pub count: Option<String>,
    /// Ramp the rate (or the workers) up linearly over this long, within the duration.
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_RAMP_UP")]
    pub ramp_up: Option<String>,
    /// k6-style stages `DURATION:RATE,...` from 0 traces/s, e.g. `30s:100,1m:100,10s:500`;
    /// sets the duration.
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_STAGES")]
    pub stages: Option<String>,
    /// real (latencies really waited) or synthetic (timestamps computed, no waiting)
    /// [default: real]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_CLOCK")]
    pub clock: Option<String>,
    /// Content seed: the same seed gives the same content (ids stay fresh) [default: random]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_SEED")]
    pub seed: Option<String>,
    /// How long traces still running at the end may take to finish [default: 60s]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_DRAIN_TIMEOUT")]
    pub drain_timeout: Option<String>,

    /// Write the report as JSON to this file (schema: docs/report-schema.md).
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_JSON", value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Pass/fail rule on a report metric, e.g. `export_p99_ms<500`; repeatable. Failing rules
    /// exit with code 3.
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_THRESHOLDS", value_delimiter = ',')]
    pub threshold: Vec<String>,
    /// Evaluate thresholds every second and stop as soon as one fails.
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_ABORT_ON_FAIL")]
    pub abort_on_fail: bool,
    /// Read variables from this file instead of `./.env` (never overrides the environment).
    #[arg(long, help_heading = "Report", value_name = "PATH")]
    pub env_file: Option<PathBuf>,
}

/// A bad value: the message names it and says what is expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad<T>(message: String) -> Result<T, ConfigError> {
    Err(ConfigError(message))
}

/// A request header. `secret` values are never printed, logged or reported.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
    pub secret: bool,
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.secret { "<redacted>" } else { self.value.as_str() };
        f.debug_struct("Header").field("name", &self.name).field("value", &value).finish()
    }
}

/// Whether a header's name says it carries a credential.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["authorization", "key", "token", "secret", "password", "cookie", "credential"]
        .iter()
        .any(|word| name.contains(word))
}

/// The export path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExporterKind {
    Direct,
    Sdk,
}

/// Validated settings of one run.
#[derive(Debug)]
pub struct Settings {
    /// Lower-case platform name (`otlp` when unset).
    pub platform: String,
    /// The traces URL, if one was configured.
    pub endpoint: Option<String>,
    pub headers: Vec<Header>,
    pub protocol: String,
    pub compression: String,
    pub exporter: ExporterKind,
    pub request_timeout: Duration,
    pub max_requests: usize,
    /// `OTEL_SERVICE_NAME`; the emitter's default (`scaletest`) when unset.
    pub service_name: Option<String>,
    pub resource: Vec<(String, String)>,
    pub project: Option<String>,
    pub mix: Vec<(&'static dyn AnyScenario, f64)>,
    pub load: Load,
    /// Open model constant rate (for the report).
    pub rate: Option<f64>,
    pub stages: Vec<Stage>,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub clock: ClockKind,
    pub seed: u64,
    pub drain_timeout: Duration,
    pub json: Option<PathBuf>,
    pub thresholds: Vec<Threshold>,
    pub abort_on_fail: bool,
}

/// Loads `--env-file PATH` (or `SCALETEST_ENV_FILE`, or `./.env` if present) into the
/// environment without overriding variables that are already set. Called before the command
/// line is parsed, so that clap sees the file's values as environment. A missing default `.env`
/// is not an error; a missing or malformed explicit file is.
pub fn load_env_file(args: &[std::ffi::OsString]) -> Result<(), ConfigError> {
    let mut explicit: Option<PathBuf> = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let arg = arg.to_string_lossy();
        if arg == "--env-file" {
            explicit = iter.next().map(PathBuf::from);
        } else if let Some(path) = arg.strip_prefix("--env-file=") {
            explicit = Some(PathBuf::from(path));
        }
    }
    let explicit = explicit.or_else(|| std::env::var_os("SCALETEST_ENV_FILE").map(PathBuf::from));
    match explicit {
        Some(path) => dotenvy::from_path(&path).map_err(|e| {
            ConfigError(format!(
                "cannot read env file `{}`: {}; expected a readable file of NAME=value lines",
                path.display(),
                describe_dotenv_error(&e)
            ))
        }),
        None => match dotenvy::from_path(".env") {
            Ok(()) => Ok(()),
            Err(e) if e.not_found() => Ok(()),
            Err(e) => bad(format!(
                "cannot read `.env`: {}; expected NAME=value lines",
                describe_dotenv_error(&e)
            )),
        },
    }
}

/// A dotenv error without the line's content (it may hold a key).
fn describe_dotenv_error(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, index) => format!("line parse error at character {index}"),
        other => other.to_string(),
    }
}

/// Parses a duration: a plain number of seconds or a number with `ms`, `s`, `m` or `h`.
pub fn parse_duration(what: &str, text: &str) -> Result<Duration, ConfigError> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * scale < 1e9 => {
            Ok(Duration::from_secs_f64(v * scale))
        }
        _ => bad(format!(
            "invalid {what} `{text}`: expected a positive duration such as 30, 500ms, 10s, 5m or 1h"
        )),
    }
}

/// Highest arrival rate accepted, traces/s: far beyond what one process can generate (the
/// dispatcher was measured exact to 50k/s), low enough that a typo cannot ask for 10^12.
pub const MAX_RATE: f64 = 1_000_000.0;
/// Most workers or in-flight traces accepted: each is a task with its own state.
pub const MAX_CONCURRENCY: u64 = 1_000_000;

fn parse_rate(what: &str, text: &str) -> Result<f64, ConfigError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_RATE => Ok(v),
        _ => bad(format!(
            "invalid {what} `{text}`: expected a number of traces/s greater than 0 and at most \
             {MAX_RATE}"
        )),
    }
}

fn parse_positive_u64(what: &str, text: &str) -> Result<u64, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(v) if v > 0 => Ok(v),
        _ => bad(format!("invalid {what} `{text}`: expected a whole number greater than 0")),
    }
}

fn parse_concurrency(what: &str, text: &str) -> Result<u64, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(v) if v > 0 && v <= MAX_CONCURRENCY => Ok(v),
        _ => bad(format!(
            "invalid {what} `{text}`: expected a whole number from 1 to {MAX_CONCURRENCY}"
        )),
    }
}

/// Decodes `%XX` escapes (as in `OTEL_EXPORTER_OTLP_HEADERS`).
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses one `--header` (`name=value` or `name: value`). The error never shows the value.
pub fn parse_header(text: &str) -> Result<Header, ConfigError> {
    let split = match (text.find(':'), text.find('=')) {
        (Some(c), Some(e)) => Some(c.min(e)),
        (Some(i), None) | (None, Some(i)) => Some(i),
        (None, None) => None,
    };
    let Some(at) = split else {
        return bad(format!(
            "invalid header `{}`: expected `name=value` or `name: value`",
            redact_header_text(text)
        ));
    };
    let name = text[..at].trim();
    let value = text[at + 1..].trim();
    if !valid_header_name(name) {
        return bad(format!(
            "invalid header name `{name}`: expected letters, digits and - _ . (no spaces)"
        ));
    }
    if value.contains(['\r', '\n']) {
        return bad(format!("invalid value for header `{name}`: line breaks are not allowed"));
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

/// Checks a URL enough to catch typos: `http(s)://host[:port][/path]`.
/// The URL without `user:password@` or a query string (which may carry a key).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    if scheme.is_empty() { rest.to_owned() } else { format!("{scheme}://{rest}") }
}

pub fn check_url(what: &str, url: &str) -> Result<(), ConfigError> {
    let expected = "expected an http:// or https:// URL such as http://127.0.0.1:4318";
    // Messages show the URL without credentials or query: it may carry a key.
    let shown = redact_url(url);
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else {
        return bad(format!("invalid {what} `{shown}`: {expected}"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = match host.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || host.starts_with('[') => (h, Some(p)),
        _ => (host, None),
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if host.is_empty() || !port_ok || url.contains(char::is_whitespace) {
        return bad(format!("invalid {what} `{shown}`: {expected}"));
    }
    Ok(())
}

/// The traces URL from a base endpoint: `/v1/traces` appended unless already there (gRPC
/// endpoints are used as they are).
pub fn traces_url(base: &str, grpc: bool) -> String {
    let base = base.trim();
    if grpc || base.trim_end_matches('/').ends_with("/v1/traces") {
        return base.to_owned();
    }
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// Parses `--stages`.
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, ConfigError> {
    let expected = "expected `DURATION:RATE,...` such as `30s:100,1m:100,10s:500`";
    let mut stages = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((duration, target)) = item.split_once(':') else {
            return bad(format!("invalid stage `{item}`: {expected}"));
        };
        let duration = parse_duration("stage duration", duration)?;
        let target = match target.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=MAX_RATE).contains(&v) => v,
            _ => {
                return bad(format!(
                    "invalid stage rate `{target}` in `{item}`: expected traces/s from 0 to \
                     {MAX_RATE}"
                ));
            }
        };
        stages.push(Stage { duration, target });
    }
    if stages.is_empty() {
        return bad(format!("invalid --stages `{text}`: {expected}"));
    }
    if stages.iter().all(|s| s.target == 0.0) {
        return bad(format!("invalid --stages `{text}`: every stage targets 0 traces/s"));
    }
    Ok(stages)
}

/// Known scenario names, for error messages.
fn known_scenarios() -> String {
    scenarios::all().iter().map(|s| s.meta().name).collect::<Vec<_>>().join(", ")
}

fn find_scenario(name: &str) -> Result<&'static dyn AnyScenario, ConfigError> {
    scenarios::find(name.trim()).ok_or_else(|| {
        ConfigError(format!("unknown scenario `{name}`: expected one of {}", known_scenarios()))
    })
}

/// Parses `--mix name=weight,...`.
pub fn parse_mix(text: &str) -> Result<Vec<(&'static dyn AnyScenario, f64)>, ConfigError> {
    let expected = "expected `name=weight,...` such as `simple_query=0.4,delegated_booking=0.6`";
    let mut mix = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, weight)) = item.split_once('=') else {
            return bad(format!("invalid --mix entry `{item}`: {expected}"));
        };
        let scenario = find_scenario(name)?;
        let weight = match weight.trim().parse::<f64>() {
            Ok(w) if w.is_finite() && w >= 0.0 => w,
            _ => {
                return bad(format!(
                    "invalid weight `{weight}` for `{}` in --mix: expected a number, 0 or more",
                    name.trim()
                ));
            }
        };
        mix.push((scenario, weight));
    }
    if mix.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
        return bad(format!("invalid --mix `{text}`: weights sum to 0; {expected}"));
    }
    Ok(mix)
}

impl RunArgs {
    /// Validates everything into [`Settings`].
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let platform = self.platform.as_deref().unwrap_or("otlp").trim().to_ascii_lowercase();
        let protocol =
            self.protocol.as_deref().unwrap_or("http/protobuf").trim().to_ascii_lowercase();
        let protocol = match protocol.as_str() {
            "http/protobuf" | "http/json" | "grpc" => protocol,
            _ => {
                return bad(format!(
                    "invalid protocol `{protocol}`: expected http/protobuf, http/json or grpc"
                ));
            }
        };
        let compression = self.compression.as_deref().unwrap_or("gzip").trim().to_ascii_lowercase();
        if !["none", "gzip", "zstd"].contains(&compression.as_str()) {
            return bad(format!(
                "invalid compression `{compression}`: expected none, gzip or zstd"
            ));
        }
        let grpc = protocol == "grpc";
        let endpoint = match (&self.traces_endpoint, &self.endpoint) {
            (Some(url), _) if !url.trim().is_empty() => {
                check_url("traces endpoint", url.trim())?;
                Some(url.trim().to_owned())
            }
            (_, Some(url)) if !url.trim().is_empty() => {
                check_url("endpoint", url.trim())?;
                Some(traces_url(url, grpc))
            }
            _ => None,
        };
        let mut headers = Vec::new();
        if let Some(list) = &self.headers {
            for (name, value) in parse_pairs("OTEL_EXPORTER_OTLP_HEADERS", list)? {
                headers.push(parse_header(&format!("{name}={value}"))?);
            }
        }
        for text in &self.header {
            let header = parse_header(text)?;
            headers.retain(|h: &Header| !h.name.eq_ignore_ascii_case(&header.name));
            headers.push(header);
        }
        let exporter = match self.exporter.as_deref().map(str::trim) {
            None | Some("direct") => ExporterKind::Direct,
            Some("sdk") => ExporterKind::Sdk,
            Some(other) => {
                return bad(format!("invalid exporter `{other}`: expected direct or sdk"));
            }
        };
        let request_timeout = match &self.timeout_ms {
            Some(ms) => Duration::from_millis(parse_positive_u64("timeout (ms)", ms)?),
            None => Duration::from_secs(10),
        };
        let max_requests = match &self.max_requests {
            Some(n) => parse_concurrency("--max-requests", n)? as usize,
            None => 8,
        };
        let resource = match &self.resource_attributes {
            Some(list) => parse_pairs("OTEL_RESOURCE_ATTRIBUTES", list)?,
            None => Vec::new(),
        };
        let clock = match self.clock.as_deref().map(str::trim) {
            None | Some("real") => ClockKind::Real,
            Some("synthetic") => ClockKind::Synthetic,
            Some(other) => {
                return bad(format!("invalid clock `{other}`: expected real or synthetic"));
            }
        };
        let seed = match &self.seed {
            Some(text) => text.trim().parse::<u64>().map_err(|_| {
                ConfigError(format!("invalid seed `{text}`: expected a whole number 0 or more"))
            })?,
            None => random_seed(),
        };
        let mix = self.mix()?;
        let rate = self.rate.as_deref().map(|r| parse_rate("--rate", r)).transpose()?;
        let concurrency = self
            .concurrency
            .as_deref()
            .map(|c| parse_concurrency("--concurrency", c))
            .transpose()?;
        let max_in_flight = self
            .max_in_flight
            .as_deref()
            .map(|c| parse_concurrency("--max-in-flight", c))
            .transpose()?;
        let ramp_up =
            self.ramp_up.as_deref().map(|r| parse_duration("--ramp-up", r)).transpose()?;
        let stages = self.stages.as_deref().map(parse_stages).transpose()?.unwrap_or_default();
        let count = self.count.as_deref().map(|c| parse_positive_u64("--count", c)).transpose()?;
        let mut duration =
            self.duration.as_deref().map(|d| parse_duration("--duration", d)).transpose()?;
        if !stages.is_empty() {
            duration = Some(stages.iter().map(|s| s.duration).sum());
        } else if duration.is_none() && count.is_none() {
            duration = Some(DEFAULT_DURATION);
        }
        if let (Some(ramp), Some(total)) = (ramp_up, duration)
            && ramp > total
        {
            return bad(format!(
                "invalid --ramp-up `{}`: expected at most the duration ({:?})",
                self.ramp_up.as_deref().unwrap_or(""),
                total
            ));
        }
        let closed = rate.is_none() && stages.is_empty() && concurrency.is_some();
        let load = if closed {
            Load::Closed {
                workers: concurrency.unwrap_or(1) as usize,
                ramp_up: ramp_up.unwrap_or(Duration::ZERO),
                max_pending_spans: None,
            }
        } else {
            let plan = if !stages.is_empty() {
                RatePlan::stages(stages.clone())
            } else {
                RatePlan::ramp_up(rate.unwrap_or(DEFAULT_RATE), ramp_up.unwrap_or(Duration::ZERO))
            };
            Load::Open { plan, max_in_flight: max_in_flight.or(concurrency).map(|n| n as usize) }
        };
        let drain_timeout = self
            .drain_timeout
            .as_deref()
            .map(|d| parse_duration("--drain-timeout", d))
            .transpose()?
            .unwrap_or(DEFAULT_DRAIN);
        let thresholds = self
            .threshold
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Threshold::parse(t).map_err(ConfigError))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings {
            platform,
            endpoint,
            headers,
            protocol,
            compression,
            exporter,
            request_timeout,
            max_requests,
            service_name: self.service_name.clone().filter(|s| !s.trim().is_empty()),
            resource,
            project: self.project.clone().filter(|p| !p.trim().is_empty()),
            mix,
            rate: if closed || !stages.is_empty() {
                None
            } else {
                Some(rate.unwrap_or(DEFAULT_RATE))
            },
            stages,
            load,
            duration,
            count,
            clock,
            seed,
            drain_timeout,
            json: self.json.clone(),
            thresholds,
            abort_on_fail: self.abort_on_fail,
        })
    }

    fn mix(&self) -> Result<Vec<(&'static dyn AnyScenario, f64)>, ConfigError> {
        let scenarios: Vec<&String> =
            self.scenario.iter().filter(|s| !s.trim().is_empty()).collect();
        match (&self.mix, scenarios.is_empty()) {
            (Some(_), false) => bad(
                "both --scenario and --mix given: expected one of them (--mix weights scenarios, \
                 --scenario runs the named ones equally)"
                    .to_owned(),
            ),
            (Some(mix), true) => parse_mix(mix),
            (None, false) => scenarios.iter().map(|name| Ok((find_scenario(name)?, 1.0))).collect(),
            (None, true) => {
                let overrides =
                    [&self.mix_simple, &self.mix_search, &self.mix_booking, &self.mix_complex];
                let mut mix = Vec::new();
                for ((var, name, default), value) in REFERENCE_MIX.iter().zip(overrides) {
                    let weight = match value {
                        Some(text) => match text.trim().parse::<f64>() {
                            Ok(w) if w.is_finite() && w >= 0.0 => w,
                            _ => {
                                return bad(format!(
                                    "invalid SCALE_TEST_MIX_{var} `{text}`: expected a weight, 0 or more"
                                ));
                            }
                        },
                        None => *default,
                    };
                    if weight > 0.0 {
                        mix.push((find_scenario(name)?, weight));
                    }
                }
                if mix.is_empty() {
                    return bad(
                        "invalid SCALE_TEST_MIX_* weights: they sum to 0; expected at least one \
                         weight above 0"
                            .to_owned(),
                    );
                }
                Ok(mix)
            }
        }
    }
}

/// A seed for runs without `--seed` (reported so the run can be reproduced).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish() >> 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("d", "90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("d", "10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("d", "5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("d", "250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("d", "1h"), Ok(Duration::from_secs(3600)));
        for bad in ["", "0", "-3s", "ten", "5x", "NaN"] {
            let err = parse_duration("--duration", bad).unwrap_err().0;
            assert!(err.contains(&format!("`{bad}`")) && err.contains("expected"), "{err}");
        }
    }

    #[test]
    fn headers() {
        let h = parse_header("x-api-key: lsv2_abc").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((h.name.as_str(), h.value.as_str(), h.secret), ("x-api-key", "lsv2_abc", true));
        let h = parse_header("Langsmith-Project=scale").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!h.secret && h.value == "scale");
        assert!(format!("{:?}", parse_header("Authorization=Bearer s3cr3t")).contains("redacted"));
        assert!(!format!("{:?}", parse_header("Authorization=Bearer s3cr3t")).contains("s3cr3t"));
        assert!(parse_header("no separator").is_err());
        let err = parse_header("Bearer sk-live-1234567890").unwrap_err().0;
        assert!(err.contains("`Bearer...`") && !err.contains("sk-live"), "{err}");
        assert!(parse_header("bad name=1").is_err());
        let pairs = parse_pairs("h", "Authorization=Bearer%20sk-1,x-bt-parent=project_name:st")
            .unwrap_or_default();
        assert_eq!(pairs[0].1, "Bearer sk-1");
        assert_eq!(pairs[1].1, "project_name:st");
        assert!(parse_pairs("h", "a=%zz").is_err());
    }

    #[test]
    fn urls() {
        assert!(check_url("e", "http://127.0.0.1:4318").is_ok());
        assert!(check_url("e", "https://api.smith.langchain.com/otel").is_ok());
        for url in ["localhost:4318", "http://", "http://host:99999", "ftp://x", "http://a b"] {
            assert!(check_url("endpoint", url).is_err(), "{url}");
        }
        assert_eq!(traces_url("http://h:4318", false), "http://h:4318/v1/traces");
        assert_eq!(traces_url("http://h/otel/", false), "http://h/otel/v1/traces");
        assert_eq!(traces_url("http://h/otel/v1/traces", false), "http://h/otel/v1/traces");
        assert_eq!(traces_url("http://h:4317", true), "http://h:4317");
    }

    #[test]
    fn stages() {
        let s = parse_stages("30s:100, 1m:100,10s:0").unwrap_or_default();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].duration, Duration::from_secs(60));
        assert!(parse_stages("30s").is_err());
        assert!(parse_stages("30s:-1").is_err());
        assert!(parse_stages("10s:0").is_err());
    }
}
