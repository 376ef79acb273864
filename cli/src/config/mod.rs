//! `scaletest run` configuration: flags, environment, `.env`, defaults, validated into
//! [`Settings`].
//!
//! Precedence is flags > environment > `.env` > defaults: every flag names its environment
//! variable (clap reads it when the flag is absent, and `--help` lists it), and the `.env` file
//! is loaded into the environment before parsing without overriding variables already set (the
//! variables it set are remembered, so messages can say where a value came from). A variable set
//! to nothing, or to blanks, counts as not set.
//!
//! Related settings are resolved by [`Source`], so the order also holds across them: the traces
//! endpoint wins over the base endpoint at the same level or below; `--stages` against `--rate`,
//! `--duration` and `--ramp-up`, and `--scenario` against `--mix` and the `--mix-*` weights,
//! take whichever comes from the higher level (at the same level, stages win over a rate, and
//! scenarios and a mix from the same place are refused); two conflicting flags are refused.
//!
//! The load model follows from what is given: `--rate` or `--stages` (with or without
//! `--concurrency`) is the open model, traces starting on schedule whatever the backend does,
//! and `--concurrency` then caps traces in flight (as does `--max-in-flight`, which wins);
//! `--concurrency` alone, or from a higher level than any rate or stages, is the closed model, N
//! workers each starting a trace when its last one ends (the reference tool's
//! `SCALE_TEST_CONCURRENCY`), where `--max-in-flight` is refused; nothing at all is the open
//! model at [`DEFAULT_RATE`] traces/s. `--stages` sets the duration; `--ramp-up` lies within it.
//!
//! Every invalid value becomes one [`ConfigError`] that names the value, the flag (and the
//! variable, when the value came from the environment or `.env`) and what is expected;
//! the binary prints it and exits with code 2. Header values are never part of an error or of
//! `Debug` output.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use clap::parser::ValueSource;
use scenario_runtime::engine::export::Compression;
use scenario_runtime::engine::plan::{ExportPath, VerifyMode};
use scenario_runtime::engine::schedule::{ClockKind, Load, RatePlan};
use scenario_runtime::engine::series;
use scenario_runtime::engine::threshold::Threshold;
use scenario_runtime::platform::{Header, PlatformId, Protocol};
use scenario_runtime::{AnyScenario, LatencyScale};

mod plan;
mod values;
pub use values::*;

