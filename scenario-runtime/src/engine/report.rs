//! The report of a load run as plain data, and its one assembly from measurements.
//!
//! One serde struct, computed once by [`build`] from the run's (possibly merged)
//! [`Measurements`], rendered as text by the CLI and written as JSON by `--json`. The JSON is a
//! contract: `docs/report-schema.md` documents every field and its unit, and a test checks the
//! written file against it. Units are in the field names (`_ms`, `_s`, `_bytes`, `_per_s`)
//! wherever a number has one. Secrets never enter this struct: the configuration part holds
//! header names only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::measure::Measurements;
use crate::latency::LatencyScale;

/// Version of the JSON layout; bumped when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 2;

/// How the run ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Ran for its whole duration or count.
    #[default]
    Completed,
    /// Stopped early by Ctrl-C.
    Interrupted,
    /// Stopped early because a threshold failed (`--abort-on-fail`).
    Aborted,
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub status: RunStatus,
    pub config: RunConfig,
    /// Seconds from the first scheduled start until the last trace ended (or the drain timed
    /// out); the export shutdown that follows is not counted.
    pub duration_s: f64,
    pub traces: Traces,
    pub throughput: Throughput,
    /// Scenario latency from each trace's intended start to its end, all scenarios.
    pub scenario_latency: Percentiles,
    /// Delay between a trace's intended and actual start.
    pub start_lag: Percentiles,
    /// Export request latency from send to acknowledgement (retries included).
    pub export_latency: Percentiles,
    pub spans: Spans,
    pub requests: Requests,
    pub bytes: Bytes,
    pub scenarios: Vec<ScenarioReport>,
    /// What the embedded sink received; absent when the target is an external endpoint.
    pub delivery: Option<Delivery>,
    /// What the backend stored, read back through its read API (the embedded sink's own counts
    /// for the embedded sink); `None` with `--no-verify`.
    pub verification: Option<crate::engine::verify::Verification>,
    /// What an instrumented application would see (`--exporter sdk` only).
    pub sdk: Option<SdkReport>,
    pub generator: Generator,
    pub thresholds: Vec<ThresholdResult>,
    /// Findings worth a reader's attention (spans lost, late starts, ...), as codes with data.
    pub notes: Vec<Note>,
    /// The counters and histograms everything above was computed from, for an exact merge of
    /// several processes' reports.
    pub measurements: Measurements,
    /// Which part of a sharded run this report is; `None` for a whole run (and for a merge).
    #[serde(default)]
    pub shard: Option<crate::engine::shard::ShardId>,
    /// Identity of the whole plan's load ([`crate::engine::shard::identity`]): reports merge
    /// only when theirs are equal.
    #[serde(default)]
    pub plan_id: String,
    /// `--start-at`: when the run was to start, and how late it did.
    #[serde(default)]
    pub start_at: Option<StartAt>,
    /// A merged report: each shard's own figures, by index (empty otherwise).
    #[serde(default)]
    pub shards: Vec<ShardSummary>,
    /// CPU and memory of the processes a suite started for the run (the backend), sampled
    /// from `/proc` every second; `None` outside a suite.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Read load beside ingestion (`--query-rate`); `None` without it.
    #[serde(default)]
    pub queries: Option<Queries>,
}

/// What the components of a suite used while the run went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Time between samples, milliseconds.
    pub interval_ms: u64,
    /// One entry per component, in the suite's order.
    pub components: Vec<ComponentResources>,
}

/// One component's process tree (its process and every descendant), sampled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentResources {
    pub name: String,
    /// Process id of the component's own process.
    pub pid: u32,
    /// CPU cores used over each sample's interval (1.0: one core busy all the time).
    pub cpu_cores: MinMeanMax,
    /// Resident memory of the whole tree.
    pub rss_bytes: MinMeanMax,
    /// Every sample, in time order.
    pub samples: Vec<ResourceSample>,
}

/// Lowest, mean and highest of a component's samples (all 0 without samples).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MinMeanMax {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

