//! `scaletest run`: wires configuration, platform profile, exporter, embedded sink, scheduler,
//! live view, thresholds and report together.
//!
//! Exit codes: 0 ok; 1 the run failed (spans were created but none could be exported); 2 bad
//! input (printed as one message naming the value); 3 thresholds failed.
//!
//! Without an endpoint (platform `otlp`, the default) the embedded sink is started on
//! 127.0.0.1 and targeted, and the report states delivery as the sink saw it. Platform
//! `console` prints `--count` traces (default 1) as trees, with the synthetic clock and no
//! network.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scenario_runtime::Emitter;
use scenario_runtime::engine::export::{
    Compression, ExportConfig, ExportObserver, ExportSummary, Exporter, Protocol, RequestOutcome,
    RequestRecord,
};
use scenario_runtime::engine::metrics::{LATE_THRESHOLD, Metrics, RequestClass};
use scenario_runtime::engine::report::{
    Delivery, MixEntry, Report, RunConfig, RunStatus, SCHEMA_VERSION, SdkReport,
};
use scenario_runtime::engine::schedule::{self, Load, Mix, StopReason, StopSignal, Workload};
use scenario_runtime::engine::sdk::{SdkConfig, SdkExporter};
use scenario_runtime::engine::sink::{RunningSink, SinkConfig};
use scenario_runtime::platform::{PlatformId, PlatformSettings, Profile};
use scenario_runtime::span::SpanSink;

pub use crate::config::RunArgs;
use crate::config::{ExporterKind, Header, Settings};
use crate::format::thousands;
use crate::threshold;

/// Exit code for bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when nothing could be exported.
pub const EXIT_RUN_FAILED: u8 = 1;
/// Exit code when a threshold failed.
pub const EXIT_THRESHOLDS: u8 = 3;

/// Longest the exporter may take to send what is queued once the traces are done (the drain
/// timeout, when shorter, bounds it too, but never below [`EXPORT_SHUTDOWN_MIN`]).
const EXPORT_SHUTDOWN: Duration = Duration::from_secs(10);

/// Shortest export flush: even `--drain-timeout 0s` (cancel running traces at once) sends what
/// the finished traces emitted.
const EXPORT_SHUTDOWN_MIN: Duration = Duration::from_secs(2);

fn bad_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// Feeds the exporter's measurements into the metrics aggregator.
pub(crate) struct MetricsObserver(pub(crate) Arc<Metrics>);

impl ExportObserver for MetricsObserver {
    fn on_request(&self, record: &RequestRecord) {
        let class = match &record.outcome {
            RequestOutcome::Status(code) => RequestClass::Http(*code),
            RequestOutcome::GrpcStatus(code) => RequestClass::Grpc(*code),
            RequestOutcome::Timeout => RequestClass::Timeout,
            RequestOutcome::Connect => RequestClass::Connect,
            RequestOutcome::Io(_) => RequestClass::Io,
        };
        self.0.request(
            class,
            record.latency,
            record.wire_bytes,
            record.raw_bytes,
            record.retries > 0,
        );
    }

    fn on_dropped(&self, spans: u64) {
        self.0.dropped(spans);
    }

    fn on_exported(&self, spans: u64) {
        self.0.exported(spans);
    }
}

/// Everything resolved before the runtime starts.
struct Plan {
    settings: Settings,
    platform: PlatformId,
    profile: Profile,
    protocol: Protocol,
    compression: Compression,
    headers: Vec<Header>,
}