/// `--json -`: the report goes to standard output.
pub const STDOUT: &str = "-";

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
    /// Full traces URL, used as is (wins over --endpoint given at the same level).
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
    #[arg(
        long = "timeout-ms",
        env = "OTEL_EXPORTER_OTLP_TIMEOUT",
        value_name = "MS",
        allow_hyphen_values = true
    )]
    pub timeout_ms: Option<String>,
    /// Export path: direct (our OTLP encoder, every request measured) or sdk (the OpenTelemetry
    /// SDK pipeline) [default: direct]
    #[arg(long, env = "SCALE_TEST_EXPORTER")]
    pub exporter: Option<String>,
    /// Requests in flight at once [default: 8]
    #[arg(long, env = "SCALE_TEST_MAX_REQUESTS", value_name = "N", allow_hyphen_values = true)]
    pub max_requests: Option<String>,
    /// `service.name` resource attribute [default: scaletest]
    #[arg(long, env = "OTEL_SERVICE_NAME")]
    pub service_name: Option<String>,
    /// More resource attributes, `k=v,k2=v2` (values percent-decoded).
    #[arg(long, env = "OTEL_RESOURCE_ATTRIBUTES", hide_env_values = true, value_name = "LIST")]
    pub resource_attributes: Option<String>,
    /// Project name for platforms that route by project (as a flag, it beats the platform's
    /// own variable, e.g. PHOENIX_PROJECT_NAME).
    #[arg(long, env = "OTEL_PROJECT_NAME")]
    pub project: Option<String>,
    /// MLflow experiment id to write to (beats MLFLOW_EXPERIMENT_ID); `new` creates one of the
    /// run's own when it starts, so the read-back counts this run's traces only.
    #[arg(long, value_name = "ID")]
    pub experiment: Option<String>,

    /// Read back what the backend stored: `on` (after the run; the default where the platform
    /// has a read API), `during` (also while it runs) or `off`.
    #[arg(
        long,
        help_heading = "Verification",
        env = "SCALE_TEST_VERIFY",
        value_name = "WHEN",
        num_args = 0..=1,
        default_missing_value = "on"
    )]
    pub verify: Option<String>,
    /// Same as `--verify off`: report what was accepted only.
    #[arg(long, help_heading = "Verification")]
    pub no_verify: bool,
    /// Same as `--verify during`.
    #[arg(long, help_heading = "Verification")]
    pub verify_during: bool,
    /// How long the read-back may wait for everything accepted to become visible
    /// [default: 3m]
    #[arg(
        long,
        help_heading = "Verification",
        env = "SCALE_TEST_VERIFY_TIMEOUT",
        value_name = "DURATION"
    )]
    pub verify_timeout: Option<String>,

    /// Read load beside ingestion: queries started per second (open model) against the
    /// target's read API: list recent traces, get one trace, search, count
    #[arg(long, help_heading = "Read load", env = "SCALE_TEST_QUERY_RATE", value_name = "N")]
    pub query_rate: Option<String>,
    /// Weights of the read operations [default: list=4,get=3,search=2,count=1]
    #[arg(long, help_heading = "Read load", env = "SCALE_TEST_QUERY_MIX", value_name = "MIX")]
    pub query_mix: Option<String>,

    /// Run only this scenario (repeatable: equal weights). Exclusive with --mix.
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_SCENARIOS", value_delimiter = ',')]
    pub scenario: Vec<String>,
    /// Weighted mix, `name=weight,...` [default: the reference mix 40/30/20/10]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_MIX")]
    pub mix: Option<String>,
    /// Weight of simple_query in the default mix [default: 0.4]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_MIX_SIMPLE",
        allow_hyphen_values = true
    )]
    pub mix_simple: Option<String>,
    /// Weight of single_service_search in the default mix [default: 0.3]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_MIX_SEARCH",
        allow_hyphen_values = true
    )]
    pub mix_search: Option<String>,
    /// Weight of delegated_booking in the default mix [default: 0.2]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_MIX_BOOKING",
        allow_hyphen_values = true
    )]
    pub mix_booking: Option<String>,
    /// Weight of multi_service_complex in the default mix [default: 0.1]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_MIX_COMPLEX",
        allow_hyphen_values = true
    )]
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
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_RAMP_UP", allow_hyphen_values = true)]
    pub ramp_up: Option<String>,
    /// k6-style stages `DURATION:RATE,...` from 0 traces/s, e.g. `30s:100,1m:100,10s:500`;
    /// sets the duration.
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_STAGES")]
    pub stages: Option<String>,
    /// real (latencies really waited) or synthetic (timestamps computed, no waiting)
    /// [default: real]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_CLOCK")]
    pub clock: Option<String>,
    /// Every simulated model, tool and retrieval latency lasts F times as long as declared
    /// (`3`: agents on models three times slower; think times between turns stay as declared);
    /// the default drain grows with it [default: 1]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_LATENCY_SCALE",
        value_name = "F",
        allow_hyphen_values = true
    )]
    pub latency_scale: Option<String>,
    /// Content seed: the same seed gives the same content (ids stay fresh) [default: random]
    #[arg(long, help_heading = "Workload", env = "SCALE_TEST_SEED", allow_hyphen_values = true)]
    pub seed: Option<String>,
    /// How long traces still running at the end may take to finish (0s: cancel them at once)
    /// [default: 60s]
    #[arg(
        long,
        help_heading = "Workload",
        env = "SCALE_TEST_DRAIN_TIMEOUT",
        allow_hyphen_values = true
    )]
    pub drain_timeout: Option<String>,

    /// Run part I of N of the plan (`0/3`, `1/3`, `2/3`): rate, --count and workers divided
    /// so that the N parts add up to the whole; `scaletest merge` combines the reports.
    #[arg(long, help_heading = "Sharding", value_name = "I/N")]
    pub shard: Option<String>,
    /// Number of shards; this one's index is JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(
        long,
        help_heading = "Sharding",
        env = "SCALE_TEST_SHARDS",
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub shards: Option<String>,
    /// The shard index with --shards, as Kubernetes sets it in an Indexed Job.
    #[arg(long, hide = true, env = "JOB_COMPLETION_INDEX", allow_hyphen_values = true)]
    pub job_completion_index: Option<String>,
    /// Wait until this instant before the first start, so that all shards start together:
    /// RFC 3339 (`2025-06-01T12:00:00Z`) or Unix seconds.
    #[arg(
        long,
        help_heading = "Sharding",
        env = "SCALE_TEST_START_AT",
        value_name = "TIME",
        allow_hyphen_values = true
    )]
    pub start_at: Option<String>,

    /// Write the report as JSON to this file (schema: docs/report-schema.md); checked writable
    /// before the run starts. `-`: to standard output (the text report then goes to standard
    /// error).
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_JSON", value_name = "FILE")]
    pub json: Option<OsString>,
    /// Write the report as one self-contained HTML page (charts over time; opens offline);
    /// checked writable before the run starts.
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_HTML", value_name = "FILE")]
    pub html: Option<OsString>,
    /// Length of one interval of the report's time series: `1s`, `500ms`, `10s` (at least
    /// 100ms) [default: 1s]
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_INTERVAL", value_name = "DURATION")]
    pub interval: Option<String>,
    /// Serve live counters and latency histograms in the Prometheus text format on this address
    /// (`/metrics`), e.g. `127.0.0.1:9464`; a bare port listens on 127.0.0.1.
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Pass/fail rule on a report metric, e.g. `export_p99_ms<500`; repeatable. Failing rules
    /// exit with code 3.
    #[arg(long, help_heading = "Report", env = "SCALE_TEST_THRESHOLDS", value_delimiter = ',')]
    pub threshold: Vec<String>,
    /// Evaluate thresholds every second and stop as soon as one fails.
    #[arg(
        long,
        help_heading = "Report",
        env = "SCALE_TEST_ABORT_ON_FAIL",
        value_parser = parse_switch
    )]
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

/// Whether a header's name says it carries a credential.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["authorization", "key", "token", "secret", "password", "cookie", "credential"]
        .iter()
        .any(|word| name.contains(word))
}