impl MinMeanMax {
    /// Of `values` (zeros when empty).
    pub fn of(values: impl IntoIterator<Item = f64>) -> MinMeanMax {
        let (mut min, mut max, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0u64);
        for v in values {
            min = min.min(v);
            max = max.max(v);
            sum += v;
            n += 1;
        }
        if n == 0 { MinMeanMax::default() } else { MinMeanMax { min, mean: sum / n as f64, max } }
    }
}

/// One sample of a process tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceSample {
    /// When it was taken, Unix milliseconds (compare with the series rows' `start_unix_ms`).
    pub unix_ms: u64,
    /// CPU cores used since the previous sample.
    pub cpu_cores: f64,
    pub rss_bytes: u64,
    /// Processes in the tree.
    pub processes: u32,
}

/// The read load (`--query-rate`) and what each operation measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Queries {
    /// Queries started per second, as asked.
    pub target_rate_per_s: f64,
    /// Seconds queries were started: from the first start until the export shutdown ended
    /// (merged: the longest shard's).
    pub duration_s: f64,
    /// Weights as given (`list=4,get=3,search=2,count=1`), operations the platform lacks left
    /// out.
    pub mix: String,
    /// How far back each query looks, seconds (never before a minute before the run began).
    pub window_s: f64,
    /// Rows a list or search asks for.
    pub page_rows: u32,
    /// Per operation, in `list`, `get`, `search`, `count` order.
    pub operations: Vec<QueryReport>,
    /// Operations the platform cannot run, and why.
    pub unsupported: Vec<UnsupportedQuery>,
}

/// An operation left out of the mix.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnsupportedQuery {
    pub op: String,
    pub reason: String,
}

/// One read operation's figures. `started = ok + http_4xx + http_5xx + timeout + transport +
/// unanswered`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryReport {
    pub op: String,
    /// The request as sent (method, path, the filters that matter).
    pub request: String,
    pub started: u64,
    /// `started / queries.duration_s`.
    pub achieved_per_s: f64,
    pub ok: u64,
    pub http_4xx: u64,
    pub http_5xx: u64,
    /// Non-2xx answers by status code.
    pub by_status: BTreeMap<String, u64>,
    pub timeout: u64,
    /// Connection refused or broken before an answer.
    pub transport: u64,
    /// Started, never answered before the run ended: outcome unknown.
    pub unanswered: u64,
    /// `(started - ok) / started`, 0..1; `0` when none started.
    pub error_rate: f64,
    /// 2xx answers whose body was not the documented JSON.
    pub decode_errors: u64,
    /// 2xx answers with no row.
    pub empty: u64,
    pub rows: u64,
    /// `rows / ok`.
    pub rows_per_answer: f64,
    pub bytes: u64,
    /// `get` starts skipped: no trace delivered yet.
    pub skipped_no_trace: u64,
    /// Starts skipped: too many queries in flight.
    pub skipped_in_flight: u64,
    /// The largest count a `count` answer carried; `null` for other operations or when none did.
    pub max_count: Option<u64>,
    /// Every answered query (any status), send to end of body.
    pub latency: Percentiles,
}

/// What the report needs to know of the read load besides its measurements.
#[derive(Clone, Debug, Default)]
pub struct QuerySetup {
    pub target_rate_per_s: f64,
    /// Seconds queries were started.
    pub duration_s: f64,
    pub mix: String,
    /// The request of each operation run, by operation name.
    pub requests: Vec<(String, String)>,
    pub unsupported: Vec<UnsupportedQuery>,
}

/// The figures of one operation over `secs` seconds.
pub fn query_report(
    q: &crate::engine::measure::QueryMeasurements,
    request: &str,
    secs: f64,
) -> QueryReport {
    QueryReport {
        op: q.op.clone(),
        request: request.to_owned(),
        started: q.started,
        achieved_per_s: ratio(q.started as f64, secs),
        ok: q.ok,
        http_4xx: q.http_errors(4),
        http_5xx: q.http_errors(5),
        by_status: q.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        timeout: q.timeout,
        transport: q.transport,
        unanswered: q.unanswered,
        error_rate: ratio(q.started.saturating_sub(q.ok) as f64, q.started as f64),
        decode_errors: q.decode_errors,
        empty: q.empty,
        rows: q.rows,
        rows_per_answer: ratio(q.rows as f64, q.ok as f64),
        bytes: q.bytes,
        skipped_no_trace: q.skipped_no_trace,
        skipped_in_flight: q.skipped_in_flight,
        max_count: q.max_count,
        latency: q.latency.percentiles(),
    }
}

