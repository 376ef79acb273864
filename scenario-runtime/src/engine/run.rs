//! The engine's one entry point: runs a [`RunPlan`] and returns its [`Report`].
//!
//! It owns everything with a lifetime inside the run: the embedded sink, the export pipeline
//! (direct or SDK), the scheduler, the drain, the export shutdown and the live checks of
//! `--abort-on-fail`. `scaletest run`, `scaletest bench` and the end-to-end tests all come
//! through here; callers only build the plan, show progress and render the report.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::export::{ExportConfig, ExportError, ExportSummary, Exporter};
use crate::engine::metrics::{LATE_THRESHOLD, Metrics};
use crate::engine::plan::{Endpoint, ExportPath, RunPlan, VerifyMode, redact_url};
use crate::engine::query::{QueryLoad, QueryOp, QueryPlan, query_api};
use crate::engine::report::{self, Context, Delivery, MixEntry, Report, RunConfig, RunStatus};
use crate::engine::schedule::{self, Load, StopReason, StopSignal};
use crate::engine::sdk::{SdkConfig, SdkExporter};
use crate::engine::series;
use crate::engine::sink::{RunningSink, SinkError};
use crate::engine::threshold;
use crate::engine::verify::{
    EmbeddedSink, ReadApi, ReadOptions, Unverifiable, Verification, Verifier, read_api,
};
use crate::platform::Protocol;
use crate::span::SpanSink;

/// Shortest time to send what is queued once the traces are done: even `--drain-timeout 0s`
/// (cancel running traces at once) sends what the finished traces emitted.
const EXPORT_SHUTDOWN_MIN: Duration = Duration::from_secs(2);

/// How long the export shutdown waits: the drain timeout (at least [`EXPORT_SHUTDOWN_MIN`]) to
/// send what is queued, plus one request timeout so that the last request sent can still be
/// answered. A request unanswered by then has an unknown outcome, never "unsent".
fn export_shutdown(plan: &RunPlan) -> Duration {
    plan.workload.drain_timeout.max(EXPORT_SHUTDOWN_MIN) + plan.export.request_timeout
}

/// How often the embedded sink's counts are read during a run.
const EMBEDDED_POLL: Duration = Duration::from_millis(250);

/// How often live progress is reported and thresholds are checked.
pub const PROGRESS_PERIOD: Duration = Duration::from_secs(1);