/// Validated settings of one run.
#[derive(Debug)]
pub struct Settings {
    /// `otlp` when unset.
    pub platform: PlatformId,
    /// The traces URL, if one was configured.
    pub endpoint: Option<String>,
    pub headers: Vec<Header>,
    pub protocol: Protocol,
    pub compression: Compression,
    pub exporter: ExportPath,
    pub request_timeout: Duration,
    pub max_requests: usize,
    /// `OTEL_SERVICE_NAME`; the emitter's default (`scaletest`) when unset.
    pub service_name: Option<String>,
    pub resource: Vec<(String, String)>,
    pub project: Option<String>,
    /// Whether `project` came from the `--project` flag (then it beats the platform's variable).
    pub project_from_flag: bool,
    /// `--experiment`: the MLflow experiment id.
    pub experiment: Option<String>,
    pub verify: VerifyMode,
    pub verify_timeout: Duration,
    /// `--query-rate`, `--query-mix`: the read load, if any.
    pub query: Option<scenario_runtime::engine::query::QueryPlan>,
    pub mix: Vec<(&'static dyn AnyScenario, f64)>,
    pub load: Load,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub clock: ClockKind,
    pub latency_scale: LatencyScale,
    pub seed: u64,
    pub drain_timeout: Duration,
    /// `-` ([`STDOUT`]): standard output.
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// Length of one interval of the time series.
    pub interval: Duration,
    /// Where to serve Prometheus metrics during the run.
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub thresholds: Vec<Threshold>,
    pub abort_on_fail: bool,
    /// `--shard I/N` (or `--shards N` with `JOB_COMPLETION_INDEX`): this run's part, and the
    /// settings' names and values for messages.
    pub shard: Option<ShardSetting>,
    /// `--start-at`.
    pub start_at: Option<std::time::SystemTime>,
}

/// Which shard to run, and what the user gave for it (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSetting {
    pub index: u32,
    pub count: u32,
    /// E.g. "--shard `1/3`" or "JOB_COMPLETION_INDEX `5` with SCALE_TEST_SHARDS (--shards) `3`".
    pub given: String,
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
    let explicit = explicit.or_else(|| {
        std::env::var_os("SCALETEST_ENV_FILE")
            .filter(|p| !p.to_string_lossy().trim().is_empty())
            .map(PathBuf::from)
    });
    let before: HashSet<OsString> = std::env::vars_os().map(|(name, _)| name).collect();
    let shown = explicit.as_ref().map_or_else(|| ".env".to_owned(), |p| p.display().to_string());
    let loaded = load_env_file_from(explicit);
    let set: HashSet<String> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| !before.contains(name))
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    if !set.is_empty() {
        let _ = ENV_FILE.set((shown, set));
    }
    loaded
}

fn load_env_file_from(explicit: Option<PathBuf>) -> Result<(), ConfigError> {
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

/// Where a value came from, lowest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Not given: the default applies.
    Default,
    /// A variable set by the `.env` file (or `--env-file`).
    EnvFile,
    /// A variable of the environment.
    Env,
    /// A command-line flag.
    Flag,
}

/// Variables the env file set (they were not in the environment before), with the file's path.
static ENV_FILE: OnceLock<(String, HashSet<String>)> = OnceLock::new();

/// Where each `run` argument's value came from, and the name of its variable. Related settings
/// (`--endpoint` and `--traces-endpoint`, `--stages` and `--rate`, `--mix` and `--scenario`, ...)
/// are resolved by source, so a flag beats a variable whatever the settings.
#[derive(Debug, Default)]
pub struct Sources {
    /// Source of every argument; `None` when unknown (present values then count as flags).
    known: Option<HashMap<String, Source>>,
    /// Environment variable of each argument that has one.
    vars: HashMap<String, String>,
    /// The env file, if one was read.
    env_file: Option<String>,
}

impl Sources {
    /// From this process's command line. The derived [`RunArgs`] keeps no sources, so the
    /// command line is parsed once more for them.
    pub fn from_process() -> Sources {
        use clap::CommandFactory;
        let matches = crate::Cli::command().try_get_matches_from(std::env::args_os()).ok();
        Sources::from_matches(matches.as_ref().and_then(|m| m.subcommand_matches("run")))
    }

    /// From the matches of `run` (`None`: sources unknown).
    pub fn from_matches(matches: Option<&clap::ArgMatches>) -> Sources {
        let command = <RunArgs as clap::Args>::augment_args(clap::Command::new("run"));
        let file = ENV_FILE.get();
        let mut known = HashMap::new();
        let mut vars = HashMap::new();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str().to_owned();
            let var = arg.get_env().map(|v| v.to_string_lossy().into_owned());
            if let Some(matches) = matches {
                let source = match matches.value_source(&id) {
                    Some(ValueSource::CommandLine) => Source::Flag,
                    Some(ValueSource::EnvVariable) => {
                        let from_file = file.is_some_and(|(_, names)| {
                            var.as_ref().is_some_and(|var| names.contains(var))
                        });
                        if from_file { Source::EnvFile } else { Source::Env }
                    }
                    _ => Source::Default,
                };
                known.insert(id.clone(), source);
            }
            if let Some(var) = var {
                vars.insert(id, var);
            }
        }
        Sources {
            known: matches.map(|_| known),
            vars,
            env_file: file.map(|(path, _)| path.clone()),
        }
    }

    fn of(&self, id: &str) -> Source {
        self.known.as_ref().map_or(Source::Flag, |k| k.get(id).copied().unwrap_or(Source::Default))
    }

    /// How messages name a setting: its flag, or its variable and flag when the value came from
    /// the environment or the env file.
    fn name(&self, id: &str, source: Source) -> String {
        let flag = format!("--{}", id.replace('_', "-"));
        match (source, self.vars.get(id)) {
            (Source::Env, Some(var)) => format!("{var} ({flag})"),
            (Source::EnvFile, Some(var)) => {
                let file = self.env_file.as_deref().unwrap_or(".env");
                format!("{var} ({flag}, from {file})")
            }
            _ => flag,
        }
    }
}

/// One setting as given: its text (a variable set to nothing or blanks counts as not set), its
/// source and its name for messages.
struct Val<'a> {
    text: Option<&'a str>,
    source: Source,
    name: String,
}

/// A repeatable setting as given.
struct List<'a> {
    items: Vec<&'a str>,
    source: Source,
    name: String,
}

