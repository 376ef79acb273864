//! Read-back verification: what a backend *stored*, not just what it *accepted*.
//!
//! A 2xx (gRPC OK) from an OTLP endpoint means the backend took the request; it says nothing of
//! whether the spans can be read back, when, or in what shape. This module asks each platform's
//! read API and reports only what it observed:
//!
//! - [`ReadApi`]: one platform's read API: count what is visible in a time window of the run's
//!   project ([`ReadApi::count`], which units each platform can count is in [`Countable`]), and
//!   fetch one trace whole by its OpenTelemetry trace id ([`ReadApi::fetch_trace`]).
//! - [`read_api`]: builds the client for a platform from the same [`PlatformSettings`] the
//!   exporter uses, or says why storage cannot be verified there ([`Unverifiable`]: the generic
//!   OTLP endpoint, Datadog, console).
//! - [`Ledger`]: what the run sent, filled by the engine as acknowledgements arrive.
//! - [`Verifier`]: polls counts until everything accepted is visible or the [`Budget`] ends,
//!   optionally during the run too ([`Verifier::watch`]), checks a sample of traces whole and
//!   returns a [`Verification`] (serde-serializable) with ingestion lag, missing and rootless
//!   traces, span kinds and tokens, storage throughput and every read error by class.
//!
//! What each platform can observe:
//!
//! | platform | counts | whole trace by OTel id | source |
//! |---|---|---|---|
//! | Phoenix | spans and traces (GraphQL `recordCount`, `traceCount` with a time range) | REST `GET /v1/projects/{name}/spans?trace_id=` | `phoenix/server/api` |
//! | MLflow | traces (`POST /api/3.0/mlflow/traces/search`, paged) | `GET /api/3.0/mlflow/traces/get?trace_id=tr-<hex>` | `mlflow/server/handlers.py` |
//! | Langfuse | spans (v2 metrics, `observations` view) | v2 observations `?traceId=<hex>` | Langfuse public API v2 |
//! | LangSmith | spans and root runs (`POST /api/v1/runs/query`, paged) | runs/query `trace=<uuid of the id>` | LangSmith API |
//! | Braintrust | spans and traces (BTQL `count(*)`) | BTQL `WHERE root_span_id = '<hex>'` | Braintrust SQL reference |
//! | Opik | spans and traces (`total` of the private lists) | no: Opik re-keys OTel ids as UUIDv7 | Opik `OpenTelemetryMapper` |
//! | Weave | spans and root calls (`POST /calls/query_stats`) | `POST /calls/stream_query` by trace id | Weave trace server API |
//!
//! Counts are of the whole project within the window: a project shared with other traffic in
//! the same window inflates them. Give a verified run a project (experiment) of its own.
//!
//! ```no_run
//! # async fn example(settings: scenario_runtime::platform::PlatformSettings) {
//! use std::sync::Arc;
//! use scenario_runtime::engine::verify::{Budget, Ledger, ReadOptions, Verifier, read_api};
//! use scenario_runtime::platform::PlatformId;
//!
//! let api = read_api(PlatformId::Phoenix, &settings, &ReadOptions::default()).unwrap();
//! let verifier = Verifier::new(api, Budget::default());
//! let watch = verifier.watch(verifier.now_ms()); // optional: observe during the run
//! let mut ledger = Ledger::new();
//! // For every acknowledged request, per trace in it:
//! ledger.accept([7; 16], 5, true, verifier.now_ms(), verifier.now_ms());
//! let result = verifier.verify(&ledger, Some(watch)).await;
//! println!("{}", serde_json::to_string_pretty(&result).unwrap());
//! # }
//! ```

mod braintrust;
mod driver;
pub(crate) mod http;
mod langfuse;
mod langsmith;
mod ledger;
mod measure;
mod mlflow;
mod opik;
mod phoenix;
mod sink;
mod weave;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use braintrust::Braintrust;
pub use driver::{
    Budget, Outcome, Rootless, Sample, SpanCountDiff, Verification, Verifier, Watch,
    WholeTraceCheck,
};
pub use langfuse::Langfuse;
pub use langsmith::Langsmith;
pub use ledger::{Ledger, SentTrace, TraceId};
pub use measure::{Lag, LagUnit, Throughput};
pub use mlflow::{Mlflow, create_experiment as create_mlflow_experiment};
pub use opik::Opik;
pub use phoenix::Phoenix;
pub use sink::EmbeddedSink;
pub use weave::Weave;

pub(crate) use langsmith::uuid as langsmith_uuid;
pub(crate) use phoenix::COUNT_QUERY as PHOENIX_COUNT_QUERY;

use crate::platform::{PlatformId, PlatformSettings};

/// Which units a platform's [`ReadApi::count`] observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Countable {
    pub spans: bool,
    pub traces: bool,
}