/// The start time all shards wait for, and how this run kept it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StartAt {
    /// The instant given, Unix milliseconds.
    pub at_unix_ms: u64,
    /// How long after it the first start came (0 when on time; merged: the latest shard's).
    pub late_by_ms: f64,
    /// More than [`LATE_START`] late: the run did not start with the others.
    pub late: bool,
}

/// A run more than this late for its `--start-at` did not start with the other shards.
pub const LATE_START: std::time::Duration = std::time::Duration::from_secs(1);

/// One shard's figures in a merged report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardSummary {
    pub index: u32,
    pub status: RunStatus,
    pub traces_started: u64,
    pub spans_accepted: u64,
    pub export_p99_ms: f64,
    pub start_lag_p99_ms: f64,
    /// More than [`LATE_START`] after `--start-at`.
    pub started_late: bool,
    pub late_by_ms: f64,
    /// The shard's own read-back, as its report had it.
    pub verification: Option<crate::engine::verify::Verification>,
}

/// A finding about the run, as data: the text renderer puts it into words, the JSON carries
/// the code and the numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Note {
    /// Spans dropped because the export queue had no room; `sdk`: the SDK's batch processor
    /// dropped them (its queue was full, or they were still in it at shutdown).
    QueueFull { spans: u64, sdk: bool },
    /// Spans the backend refused, or that got no answer, after retries.
    NotAccepted { rejected: u64, failed: u64 },
    /// Spans sent without an answer: the backend may or may not have stored them.
    OutcomeUnknown { spans: u64 },
    /// Starts refused because the export queue could not hold a whole trace.
    DroppedStarts { traces: u64 },
    /// Running traces waited for room in the export queue (`waits` times, `seconds` in all).
    HeldTraces { waits: u64, seconds: f64 },
    /// Starts later than the late threshold, and intended starts that never happened.
    LateStarts { late: u64, missed: u64 },
    /// No trace finished: the success rate is not defined.
    NoTraceFinished,
    /// The export shutdown deadline passed with spans still queued or in flight.
    ShutdownDeadline { spans_unsent: u64 },
    /// The embedded sink did not receive exactly what was acknowledged, whole.
    DeliveryNotVerified {
        spans_sent: u64,
        spans_received: u64,
        orphan_spans: u64,
        traces_without_root: u64,
    },
    /// `--abort-on-fail` stopped the run: these thresholds failed during it.
    StoppedEarly { thresholds: Vec<String> },
    /// Storage was not read back (no read API, or `--no-verify`): accepted is all the report
    /// can say.
    StorageNotVerified { reason: String },
    /// The read-back ended (its timeout) before everything accepted was visible.
    NotAllVisible { spans_not_visible: Option<u64>, traces_not_visible: Option<u64> },
    /// The read API could not be used.
    ReadBackFailed { reason: String },
    /// The read-back counted more than the run accepted: its counts are not this run's.
    CountsNotThisRun { reason: String },
    /// Whole traces fetched back differed from what was accepted.
    StoredTracesDiffer { missing: u64, rootless: u64, span_count_differs: u64 },
    /// The run began more than a second after `--start-at` (`shard`: which shard, in a merge).
    StartedLate { shard: Option<u32>, late_by_ms: f64 },
    /// A merge of some shards only (`scaletest merge --partial`): these indices are absent.
    ShardsMissing { missing: Vec<u32>, count: u32 },
}