impl Sources {
    fn val<'a>(&self, id: &str, field: &'a Option<String>) -> Val<'a> {
        let source = self.of(id);
        let text = field
            .as_deref()
            .filter(|t| !(matches!(source, Source::Env | Source::EnvFile) && t.trim().is_empty()));
        let source = if text.is_some() { source } else { Source::Default };
        Val { text, source, name: self.name(id, source) }
    }

    fn list<'a>(&self, id: &str, field: &'a [String]) -> List<'a> {
        let source = self.of(id);
        let mut items: Vec<&str> = field.iter().map(String::as_str).collect();
        if matches!(source, Source::Env | Source::EnvFile)
            && items.iter().all(|t| t.trim().is_empty())
        {
            items.clear();
        }
        let source = if items.is_empty() { Source::Default } else { source };
        List { items, source, name: self.name(id, source) }
    }
}

/// Parses `--abort-on-fail` and its variable: true/false (also 1/0, yes/no, on/off); a variable
/// set to nothing counts as not set.
fn parse_switch(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" | "off" => Ok(false),
        "true" | "1" | "yes" | "on" => Ok(true),
        _ => Err("expected true or false (--abort-on-fail, SCALE_TEST_ABORT_ON_FAIL)".to_owned()),
    }
}

/// Longest per-request timeout accepted, in milliseconds (one hour).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;