/// What was visible in the window at one moment. `None`: this unit is not counted (or the count
/// failed); never 0 for "unknown".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub spans: Option<u64>,
    pub traces: Option<u64>,
}

/// A span start-time window, Unix milliseconds, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start_ms: u64,
    pub end_ms: u64,
}

/// One trace as the backend stored it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTrace {
    /// Spans found.
    pub spans: u64,
    /// Spans without a parent.
    pub roots: u64,
    /// Span kinds as the backend assigned them (`AGENT`, `LLM`, `TOOL`, ... upper-cased), with
    /// how many spans have each. Spans the backend gave no kind are not counted here.
    pub kinds: BTreeMap<String, u64>,
    /// Input (prompt) tokens summed over the spans that expose them; `None` if none does.
    pub input_tokens: Option<u64>,
    /// Output (completion) tokens, likewise.
    pub output_tokens: Option<u64>,
}

impl StoredTrace {
    /// Adds one span's facts.
    pub(crate) fn add_span(
        &mut self,
        is_root: bool,
        kind: Option<&str>,
        input_tokens: Option<u64>,
        output_tokens: Option<u64>,
    ) {
        self.spans += 1;
        self.roots += u64::from(is_root);
        if let Some(kind) = kind.map(str::trim).filter(|k| !k.is_empty()) {
            *self.kinds.entry(kind.to_ascii_uppercase()).or_default() += 1;
        }
        if let Some(n) = input_tokens {
            *self.input_tokens.get_or_insert(0) += n;
        }
        if let Some(n) = output_tokens {
            *self.output_tokens.get_or_insert(0) += n;
        }
    }
}

/// A platform's read API.
///
/// Implementations pace their own requests (see [`ReadOptions::min_request_gap`]) and, after a
/// 429 or 503 with `Retry-After`, send nothing to that backend before the wait is over; they
/// report the throttling as [`ReadError::RateLimited`] and leave retrying to the caller.
#[async_trait::async_trait]
pub trait ReadApi: Send + Sync + fmt::Debug {
    fn platform(&self) -> PlatformId;

    /// The units [`ReadApi::count`] observes.
    fn countable(&self) -> Countable;

    /// Why whole traces cannot be fetched by their OTel id, if they cannot.
    fn trace_lookup_unsupported(&self) -> Option<&'static str> {
        None
    }

    /// Smallest interval between two counts the platform's documented limits allow.
    fn min_poll_interval(&self) -> Duration {
        Duration::ZERO
    }

    /// Spans and/or traces visible in the run's project whose start time is in `window`.
    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError>;

    /// The trace with OpenTelemetry id `trace_id`, or `None` if the backend has no such trace.
    /// `window` bounds the search where the API needs one.
    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError>;
}

/// Why a read failed. Messages never contain a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// 401/403: the key is wrong, lacks read scope, or is missing.
    Auth {
        status: u16,
        detail: String,
    },
    /// 429 (or 503), with the wait the backend asked for.
    RateLimited {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// 404: project, experiment or route not found.
    NotFound(String),
    /// Any other non-2xx answer.
    Status {
        status: u16,
        detail: String,
    },
    Timeout,
    Connect(String),
    Io(String),
    /// The answer was not the JSON the platform documents.
    Decode(String),
    /// The client could not be built (bad URL, bad header value).
    Config(String),
    /// The platform's read API cannot answer this question.
    Unsupported(&'static str),
}

impl ReadError {
    /// A short class for counting: `auth`, `rate_limited`, `not_found`, `http_4xx`, `http_5xx`,
    /// `timeout`, `connect`, `io`, `decode`, `config`, `unsupported`.
    pub fn class(&self) -> &'static str {
        match self {
            ReadError::Auth { .. } => "auth",
            ReadError::RateLimited { .. } => "rate_limited",
            ReadError::NotFound(_) => "not_found",
            ReadError::Status { status: 500.., .. } => "http_5xx",
            ReadError::Status { .. } => "http_4xx",
            ReadError::Timeout => "timeout",
            ReadError::Connect(_) => "connect",
            ReadError::Io(_) => "io",
            ReadError::Decode(_) => "decode",
            ReadError::Config(_) => "config",
            ReadError::Unsupported(_) => "unsupported",
        }
    }

    /// Whether asking again cannot help (wrong key, bad configuration, unsupported question).
    pub fn is_fatal(&self) -> bool {
        matches!(self, ReadError::Auth { .. } | ReadError::Config(_) | ReadError::Unsupported(_))
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Auth { status, detail } => write!(
                f,
                "read API refused the credentials (HTTP {status}): check the key and its read \
                 permission; {detail}"
            ),
            ReadError::RateLimited { status, retry_after: Some(wait) } => {
                write!(f, "rate limited (HTTP {status}), asked to wait {} ms", wait.as_millis())
            }
            ReadError::RateLimited { status, retry_after: None } => {
                write!(f, "rate limited (HTTP {status}) without Retry-After")
            }
            ReadError::NotFound(what) => write!(f, "not found (HTTP 404): {what}"),
            ReadError::Status { status, detail } => write!(f, "HTTP {status}: {detail}"),
            ReadError::Timeout => f.write_str("read request timed out"),
            ReadError::Connect(e) => write!(f, "could not connect to the read API: {e}"),
            ReadError::Io(e) => write!(f, "read request failed: {e}"),
            ReadError::Decode(e) => write!(f, "unexpected answer from the read API: {e}"),
            ReadError::Config(e) => write!(f, "read API settings: {e}"),
            ReadError::Unsupported(why) => write!(f, "not supported: {why}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Why a platform's storage cannot be verified: the verification then says so instead of
/// reporting figures it did not observe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unverifiable {
    pub platform: PlatformId,
    pub reason: String,
}

impl fmt::Display for Unverifiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage not verified on `{}`: {}", self.platform, self.reason)
    }
}

