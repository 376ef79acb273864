//! Measurements of a load run, gathered in one aggregator that every stage reports to.
//!
//! Latencies go into HDR histograms (microseconds, 3 significant digits), counters are atomics:
//! memory stays flat however long the run. Locks are held only for one histogram record, so
//! workers on both cores never wait for long. [`Metrics::snapshot`] turns the live state into
//! report data ([`crate::engine::report`]) at any time, for the progress line, `--abort-on-fail`
//! and the final report alike.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::engine::report::{
    Bytes, Generator, Percentiles, Report, Requests, SCHEMA_VERSION, ScenarioReport, Spans,
    Throughput, Traces,
};

/// Largest latency a histogram holds: one hour, in microseconds. Longer values are clamped.
const MAX_MICROS: u64 = 3_600_000_000;

/// A start later than this after its intended time counts as late. The 1 ms dispatcher keeps
/// its p99 lag near 1 ms on a busy 2-core machine; ten times that is a start a backend would
/// notice, not timer jitter.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(10);

fn new_histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram documents as valid: this cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("1..=1h at 3 significant digits is valid")
}

/// A histogram behind a lock, recording durations in microseconds.
#[derive(Debug)]
pub struct LatencyHistogram(Mutex<Histogram<u64>>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self(Mutex::new(new_histogram()))
    }
}

impl LatencyHistogram {
    pub fn record(&self, value: Duration) {
        let micros = (value.as_micros() as u64).clamp(1, MAX_MICROS);
        self.lock().saturating_record(micros);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Histogram<u64>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Percentiles in milliseconds.
    pub fn percentiles(&self) -> Percentiles {
        percentiles(&self.lock())
    }

    /// A copy, to merge or serialize.
    pub fn copy(&self) -> Histogram<u64> {
        self.lock().clone()
    }
}

/// P50/P95/P99/max/mean of a histogram in microseconds, converted to milliseconds.
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    let ms = |micros: u64| micros as f64 / 1000.0;
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p95_ms: ms(h.value_at_quantile(0.95)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
        mean_ms: h.mean() / 1000.0,
    }
}

/// What became of one export request, classified for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestClass {
    /// HTTP status code (2xx is success).
    Http(u16),
    /// gRPC status code (0 is success).
    Grpc(i32),
    Timeout,
    Connect,
    Io,
}

impl RequestClass {
    pub fn is_success(self) -> bool {
        match self {
            RequestClass::Http(code) => (200..300).contains(&code),
            RequestClass::Grpc(code) => code == 0,
            _ => false,
        }
    }
}

/// Per-scenario counters and latency.
#[derive(Debug)]
struct ScenarioMetrics {
    name: &'static str,
    weight: f64,
    started: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    spans: AtomicU64,
    payload_bytes: AtomicU64,
    latency: LatencyHistogram,
}

/// Export requests by outcome.
#[derive(Debug, Default)]
struct RequestCounts {
    ok: u64,
    by_status: BTreeMap<u16, u64>,
    by_grpc: BTreeMap<i32, u64>,
    timeout: u64,
    connect: u64,
    io: u64,
    retries: u64,
}

/// The run's aggregator.
#[derive(Debug)]
pub struct Metrics {
    began: Mutex<Instant>,
    /// When traces stopped being started, and when the last one ended (seconds from `began`).
    starts_ended: Mutex<Option<Duration>>,
    ended: Mutex<Option<Duration>>,
    scenarios: Vec<ScenarioMetrics>,
    latency: LatencyHistogram,
    export_latency: LatencyHistogram,
    start_lag: LatencyHistogram,
    late: AtomicU64,
    missed: AtomicU64,
    spans_created: AtomicU64,
    spans_exported: AtomicU64,
    spans_dropped: AtomicU64,
    wire_bytes: AtomicU64,
    raw_bytes: AtomicU64,
    requests: Mutex<RequestCounts>,
    /// Process CPU time at the start of the measured run (reset by [`Metrics::mark_start`], so
    /// start-up work is not counted against the run's duration).
    cpu_at_start: Mutex<Duration>,
    /// Process CPU time when the run ended ([`Metrics::mark_end`]): the export shutdown after
    /// it is not counted, like the duration.
    cpu_at_end: Mutex<Option<Duration>>,
}