impl RunArgs {
    /// Validates everything into [`Settings`], with the sources of this process's command line.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        self.settings_with(&Sources::from_process())
    }

    /// Validates everything into [`Settings`]; `sources` says where each value came from.
    pub fn settings_with(&self, sources: &Sources) -> Result<Settings, ConfigError> {
        let s = sources;
        let platform_val = s.val("platform", &self.platform);
        let platform: PlatformId = match platform_val.text {
            None => PlatformId::Otlp,
            Some(text) => text.parse().map_err(|_| {
                ConfigError(format!(
                    "invalid {} `{text}`: expected one of {}",
                    platform_val.name,
                    PlatformId::names()
                ))
            })?,
        };
        let protocol_val = s.val("protocol", &self.protocol);
        let protocol: Protocol = match protocol_val.text {
            None => Protocol::HttpProtobuf,
            Some(text) => text.parse().map_err(|_| {
                ConfigError(format!(
                    "invalid {} `{}`: expected http/protobuf, http/json or grpc",
                    protocol_val.name,
                    text.trim()
                ))
            })?,
        };
        let compression_val = s.val("compression", &self.compression);
        let compression: Compression = match compression_val.text {
            None => Compression::Gzip,
            Some(text) => text.parse().map_err(|_| {
                ConfigError(format!(
                    "invalid {} `{}`: expected none, gzip or zstd",
                    compression_val.name,
                    text.trim()
                ))
            })?,
        };
        let grpc = protocol == Protocol::Grpc;
        // The full traces URL wins over the base URL given at the same level or below.
        let traces = s.val("traces_endpoint", &self.traces_endpoint);
        let base = s.val("endpoint", &self.endpoint);
        let endpoint = match (traces.text, base.text) {
            (Some(url), base_url) if base_url.is_none() || traces.source >= base.source => {
                check_url(&traces.name, url.trim())?;
                Some(url.trim().to_owned())
            }
            (_, Some(url)) => {
                check_url(&base.name, url.trim())?;
                Some(traces_url(url, grpc))
            }
            _ => None,
        };
        let mut headers = Vec::new();
        let list = s.val("headers", &self.headers);
        if let Some(text) = list.text {
            for (name, value) in parse_pairs(&list.name, text)? {
                headers.push(parse_header(&list.name, &format!("{name}={value}"))?);
            }
        }
        let header_list = s.list("header", &self.header);
        for text in &header_list.items {
            let header = parse_header(&header_list.name, text)?;
            headers.retain(|h: &Header| !h.name.eq_ignore_ascii_case(&header.name));
            headers.push(header);
        }
        let exporter_val = s.val("exporter", &self.exporter);
        let exporter: ExportPath = match exporter_val.text {
            None => ExportPath::Direct,
            Some(text) => text.parse().map_err(|_| {
                ConfigError(format!(
                    "invalid {} `{text}`: expected direct or sdk",
                    exporter_val.name
                ))
            })?,
        };
        let timeout = s.val("timeout_ms", &self.timeout_ms);
        let request_timeout = match timeout.text {
            Some(ms) => match ms.trim().parse::<u64>() {
                Ok(v) if v > 0 && v <= MAX_TIMEOUT_MS => Duration::from_millis(v),
                _ => {
                    return bad(format!(
                        "invalid {} `{ms}`: expected milliseconds from 1 to {MAX_TIMEOUT_MS} \
                         (one hour)",
                        timeout.name
                    ));
                }
            },
            None => Duration::from_secs(10),
        };
        let max_requests_val = s.val("max_requests", &self.max_requests);
        let max_requests = match max_requests_val.text {
            Some(n) => parse_concurrency(&max_requests_val.name, n)? as usize,
            None => 8,
        };
        let attributes = s.val("resource_attributes", &self.resource_attributes);
        let resource = match attributes.text {
            Some(list) => parse_pairs(&attributes.name, list)?,
            None => Vec::new(),
        };
        let clock_val = s.val("clock", &self.clock);
        let clock = match clock_val.text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
            None | Some("real") => ClockKind::Real,
            Some("synthetic") => ClockKind::Synthetic,
            Some(_) => {
                return bad(format!(
                    "invalid {} `{}`: expected real or synthetic",
                    clock_val.name,
                    clock_val.text.unwrap_or_default()
                ));
            }
        };
        let scale_val = s.val("latency_scale", &self.latency_scale);
        let latency_scale = match scale_val.text {
            None => LatencyScale::ONE,
            Some(text) => {
                text.trim().parse::<f64>().ok().and_then(LatencyScale::new).ok_or_else(|| {
                    ConfigError(format!(
                        "invalid {} `{text}`: expected a number above 0 and at most {}, such as \
                         `2` or `0.5`",
                        scale_val.name,
                        LatencyScale::MAX
                    ))
                })?
            }
        };
        let seed_val = s.val("seed", &self.seed);
        let seed = match seed_val.text {
            Some(text) => text.trim().parse::<u64>().map_err(|_| {
                ConfigError(format!(
                    "invalid {} `{text}`: expected a whole number 0 or more",
                    seed_val.name
                ))
            })?,
            None => random_seed(),
        };
        let mix = self.mix(s)?;
        let (load, duration, count) = self.load(s)?;
        let drain = s.val("drain_timeout", &self.drain_timeout);
        let drain_timeout = match drain.text {
            Some(text) => parse_duration_or_zero(&drain.name, text)?,
            // Traces last longer with slower latencies; so does the time they may need.
            None => DEFAULT_DRAIN.mul_f64(latency_scale.factor().max(1.0)),
        };
        let threshold_list = s.list("threshold", &self.threshold);
        let mut thresholds = Vec::new();
        for text in &threshold_list.items {
            if text.trim().is_empty() {
                return bad(format!(
                    "invalid {} `{text}`: expected METRIC OP NUMBER such as `export_p99_ms<500`",
                    threshold_list.name
                ));
            }
            let threshold = Threshold::parse(text, &scenarios::names()).map_err(|e| {
                match threshold_list.source {
                    Source::Env | Source::EnvFile => {
                        ConfigError(format!("{e} (in {})", threshold_list.name))
                    }
                    _ => ConfigError(e),
                }
            })?;
            thresholds.push(threshold);
        }
        let json = self.json_path(s)?;
        let html = self.report_path(s, "html", &self.html)?;
        let interval = self.interval(s)?;
        let metrics_listen = self.metrics_listen(s)?;
        let abort_on_fail = self.abort_on_fail;
        let verify = self.verify_mode(s)?;
        let timeout = s.val("verify_timeout", &self.verify_timeout);
        let verify_timeout = match timeout.text {
            Some(text) => parse_duration(&timeout.name, text)?,
            None => Duration::from_secs(180),
        };
        let query = self.query_plan(s, request_timeout)?;
        let project_val = s.val("project", &self.project);
        let project_from_flag = project_val.source == Source::Flag;
        let shard = self.shard_setting(s)?;
        let start_at = self.start_at(s)?;
        Ok(Settings {
            platform,
            endpoint,
            headers,
            protocol,
            compression,
            exporter,
            request_timeout,
            max_requests,
            service_name: s
                .val("service_name", &self.service_name)
                .text
                .filter(|t| !t.trim().is_empty())
                .map(|t| t.trim().to_owned()),
            resource,
            project: project_val.text.filter(|t| !t.trim().is_empty()).map(|t| t.trim().to_owned()),
            project_from_flag,
            experiment: self
                .experiment
                .as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(|t| t.trim().to_owned()),
            verify,
            verify_timeout,
            query,
            mix,
            load,
            duration,
            count,
            clock,
            latency_scale,
            seed,
            drain_timeout,
            json,
            html,
            interval,
            metrics_listen,
            thresholds,
            abort_on_fail,
            shard,
            start_at,
        })
    }

    /// `--shard I/N`, or `--shards N` (`SCALE_TEST_SHARDS`) with `JOB_COMPLETION_INDEX`; the
    /// two forms must agree on N. Index and count are checked against each other here, and
    /// against the plan (a shard with nothing to do) when the plan is divided.
    fn shard_setting(&self, s: &Sources) -> Result<Option<ShardSetting>, ConfigError> {
        let shard = s.val("shard", &self.shard);
        let shards = s.val("shards", &self.shards);
        let index = s.val("job_completion_index", &self.job_completion_index);
        let number = |name: &str, text: &str| {
            text.trim().parse::<u32>().map_err(|_| {
                ConfigError(format!(
                    "invalid {name} `{}`: expected a whole number 0 or more",
                    text.trim()
                ))
            })
        };
        let count = shards.text.map(|t| number(&shards.name, t)).transpose()?;
        let (index, count, given) = match (shard.text, count) {
            (Some(text), count) => {
                let parsed = text.trim().split_once('/').and_then(|(i, n)| {
                    Some((i.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?))
                });
                let Some((i, n)) = parsed else {
                    return bad(format!(
                        "invalid {} `{}`: expected I/N such as 0/3 (shard I of N, I from 0)",
                        shard.name,
                        text.trim()
                    ));
                };
                if let Some(count) = count.filter(|&c| c != n) {
                    return bad(format!(
                        "{} `{}` and {} `{count}` disagree on the number of shards: expected the same N in both, or only one of them",
                        shard.name,
                        text.trim(),
                        shards.name
                    ));
                }
                (i, n, format!("{} `{}`", shard.name, text.trim()))
            }
            (None, None) => return Ok(None),
            (None, Some(n)) => match index.text {
                Some(text) => (
                    number(&index.name, text)?,
                    n,
                    format!("{} `{}` with {} `{n}`", index.name, text.trim(), shards.name),
                ),
                None if n == 1 => (0, 1, format!("{} `1`", shards.name)),
                None => {
                    return bad(format!(
                        "{} `{n}` needs this shard's index: expected JOB_COMPLETION_INDEX (set \
                         by a Kubernetes Indexed Job) or --shard I/{n}",
                        shards.name
                    ));
                }
            },
        };
        if let Err(why) = scenario_runtime::engine::shard::ShardError::check(index, count) {
            return bad(format!("invalid {given}: {why}"));
        }
        Ok(Some(ShardSetting { index, count, given }))
    }

    /// `--start-at`: RFC 3339 (any offset) or Unix seconds (fractions allowed).
    fn start_at(&self, s: &Sources) -> Result<Option<std::time::SystemTime>, ConfigError> {
        let val = s.val("start_at", &self.start_at);
        let Some(text) = val.text.map(str::trim) else { return Ok(None) };
        let invalid = || {
            ConfigError(format!(
                "invalid {} `{text}`: expected an RFC 3339 time such as 2025-06-01T12:00:00Z \
                 or Unix seconds such as 1748779200",
                val.name
            ))
        };
        if let Ok(secs) = text.parse::<f64>() {
            if !(0.0..1e11).contains(&secs) {
                return Err(invalid());
            }
            return Ok(Some(std::time::UNIX_EPOCH + Duration::from_secs_f64(secs)));
        }
        let at: jiff::Timestamp = text.parse().map_err(|_| invalid())?;
        Ok(Some(std::time::SystemTime::from(at)))
    }

    /// `--verify WHEN`, `--no-verify`, `--verify-during`: one of them at most.
    fn verify_mode(&self, s: &Sources) -> Result<VerifyMode, ConfigError> {
        if self.no_verify && self.verify_during {
            return bad("both --no-verify and --verify-during given: expected one of them".into());
        }
        if self.no_verify {
            return Ok(VerifyMode::Off);
        }
        if self.verify_during {
            return Ok(VerifyMode::During);
        }
        let val = s.val("verify", &self.verify);
        match val.text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
            None | Some("on" | "yes" | "true" | "1" | "after") => Ok(VerifyMode::After),
            Some("during") => Ok(VerifyMode::During),
            Some("off" | "no" | "false" | "0") => Ok(VerifyMode::Off),
            Some(_) => bad(format!(
                "invalid {} `{}`: expected on, during or off",
                val.name,
                val.text.unwrap_or_default()
            )),
        }
    }

    /// `--json`: a path that can be written now, so that a long run does not end without its
    /// report.
    fn json_path(&self, s: &Sources) -> Result<Option<PathBuf>, ConfigError> {
        if self.json.as_deref().is_some_and(|p| p == STDOUT) {
            return Ok(Some(PathBuf::from(STDOUT)));
        }
        self.report_path(s, "json", &self.json)
    }

    /// `--query-rate` and `--query-mix`; the queries time out like export requests.
    fn query_plan(
        &self,
        s: &Sources,
        timeout: Duration,
    ) -> Result<Option<scenario_runtime::engine::query::QueryPlan>, ConfigError> {
        use scenario_runtime::engine::query::{QueryMix, QueryPlan};
        let rate_val = s.val("query_rate", &self.query_rate);
        let mix_val = s.val("query_mix", &self.query_mix);
        let Some(text) = rate_val.text else {
            return match mix_val.text {
                Some(_) => bad(format!("{} needs --query-rate: no read load is set", mix_val.name)),
                None => Ok(None),
            };
        };
        let rate = match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 && v <= 10_000.0 => v,
            _ => {
                return bad(format!(
                    "invalid {} `{text}`: expected a number of queries/s greater than 0 and at \
                     most 10000",
                    rate_val.name
                ));
            }
        };
        let mut plan = QueryPlan::new(rate);
        plan.timeout = timeout;
        if let Some(mix) = mix_val.text {
            plan.mix = QueryMix::parse(mix)
                .map_err(|e| ConfigError(format!("invalid {} `{mix}`: {e}", mix_val.name)))?;
        }
        Ok(Some(plan))
    }

    /// `--interval`: a duration from [`series::MIN_INTERVAL`] to an hour.
    fn interval(&self, s: &Sources) -> Result<Duration, ConfigError> {
        let val = s.val("interval", &self.interval);
        let Some(text) = val.text else { return Ok(series::DEFAULT_INTERVAL) };
        match scenario_runtime::units::parse_duration(text) {
            Ok(d) if d >= series::MIN_INTERVAL && d <= Duration::from_secs(3600) => Ok(d),
            Ok(_) => bad(format!(
                "invalid {} `{}`: expected a duration from 100ms to 1h such as 1s or 10s",
                val.name,
                text.trim()
            )),
            Err(e) => bad(format!("invalid {} `{}`: {e}", val.name, text.trim())),
        }
    }

    /// `--metrics-listen`: `HOST:PORT`, or a bare port on 127.0.0.1.
    fn metrics_listen(&self, s: &Sources) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let val = s.val("metrics_listen", &self.metrics_listen);
        let Some(text) = val.text else { return Ok(None) };
        let t = text.trim();
        let parsed = match t.parse::<u16>() {
            Ok(port) => Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
            Err(_) => t.parse::<std::net::SocketAddr>(),
        };
        parsed.map(Some).map_err(|_| {
            ConfigError(format!(
                "invalid {} `{t}`: expected an address such as 127.0.0.1:9464 or a port",
                val.name
            ))
        })
    }

    /// A report file (`--json`, `--html`) that can be written now, so that a long run does not
    /// end without its report.
    fn report_path(
        &self,
        s: &Sources,
        id: &str,
        given: &Option<OsString>,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let source = s.of(id);
        let Some(path) = given else { return Ok(None) };
        let from_env = matches!(source, Source::Env | Source::EnvFile);
        if from_env && path.to_string_lossy().trim().is_empty() {
            return Ok(None);
        }
        let name = s.name(id, source);
        let path = PathBuf::from(path);
        if path.as_os_str().is_empty() {
            return bad(format!("invalid {name} ``: expected the path of a file to write"));
        }
        let writable = if path.exists() {
            std::fs::OpenOptions::new().append(true).open(&path).map(drop)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .and_then(|_| std::fs::remove_file(&path))
        };
        if let Err(e) = writable {
            return bad(format!(
                "invalid {name} `{}`: cannot write it ({e}); expected the path of a file that \
                 can be created or overwritten",
                path.display()
            ));
        }
        Ok(Some(path))
    }

    /// The load model, resolved by source: the closed model when `--concurrency` is given at a
    /// higher level than any rate or stages; otherwise stages or rate, whichever comes from the
    /// higher level (stages at the same level).
    fn load(&self, s: &Sources) -> Result<(Load, Option<Duration>, Option<u64>), ConfigError> {
        let rate = s.val("rate", &self.rate);
        let stages = s.val("stages", &self.stages);
        let duration = s.val("duration", &self.duration);
        let ramp_up = s.val("ramp_up", &self.ramp_up);
        let concurrency = s.val("concurrency", &self.concurrency);
        let max_in_flight = s.val("max_in_flight", &self.max_in_flight);
        let count = s.val("count", &self.count);

        if stages.source == Source::Flag {
            for other in [&rate, &duration, &ramp_up] {
                if other.source == Source::Flag {
                    return bad(format!(
                        "both --stages and {} given: the stages set the rate and the duration; \
                         expected one of them",
                        other.name
                    ));
                }
            }
        }
        let closed =
            concurrency.text.is_some() && concurrency.source > rate.source.max(stages.source);
        let use_stages = !closed
            && stages.text.is_some()
            && stages.source >= rate.source.max(duration.source).max(ramp_up.source);

        let concurrency_n =
            concurrency.text.map(|c| parse_concurrency(&concurrency.name, c)).transpose()?;
        let max_in_flight_n =
            max_in_flight.text.map(|c| parse_concurrency(&max_in_flight.name, c)).transpose()?;
        let count_n = count.text.map(|c| parse_positive_u64(&count.name, c)).transpose()?;
        let (rate_n, stage_list, ramp, mut total) = if use_stages {
            let list = parse_stages(&stages.name, stages.text.unwrap_or_default())?;
            let total: Duration = list.iter().map(|s| s.duration).sum();
            (None, list, None, Some(total))
        } else {
            let rate_n = if closed {
                None
            } else {
                rate.text.map(|r| parse_rate(&rate.name, r)).transpose()?
            };
            let ramp = ramp_up.text.map(|r| parse_duration(&ramp_up.name, r)).transpose()?;
            let total = duration.text.map(|d| parse_duration(&duration.name, d)).transpose()?;
            (rate_n, Vec::new(), ramp, total)
        };
        if total.is_none() && count_n.is_none() {
            total = Some(DEFAULT_DURATION);
        }
        if let (Some(ramp), Some(total)) = (ramp, total)
            && ramp > total
        {
            return bad(format!(
                "invalid {} `{}`: expected at most the duration ({total:?})",
                ramp_up.name,
                ramp_up.text.unwrap_or_default()
            ));
        }
        if closed && max_in_flight.text.is_some() && max_in_flight.source >= concurrency.source {
            return bad(format!(
                "both {} and {} given without a rate: {} alone runs the closed model (N \
                 looping workers), where {} does not apply; expected --rate or --stages with it, \
                 or no {}",
                concurrency.name,
                max_in_flight.name,
                concurrency.name,
                max_in_flight.name,
                max_in_flight.name
            ));
        }
        let load = if closed {
            Load::Closed {
                workers: concurrency_n.unwrap_or(1) as usize,
                ramp_up: ramp.unwrap_or(Duration::ZERO),
                max_pending_spans: None,
            }
        } else {
            let plan = if stage_list.is_empty() {
                RatePlan::ramp_up(rate_n.unwrap_or(DEFAULT_RATE), ramp.unwrap_or(Duration::ZERO))
            } else {
                RatePlan::stages(stage_list)
            };
            let cap = if max_in_flight.text.is_some() { max_in_flight_n } else { concurrency_n };
            Load::Open { plan, max_in_flight: cap.map(|n| n as usize) }
        };
        Ok((load, total, count_n))
    }

    /// The scenario mix, resolved by source: `--scenario`, `--mix` or the reference mix's
    /// weights, whichever comes from the highest level.
    fn mix(&self, s: &Sources) -> Result<Vec<(&'static dyn AnyScenario, f64)>, ConfigError> {
        let scenario = s.list("scenario", &self.scenario);
        let mix = s.val("mix", &self.mix);
        let fields = [&self.mix_simple, &self.mix_search, &self.mix_booking, &self.mix_complex];
        let ids = ["mix_simple", "mix_search", "mix_booking", "mix_complex"];
        let weights: Vec<Val<'_>> = ids.iter().zip(fields).map(|(id, f)| s.val(id, f)).collect();
        let weights_source = weights.iter().map(|w| w.source).max().unwrap_or(Source::Default);
        let both = |a: &str, b: &str| {
            bad(format!(
                "both {a} and {b} given: expected one of them (--mix weights any scenarios, \
                 --scenario runs the named ones equally, --mix-simple and the like change the \
                 reference mix)"
            ))
        };
        if scenario.source == Source::Flag && mix.source == Source::Flag {
            return both("--scenario", "--mix");
        }
        if let Some(weight) = weights.iter().find(|w| w.source == Source::Flag) {
            for (source, flag) in [(scenario.source, "--scenario"), (mix.source, "--mix")] {
                if source == Source::Flag {
                    return both(flag, &weight.name);
                }
            }
        }
        let top = scenario.source.max(mix.source).max(weights_source);
        if top > Source::Default && scenario.source == top && mix.source == top {
            return both(&scenario.name, &mix.name);
        }
        if top > Source::Default && scenario.source == top {
            return parse_scenarios(&scenario.name, &scenario.items);
        }
        if top > Source::Default && mix.source == top {
            return parse_mix(&mix.name, mix.text.unwrap_or_default());
        }
        let mut out = Vec::new();
        for ((_, name, default), weight) in REFERENCE_MIX.iter().zip(&weights) {
            let value = match weight.text {
                Some(text) => match text.trim().parse::<f64>() {
                    Ok(w) if w.is_finite() && w >= 0.0 => w,
                    _ => {
                        return bad(format!(
                            "invalid {} `{text}`: expected a weight, 0 or more",
                            weight.name
                        ));
                    }
                },
                None => *default,
            };
            if value > 0.0 {
                out.push((find_scenario("--mix-*", name)?, value));
            }
        }
        if out.is_empty() {
            let given: Vec<&str> = weights.iter().map(|w| w.name.as_str()).collect();
            return bad(format!(
                "invalid reference mix weights ({}): they sum to 0; expected at least one weight \
                 above 0",
                given.join(", ")
            ));
        }
        Ok(out)
    }
}