impl std::error::Error for Unverifiable {}

/// How read clients talk to their backend.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Smallest gap between two requests to the backend; `None`: the platform's default
    /// (see each client's `DEFAULT_GAP`, chosen from its documented rate limits).
    pub min_request_gap: Option<Duration>,
    /// Per request.
    pub request_timeout: Duration,
    /// Base URL of the read API when it differs from the one the settings give (tests, proxies).
    pub base_url: Option<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { min_request_gap: None, request_timeout: Duration::from_secs(30), base_url: None }
    }
}

/// The client of `platform`'s read API, as the trait object the caller asks for (the read-back's
/// [`ReadApi`] or the read load's `QueryApi`: each client serves both). For the platforms with
/// a read API; the others are the caller's to refuse first.
macro_rules! platform_client {
    ($platform:expr, $settings:expr, $options:expr) => {
        match $platform {
            PlatformId::Phoenix => {
                Phoenix::from_settings($settings, $options).map(|c| Arc::new(c) as _)
            }
            PlatformId::Mlflow => {
                Mlflow::from_settings($settings, $options).map(|c| Arc::new(c) as _)
            }
            PlatformId::Langfuse => {
                Langfuse::from_settings($settings, $options).map(|c| Arc::new(c) as _)
            }
            PlatformId::Langsmith => {
                Langsmith::from_settings($settings, $options).map(|c| Arc::new(c) as _)
            }
            PlatformId::Braintrust => {
                Braintrust::from_settings($settings, $options).map(|c| Arc::new(c) as _)
            }
            PlatformId::Opik => Opik::from_settings($settings, $options).map(|c| Arc::new(c) as _),
            PlatformId::Weave => {
                Weave::from_settings($settings, $options).map(|c| Arc::new(c) as _)
            }
            PlatformId::Console | PlatformId::Otlp | PlatformId::Datadog => {
                Err(ReadError::Config(format!("`{}` has no read API", $platform.name())))
            }
        }
    };
}
pub(crate) use platform_client;

/// The read API of `platform`, configured from the same settings as its exporter, or why its
/// storage cannot be verified (generic OTLP, Datadog, console), or a setting it lacks.
pub fn read_api(
    platform: PlatformId,
    settings: &PlatformSettings,
    options: &ReadOptions,
) -> Result<Arc<dyn ReadApi>, Unverifiable> {
    let unverifiable = |reason: String| Unverifiable { platform, reason };
    let built: Result<Arc<dyn ReadApi>, ReadError> = match platform {
        PlatformId::Console => {
            return Err(unverifiable(
                "the console platform prints traces and sends nothing".into(),
            ));
        }
        PlatformId::Otlp => {
            return Err(unverifiable(
                "a generic OTLP endpoint has no read API; only the embedded sink's delivery \
                 figures are read back"
                    .into(),
            ));
        }
        PlatformId::Datadog => {
            return Err(unverifiable(
                "Datadog LLM Observability's span search needs an application key besides the \
                 API key and is in preview; scaletest does not read it back"
                    .into(),
            ));
        }
        _ => platform_client!(platform, settings, options),
    };
    built.map_err(|e| unverifiable(e.to_string()))
}

/// A required setting for a read client, or a configuration error naming its variable.
pub(crate) fn required<'a>(value: &'a Option<String>, var: &str) -> Result<&'a str, ReadError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ReadError::Config(format!("{var} is not set")))
}

/// The project name as the profiles resolve it (default `scaletest`).
pub(crate) fn project_name(settings: &PlatformSettings) -> String {
    settings
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(crate::platform::DEFAULT_PROJECT)
        .to_owned()
}

/// The base URL: the options' override, else the settings', else `default`.
pub(crate) fn base_url(
    settings: &PlatformSettings,
    options: &ReadOptions,
    default: &str,
) -> String {
    options
        .base_url
        .as_deref()
        .or(settings.base_url.as_deref())
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_owned()
}

#[cfg(test)]
mod tests;