/// Receives the run's live state; the CLI shows it, tests may ignore it.
pub trait Progress: Send {
    /// A snapshot of the run so far, every [`PROGRESS_PERIOD`]; `draining`: no trace starts
    /// any more.
    fn update(&mut self, _live: &Report, _draining: bool) {}
    /// `--abort-on-fail`: these thresholds failed and the run is being stopped now.
    fn stopping(&mut self, _failed: &[String]) {}
    /// The run is over; what it sent is being read back (this may take minutes).
    fn verifying(&mut self, _sent: &crate::engine::verify::Ledger) {}
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Why a run could not start.
#[derive(Debug)]
pub enum EngineError {
    /// The embedded sink could not listen.
    Sink(SinkError),
    /// The export pipeline refused its settings (endpoint, header, ...).
    Export(ExportError),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Sink(e) => write!(f, "cannot start the embedded sink on 127.0.0.1: {e}"),
            EngineError::Export(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for EngineError {}

/// The export path a run sends through.
enum Pipeline {
    Direct(Exporter),
    Sdk(Arc<SdkExporter>),
}

impl Pipeline {
    fn sink(&self) -> Arc<dyn SpanSink> {
        match self {
            Pipeline::Direct(exporter) => Arc::new(exporter.handle()),
            Pipeline::Sdk(exporter) => Arc::clone(exporter) as Arc<dyn SpanSink>,
        }
    }

    /// Flushes and stops the pipeline. `None` for the books when they could not be closed
    /// (traces still running hold the SDK pipeline).
    async fn shutdown(
        self,
        deadline: Duration,
    ) -> (Option<ExportSummary>, Option<report::SdkReport>) {
        match self {
            Pipeline::Direct(exporter) => (Some(exporter.shutdown(deadline).await), None),
            Pipeline::Sdk(exporter) => match Arc::try_unwrap(exporter) {
                Ok(exporter) => {
                    let (summary, cost) = exporter.shutdown(deadline).await;
                    let sdk = report::SdkReport {
                        spans_ended: cost.spans_ended,
                        spans_dropped_by_sdk: summary.spans_dropped,
                        tracer_ns_per_span: cost.nanos_per_span(),
                        tracer_alloc_bytes_per_span: cost.alloc_bytes_per_span(),
                        peak_rss_bytes: crate::engine::metrics::peak_rss_bytes(),
                    };
                    (Some(summary), Some(sdk))
                }
                Err(_) => (None, None),
            },
        }
    }
}

/// Runs `plan` to its end (or until `stop`) and returns the report, thresholds evaluated.
///
/// Must be called inside a multi-threaded tokio runtime with timers enabled.
pub async fn run(
    plan: RunPlan,
    stop: Arc<StopSignal>,
    progress: &mut dyn Progress,
) -> Result<Report, EngineError> {
    let sink = match &plan.target.endpoint {
        Endpoint::Embedded(config) => {
            Some(RunningSink::start(config.clone()).await.map_err(EngineError::Sink)?)
        }
        Endpoint::Url(_) => None,
    };
    let endpoint = match (&plan.target.endpoint, &sink) {
        (Endpoint::Url(url), _) => url.clone(),
        (Endpoint::Embedded(_), Some(sink)) if plan.export.protocol == Protocol::Grpc => {
            format!("http://{}", sink.local_addr())
        }
        (Endpoint::Embedded(_), Some(sink)) => sink.traces_url(),
        (Endpoint::Embedded(_), None) => unreachable!("the embedded sink was started above"),
    };
    let metrics = Arc::new(Metrics::new(&plan.workload.mix.weights()));
    // The read-back: the embedded sink's own counts, or the platform's read API.
    let reader: Option<Result<Arc<dyn ReadApi>, Unverifiable>> = match plan.verify.mode {
        VerifyMode::Off => None,
        _ => Some(match &sink {
            Some(sink) => Ok(Arc::new(EmbeddedSink(sink.reader())) as Arc<dyn ReadApi>),
            None => read_api(plan.target.platform, &plan.target.settings, &ReadOptions::default()),
        }),
    };
    // The embedded sink is counted in process: watched during the run and often, so its lag
    // is measured, not bounded by a first count after the run.
    let (mode, budget) = match &sink {
        Some(_) if plan.verify.mode != VerifyMode::Off => (
            VerifyMode::During,
            crate::engine::verify::Budget {
                poll_interval: EMBEDDED_POLL,
                ..plan.verify.budget.clone()
            },
        ),
        _ => (plan.verify.mode, plan.verify.budget.clone()),
    };
    let verifier = match &reader {
        Some(Ok(api)) => {
            metrics.keep_sent_traces();
            Some(Verifier::new(Arc::clone(api), budget))
        }
        _ => None,
    };
    let watch = match (&verifier, mode) {
        (Some(verifier), VerifyMode::During) => Some(verifier.watch(verifier.now_ms())),
        _ => None,
    };
    let pipeline = start_pipeline(&plan, &endpoint, &metrics)?;
    let mut workload = plan.workload.clone();
    workload.load = closed_backpressure(&plan, pipeline_queue(&plan));
    let emitter = Arc::new(plan.content.emitter(&plan.target.profile));

    // Content pools take a moment to build: build them before the wait, not after it.
    if plan.report.start_at.is_some() {
        tokio::task::block_in_place(crate::content::prepare);
    }
    let start_at = wait_for_start(&plan, &stop).await;
    let (query_load, query_setup) = match &plan.query {
        Some(query) => {
            let (load, setup) =
                start_queries(&plan, query, sink.as_ref().map(|s| s.local_addr()), &metrics).await;
            (load, Some(setup))
        }
        None => (None, None),
    };
    let mut stopped_by = Vec::new();
    let mut series = series::Recorder::new(plan.report.series_interval);
    let outcome = {
        let schedule = schedule::run(
            workload,
            pipeline.sink(),
            emitter,
            Arc::clone(&metrics),
            Arc::clone(&stop),
        );
        tokio::pin!(schedule);
        let mut ticker = tokio::time::interval(PROGRESS_PERIOD);
        ticker.tick().await;
        loop {
            tokio::select! {
                outcome = &mut schedule => break outcome,
                () = series.tick() => series.sample(&metrics),
                _ = ticker.tick() => {
                    let live = live_report(&plan, &metrics);
                    progress.update(&live, metrics.starts_ended());
                    if plan.report.abort_on_fail && stopped_by.is_empty() {
                        let failing: Vec<String> =
                            threshold::evaluate_all(&plan.report.thresholds, &live)
                                .into_iter()
                                .filter(|t| !t.passed)
                                .map(|t| t.expression)
                                .collect();
                        if !failing.is_empty() {
                            progress.stopping(&failing);
                            stop.stop_now(StopReason::Aborted);
                            stopped_by = failing;
                        }
                    }
                }
            }
        }
    };
    let ((summary, sdk), read_s) = {
        // The series goes on through the export shutdown: what is flushed there is counted in
        // the intervals it happened in.
        // Queries in flight get at most their timeout after the export shutdown; those still
        // unanswered then are counted as such.
        let grace =
            plan.query.as_ref().map_or(Duration::ZERO, |q| q.timeout.min(export_shutdown(&plan)));
        // The read load goes on while anything is sent: until the export shutdown is over.
        let shutdown = async {
            let done = pipeline.shutdown(export_shutdown(&plan)).await;
            let read_s = match query_load {
                Some(load) => Some(load.finish(grace).await),
                None => None,
            };
            (done, read_s)
        };
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                done = &mut shutdown => break done,
                () = series.tick() => series.sample(&metrics),
            }
        }
    };
    let verification = match (&reader, &verifier) {
        (Some(Ok(_)), Some(verifier)) => {
            let sent = metrics.take_sent_traces();
            progress.verifying(&sent);
            Some(verifier.verify(&sent, watch).await)
        }
        (Some(Err(why)), _) => Some(Verification::not_verified(
            why,
            &metrics.take_sent_traces(),
            crate::engine::verify::Verifier::unix_ms_now(),
        )),
        _ => None,
    };
    let delivery = match sink {
        Some(sink) => {
            let stats = sink.shutdown().await;
            let sent = summary.as_ref().map_or(0, |s| s.spans_accepted);
            Some(Delivery {
                spans_sent: sent,
                spans_received: stats.spans,
                traces_received: stats.traces,
                requests_received: stats.requests,
                bytes_received: stats.bytes_wire,
                orphan_spans: stats.orphan_spans,
                traces_without_root: stats.traces_without_root,
                verified: stats.spans == sent
                    && stats.orphan_spans == 0
                    && stats.traces_without_root == 0,
            })
        }
        None => None,
    };