impl Metrics {
    /// An aggregator for the scenarios of the mix, in mix order (`(name, weight)`).
    pub fn new(scenarios: &[(&'static str, f64)]) -> Self {
        Self {
            began: Mutex::new(Instant::now()),
            starts_ended: Mutex::new(None),
            ended: Mutex::new(None),
            scenarios: scenarios
                .iter()
                .map(|&(name, weight)| ScenarioMetrics {
                    name,
                    weight,
                    started: AtomicU64::new(0),
                    completed: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                    spans: AtomicU64::new(0),
                    payload_bytes: AtomicU64::new(0),
                    latency: LatencyHistogram::default(),
                })
                .collect(),
            latency: LatencyHistogram::default(),
            export_latency: LatencyHistogram::default(),
            start_lag: LatencyHistogram::default(),
            late: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            spans_created: AtomicU64::new(0),
            spans_exported: AtomicU64::new(0),
            spans_dropped: AtomicU64::new(0),
            wire_bytes: AtomicU64::new(0),
            raw_bytes: AtomicU64::new(0),
            requests: Mutex::new(RequestCounts::default()),
            cpu_at_start: Mutex::new(process_cpu_time()),
            cpu_at_end: Mutex::new(None),
        }
    }

    /// Marks the start of the measured run (throughput and duration count from here).
    /// CPU time is counted from here too, so `cpu_percent` compares like with like.
    pub fn mark_start(&self) {
        *self.began.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        *self.cpu_at_start.lock().unwrap_or_else(|p| p.into_inner()) = process_cpu_time();
    }

    /// Marks the end of the start window: no trace starts after this.
    pub fn mark_starts_ended(&self) {
        let at = self.now();
        *self.starts_ended.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }

    /// Marks the end of the run (the last trace ended or the drain timed out); the report's
    /// duration stops here, whatever the export shutdown takes after.
    pub fn mark_end(&self) {
        let at = self.now();
        *self.ended.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
        *self.cpu_at_end.lock().unwrap_or_else(|p| p.into_inner()) = Some(process_cpu_time());
    }

    fn now(&self) -> Duration {
        self.began.lock().unwrap_or_else(|p| p.into_inner()).elapsed()
    }

    /// Whether the start window is over (no trace starts any more; the run is draining).
    pub fn starts_ended(&self) -> bool {
        self.starts_ended.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Time since the start, or the run's length once it has ended.
    pub fn elapsed(&self) -> Duration {
        let ended = *self.ended.lock().unwrap_or_else(|p| p.into_inner());
        ended.unwrap_or_else(|| self.now())
    }

    /// The time traces were being started (so far).
    fn start_window(&self) -> Duration {
        let ended = *self.starts_ended.lock().unwrap_or_else(|p| p.into_inner());
        ended.unwrap_or_else(|| self.now())
    }

    /// A trace of scenario `index` started `lag` after its intended time.
    pub fn trace_started(&self, index: usize, lag: Duration) {
        if let Some(s) = self.scenarios.get(index) {
            s.started.fetch_add(1, Ordering::Relaxed);
        }
        self.start_lag.record(lag);
        if lag > LATE_THRESHOLD {
            self.late.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A trace ended; `latency` counts from its intended start. `failed`: an injected failure
    /// fired in it.
    pub fn trace_finished(
        &self,
        index: usize,
        latency: Duration,
        failed: bool,
        spans: u64,
        payload_bytes: u64,
    ) {
        self.latency.record(latency);
        if let Some(s) = self.scenarios.get(index) {
            s.latency.record(latency);
            if failed { &s.failed } else { &s.completed }.fetch_add(1, Ordering::Relaxed);
            s.spans.fetch_add(spans, Ordering::Relaxed);
            s.payload_bytes.fetch_add(payload_bytes, Ordering::Relaxed);
        }
    }

    /// Intended starts that never happened before the run ended (the generator or the
    /// in-flight cap could not keep up).
    pub fn missed(&self, count: u64) {
        self.missed.fetch_add(count, Ordering::Relaxed);
    }

    /// One span was handed to the exporter.
    pub fn span_created(&self) {
        self.spans_created.fetch_add(1, Ordering::Relaxed);
    }

    /// One export request attempt finished; `retry`: it resent an earlier attempt's body.
    pub fn request(
        &self,
        class: RequestClass,
        latency: Duration,
        wire_bytes: u64,
        raw_bytes: u64,
        retry: bool,
    ) {
        self.export_latency.record(latency);
        self.wire_bytes.fetch_add(wire_bytes, Ordering::Relaxed);
        self.raw_bytes.fetch_add(raw_bytes, Ordering::Relaxed);
        let mut r = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        r.retries += u64::from(retry);
        match class {
            RequestClass::Http(code) if (200..300).contains(&code) => r.ok += 1,
            RequestClass::Grpc(0) => r.ok += 1,
            RequestClass::Http(code) => *r.by_status.entry(code).or_default() += 1,
            RequestClass::Grpc(code) => *r.by_grpc.entry(code).or_default() += 1,
            RequestClass::Timeout => r.timeout += 1,
            RequestClass::Connect => r.connect += 1,
            RequestClass::Io => r.io += 1,
        }
    }

    /// Spans the backend accepted.
    pub fn exported(&self, spans: u64) {
        self.spans_exported.fetch_add(spans, Ordering::Relaxed);
    }

    /// Spans dropped before sending (the exporter's queue was full).
    pub fn dropped(&self, spans: u64) {
        self.spans_dropped.fetch_add(spans, Ordering::Relaxed);
    }

    /// Spans created and neither exported nor dropped yet (queued or in flight).
    pub fn spans_pending(&self) -> u64 {
        let created = self.spans_created.load(Ordering::Relaxed);
        let done = self.spans_exported.load(Ordering::Relaxed)
            + self.spans_dropped.load(Ordering::Relaxed);
        created.saturating_sub(done)
    }

    /// Traces started so far, all scenarios.
    pub fn traces_started(&self) -> u64 {
        self.scenarios.iter().map(|s| s.started.load(Ordering::Relaxed)).sum()
    }

    /// The report data as of now. `in_flight`: traces started and not finished.
    pub fn snapshot(&self) -> Report {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let elapsed = self.elapsed();
        let secs = elapsed.as_secs_f64().max(1e-9);
        let scenarios: Vec<ScenarioReport> = self
            .scenarios
            .iter()
            .map(|s| {
                let done = load(&s.completed) + load(&s.failed);
                ScenarioReport {
                    name: s.name.to_owned(),
                    weight: s.weight,
                    started: load(&s.started),
                    completed: load(&s.completed),
                    failed: load(&s.failed),
                    spans: load(&s.spans),
                    payload_bytes: load(&s.payload_bytes),
                    avg_payload_bytes: if done == 0 {
                        0.0
                    } else {
                        load(&s.payload_bytes) as f64 / done as f64
                    },
                    avg_spans: if done == 0 { 0.0 } else { load(&s.spans) as f64 / done as f64 },
                    declared_tokens: 0.0,
                    declared_spans: 0.0,
                    latency: s.latency.percentiles(),
                }
            })
            .collect();
        let started: u64 = scenarios.iter().map(|s| s.started).sum();
        let completed: u64 = scenarios.iter().map(|s| s.completed).sum();
        let failed: u64 = scenarios.iter().map(|s| s.failed).sum();
        let payload: u64 = scenarios.iter().map(|s| s.payload_bytes).sum();
        let finished = completed + failed;
        let requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let failed_requests = requests.by_status.values().sum::<u64>()
            + requests.by_grpc.values().sum::<u64>()
            + requests.timeout
            + requests.connect
            + requests.io;
        let total_requests = requests.ok + failed_requests;
        let created = load(&self.spans_created);
        let exported = load(&self.spans_exported);
        let dropped = load(&self.spans_dropped);
        let wire = load(&self.wire_bytes);
        let raw = load(&self.raw_bytes);
        let cpu_at_start = *self.cpu_at_start.lock().unwrap_or_else(|p| p.into_inner());
        let cpu_now = *self.cpu_at_end.lock().unwrap_or_else(|p| p.into_inner());
        let cpu = cpu_now.unwrap_or_else(process_cpu_time).saturating_sub(cpu_at_start);
        let start_window = self.start_window().as_secs_f64();
        Report {
            schema_version: SCHEMA_VERSION,
            duration_s: elapsed.as_secs_f64(),
            traces: Traces {
                started,
                completed,
                failed,
                unfinished: started.saturating_sub(finished),
                late: load(&self.late),
                missed: load(&self.missed),
                success_rate: if finished == 0 { 0.0 } else { completed as f64 / finished as f64 },
            },
            throughput: Throughput {
                traces_per_s: started as f64 / start_window.max(1e-9),
                start_window_s: start_window,
                spans_per_s: created as f64 / secs,
                wire_mb_per_s: wire as f64 / 1e6 / secs,
                raw_mb_per_s: raw as f64 / 1e6 / secs,
            },
            scenario_latency: self.latency.percentiles(),
            start_lag: self.start_lag.percentiles(),
            export_latency: self.export_latency.percentiles(),
            spans: Spans {
                created,
                exported,
                dropped,
                queue_full: dropped,
                pending: created.saturating_sub(exported + dropped),
                ..Spans::default()
            },
            requests: Requests {
                total: total_requests,
                ok: requests.ok,
                failed: failed_requests,
                error_rate: if total_requests == 0 {
                    0.0
                } else {
                    failed_requests as f64 / total_requests as f64
                },
                by_status: requests.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                by_grpc_status: requests.by_grpc.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                timeout: requests.timeout,
                connect: requests.connect,
                io: requests.io,
                retries: requests.retries,
            },
            bytes: Bytes {
                wire,
                raw,
                payload,
                avg_payload_per_trace: if finished == 0 {
                    0.0
                } else {
                    payload as f64 / finished as f64
                },
                compression_ratio: if wire == 0 { 0.0 } else { raw as f64 / wire as f64 },
            },
            scenarios,
            generator: Generator {
                cpu_s: cpu.as_secs_f64(),
                cpu_percent: cpu.as_secs_f64() / secs * 100.0,
                peak_rss_bytes: peak_rss_bytes(),
            },
            ..Report::default()
        }
    }
}

/// CPU time (user + system) this process has used, from `/proc/self/stat`; zero where that
/// file does not exist. Assumes the kernel's usual 100 ticks per second (reading the real
/// value needs `sysconf`, i.e. unsafe code, for no practical gain on Linux).
pub fn process_cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The command name (field 2) may contain spaces; fields after it are space-separated.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Peak resident set size (`VmHWM` in `/proc/self/status`) in bytes; zero where unavailable.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let kb = line.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim();
                kb.parse::<u64>().ok()
            })
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn books_and_percentiles() {
        let m = Metrics::new(&[("a", 0.5), ("b", 0.5)]);
        for i in 0..100u64 {
            m.trace_started(0, Duration::from_micros(500));
            m.trace_finished(0, Duration::from_millis(i + 1), i % 10 == 0, 5, 1000);
        }
        m.trace_started(1, Duration::from_millis(50));
        m.request(RequestClass::Http(200), Duration::from_millis(3), 100, 400, false);
        m.request(RequestClass::Http(429), Duration::from_millis(3), 100, 400, false);
        m.request(RequestClass::Timeout, Duration::from_millis(3), 100, 400, true);
        let r = m.snapshot();
        assert_eq!(r.traces.started, 101);
        assert_eq!(r.traces.completed, 90);
        assert_eq!(r.traces.failed, 10);
        assert_eq!(r.traces.unfinished, 1);
        assert_eq!(r.traces.late, 1);
        assert!((r.scenario_latency.p50_ms - 50.0).abs() < 1.0, "{:?}", r.scenario_latency);
        assert!((r.scenario_latency.max_ms - 100.0).abs() < 0.2);
        assert_eq!(r.requests.total, 3);
        assert_eq!(r.requests.failed, 2);
        assert_eq!(r.requests.by_status.get("429"), Some(&1));
        assert_eq!(r.requests.retries, 1);
        assert_eq!(r.bytes.wire, 300);
        assert!((r.bytes.compression_ratio - 4.0).abs() < 1e-9);
        assert_eq!(r.scenarios[0].avg_payload_bytes, 1000.0);
    }

    #[test]
    fn self_metrics_are_read() {
        assert!(peak_rss_bytes() > 0);
        let busy = Instant::now();
        let mut x = 0u64;
        while busy.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        assert!(x != 1 && process_cpu_time() > Duration::ZERO);
    }
}
