//! `--metrics-listen ADDR`: the run's live counters and latency histograms in the Prometheus
//! text exposition format, on `http://ADDR/metrics`.
//!
//! The figures are the engine's live snapshot (refreshed every second, the same one the
//! progress line and `--abort-on-fail` read) and, once the run has ended, its final report.
//! Metric names (all prefixed `scaletest_`):
//!
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `scaletest_traces_started_total` | counter | | traces started |
//! | `scaletest_traces_finished_total` | counter | `result` = `completed`, `failed` | traces that ended |
//! | `scaletest_traces_in_flight` | gauge | | started and not yet ended |
//! | `scaletest_traces_late_total` | counter | | starts later than the late threshold |
//! | `scaletest_spans_created_total` | counter | | spans handed to the exporter |
//! | `scaletest_spans_total` | counter | `outcome` = `exported`, `queue_full`, `rejected`, `failed`, `unfinished`, `unknown` | what became of the spans (`unknown`: sent, no answer) |
//! | `scaletest_spans_pending` | gauge | | spans queued or in flight in the exporter |
//! | `scaletest_requests_total` | counter | `class` = `ok`, an HTTP status, `grpc_<code>`, `timeout`, `connect`, `io` | export request attempts |
//! | `scaletest_bytes_total` | counter | `kind` = `wire`, `raw` | request bodies after and before compression |
//! | `scaletest_export_latency_seconds` | histogram | | export request latency |
//! | `scaletest_scenario_latency_seconds` | histogram | | scenario latency from the intended start |
//! | `scaletest_start_lag_seconds` | histogram | | delay between intended and actual start |
//! | `scaletest_generator_cpu_seconds_total` | counter | | the generator's CPU time |
//! | `scaletest_generator_peak_rss_bytes` | gauge | | the generator's peak resident memory |
//!
//! Histogram buckets are fixed (1 ms to 60 s); their counts come from the run's HDR histograms,
//! so they are exact at every bound.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use scenario_runtime::engine::Progress;
use scenario_runtime::engine::measure::Hist;
use scenario_runtime::engine::report::Report;

/// Upper bounds of the histogram buckets, seconds.
pub const BUCKETS_S: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// The latest report, shared with the scrape handler.
type Latest = Arc<Mutex<Option<Report>>>;