pub fn main(args: RunArgs) -> ExitCode {
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(e) => return bad_input(e),
    };
    let platform: PlatformId = match settings.platform.parse() {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    let mut platform_settings =
        PlatformSettings::from_lookup(platform, |var| std::env::var(var).ok());
    if platform_settings.project.is_none() {
        platform_settings.project.clone_from(&settings.project);
    }
    let profile = match platform.profile(&platform_settings) {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    if platform == PlatformId::Console {
        return console(&settings, &profile);
    }
    let protocol: Protocol = match settings.protocol.parse() {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    if let Ok(p) = settings.protocol.parse::<scenario_runtime::platform::Protocol>()
        && let Err(e) = profile.check_protocol(p)
    {
        return bad_input(e);
    }
    let compression: Compression = match settings.compression.parse() {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    if settings.exporter == ExporterKind::Sdk && protocol == Protocol::Grpc {
        return bad_input(
            "invalid protocol `grpc` with --exporter sdk: the SDK path sends http/protobuf or \
             http/json; use --exporter direct for grpc",
        );
    }
    // Profile headers first; the user's override those of the same name.
    let mut headers: Vec<Header> = profile
        .headers
        .iter()
        .map(|h| Header { name: h.name.clone(), value: h.value.clone(), secret: h.secret })
        .collect();
    for h in &settings.headers {
        headers.retain(|p| !p.name.eq_ignore_ascii_case(&h.name));
        headers.push(h.clone());
    }
    let plan = Plan { settings, platform, profile, protocol, compression, headers };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    runtime.block_on(load_test(plan))
}

/// Prints `--count` traces (default 1) as trees: the console platform.
fn console(settings: &Settings, profile: &Profile) -> ExitCode {
    let Some(mix) = Mix::new(&settings.mix) else {
        return bad_input("the scenario mix is empty");
    };
    let emitter = emitter(settings, profile);
    let count = settings.count.unwrap_or(1);
    for sequence in 0..count {
        let seed = scenario_runtime::exec::mix(settings.seed, sequence);
        let scenario = mix.scenario(mix.pick_seeded(seed));
        let (_, spans) = scenario_runtime::record_trace(scenario, &emitter, seed);
        println!("{}", scenario_runtime::console::render_trace(&spans));
    }
    ExitCode::SUCCESS
}

/// The span builder for the platform; `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
/// override the resource (the service name wins over a `service.name` in the list).
fn emitter(settings: &Settings, profile: &Profile) -> Emitter {
    let mut overrides = settings.resource.clone();
    if let Some(name) = &settings.service_name {
        overrides.retain(|(k, _)| k != "service.name");
        overrides.push(("service.name".to_owned(), name.clone()));
    }
    Emitter::new(profile, overrides)
}

async fn load_test(plan: Plan) -> ExitCode {
    let settings = &plan.settings;
    // The embedded sink is the target when no endpoint is configured.
    let (sink, endpoint) = match settings.endpoint.clone().or(plan.profile.default_endpoint.clone())
    {
        Some(url) => (None, url),
        None => {
            let config = SinkConfig {
                listen: "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
                ..SinkConfig::default()
            };
            match RunningSink::start(config).await {
                Ok(sink) => {
                    let url = match plan.protocol {
                        Protocol::Grpc => format!("http://{}", sink.local_addr()),
                        _ => sink.traces_url(),
                    };
                    (Some(sink), url)
                }
                Err(e) => {
                    eprintln!("error: cannot start the embedded sink on 127.0.0.1: {e}");
                    return ExitCode::from(EXIT_RUN_FAILED);
                }
            }
        }
    };
    let Some(mix) = Mix::new(&settings.mix) else {
        return bad_input("the scenario mix is empty");
    };
    let metrics = Arc::new(Metrics::new(&mix.weights()));
    let mut export = ExportConfig::new(endpoint.clone());
    export.headers = plan.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
    export.protocol = plan.protocol;
    export.compression = plan.compression;
    export.max_batch_bytes = export.max_batch_bytes.min(plan.profile.max_body_bytes.max(1024));
    export.max_in_flight = settings.max_requests;
    export.request_timeout = settings.request_timeout;
    let observer: Arc<dyn ExportObserver> = Arc::new(MetricsObserver(Arc::clone(&metrics)));
    let emitter = Arc::new(emitter(settings, &plan.profile));
    let resource = emitter.resource().to_vec();
    let queue_spans = match settings.exporter {
        ExporterKind::Direct => export.queue_spans,
        ExporterKind::Sdk => SdkConfig::new(export.endpoint.clone()).max_queue_size,
    };
    let pipeline = match settings.exporter {
        ExporterKind::Direct => Exporter::start(export, resource, observer).map(Pipeline::Direct),
        ExporterKind::Sdk => {
            let mut sdk = SdkConfig::new(export.endpoint.clone());
            sdk.headers = export.headers.clone();
            sdk.protocol = export.protocol;
            sdk.compression = export.compression;
            sdk.request_timeout = export.request_timeout;
            sdk.thread_allocated_bytes = Some(crate::thread_allocated_bytes);
            SdkExporter::start(sdk, resource, observer).map(|e| Pipeline::Sdk(Arc::new(e)))
        }
    };
    let pipeline = match pipeline {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    let workload = Workload {
        load: closed_backpressure(settings, queue_spans),
        duration: settings.duration,
        count: settings.count,
        mix,
        seed: settings.seed,
        clock: settings.clock,
        drain_timeout: settings.drain_timeout,
    };
    let stop = Arc::new(StopSignal::default());
    spawn_ctrl_c(Arc::clone(&stop));
    let failed_live: Arc<Mutex<Vec<String>>> = Arc::default();
    let watcher = {
        let (stop, thresholds, abort) =
            (Arc::clone(&stop), settings.thresholds.clone(), settings.abort_on_fail);
        let failed_live = Arc::clone(&failed_live);
        crate::progress::watch(Arc::clone(&metrics), move |report| {
            if !abort || thresholds.is_empty() {
                return None;
            }
            let failing: Vec<String> = threshold::evaluate_all(&thresholds, report)
                .into_iter()
                .filter(|t| !t.passed)
                .map(|t| t.expression)
                .collect();
            if failing.is_empty() {
                return None;
            }
            let message = format!(
                "threshold failed: {}; stopping now: cancelling traces in flight",
                failing.join(", ")
            );
            *failed_live.lock().unwrap_or_else(|p| p.into_inner()) = failing;
            stop.stop_now(StopReason::Aborted);
            Some(message)
        })
    };
    let outcome =
        schedule::run(workload, pipeline.sink(), emitter, Arc::clone(&metrics), Arc::clone(&stop))
            .await;
    let (summary, sdk) =
        pipeline.shutdown(settings.drain_timeout.clamp(EXPORT_SHUTDOWN_MIN, EXPORT_SHUTDOWN)).await;
    let summary = summary.unwrap_or_else(|| {
        let live = metrics.snapshot();
        let s = &live.spans;
        ExportSummary {
            spans_handed: s.created,
            spans_accepted: s.exported,
            spans_dropped: s.queue_full,
            spans_unfinished: s.created.saturating_sub(s.exported + s.queue_full),
            deadline_hit: true,
            ..ExportSummary::default()
        }
    });
    watcher.abort();
    let _ = watcher.await;
    let delivery = match sink {
        Some(sink) => {
            let stats = sink.shutdown().await;
            Some(Delivery {
                spans_sent: summary.spans_accepted,
                spans_received: stats.spans,
                traces_received: stats.traces,
                requests_received: stats.requests,
                bytes_received: stats.bytes_wire,
                orphan_spans: stats.orphan_spans,
                traces_without_root: stats.traces_without_root,
                verified: stats.spans == summary.spans_accepted
                    && stats.orphan_spans == 0
                    && stats.traces_without_root == 0,
            })
        }
        None => None,
    };
    let mut report = metrics.snapshot();
    finish_report(&mut report, &plan, &endpoint, &summary, delivery);
    report.sdk = sdk;
    report.status = match outcome.stopped {
        Some(StopReason::Interrupted) => RunStatus::Interrupted,
        Some(StopReason::Aborted) => RunStatus::Aborted,
        None => RunStatus::Completed,
    };
    report.thresholds = threshold::evaluate_all(&settings.thresholds, &report);
    let live_failures = failed_live.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if !live_failures.is_empty() {
        report
            .notes
            .push(format!("stopped early: {} failed during the run", live_failures.join(", ")));
    }
    print!("{}", crate::render::summary(&report));
    if let Some(path) = &settings.json {
        let written = serde_json::to_vec_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|json| std::fs::write(path, json).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("error: cannot write the JSON report to `{}`: {e}", path.display());
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    }
    if !report.thresholds_passed() || !live_failures.is_empty() {
        return ExitCode::from(EXIT_THRESHOLDS);
    }
    if report.spans.created > 0 && report.spans.exported == 0 {
        eprintln!("error: no span could be exported to {}", crate::config::redact_url(&endpoint));
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    ExitCode::SUCCESS
}

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

    /// Flushes and stops the pipeline; the SDK path also reports its own cost.
    /// `None` for the books when they could not be closed (traces still running hold the SDK
    /// pipeline); the live counters stand in for them.
    async fn shutdown(self, deadline: Duration) -> (Option<ExportSummary>, Option<SdkReport>) {
        match self {
            Pipeline::Direct(exporter) => (Some(exporter.shutdown(deadline).await), None),
            Pipeline::Sdk(exporter) => match Arc::try_unwrap(exporter) {
                Ok(exporter) => {
                    let (summary, cost) = exporter.shutdown(deadline).await;
                    let sdk = SdkReport {
                        spans_ended: cost.spans_ended,
                        spans_dropped_by_sdk: summary.spans_dropped,
                        tracer_ns_per_span: cost.nanos_per_span(),
                        tracer_alloc_bytes_per_span: cost.alloc_bytes_per_span(),
                        peak_rss_bytes: scenario_runtime::engine::metrics::peak_rss_bytes(),
                    };
                    (Some(summary), Some(sdk))
                }
                Err(_) => (None, None),
            },
        }
    }
}

/// Fills in what only the end of the run knows: configuration, the exporter's final books,
/// delivery and notes.
fn finish_report(
    report: &mut Report,
    plan: &Plan,
    endpoint: &str,
    summary: &ExportSummary,
    delivery: Option<Delivery>,
) {
    let s = &plan.settings;
    let embedded = delivery.is_some();
    report.schema_version = SCHEMA_VERSION;
    report.config = RunConfig {
        platform: plan.platform.name().to_owned(),
        endpoint: if embedded {
            format!("embedded sink ({endpoint})")
        } else {
            crate::config::redact_url(endpoint)
        },
        protocol: plan.protocol.to_string(),
        compression: plan.compression.to_string(),
        exporter: match s.exporter {
            ExporterKind::Direct => "direct",
            ExporterKind::Sdk => "sdk",
        }
        .to_owned(),
        clock: match s.clock {
            schedule::ClockKind::Real => "real",
            schedule::ClockKind::Synthetic => "synthetic",
        }
        .to_owned(),
        model: match s.load {
            Load::Open { .. } => "open",
            Load::Closed { .. } => "closed",
        }
        .to_owned(),
        target_rate_per_s: s.rate,
        stages: s.stages.iter().map(|st| (st.duration.as_secs_f64(), st.target)).collect(),
        concurrency: match s.load {
            Load::Closed { workers, .. } => Some(workers as u64),
            Load::Open { .. } => None,
        },
        max_in_flight: match s.load {
            Load::Open { max_in_flight, .. } => max_in_flight.map(|n| n as u64),
            Load::Closed { .. } => None,
        },
        late_threshold_ms: LATE_THRESHOLD.as_secs_f64() * 1000.0,
        planned_duration_s: s.duration.map(|d| d.as_secs_f64()),
        count: s.count,
        seed: s.seed,
        // The weights as the scheduler normalised them.
        mix: Mix::new(&s.mix)
            .map(|mix| mix.weights())
            .unwrap_or_default()
            .into_iter()
            .map(|(name, weight)| MixEntry { scenario: name.to_owned(), weight })
            .collect(),
        header_names: plan.headers.iter().map(|h| h.name.clone()).collect(),
    };
    // The exporter's books are final; the live counters may miss the last callbacks.
    let spans = &mut report.spans;
    spans.exported = summary.spans_accepted;
    spans.queue_full = summary.spans_dropped;
    spans.rejected = summary.spans_rejected;
    spans.failed = summary.spans_failed;
    spans.unfinished = summary.spans_unfinished;
    spans.dropped = summary.spans_dropped
        + summary.spans_rejected
        + summary.spans_failed
        + summary.spans_unfinished;
    spans.pending = spans.created.saturating_sub(spans.exported + spans.dropped);
    for (scenario, (meta, _)) in
        report.scenarios.iter_mut().zip(s.mix.iter().map(|(sc, w)| (sc.meta(), w)))
    {
        let tokens = meta.shape.tokens;
        scenario.declared_tokens = (tokens.min + tokens.max) as f64 / 2.0;
        let declared = meta.shape.spans;
        scenario.declared_spans = (declared.min + declared.max) as f64 / 2.0;
    }
    report.delivery = delivery;
    let notes = &mut report.notes;
    let n = thousands;
    if spans.queue_full > 0 {
        notes.push(match s.exporter {
            ExporterKind::Sdk => format!(
                "{} spans dropped by the SDK's batch span processor (its queue was full, or the \
                 spans were still in it at shutdown): the SDK pipeline could not keep up with \
                 the offered load",
                n(spans.queue_full)
            ),
            ExporterKind::Direct => format!(
                "{} spans dropped because the exporter's queue was full: the backend (or the \
                 exporter) could not keep up with the offered load",
                n(spans.queue_full)
            ),
        });
    }
    if spans.rejected + spans.failed > 0 {
        notes.push(format!(
            "{} spans rejected and {} failed to send: see the errors by class",
            n(spans.rejected),
            n(spans.failed)
        ));
    }
    if report.traces.late + report.traces.missed > 0 {
        notes.push(format!(
            "{} late and {} missed starts: the generator or the in-flight cap could not hold \
             the target rate",
            n(report.traces.late),
            n(report.traces.missed)
        ));
    }
    if report.traces.completed + report.traces.failed == 0 {
        notes.push(
            "no trace finished, so the success rate is not defined (`success_rate` is 0 in the \
             JSON report)"
                .to_owned(),
        );
    }
    if summary.deadline_hit {
        notes.push(format!(
            "the exporter's shutdown deadline passed with {} spans unsent",
            n(summary.spans_unfinished)
        ));
    }
    if let Some(d) = &report.delivery
        && !d.verified
    {
        notes.push(format!(
            "delivery not verified: {} spans acknowledged, {} received, {} orphans, {} traces \
             without root",
            n(d.spans_sent),
            n(d.spans_received),
            n(d.orphan_spans),
            n(d.traces_without_root)
        ));
    }
}

/// First Ctrl-C: stop starting traces and drain. Second: stop waiting.
fn spawn_ctrl_c(stop: Arc<StopSignal>) {
    tokio::spawn(async move {
        for round in 0..2 {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            if round == 0 {
                eprintln!("\nstopping: finishing traces in flight (Ctrl-C again to stop waiting)");
            } else {
                eprintln!("\nstopping now: cancelling traces in flight");
            }
            stop.stop(StopReason::Interrupted);
        }
    });
}

/// The load to run: a closed model without its own bound waits for the exporter, so that its
/// workers never fill the queue (`queue_spans`) and a closed run never drops for lack of room.
/// The bound leaves room for every worker's trace in progress (its largest span count).
fn closed_backpressure(settings: &Settings, queue_spans: usize) -> Load {
    match settings.load.clone() {
        Load::Closed { workers, ramp_up, max_pending_spans: None } => {
            let largest =
                settings.mix.iter().map(|(sc, _)| sc.meta().shape.spans.max).max().unwrap_or(1);
            let bound = (queue_spans as u64).saturating_sub(workers.max(1) as u64 * largest);
            Load::Closed { workers, ramp_up, max_pending_spans: Some(bound) }
        }
        load => load,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped_from_urls() {
        assert_eq!(
            crate::config::redact_url("https://u:pw@h.io/v1/traces?key=1"),
            "https://h.io/v1/traces"
        );
        assert_eq!(
            crate::config::redact_url("http://127.0.0.1:4318/v1/traces"),
            "http://127.0.0.1:4318/v1/traces"
        );
    }

    #[test]
    fn observer_forwards_to_metrics() {
        let metrics = Arc::new(Metrics::new(&[("a", 1.0)]));
        let observer = MetricsObserver(Arc::clone(&metrics));
        observer.on_request(&RequestRecord {
            wire_bytes: 10,
            raw_bytes: 40,
            spans: 3,
            outcome: RequestOutcome::Status(503),
            latency: Duration::from_millis(2),
            retries: 1,
        });
        observer.on_exported(3);
        let r = metrics.snapshot();
        assert_eq!(r.requests.by_status.get("503"), Some(&1));
        assert_eq!(r.requests.retries, 1);
        assert_eq!(r.spans.exported, 3);
    }
}
