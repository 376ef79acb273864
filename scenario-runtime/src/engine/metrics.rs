//! The live aggregator every stage of a run reports to.
//!
//! Counters are atomics and latencies go into HDR histograms behind short locks (one record per
//! lock), so memory stays flat however long the run and workers on both cores rarely wait.
//! [`Metrics::snapshot`] copies the live state into plain, mergeable
//! [`Measurements`](crate::engine::measure::Measurements) at any time: for the progress line,
//! `--abort-on-fail` and the final report alike. Times come from tokio's clock, so tests can run
//! on paused time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::engine::export::{ExportObserver, Fate, RequestOutcome, RequestRecord, SettledSpan};
use crate::engine::ledger::Ledger;
use crate::engine::measure::{Hist, Measurements, RequestCounts, ScenarioMeasurements, Window};

/// A start later than this after its intended time counts as late. The 1 ms dispatcher keeps
/// its p99 lag near 1 ms on a busy 2-core machine; ten times that is a start a backend would
/// notice, not timer jitter.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(10);

/// A histogram behind a lock.
#[derive(Debug, Default)]
struct LiveHist(Mutex<Hist>);

impl LiveHist {
    fn record(&self, value: Duration) {
        self.lock().record(value);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Hist> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn copy(&self) -> Hist {
        self.lock().clone()
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
    latency: LiveHist,
}

/// Start and end marks of the run.
#[derive(Debug)]
struct Marks {
    began: Instant,
    began_unix_ms: u64,
    starts_ended: Option<Duration>,
    ended: Option<Duration>,
    cpu_at_start: Duration,
    cpu_at_end: Option<Duration>,
}

/// The run's aggregator.
#[derive(Debug)]
pub struct Metrics {
    marks: Mutex<Marks>,
    scenarios: Vec<ScenarioMetrics>,
    latency: LiveHist,
    export_latency: LiveHist,
    start_lag: LiveHist,
    late: AtomicU64,
    missed: AtomicU64,
    /// Waits of running traces for room in the export queue, and their total length.
    held: AtomicU64,
    held_nanos: AtomicU64,
    spans_created: AtomicU64,
    spans_exported: AtomicU64,
    spans_dropped: AtomicU64,
    wire_bytes: AtomicU64,
    raw_bytes: AtomicU64,
    requests: Mutex<RequestCounts>,
    dropped_starts: AtomicU64,
    conversations_started: AtomicU64,
    conversations_finished: AtomicU64,
    /// Which traces arrived whole.
    ledger: Mutex<Ledger>,
    /// What was acknowledged, trace by trace, for the read-back (kept only when verifying).
    sent: Mutex<Option<crate::engine::verify::Ledger>>,
    /// Woken whenever spans are settled (accepted or dropped): backpressure waits on it.
    settled: Notify,
    /// Read load outcomes per operation (`--query-rate`).
    queries: Mutex<Vec<crate::engine::measure::QueryMeasurements>>,
}

fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Metrics {
    /// An aggregator for the scenarios of the mix, in mix order (`(name, weight)`).
    pub fn new(scenarios: &[(&'static str, f64)]) -> Self {
        Self {
            marks: Mutex::new(Marks {
                began: Instant::now(),
                began_unix_ms: unix_ms_now(),
                starts_ended: None,
                ended: None,
                cpu_at_start: process_cpu_time(),
                cpu_at_end: None,
            }),
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
                    latency: LiveHist::default(),
                })
                .collect(),
            latency: LiveHist::default(),
            export_latency: LiveHist::default(),
            start_lag: LiveHist::default(),
            late: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            held: AtomicU64::new(0),
            held_nanos: AtomicU64::new(0),
            spans_created: AtomicU64::new(0),
            spans_exported: AtomicU64::new(0),
            spans_dropped: AtomicU64::new(0),
            wire_bytes: AtomicU64::new(0),
            raw_bytes: AtomicU64::new(0),
            requests: Mutex::new(RequestCounts::default()),
            dropped_starts: AtomicU64::new(0),
            conversations_started: AtomicU64::new(0),
            conversations_finished: AtomicU64::new(0),
            ledger: Mutex::new(Ledger::default()),
            sent: Mutex::new(None),
            settled: Notify::new(),
            queries: Mutex::new(Vec::new()),
        }
    }

    fn marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the start of the measured run (throughput, duration and CPU count from here, so
    /// start-up work is not counted against the run).
    pub fn mark_start(&self) {
        let mut m = self.marks();
        m.began = Instant::now();
        m.began_unix_ms = unix_ms_now();
        m.cpu_at_start = process_cpu_time();
    }

    /// Marks the end of the start window: no trace starts after this.
    pub fn mark_starts_ended(&self) {
        let mut m = self.marks();
        m.starts_ended = Some(m.began.elapsed());
    }

    /// Marks the end of the run (the last trace ended or the drain timed out); the duration
    /// stops here, whatever the export shutdown takes after.
    pub fn mark_end(&self) {
        let mut m = self.marks();
        m.ended = Some(m.began.elapsed());
        m.cpu_at_end = Some(process_cpu_time());
    }

    /// Whether the start window is over (no trace starts any more; the run is draining).
    pub fn starts_ended(&self) -> bool {
        self.marks().starts_ended.is_some()
    }

    /// Time since the start, or the run's length once it has ended.
    pub fn elapsed(&self) -> Duration {
        let m = self.marks();
        m.ended.unwrap_or_else(|| m.began.elapsed())
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

    /// The first turn of a conversation started.
    pub fn conversation_started(&self) {
        self.conversations_started.fetch_add(1, Ordering::Relaxed);
    }

    /// A conversation's last turn ended.
    pub fn conversation_finished(&self) {
        self.conversations_finished.fetch_add(1, Ordering::Relaxed);
    }

    /// A running trace waited `waited` for room in the export queue (see `SpanSink::hold`).
    pub fn trace_held(&self, waited: Duration) {
        self.held.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.held_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// A start refused: the export queue could not hold the whole trace.
    pub fn start_dropped(&self) {
        self.dropped_starts.fetch_add(1, Ordering::Relaxed);
    }

    /// A trace ended having emitted `spans` spans (for the delivery ledger).
    pub fn trace_emitted(&self, trace_id: crate::span::TraceId, spans: u64) {
        self.ledger().trace_ended(trace_id, u32::try_from(spans).unwrap_or(u32::MAX));
    }

    /// Keeps every acknowledged trace (id, spans, root, when) for a read-back after the run.
    pub fn keep_sent_traces(&self) {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.get_or_insert_with(crate::engine::verify::Ledger::new);
    }

    /// What was acknowledged, for the read-back (empty when not kept).
    pub fn take_sent_traces(&self) -> crate::engine::verify::Ledger {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_default()
    }

    /// The delivery ledger.
    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
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

    /// One export request attempt finished.
    pub fn request(&self, record: &RequestRecord) {
        self.export_latency.record(record.latency);
        self.wire_bytes.fetch_add(record.wire_bytes, Ordering::Relaxed);
        self.raw_bytes.fetch_add(record.raw_bytes, Ordering::Relaxed);
        let mut r = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        r.retries += u64::from(record.retries > 0);
        if let Some(message) = &record.message
            && !record.outcome.is_success()
        {
            r.messages.entry(record.outcome.to_string()).or_insert_with(|| message.clone());
        }
        match &record.outcome {
            outcome if outcome.is_success() => r.ok += 1,
            RequestOutcome::Status(code) => *r.by_status.entry(*code).or_default() += 1,
            RequestOutcome::GrpcStatus(code) => *r.by_grpc.entry(*code).or_default() += 1,
            RequestOutcome::Timeout => r.timeout += 1,
            RequestOutcome::Connect => r.connect += 1,
            RequestOutcome::Io(_) => r.io += 1,
        }
    }

    /// Spans the backend accepted.
    pub fn exported(&self, spans: u64) {
        self.spans_exported.fetch_add(spans, Ordering::Relaxed);
        self.settled.notify_waiters();
    }

    /// Spans dropped before sending (the exporter's queue was full).
    pub fn dropped(&self, spans: u64) {
        self.spans_dropped.fetch_add(spans, Ordering::Relaxed);
        self.settled.notify_waiters();
    }

    /// Spans created and neither exported nor dropped yet (queued or in flight).
    pub fn spans_pending(&self) -> u64 {
        let created = self.spans_created.load(Ordering::Relaxed);
        let done = self.spans_exported.load(Ordering::Relaxed)
            + self.spans_dropped.load(Ordering::Relaxed);
        created.saturating_sub(done)
    }

    /// Waits until at most `limit` spans are pending (woken as the exporter settles spans).
    pub async fn wait_pending_at_most(&self, limit: u64) {
        loop {
            let settled = self.settled.notified();
            if self.spans_pending() <= limit {
                return;
            }
            // A request that settles nothing (a retry) does not wake this; the timeout keeps a
            // wait from outliving such a stretch by more than a few milliseconds.
            let _ = tokio::time::timeout(Duration::from_millis(5), settled).await;
        }
    }

    /// Prepares one entry per read operation the load will run, in this order.
    pub fn queries_init(&self, ops: &[crate::engine::query::QueryOp]) {
        let mut queries = self.queries.lock().unwrap_or_else(|p| p.into_inner());
        for op in ops {
            if !queries.iter().any(|q| q.op == op.name()) {
                queries.push(crate::engine::measure::QueryMeasurements::new(op.name()));
            }
        }
    }

    /// Updates the measurements of read operation `op`.
    pub fn query_record(
        &self,
        op: crate::engine::query::QueryOp,
        update: impl FnOnce(&mut crate::engine::measure::QueryMeasurements),
    ) {
        let mut queries = self.queries.lock().unwrap_or_else(|p| p.into_inner());
        let index = match queries.iter().position(|q| q.op == op.name()) {
            Some(i) => i,
            None => {
                queries.push(crate::engine::measure::QueryMeasurements::new(op.name()));
                queries.len() - 1
            }
        };
        update(&mut queries[index]);
    }

    /// One of the traces delivered last (`pick` chooses which), for a read of a trace the run
    /// sent; `None` before the first is delivered.
    pub fn recent_delivered(&self, pick: u64) -> Option<crate::span::TraceId> {
        self.ledger().recent(pick)
    }

    /// Traces started so far, all scenarios.
    pub fn traces_started(&self) -> u64 {
        self.scenarios.iter().map(|s| s.started.load(Ordering::Relaxed)).sum()
    }

    /// The measurements as of now. Spans not yet settled stay pending; the engine closes the
    /// books with the exporter's final figures.
    pub fn snapshot(&self) -> Measurements {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (window, cpu) = {
            let m = self.marks();
            let now = m.began.elapsed();
            let window = Window {
                began_unix_ms: m.began_unix_ms,
                start_window_s: m.starts_ended.unwrap_or(now).as_secs_f64(),
                duration_s: m.ended.unwrap_or(now).as_secs_f64(),
            };
            let cpu = m.cpu_at_end.unwrap_or_else(process_cpu_time).saturating_sub(m.cpu_at_start);
            (window, cpu)
        };
        let mut measured = Measurements {
            window,
            scenarios: self
                .scenarios
                .iter()
                .map(|s| ScenarioMeasurements {
                    name: s.name.to_owned(),
                    weight: s.weight,
                    started: load(&s.started),
                    completed: load(&s.completed),
                    failed: load(&s.failed),
                    spans: load(&s.spans),
                    payload_bytes: load(&s.payload_bytes),
                    latency: s.latency.copy(),
                })
                .collect(),
            scenario_latency: self.latency.copy(),
            export_latency: self.export_latency.copy(),
            start_lag: self.start_lag.copy(),
            late: load(&self.late),
            missed: load(&self.missed),
            held: load(&self.held),
            held_s: Duration::from_nanos(load(&self.held_nanos)).as_secs_f64(),
            requests: self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            wire_bytes: load(&self.wire_bytes),
            raw_bytes: load(&self.raw_bytes),
            cpu_s: cpu.as_secs_f64(),
            peak_rss_bytes: peak_rss_bytes(),
            processes: 1,
            queries: self.queries.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            ..Measurements::default()
        };
        measured.spans.created = load(&self.spans_created);
        measured.spans.accepted = load(&self.spans_exported);
        measured.spans.queue_full = load(&self.spans_dropped);
        let ledger = self.ledger();
        let settled = ledger.settled();
        measured.traces = crate::engine::measure::TraceBooks {
            delivered: settled.delivered,
            lost: settled.lost,
            unknown: settled.unknown,
            unsettled: ledger.unsettled(),
            dropped_starts: load(&self.dropped_starts),
            conversations_started: load(&self.conversations_started),
            conversations_finished: load(&self.conversations_finished),
        };
        drop(ledger);
        measured
    }
}

/// The exporter reports straight into the aggregator.
impl ExportObserver for Metrics {
    fn on_request(&self, record: &RequestRecord) {
        self.request(record);
    }

    fn on_dropped(&self, spans: u64) {
        self.dropped(spans);
    }

    fn on_exported(&self, spans: u64) {
        self.exported(spans);
    }

    fn on_settled(&self, fate: Fate, spans: &[SettledSpan]) {
        let now = unix_ms_now();
        self.ledger().settle_spans(fate, spans, now);
        if fate != Fate::Accepted {
            return;
        }
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let Some(sent) = sent.as_mut() else { return };
        // Spans of one trace sit together in a batch: one entry per run of the same trace.
        let began = self.marks().began_unix_ms;
        let mut i = 0;
        while i < spans.len() {
            let trace_id = spans[i].trace_id;
            let run = spans[i..].iter().take_while(|s| s.trace_id == trace_id).count();
            let root = spans[i..i + run].iter().any(|s| s.root);
            sent.accept(trace_id, run as u64, root, began, now);
            i += run;
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

    fn record(outcome: RequestOutcome, retries: u32) -> RequestRecord {
        RequestRecord {
            wire_bytes: 100,
            raw_bytes: 400,
            spans: 3,
            outcome,
            latency: Duration::from_millis(3),
            retries,
            message: None,
        }
    }

    #[test]
    fn counts_and_percentiles() {
        let m = Metrics::new(&[("a", 0.5), ("b", 0.5)]);
        for i in 0..100u64 {
            m.trace_started(0, Duration::from_micros(500));
            m.trace_finished(0, Duration::from_millis(i + 1), i % 10 == 0, 5, 1000);
        }
        m.trace_started(1, Duration::from_millis(50));
        m.on_request(&record(RequestOutcome::Status(200), 0));
        m.on_request(&record(RequestOutcome::Status(429), 0));
        m.on_request(&record(RequestOutcome::Timeout, 1));
        m.on_exported(3);
        let r = m.snapshot();
        assert_eq!(r.traces_started(), 101);
        assert_eq!(r.scenarios[0].completed, 90);
        assert_eq!(r.scenarios[0].failed, 10);
        assert_eq!(r.late, 1);
        let p = r.scenario_latency.percentiles();
        assert!((p.p50_ms - 50.0).abs() < 1.0, "{p:?}");
        assert!((p.max_ms - 100.0).abs() < 0.2);
        assert_eq!(r.requests.total(), 3);
        assert_eq!(r.requests.failed(), 2);
        assert_eq!(r.requests.by_status.get(&429), Some(&1));
        assert_eq!(r.requests.retries, 1);
        assert_eq!(r.wire_bytes, 300);
        assert_eq!(r.spans.accepted, 3);
    }

    #[test]
    fn self_metrics_are_read() {
        assert!(peak_rss_bytes() > 0);
        let busy = std::time::Instant::now();
        let mut x = 0u64;
        while busy.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        assert!(x != 1 && process_cpu_time() > Duration::ZERO);
    }
}