/// The collector a scrape runs: encodes the latest report.
#[derive(Debug)]
struct RunCollector(Latest);

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// A counter with one label, one sample per value.
fn labelled(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    label: &str,
    values: &[(String, u64)],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (value, n) in values {
        let labels = [(label.to_owned(), value.clone())];
        ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

fn histogram(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    hist: &Hist,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    // Prometheus buckets count the samples up to each bound; the encoder takes each bucket's
    // own count and accumulates.
    let mut below = 0;
    let mut buckets: Vec<(f64, u64)> = BUCKETS_S
        .iter()
        .map(|bound| {
            let upto = hist.count_at_most((bound * 1e6) as u64);
            let own = upto.saturating_sub(below);
            below = upto;
            (*bound, own)
        })
        .collect();
    buckets.push((f64::MAX, hist.len().saturating_sub(below)));
    metric.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
        hist.sum_micros() / 1e6,
        hist.len(),
        &buckets,
        None,
    )
}

impl Collector for RunCollector {
    fn encode(&self, mut e: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let latest = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(r) = latest else { return Ok(()) };
        let m = &r.measurements;
        counter(&mut e, "scaletest_traces_started", "Traces started", r.traces.started)?;
        labelled(
            &mut e,
            "scaletest_traces_finished",
            "Traces that ended, by result",
            "result",
            &[("completed".into(), r.traces.completed), ("failed".into(), r.traces.failed)],
        )?;
        gauge(
            &mut e,
            "scaletest_traces_in_flight",
            "Traces started and not yet ended",
            r.traces.unfinished as i64,
        )?;
        counter(
            &mut e,
            "scaletest_traces_late",
            "Starts later than the late threshold",
            r.traces.late,
        )?;
        counter(
            &mut e,
            "scaletest_spans_created",
            "Spans handed to the exporter",
            r.spans.created,
        )?;
        let s = &r.spans;
        labelled(
            &mut e,
            "scaletest_spans",
            "What became of the spans, by outcome",
            "outcome",
            &[
                ("exported".into(), s.exported),
                ("queue_full".into(), s.queue_full),
                ("rejected".into(), s.rejected),
                ("failed".into(), s.failed),
                ("unfinished".into(), s.unfinished),
                ("unknown".into(), s.unknown),
            ],
        )?;
        gauge(
            &mut e,
            "scaletest_spans_pending",
            "Spans queued or in flight in the exporter",
            s.pending as i64,
        )?;
        let q = &r.requests;
        let mut classes = vec![("ok".to_owned(), q.ok)];
        classes.extend(q.by_status.iter().map(|(k, v)| (k.clone(), *v)));
        classes.extend(q.by_grpc_status.iter().map(|(k, v)| (format!("grpc_{k}"), *v)));
        classes.extend([
            ("timeout".to_owned(), q.timeout),
            ("connect".to_owned(), q.connect),
            ("io".to_owned(), q.io),
        ]);
        labelled(
            &mut e,
            "scaletest_requests",
            "Export request attempts, by outcome class",
            "class",
            &classes,
        )?;
        labelled(
            &mut e,
            "scaletest_bytes",
            "Request body bytes: wire (after compression) and raw (before)",
            "kind",
            &[("wire".into(), r.bytes.wire), ("raw".into(), r.bytes.raw)],
        )?;
        histogram(
            &mut e,
            "scaletest_export_latency_seconds",
            "Export request latency from send to acknowledgement",
            &m.export_latency,
        )?;
        histogram(
            &mut e,
            "scaletest_scenario_latency_seconds",
            "Scenario latency from the intended start to the end",
            &m.scenario_latency,
        )?;
        histogram(
            &mut e,
            "scaletest_start_lag_seconds",
            "Delay between a trace's intended and actual start",
            &m.start_lag,
        )?;
        let cpu = ConstCounter::new(r.generator.cpu_s);
        cpu.encode(e.encode_descriptor(
            "scaletest_generator_cpu_seconds",
            "CPU time the generator used",
            None,
            cpu.metric_type(),
        )?)?;
        gauge(
            &mut e,
            "scaletest_generator_peak_rss_bytes",
            "Peak resident memory of the generator",
            r.generator.peak_rss_bytes as i64,
        )?;
        Ok(())
    }
}

/// The exposition of `report`, as a scrape returns it.
#[cfg(test)]
fn exposition(report: &Report) -> String {
    let latest: Latest = Arc::new(Mutex::new(Some(report.clone())));
    encode(&latest)
}

fn encode(latest: &Latest) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(RunCollector(Arc::clone(latest))));
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
        text.clear();
    }
    text
}

/// The HTTP server, running until dropped.
pub struct Server {
    latest: Latest,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Listens on `addr` and serves `/metrics`.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let latest: Latest = Arc::default();
        let shared = Arc::clone(&latest);
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let shared = Arc::clone(&shared);
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        encode(&shared),
                    )
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Server { latest, task })
    }

    /// Serves `report` from now on.
    pub fn publish(&self, report: &Report) {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Passes progress on and publishes every live snapshot to the metrics server, if any.
pub struct Tee<'a> {
    inner: &'a mut dyn Progress,
    server: Option<&'a Server>,
}

impl<'a> Tee<'a> {
    pub fn new(inner: &'a mut dyn Progress, server: Option<&'a Server>) -> Self {
        Tee { inner, server }
    }
}

impl Progress for Tee<'_> {
    fn update(&mut self, live: &Report, draining: bool) {
        if let Some(server) = self.server {
            server.publish(live);
        }
        self.inner.update(live, draining);
    }

    fn stopping(&mut self, failed: &[String]) {
        self.inner.stopping(failed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_metric() {
        let mut report = Report::default();
        report.traces.started = 12;
        report.spans.exported = 40;
        for ms in [1u64, 3, 30, 700] {
            report.measurements.export_latency.record(std::time::Duration::from_millis(ms));
        }
        let text = exposition(&report);
        assert!(text.contains("scaletest_traces_started_total 12"), "{text}");
        assert!(text.contains("scaletest_spans_total{outcome=\"exported\"} 40"), "{text}");
        assert!(text.contains("# TYPE scaletest_export_latency_seconds histogram"), "{text}");
        assert!(text.contains("scaletest_export_latency_seconds_count 4"), "{text}");
        assert!(text.contains("scaletest_export_latency_seconds_bucket{le=\"0.005\"} 2"), "{text}");
        assert!(text.contains("scaletest_export_latency_seconds_bucket{le=\"+Inf\"} 4"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