/// The settings the run used (no secrets: header names only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub platform: String,
    /// Traces URL, or `embedded` when the built-in sink was the target.
    pub endpoint: String,
    pub protocol: String,
    pub compression: String,
    pub exporter: String,
    pub clock: String,
    /// Every simulated step latency lasted this many times as long as declared (1: as
    /// declared).
    #[serde(default)]
    pub latency_scale: LatencyScale,
    /// `open` (arrival rate) or `closed` (concurrent workers).
    pub model: String,
    /// Target arrival rate in traces/s (open model with a constant rate).
    pub target_rate_per_s: Option<f64>,
    /// Stages as `[duration_s, target traces/s]`.
    pub stages: Vec<(f64, f64)>,
    /// Closed model: number of workers.
    pub concurrency: Option<u64>,
    /// Open model: cap on traces in flight.
    pub max_in_flight: Option<u64>,
    /// A start later than this after its intended time counts as late, milliseconds.
    pub late_threshold_ms: f64,
    pub planned_duration_s: Option<f64>,
    pub count: Option<u64>,
    pub seed: u64,
    pub mix: Vec<MixEntry>,
    /// Names of the headers sent (values are never reported).
    pub header_names: Vec<String>,
    /// The project the spans were written to, for platforms that route by project.
    pub project: Option<String>,
    /// The MLflow experiment the spans were written to.
    pub experiment: Option<String>,
}

/// One scenario of the mix and its weight (normalised to sum to 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MixEntry {
    pub scenario: String,
    pub weight: f64,
}

/// Latency distribution in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Trace counters. `started = completed + failed + unfinished`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Traces {
    pub started: u64,
    /// Every span the trace emitted was acknowledged by the backend.
    pub delivered: u64,
    /// At least one span certainly not stored (dropped, refused, never sent).
    pub lost: u64,
    /// No span lost, at least one sent without an answer: the backend may have it whole.
    pub outcome_unknown: u64,
    /// Cut before they ended (drain timeout, abort) or with spans never settled.
    pub cut: u64,
    /// Starts refused because the export queue could not hold a whole trace; never started.
    pub dropped_starts: u64,
    /// Waits of running traces, at the end of a simulated latency, for room in an export queue over its memory
    /// bound: the backend did not keep up, and those traces' spans last longer than declared.
    #[serde(default)]
    pub held: u64,
    /// Their total length, seconds.
    #[serde(default)]
    pub held_s: f64,
    /// Ended with no injected failure.
    pub completed: u64,
    /// Ended with at least one injected step failure (the agent's simulated errors, not export
    /// failures).
    pub failed: u64,
    /// Still running when the drain timed out.
    pub unfinished: u64,
    /// Started more than the late threshold (10 ms) after their intended time.
    pub late: u64,
    /// Intended starts that never happened before the run ended.
    pub missed: u64,
    /// Conversations (of scenarios with `session:`) whose first turn started.
    #[serde(default)]
    pub conversations_started: u64,
    /// Conversations whose every turn ran to its end; the others were still going when the
    /// run stopped starting traces, or had a turn cut.
    #[serde(default)]
    pub conversations_finished: u64,
    /// `delivered / started`, 0..1: a trace succeeds when it arrived whole; `0` when none
    /// started.
    pub success_rate: f64,
}

/// Achieved rates on two time bases: traces started over the start window (`start_window_s`),
/// spans and bytes over the whole run (`Report::duration_s`, drain included).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Traces started per second of the start window.
    pub traces_per_s: f64,
    /// Seconds from the first scheduled start until the last start (the planned duration, or
    /// until the count was reached or a stop).
    pub start_window_s: f64,
    /// Spans created per second of `duration_s`.
    pub spans_per_s: f64,
    /// Spans acknowledged by the backend per second of `duration_s`.
    pub accepted_spans_per_s: f64,
    /// Megabytes (10^6) per second on the wire, after compression.
    pub wire_mb_per_s: f64,
    /// Megabytes per second of encoded OTLP before compression (`0` when not measured, as on
    /// the compressed SDK path).
    pub raw_mb_per_s: f64,
}

/// Span counters. `created = exported + dropped + unknown + pending`, and
/// `dropped = queue_full + rejected + failed + unfinished`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spans {
    /// Handed to the exporter by the scenarios.
    pub created: u64,
    /// Acknowledged by the backend.
    pub exported: u64,
    /// Not exported, for any of the reasons below.
    pub dropped: u64,
    /// Dropped before sending because the exporter's queue was full (it could not keep up).
    pub queue_full: u64,
    /// Refused by the backend (non-retryable status, or retries exhausted).
    pub rejected: u64,
    /// Never delivered after retries: the connection could not be made.
    pub failed: u64,
    /// Queued, never sent, when the export shutdown deadline passed (cut at shutdown).
    pub unfinished: u64,
    /// Sent without an answer (timeout, reset, in flight at the shutdown deadline) or partly
    /// refused without naming the spans: the backend may have stored them.
    pub unknown: u64,
    /// Neither settled yet (non-zero only in live snapshots).
    pub pending: u64,
}