/// Parses `--scenario` names: each once, none empty.
fn parse_scenarios(
    what: &str,
    names: &[&str],
) -> Result<Vec<(&'static dyn AnyScenario, f64)>, ConfigError> {
    let mut out: Vec<(&'static dyn AnyScenario, f64)> = Vec::new();
    for name in names {
        if name.trim().is_empty() {
            return bad(format!(
                "invalid {what} `{}`: an empty scenario name; expected one of {}",
                names.join(","),
                known_scenarios()
            ));
        }
        let scenario = find_scenario(what, name)?;
        if out.iter().any(|(s, _)| s.meta().name == scenario.meta().name) {
            return bad(format!(
                "invalid {what}: `{}` given twice; expected each scenario once (--mix sets \
                 weights)",
                name.trim()
            ));
        }
        out.push((scenario, 1.0));
    }
    Ok(out)
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
        assert_eq!(parse_duration_or_zero("d", "0s"), Ok(Duration::ZERO));
        assert!(parse_duration_or_zero("d", "-1s").is_err());
        for bad in ["", "0", "-3s", "ten", "5x", "NaN"] {
            let err = parse_duration("--duration", bad).unwrap_err().0;
            assert!(err.contains(&format!("`{bad}`")) && err.contains("expected"), "{err}");
        }
    }

    #[test]
    fn headers() {
        let h =
            parse_header("--header", "x-api-key: lsv2_abc").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((h.name.as_str(), h.value.as_str(), h.secret), ("x-api-key", "lsv2_abc", true));
        let h = parse_header("--header", "Langsmith-Project=scale")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!h.secret && h.value == "scale");
        assert!(
            format!("{:?}", parse_header("--header", "Authorization=Bearer s3cr3t"))
                .contains("redacted")
        );
        assert!(
            !format!("{:?}", parse_header("--header", "Authorization=Bearer s3cr3t"))
                .contains("s3cr3t")
        );
        assert!(parse_header("--header", "no separator").is_err());
        let err = parse_header("--header", "Bearer sk-live-1234567890").unwrap_err().0;
        assert!(err.contains("`Bearer...`") && !err.contains("sk-live"), "{err}");
        assert!(parse_header("--header", "bad name=1").is_err());
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
        assert_eq!(traces_url("http://h:1?key=X", false), "http://h:1/v1/traces?key=X");
        assert_eq!(traces_url("http://h:1/otel/?k=1#f", false), "http://h:1/otel/v1/traces?k=1#f");
        assert_eq!(traces_url("http://h:1/v1/traces?k=1", false), "http://h:1/v1/traces?k=1");
    }

    #[test]
    fn the_default_drain_grows_with_the_latency_scale_and_a_given_one_stays() {
        let sources = Sources { known: None, vars: HashMap::new(), env_file: None };
        let settings = |scale: Option<&str>, drain: Option<&str>| {
            let args = RunArgs {
                latency_scale: scale.map(str::to_owned),
                drain_timeout: drain.map(str::to_owned),
                ..RunArgs::default()
            };
            args.settings_with(&sources).unwrap_or_else(|e| unreachable!("{e}"))
        };
        let declared = settings(None, None);
        assert_eq!(
            (declared.latency_scale, declared.drain_timeout),
            (LatencyScale::ONE, DEFAULT_DRAIN)
        );
        let slower = settings(Some("3"), None);
        assert_eq!(slower.latency_scale.factor(), 3.0);
        assert_eq!(slower.drain_timeout, DEFAULT_DRAIN * 3);
        // Faster agents keep the whole default; a drain given is the user's.
        assert_eq!(settings(Some("0.25"), None).drain_timeout, DEFAULT_DRAIN);
        assert_eq!(settings(Some("3"), Some("5s")).drain_timeout, Duration::from_secs(5));
    }

    #[test]
    fn stages() {
        let s = parse_stages("--stages", "30s:100, 1m:100,10s:0").unwrap_or_default();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].duration, Duration::from_secs(60));
        assert!(parse_stages("--stages", "30s").is_err());
        assert!(parse_stages("--stages", "30s:-1").is_err());
        assert!(parse_stages("--stages", "10s:0").is_err());
        let err = parse_stages("--stages", "1s:10,,1s:5").unwrap_err().0;
        assert!(err.contains("empty stage") && err.contains("`1s:10,,1s:5`"), "{err}");
    }
}