    series.sample(&metrics);
    let mut measured = metrics.snapshot();
    measured.series = series.finish();
    let deadline_hit = match &summary {
        // The exporter's books are final; the live counters may miss the last callbacks.
        Some(s) => {
            measured.spans.accepted = s.spans_accepted;
            measured.spans.queue_full = s.spans_dropped;
            measured.spans.rejected = s.spans_rejected;
            measured.spans.failed = s.spans_failed;
            measured.spans.unknown = s.spans_unknown;
            measured.spans.unfinished = s.spans_unfinished;
            s.deadline_hit
        }
        // The SDK pipeline could not be closed: what was not settled is unfinished.
        None => {
            measured.spans.unfinished = measured.spans.pending();
            true
        }
    };
    let status = match outcome.stopped {
        Some(StopReason::Interrupted) => RunStatus::Interrupted,
        Some(StopReason::Aborted) => RunStatus::Aborted,
        None => RunStatus::Completed,
    };
    let context = Context {
        config: run_config(&plan, &endpoint),
        status,
        declared: declared(&plan),
        sdk_path: plan.export.path == ExportPath::Sdk,
        deadline_hit,
        delivery,
        verification,
        sdk,
        stopped_by,
        queries: query_setup
            .map(|setup| report::QuerySetup { duration_s: read_s.unwrap_or(0.0), ..setup }),
    };
    let mut report = report::build(&measured, context);
    report.shard = plan.report.shard.as_ref().map(|s| s.id);
    report.plan_id = plan
        .report
        .shard
        .as_ref()
        .map_or_else(|| crate::engine::shard::identity(&plan), |s| s.plan_id.clone());
    report.start_at = start_at;
    if let Some(late) = start_at.filter(|s| s.late) {
        report.notes.push(report::Note::StartedLate {
            shard: report.shard.map(|s| s.index),
            late_by_ms: late.late_by_ms,
        });
    }
    report.thresholds = threshold::evaluate_all(&plan.report.thresholds, &report);
    Ok(report)
}

/// Starts the read load of `query` against the run's target, leaving out the operations the
/// platform cannot run; without a read API, nothing starts and the setup says why.
async fn start_queries(
    plan: &RunPlan,
    query: &QueryPlan,
    sink: Option<std::net::SocketAddr>,
    metrics: &Arc<Metrics>,
) -> (Option<QueryLoad>, report::QuerySetup) {
    let wanted: Vec<QueryOp> =
        QueryOp::ALL.into_iter().filter(|op| query.mix.weight(*op) > 0).collect();
    let mut setup = report::QuerySetup {
        target_rate_per_s: query.rate_per_s,
        mix: query.mix.to_string(),
        ..report::QuerySetup::default()
    };
    let unsupported_all = |setup: &mut report::QuerySetup, reason: String| {
        setup.unsupported = wanted
            .iter()
            .map(|op| report::UnsupportedQuery { op: op.name().to_owned(), reason: reason.clone() })
            .collect();
        setup.mix = String::new();
    };
    let options = ReadOptions {
        min_request_gap: Some(Duration::ZERO),
        request_timeout: query.timeout,
        base_url: None,
    };
    let api = match query_api(plan.target.platform, &plan.target.settings, &options, sink) {
        Ok(api) => api,
        Err(why) => {
            unsupported_all(&mut setup, why.reason);
            return (None, setup);
        }
    };
    if let Err(e) = api.prepare().await {
        unsupported_all(&mut setup, format!("the read API could not be prepared: {e}"));
        return (None, setup);
    }
    let mut left_out = Vec::new();
    for op in &wanted {
        match api.describe(*op) {
            Ok(request) => setup.requests.push((op.name().to_owned(), request.to_owned())),
            Err(reason) => {
                left_out.push(*op);
                setup.unsupported.push(report::UnsupportedQuery {
                    op: op.name().to_owned(),
                    reason: reason.to_owned(),
                });
            }
        }
    }
    let mut run = query.clone();
    run.mix = query.mix.without(&left_out);
    setup.mix = run.mix.to_string();
    if run.mix.0.iter().all(|(_, w)| *w == 0) {
        return (None, setup);
    }
    let began = crate::engine::verify::Verifier::unix_ms_now();
    (Some(QueryLoad::start(api, &run, began, Arc::clone(metrics))), setup)
}

/// `--start-at`: waits until the instant (or a stop), and says how late the run begins.
async fn wait_for_start(plan: &RunPlan, stop: &StopSignal) -> Option<report::StartAt> {
    let at = plan.report.start_at?;
    let at_unix_ms = at
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    if let Ok(ahead) = at.duration_since(std::time::SystemTime::now()) {
        tokio::select! {
            () = tokio::time::sleep(ahead) => {}
            () = stop.stopped() => {}
        }
        // Timers may wake a little early; the wall clock decides.
        while !stop.is_stopped()
            && let Ok(rest) = at.duration_since(std::time::SystemTime::now())
        {
            tokio::time::sleep(rest.max(Duration::from_millis(1))).await;
        }
    }
    let late_by = std::time::SystemTime::now().duration_since(at).unwrap_or_default();
    Some(report::StartAt {
        at_unix_ms,
        late_by_ms: late_by.as_secs_f64() * 1000.0,
        late: late_by > report::LATE_START,
    })
}

/// The report as of now, for progress and live thresholds.
fn live_report(plan: &RunPlan, metrics: &Metrics) -> Report {
    let context = Context {
        config: RunConfig::default(),
        declared: declared(plan),
        sdk_path: plan.export.path == ExportPath::Sdk,
        ..Context::default()
    };
    report::build(&metrics.snapshot(), context)
}

/// Spans and tokens one trace of each scenario declares (the middle of its range).
fn declared(plan: &RunPlan) -> Vec<(String, f64, f64)> {
    plan.workload
        .mix
        .scenarios()
        .map(|scenario| {
            let shape = scenario.meta().shape;
            (
                scenario.meta().name.to_owned(),
                (shape.spans.min + shape.spans.max) as f64 / 2.0,
                (shape.tokens.min + shape.tokens.max) as f64 / 2.0,
            )
        })
        .collect()
}

/// The queue the workers fill: the direct exporter's, or the SDK batch processor's.
fn pipeline_queue(plan: &RunPlan) -> usize {
    match plan.export.path {
        ExportPath::Direct => ExportConfig::new("").queue_spans,
        ExportPath::Sdk => SdkConfig::new("").max_queue_size,
    }
}

fn start_pipeline(
    plan: &RunPlan,
    endpoint: &str,
    metrics: &Arc<Metrics>,
) -> Result<Pipeline, EngineError> {
    let export = &plan.export;
    let headers: Vec<(String, String)> =
        export.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
    let resource = plan.content.emitter(&plan.target.profile).resource().to_vec();
    let observer = Arc::clone(metrics) as Arc<dyn crate::engine::export::ExportObserver>;
    match export.path {
        ExportPath::Direct => {
            let mut config = ExportConfig::new(endpoint);
            config.headers = headers;
            config.protocol = export.protocol;
            config.compression = export.compression;
            config.max_batch_bytes =
                config.max_batch_bytes.min(plan.target.profile.max_body_bytes.max(1024));
            config.max_in_flight = export.max_requests;
            config.request_timeout = export.request_timeout;
            Exporter::start(config, resource, observer).map(Pipeline::Direct)
        }
        ExportPath::Sdk => {
            let mut config = SdkConfig::new(endpoint);
            config.headers = headers;
            config.protocol = export.protocol;
            config.compression = export.compression;
            config.request_timeout = export.request_timeout;
            config.thread_allocated_bytes = export.thread_allocated_bytes;
            SdkExporter::start(config, resource, observer).map(|e| Pipeline::Sdk(Arc::new(e)))
        }
    }
    .map_err(EngineError::Export)
}

/// The load to run: a closed model without its own bound waits for the exporter, so that its
/// workers never fill the queue (`queue_spans`) and a closed run never drops for lack of room.
/// The bound leaves room for every worker's trace in progress (its largest span count).
fn closed_backpressure(plan: &RunPlan, queue_spans: usize) -> Load {
    match plan.workload.load.clone() {
        Load::Closed { workers, ramp_up, max_pending_spans: None } => {
            let largest =
                plan.workload.mix.scenarios().map(|s| s.meta().shape.spans.max).max().unwrap_or(1);
            let bound = (queue_spans as u64).saturating_sub(workers.max(1) as u64 * largest);
            Load::Closed { workers, ramp_up, max_pending_spans: Some(bound) }
        }
        load => load,
    }
}

/// The settings as the report states them (no secrets: header names only).
fn run_config(plan: &RunPlan, endpoint: &str) -> RunConfig {
    let w = &plan.workload;
    let (rate, stages) = match &w.load {
        Load::Open { plan, .. } => (plan.constant_rate(), plan.stages_as_pairs()),
        Load::Closed { .. } => (None, Vec::new()),
    };
    RunConfig {
        platform: plan.target.platform.name().to_owned(),
        endpoint: match plan.target.endpoint {
            Endpoint::Embedded(_) => format!("embedded sink ({endpoint})"),
            Endpoint::Url(_) => redact_url(endpoint),
        },
        protocol: plan.export.protocol.to_string(),
        compression: plan.export.compression.to_string(),
        exporter: plan.export.path.to_string(),
        clock: plan.clock_name().to_owned(),
        latency_scale: w.latency_scale,
        model: plan.model_name().to_owned(),
        target_rate_per_s: rate,
        stages,
        concurrency: match w.load {
            Load::Closed { workers, .. } => Some(workers as u64),
            Load::Open { .. } => None,
        },
        max_in_flight: match w.load {
            Load::Open { max_in_flight, .. } => max_in_flight.map(|n| n as u64),
            Load::Closed { .. } => None,
        },
        late_threshold_ms: LATE_THRESHOLD.as_secs_f64() * 1000.0,
        planned_duration_s: w.duration.map(|d| d.as_secs_f64()),
        count: w.count,
        // A shard reports the plan's seed: `--seed S --shard i/N` runs the same shard again.
        seed: plan.report.shard.as_ref().map_or(w.seed, |s| s.base_seed),
        mix: w
            .mix
            .weights()
            .into_iter()
            .map(|(name, weight)| MixEntry { scenario: name.to_owned(), weight })
            .collect(),
        header_names: plan.export.headers.iter().map(|h| h.name.clone()).collect(),
        project: match plan.target.platform {
            crate::platform::PlatformId::Mlflow | crate::platform::PlatformId::Console => None,
            _ => plan.target.settings.project.clone(),
        },
        experiment: match plan.target.platform {
            crate::platform::PlatformId::Mlflow => plan.target.settings.experiment_id.clone(),
            _ => None,
        },
    }
}