/// Export request attempts by outcome (every attempt counts, retries included).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    pub total: u64,
    /// 2xx (gRPC OK).
    pub ok: u64,
    pub failed: u64,
    /// `failed / total`, 0..1.
    pub error_rate: f64,
    /// Non-2xx HTTP responses by status code.
    pub by_status: BTreeMap<String, u64>,
    /// Non-OK gRPC responses by status code.
    pub by_grpc_status: BTreeMap<String, u64>,
    pub timeout: u64,
    pub connect: u64,
    /// Other transport errors.
    pub io: u64,
    /// Attempts that were retries of an earlier attempt (included in `total`).
    pub retries: u64,
    /// The first error message the backend sent with each kind of refusal (`HTTP 400`, ...),
    /// at most 300 bytes, credentials taken out.
    pub messages: BTreeMap<String, String>,
}

/// Data volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bytes {
    /// Request bodies as sent, after compression.
    pub wire: u64,
    /// Request bodies before compression; `0` when not measured (the SDK path with
    /// compression sends bodies it compressed itself).
    pub raw: u64,
    /// Span content the scenarios produced: names, attribute keys and values.
    pub payload: u64,
    pub avg_payload_per_trace: f64,
    /// `raw / wire`.
    pub compression_ratio: f64,
}

/// One scenario's share of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    pub weight: f64,
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub spans: u64,
    pub payload_bytes: u64,
    pub avg_payload_bytes: f64,
    pub avg_spans: f64,
    /// Input plus output tokens one trace declares (the middle of its range when routes differ).
    pub declared_tokens: f64,
    /// Spans one trace declares (the middle of its range when routes differ).
    pub declared_spans: f64,
    pub latency: Percentiles,
}

/// End-to-end delivery as seen by the embedded sink.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Spans the exporter saw acknowledged.
    pub spans_sent: u64,
    pub spans_received: u64,
    pub traces_received: u64,
    pub requests_received: u64,
    pub bytes_received: u64,
    /// Spans whose parent never arrived.
    pub orphan_spans: u64,
    /// Traces with no root span.
    pub traces_without_root: u64,
    /// `spans_sent == spans_received` and no orphans.
    pub verified: bool,
}

/// The OpenTelemetry SDK pipeline as an application would experience it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SdkReport {
    /// Spans ended through the SDK tracer.
    pub spans_ended: u64,
    /// Spans the batch processor dropped (ended minus those that reached its exporter).
    pub spans_dropped_by_sdk: u64,
    /// Average time the calling thread spent creating and ending one span, nanoseconds.
    pub tracer_ns_per_span: f64,
    /// Average bytes the SDK allocated on the calling thread to hold one span, when the
    /// allocator can tell; `None` otherwise.
    pub tracer_alloc_bytes_per_span: Option<f64>,
    /// Peak resident set size of the whole process during the SDK run.
    pub peak_rss_bytes: u64,
}

/// The generator's own cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    /// CPU time (user + system) over `duration_s` (start-up and export shutdown not counted),
    /// seconds.
    pub cpu_s: f64,
    /// `cpu_s / duration_s * 100` (200 = both cores of a 2-core machine busy).
    pub cpu_percent: f64,
    /// Peak resident set size of the process.
    pub peak_rss_bytes: u64,
}

/// One `--threshold` and its outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// As written by the user, e.g. `export_p99_ms<500`.
    pub expression: String,
    pub metric: String,
    /// The metric's value; `None` when the run did not measure it.
    pub value: Option<f64>,
    pub passed: bool,
}

impl Report {
    /// Whether every threshold passed (true when there are none).
    pub fn thresholds_passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed)
    }
}

/// What the report needs besides the measurements: the settings and what only the end of the
/// run knows.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub config: RunConfig,
    pub status: RunStatus,
    /// Per scenario of the mix (by name): spans and tokens one trace declares (the middle of
    /// the range where routes differ).
    pub declared: Vec<(String, f64, f64)>,
    /// Whether the SDK pipeline (not the direct exporter) sent the spans.
    pub sdk_path: bool,
    /// Whether the export shutdown deadline passed with work left.
    pub deadline_hit: bool,
    pub delivery: Option<Delivery>,
    pub verification: Option<crate::engine::verify::Verification>,
    pub sdk: Option<SdkReport>,
    /// Thresholds that failed during the run and stopped it.
    pub stopped_by: Vec<String>,
    /// The read load, when there was one.
    pub queries: Option<QuerySetup>,
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 { 0.0 } else { part / whole }
}

/// The report of `measured`: every figure is computed here and nowhere else.
pub fn build(measured: &Measurements, context: Context) -> Report {
    let m = measured;
    let secs = m.window.duration_s.max(1e-9);
    let start_window = m.window.start_window_s;
    let scenarios: Vec<ScenarioReport> = m
        .scenarios
        .iter()
        .map(|s| {
            let done = (s.completed + s.failed) as f64;
            let (spans, tokens) = context
                .declared
                .iter()
                .find(|(name, _, _)| *name == s.name)
                .map_or((0.0, 0.0), |(_, spans, tokens)| (*spans, *tokens));
            ScenarioReport {
                name: s.name.clone(),
                weight: s.weight,
                started: s.started,
                completed: s.completed,
                failed: s.failed,
                spans: s.spans,
                payload_bytes: s.payload_bytes,
                avg_payload_bytes: ratio(s.payload_bytes as f64, done),
                avg_spans: ratio(s.spans as f64, done),
                declared_tokens: tokens,
                declared_spans: spans,
                latency: s.latency.percentiles(),
            }
        })
        .collect();
    let started = m.traces_started();
    let completed: u64 = m.scenarios.iter().map(|s| s.completed).sum();
    let failed: u64 = m.scenarios.iter().map(|s| s.failed).sum();
    let payload: u64 = m.scenarios.iter().map(|s| s.payload_bytes).sum();
    let finished = completed + failed;
    let books = &m.spans;
    let q = &m.requests;
    let (total_requests, failed_requests) = (q.total(), q.failed());
    let spans = Spans {
        created: books.created,
        exported: books.accepted,
        dropped: books.lost(),
        queue_full: books.queue_full,
        rejected: books.rejected,
        failed: books.failed,
        unfinished: books.unfinished,
        unknown: books.unknown,
        pending: books.pending(),
    };
    let tb = &m.traces;
    let traces = Traces {
        started,
        delivered: tb.delivered,
        lost: tb.lost,
        outcome_unknown: tb.unknown,
        cut: tb.unsettled,
        dropped_starts: tb.dropped_starts,
        held: m.held,
        held_s: m.held_s,
        completed,
        failed,
        unfinished: started.saturating_sub(finished),
        late: m.late,
        missed: m.missed,
        conversations_started: tb.conversations_started,
        conversations_finished: tb.conversations_finished,
        success_rate: ratio(tb.delivered as f64, started as f64),
    };
    let mut notes = Vec::new();
    if books.queue_full > 0 {
        notes.push(Note::QueueFull { spans: books.queue_full, sdk: context.sdk_path });
    }
    if books.rejected + books.failed > 0 {
        notes.push(Note::NotAccepted { rejected: books.rejected, failed: books.failed });
    }
    if books.unknown > 0 {
        notes.push(Note::OutcomeUnknown { spans: books.unknown });
    }
    if tb.dropped_starts > 0 {
        notes.push(Note::DroppedStarts { traces: tb.dropped_starts });
    }
    if m.held > 0 {
        notes.push(Note::HeldTraces { waits: m.held, seconds: m.held_s });
    }
    if m.late + m.missed > 0 {
        notes.push(Note::LateStarts { late: m.late, missed: m.missed });
    }
    if finished == 0 {
        notes.push(Note::NoTraceFinished);
    }
    if context.deadline_hit {
        notes.push(Note::ShutdownDeadline { spans_unsent: books.unfinished });
    }
    if let Some(d) = &context.delivery
        && !d.verified
    {
        notes.push(Note::DeliveryNotVerified {
            spans_sent: d.spans_sent,
            spans_received: d.spans_received,
            orphan_spans: d.orphan_spans,
            traces_without_root: d.traces_without_root,
        });
    }
    match &context.verification {
        None => notes.push(Note::StorageNotVerified {
            reason: "--no-verify: the read-back was turned off".to_owned(),
        }),
        Some(v) => {
            use crate::engine::verify::Outcome;
            match v.outcome {
                Outcome::NotVerified => notes.push(Note::StorageNotVerified {
                    reason: v.reason.clone().unwrap_or_default(),
                }),
                Outcome::Failed => notes
                    .push(Note::ReadBackFailed { reason: v.reason.clone().unwrap_or_default() }),
                Outcome::Incomplete => notes.push(Note::NotAllVisible {
                    spans_not_visible: v.spans_not_visible,
                    traces_not_visible: v.traces_not_visible,
                }),
                Outcome::OtherTraffic => notes
                    .push(Note::CountsNotThisRun { reason: v.reason.clone().unwrap_or_default() }),
                Outcome::AllVisible => {}
            }
            if let Some(w) = &v.whole_traces {
                let (missing, rootless, differs) = (
                    w.missing.len() as u64,
                    w.rootless.len() as u64,
                    w.span_count_differs.len() as u64,
                );
                if missing + rootless + differs > 0 {
                    notes.push(Note::StoredTracesDiffer {
                        missing,
                        rootless,
                        span_count_differs: differs,
                    });
                }
            }
        }
    }
    if !context.stopped_by.is_empty() {
        notes.push(Note::StoppedEarly { thresholds: context.stopped_by.clone() });
    }
    Report {
        schema_version: SCHEMA_VERSION,
        status: context.status,
        config: context.config,
        duration_s: m.window.duration_s,
        traces,
        throughput: Throughput {
            traces_per_s: ratio(started as f64, start_window),
            start_window_s: start_window,
            spans_per_s: books.created as f64 / secs,
            accepted_spans_per_s: books.accepted as f64 / secs,
            wire_mb_per_s: m.wire_bytes as f64 / 1e6 / secs,
            raw_mb_per_s: m.raw_bytes as f64 / 1e6 / secs,
        },
        scenario_latency: m.scenario_latency.percentiles(),
        start_lag: m.start_lag.percentiles(),
        export_latency: m.export_latency.percentiles(),
        spans,
        requests: Requests {
            total: total_requests,
            ok: q.ok,
            failed: failed_requests,
            error_rate: ratio(failed_requests as f64, total_requests as f64),
            by_status: q.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            by_grpc_status: q.by_grpc.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            timeout: q.timeout,
            connect: q.connect,
            io: q.io,
            retries: q.retries,
            messages: q.messages.clone(),
        },
        bytes: Bytes {
            wire: m.wire_bytes,
            raw: m.raw_bytes,
            payload,
            avg_payload_per_trace: ratio(payload as f64, finished as f64),
            compression_ratio: ratio(m.raw_bytes as f64, m.wire_bytes as f64),
        },
        scenarios,
        delivery: context.delivery,
        verification: context.verification,
        sdk: context.sdk,
        generator: Generator {
            cpu_s: m.cpu_s,
            cpu_percent: m.cpu_s / secs * 100.0,
            peak_rss_bytes: m.peak_rss_bytes,
        },
        thresholds: Vec::new(),
        notes,
        measurements: measured.clone(),
        shard: None,
        plan_id: String::new(),
        start_at: None,
        shards: Vec::new(),
        resources: None,
        queries: context.queries.map(|setup| Queries {
            operations: m
                .queries
                .iter()
                .map(|q| {
                    let request = setup
                        .requests
                        .iter()
                        .find(|(op, _)| *op == q.op)
                        .map_or("", |(_, r)| r.as_str());
                    query_report(q, request, setup.duration_s)
                })
                .collect(),
            target_rate_per_s: setup.target_rate_per_s,
            duration_s: setup.duration_s,
            mix: setup.mix,
            window_s: crate::engine::query::WINDOW.as_secs_f64(),
            page_rows: crate::engine::query::PAGE,
            unsupported: setup.unsupported,
        }),
    }
}
