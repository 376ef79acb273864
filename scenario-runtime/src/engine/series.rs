//! The run over time: one compact row of measurements per interval (1 s by default).
//!
//! A [`Recorder`] samples the live aggregator ([`Metrics`]) at every interval boundary and keeps
//! the difference from the previous sample as a [`Row`]: counters of the interval (traces,
//! spans, requests by class, bytes, late starts), gauges at its end (traces in flight, spans
//! pending in the exporter, resident memory), the generator's CPU time, and three latency
//! histograms of the interval (export, scenario, start lag) from which the row's percentiles
//! come. Percentiles are never averaged: an interval's p99 is read from that interval's own
//! histogram, and the p99 of merged rows from the merged histograms.
//!
//! Memory stays bounded however long the run: a row holds plain numbers and its histograms as
//! compressed HdrHistogram V2 bytes at [`SERIES_DIGITS`] significant digits, not live
//! histograms (190 KB each). The test `a_row_is_small` measures it: 232 bytes for an idle
//! interval, 737 for a typical busy second and 1,456 at the widest spread, so a 4-hour run at
//! 1 s (14,400 rows) holds 3.3 MB of idle rows, 10.6 MB of typical ones.
//!
//! Row starts are absolute (Unix milliseconds) and aligned to whole multiples of the interval,
//! so the series of several processes line up and [`Series::merge`] adds rows with the same
//! start. The first and last rows cover only part of their interval (`duration_ms` says how
//! much).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::engine::measure::{Hist, MAX_MICROS, Measurements, RequestCounts};
use crate::engine::metrics::{Metrics, process_cpu_time};

/// The interval when none is given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// Shortest interval accepted (shorter ones are raised to it).
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Significant digits of the per-interval histograms: a relative error below 1%, and about a
/// third of the bytes of the 3 digits the run's totals use.
pub const SERIES_DIGITS: u8 = 2;

/// Milliseconds since the Unix epoch, on the wall clock.
fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn empty_histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram documents as valid: this cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, MAX_MICROS, SERIES_DIGITS)
        .expect("1..=1h at 2 significant digits is valid")
}

/// One interval's latency histogram (microseconds), kept as compressed HdrHistogram V2 bytes
/// (deflate, as `V2DeflateSerializer` writes them); empty when
/// the interval had no sample. Serialized as base64, like [`Hist`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactHist(Box<[u8]>);

impl CompactHist {
    fn encode(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let mut bytes = Vec::new();
        // Writing into a Vec cannot fail, and the histogram's own bounds always encode.
        if V2DeflateSerializer::new().serialize(h, &mut bytes).is_err() {
            bytes.clear();
        }
        Self(bytes.into_boxed_slice())
    }

    /// The samples of `interval` at [`SERIES_DIGITS`] digits.
    fn of(interval: &Histogram<u64>) -> Self {
        let mut h = empty_histogram();
        for v in interval.iter_recorded() {
            h.saturating_record_n(v.value_iterated_to().clamp(1, MAX_MICROS), v.count_at_value());
        }
        Self::encode(&h)
    }

    /// The histogram; empty when there is none or the bytes do not decode.
    pub fn decode(&self) -> Histogram<u64> {
        let mut h = empty_histogram();
        if self.0.is_empty() {
            return h;
        }
        if let Ok(decoded) = Deserializer::new().deserialize::<u64, _>(&mut &self.0[..]) {
            for v in decoded.iter_recorded() {
                h.saturating_record_n(
                    v.value_iterated_to().clamp(1, MAX_MICROS),
                    v.count_at_value(),
                );
            }
        }
        h
    }

    fn merge(&mut self, other: &CompactHist) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            *self = other.clone();
            return;
        }
        let mut h = self.decode();
        // Same bounds on both sides: adding cannot fail.
        let _ = h.add(other.decode());
        *self = Self::encode(&h);
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

impl Serialize for CompactHist {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for CompactHist {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = BASE64
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("histogram is not base64: {e}")))?;
        if !bytes.is_empty() {
            Deserializer::new().deserialize::<u64, _>(&mut bytes.as_slice()).map_err(|e| {
                serde::de::Error::custom(format!(
                    "histogram is not in HdrHistogram V2 format: {e:?}"
                ))
            })?;
        }
        Ok(Self(bytes.into_boxed_slice()))
    }
}

/// A percentile in microseconds (0: no sample), written as milliseconds or `null`.
mod micros_as_ms {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(micros: &u32, serializer: S) -> Result<S::Ok, S::Error> {
        match *micros {
            0 => serializer.serialize_none(),
            v => serializer.serialize_some(&(f64::from(v) / 1000.0)),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        let ms = Option::<f64>::deserialize(deserializer)?;
        Ok(ms.map_or(0, |ms| (ms * 1000.0).round().clamp(1.0, f64::from(u32::MAX)) as u32))
    }
}

/// Microseconds at quantile `q`, 0 when empty.
fn quantile_micros(h: &Histogram<u64>, q: f64) -> u32 {
    if h.is_empty() { 0 } else { h.value_at_quantile(q).min(u64::from(u32::MAX)) as u32 }
}

/// One interval of the run.
///
/// Counters count what happened in the interval; `traces_in_flight`, `queue_spans` and
/// `rss_bytes` are read at its end. Percentiles (milliseconds, `null` without samples) come
/// from the interval's histograms.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Start of the interval, Unix milliseconds, a whole multiple of the interval.
    pub start_unix_ms: u64,
    /// How much of the interval the row covers (less for the first and last rows).
    pub duration_ms: u64,
    pub traces_started: u64,
    /// Traces that ended (completed or failed).
    pub traces_finished: u64,
    /// Traces that ended with an injected failure (included in `traces_finished`).
    pub traces_failed: u64,
    /// Started and not yet ended, at the end of the interval.
    pub traces_in_flight: u64,
    /// Starts later than the late threshold.
    pub late_starts: u64,
    pub spans_created: u64,
    /// Spans the backend acknowledged.
    pub spans_exported: u64,
    /// Spans dropped because the exporter's queue was full.
    pub spans_queue_full: u64,
    /// Spans created and not yet settled (queued or in flight in the exporter), at the end of
    /// the interval.
    pub queue_spans: u64,
    pub requests_ok: u64,
    /// Failed request attempts by class: HTTP status (`"429"`), `grpc_<code>`, `timeout`,
    /// `connect`, `io`.
    pub requests_failed: BTreeMap<String, u64>,
    /// Attempts that were retries.
    pub requests_retried: u64,
    pub wire_bytes: u64,
    pub raw_bytes: u64,
    #[serde(with = "micros_as_ms")]
    pub export_p50_ms: u32,
    #[serde(with = "micros_as_ms")]
    pub export_p95_ms: u32,
    #[serde(with = "micros_as_ms")]
    pub export_p99_ms: u32,
    #[serde(with = "micros_as_ms")]
    pub export_max_ms: u32,
    #[serde(with = "micros_as_ms")]
    pub scenario_p99_ms: u32,
    #[serde(with = "micros_as_ms")]
    pub start_lag_p99_ms: u32,
    /// Generator CPU time used in the interval (`cpu_ms / duration_ms * 100` is the CPU %).
    pub cpu_ms: u64,
    /// Generator resident memory at the end of the interval (summed over merged processes).
    pub rss_bytes: u64,
    /// Export request latency of the interval.
    pub export_latency: CompactHist,
    /// Scenario latency of the traces that ended in the interval.
    pub scenario_latency: CompactHist,
    /// Start lag of the traces that started in the interval.
    pub start_lag: CompactHist,
    /// Read load (`--query-rate`) by operation; empty without it.
    #[serde(default)]
    pub queries: BTreeMap<String, QueryRow>,
}

/// One read operation's interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryRow {
    /// Queries started in the interval.
    pub started: u64,
    /// 2xx answers that arrived in it.
    pub ok: u64,
    /// Other outcomes settled in it (non-2xx, timeout, transport, unanswered).
    pub failed: u64,
    #[serde(with = "micros_as_ms")]
    pub p50_ms: u32,
    #[serde(with = "micros_as_ms")]
    pub p99_ms: u32,
    /// Latency of the queries answered in the interval.
    pub latency: CompactHist,
}

impl QueryRow {
    fn absorb(&mut self, other: &QueryRow) {
        self.started += other.started;
        self.ok += other.ok;
        self.failed += other.failed;
        self.latency.merge(&other.latency);
        let h = self.latency.decode();
        self.p50_ms = quantile_micros(&h, 0.50);
        self.p99_ms = quantile_micros(&h, 0.99);
    }
}

impl Row {
    /// Failed request attempts, all classes.
    pub fn requests_failed_total(&self) -> u64 {
        self.requests_failed.values().sum()
    }

    /// Percentiles from the histograms.
    fn settle_percentiles(&mut self) {
        let export = self.export_latency.decode();
        self.export_p50_ms = quantile_micros(&export, 0.50);
        self.export_p95_ms = quantile_micros(&export, 0.95);
        self.export_p99_ms = quantile_micros(&export, 0.99);
        self.export_max_ms = quantile_micros(&export, 1.0);
        self.scenario_p99_ms = quantile_micros(&self.scenario_latency.decode(), 0.99);
        self.start_lag_p99_ms = quantile_micros(&self.start_lag.decode(), 0.99);
    }

    /// Adds the counters and histograms of `other`; `gauges_add`: the gauges add too (rows of
    /// different processes) instead of taking `other`'s (a later sample of the same process).
    fn absorb(&mut self, other: &Row, gauges_add: bool) {
        self.absorb_counts(other, gauges_add);
        self.export_latency.merge(&other.export_latency);
        self.scenario_latency.merge(&other.scenario_latency);
        self.start_lag.merge(&other.start_lag);
        self.settle_percentiles();
        self.absorb_queries(other);
    }

    fn absorb_queries(&mut self, other: &Row) {
        for (op, theirs) in &other.queries {
            self.queries.entry(op.clone()).or_default().absorb(theirs);
        }
    }

    /// [`Row::absorb`] without the histograms.
    fn absorb_counts(&mut self, other: &Row, gauges_add: bool) {
        self.traces_started += other.traces_started;
        self.traces_finished += other.traces_finished;
        self.traces_failed += other.traces_failed;
        self.late_starts += other.late_starts;
        self.spans_created += other.spans_created;
        self.spans_exported += other.spans_exported;
        self.spans_queue_full += other.spans_queue_full;
        self.requests_ok += other.requests_ok;
        for (class, n) in &other.requests_failed {
            *self.requests_failed.entry(class.clone()).or_default() += n;
        }
        self.requests_retried += other.requests_retried;
        self.wire_bytes += other.wire_bytes;
        self.raw_bytes += other.raw_bytes;
        self.cpu_ms += other.cpu_ms;
        if gauges_add {
            self.duration_ms = self.duration_ms.max(other.duration_ms);
            self.traces_in_flight += other.traces_in_flight;
            self.queue_spans += other.queue_spans;
            self.rss_bytes += other.rss_bytes;
        } else {
            self.duration_ms += other.duration_ms;
            self.traces_in_flight = other.traces_in_flight;
            self.queue_spans = other.queue_spans;
            self.rss_bytes = other.rss_bytes;
        }
    }

    /// Bytes this row holds, inline and on the heap.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Row>()
            + self.requests_failed.keys().map(|k| k.len() + 48).sum::<usize>()
            + self.export_latency.heap_bytes()
            + self.scenario_latency.heap_bytes()
            + self.start_lag.heap_bytes()
            + self.queries.values().map(|q| 64 + q.latency.heap_bytes()).sum::<usize>()
    }
}

/// The rows of a run (or of several processes' runs, merged), in time order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Length of one interval in milliseconds (0: no series was recorded).
    pub interval_ms: u64,
    pub rows: Vec<Row>,
}

impl Series {
    /// Adds `other` (another process's series): rows with the same start add (counters and
    /// gauges add, percentiles come from the merged histograms), the others are inserted in
    /// time order.
    pub fn merge(&mut self, other: &Series) {
        if other.rows.is_empty() {
            return;
        }
        if self.interval_ms == 0 {
            self.interval_ms = other.interval_ms;
        }
        let mut by_start: BTreeMap<u64, Row> =
            std::mem::take(&mut self.rows).into_iter().map(|r| (r.start_unix_ms, r)).collect();
        for row in &other.rows {
            match by_start.get_mut(&row.start_unix_ms) {
                Some(ours) => ours.absorb(row, true),
                None => {
                    by_start.insert(row.start_unix_ms, row.clone());
                }
            }
        }
        self.rows = by_start.into_values().collect();
    }

    /// Bytes the rows hold.
    pub fn bytes(&self) -> usize {
        self.rows.iter().map(Row::bytes).sum()
    }

    /// The merge of many processes' series at once: the same result as merging them one by one,
    /// but each row's histograms are decoded once and encoded once (a hundred shards' merge
    /// would otherwise decode and re-encode every row a hundred times).
    pub fn merge_all(parts: &[&Series]) -> Series {
        let interval_ms = parts.iter().map(|p| p.interval_ms).find(|&i| i > 0).unwrap_or(0);
        let mut by_start: BTreeMap<u64, (Row, [Histogram<u64>; 3])> = BTreeMap::new();
        for row in parts.iter().flat_map(|p| &p.rows) {
            let hists = [
                row.export_latency.decode(),
                row.scenario_latency.decode(),
                row.start_lag.decode(),
            ];
            match by_start.get_mut(&row.start_unix_ms) {
                Some((ours, sums)) => {
                    ours.absorb_counts(row, true);
                    ours.absorb_queries(row);
                    for (sum, h) in sums.iter_mut().zip(hists) {
                        // Same bounds on every side: adding cannot fail.
                        let _ = sum.add(h);
                    }
                }
                None => {
                    by_start.insert(row.start_unix_ms, (row.clone(), hists));
                }
            }
        }
        let rows = by_start
            .into_values()
            .map(|(mut row, [export, scenario, lag])| {
                row.export_latency = CompactHist::encode(&export);
                row.scenario_latency = CompactHist::encode(&scenario);
                row.start_lag = CompactHist::encode(&lag);
                row.settle_percentiles();
                row
            })
            .collect();
        Series { interval_ms, rows }
    }
}

/// The cumulative figures a row is the difference of.
#[derive(Default)]
struct Cumulative {
    started: u64,
    finished: u64,
    failed: u64,
    late: u64,
    spans_created: u64,
    spans_exported: u64,
    spans_queue_full: u64,
    requests: RequestCounts,
    wire_bytes: u64,
    raw_bytes: u64,
    export: Hist,
    scenario: Hist,
    lag: Hist,
    cpu: Duration,
    queries: Vec<crate::engine::measure::QueryMeasurements>,
}

impl Cumulative {
    fn of(m: &Measurements, cpu: Duration) -> Self {
        Cumulative {
            started: m.traces_started(),
            finished: m.traces_finished(),
            failed: m.scenarios.iter().map(|s| s.failed).sum(),
            late: m.late,
            spans_created: m.spans.created,
            spans_exported: m.spans.accepted,
            spans_queue_full: m.spans.queue_full,
            requests: m.requests.clone(),
            wire_bytes: m.wire_bytes,
            raw_bytes: m.raw_bytes,
            export: m.export_latency.clone(),
            scenario: m.scenario_latency.clone(),
            lag: m.start_lag.clone(),
            cpu,
            queries: m.queries.clone(),
        }
    }
}

/// The samples of `now` that `before` does not have.
fn interval_hist(now: &Hist, before: &Hist) -> CompactHist {
    let mut diff = now.0.clone();
    if diff.subtract(&before.0).is_err() {
        // Cannot happen (samples are only added); fall back to everything since the start.
        diff = now.0.clone();
    }
    CompactHist::of(&diff)
}

/// Failed attempts by class, as rows name them.
fn failed_by_class(now: &RequestCounts, before: &RequestCounts) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut put = |class: String, n: u64| {
        if n > 0 {
            out.insert(class, n);
        }
    };
    for (code, n) in &now.by_status {
        put(code.to_string(), n - before.by_status.get(code).copied().unwrap_or(0).min(*n));
    }
    for (code, n) in &now.by_grpc {
        put(format!("grpc_{code}"), n - before.by_grpc.get(code).copied().unwrap_or(0).min(*n));
    }
    put("timeout".to_owned(), now.timeout.saturating_sub(before.timeout));
    put("connect".to_owned(), now.connect.saturating_sub(before.connect));
    put("io".to_owned(), now.io.saturating_sub(before.io));
    out
}

/// Each read operation's interval: the difference of two cumulative samples.
fn query_rows(
    now: &[crate::engine::measure::QueryMeasurements],
    before: &[crate::engine::measure::QueryMeasurements],
) -> BTreeMap<String, QueryRow> {
    let empty = crate::engine::measure::QueryMeasurements::default();
    now.iter()
        .map(|q| {
            let b = before.iter().find(|b| b.op == q.op).unwrap_or(&empty);
            let latency = interval_hist(&q.latency, &b.latency);
            let h = latency.decode();
            let row = QueryRow {
                started: q.started.saturating_sub(b.started),
                ok: q.ok.saturating_sub(b.ok),
                failed: q.failed().saturating_sub(b.failed()),
                p50_ms: quantile_micros(&h, 0.50),
                p99_ms: quantile_micros(&h, 0.99),
                latency,
            };
            (q.op.clone(), row)
        })
        .collect()
}

/// Current resident set size (`VmRSS`), bytes; zero where unavailable.
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let kb = line.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim();
                kb.parse::<u64>().ok()
            })
        })
        .map_or(0, |kb| kb * 1024)
}

/// Samples the aggregator once per interval and keeps the rows.
pub struct Recorder {
    interval: Duration,
    /// The tokio instant and the wall-clock time it corresponds to.
    origin: Instant,
    origin_unix_ms: u64,
    last: Cumulative,
    last_at: Instant,
    ticks: Interval,
    rows: Vec<Row>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("interval", &self.interval)
            .field("rows", &self.rows.len())
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder whose intervals are `interval` long (zero: [`DEFAULT_INTERVAL`]; at least
    /// [`MIN_INTERVAL`]), starting now with nothing counted.
    pub fn new(interval: Duration) -> Self {
        let interval =
            if interval.is_zero() { DEFAULT_INTERVAL } else { interval.max(MIN_INTERVAL) };
        let origin = Instant::now();
        let origin_unix_ms = unix_ms_now();
        let step = interval.as_millis() as u64;
        let first_boundary = (origin_unix_ms / step + 1) * step;
        let mut ticks = tokio::time::interval_at(
            origin + Duration::from_millis(first_boundary - origin_unix_ms),
            interval,
        );
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Recorder {
            interval,
            origin,
            origin_unix_ms,
            last: Cumulative { cpu: process_cpu_time(), ..Cumulative::default() },
            last_at: origin,
            ticks,
            rows: Vec::new(),
        }
    }

    /// Waits for the next interval boundary.
    pub async fn tick(&mut self) {
        self.ticks.tick().await;
    }

    fn unix_ms(&self, at: Instant) -> u64 {
        self.origin_unix_ms + at.duration_since(self.origin).as_millis() as u64
    }

    /// Closes the interval in progress with what `metrics` counted since the last sample.
    pub fn sample(&mut self, metrics: &Metrics) {
        let now_at = Instant::now();
        let m = metrics.snapshot();
        let now = Cumulative::of(&m, process_cpu_time());
        let before = &self.last;
        let step = self.interval.as_millis() as u64;
        let mut row = Row {
            start_unix_ms: self.unix_ms(self.last_at) / step * step,
            duration_ms: now_at.duration_since(self.last_at).as_millis() as u64,
            traces_started: now.started - before.started.min(now.started),
            traces_finished: now.finished - before.finished.min(now.finished),
            traces_failed: now.failed - before.failed.min(now.failed),
            traces_in_flight: now.started.saturating_sub(now.finished),
            late_starts: now.late.saturating_sub(before.late),
            spans_created: now.spans_created.saturating_sub(before.spans_created),
            spans_exported: now.spans_exported.saturating_sub(before.spans_exported),
            spans_queue_full: now.spans_queue_full.saturating_sub(before.spans_queue_full),
            queue_spans: metrics.spans_pending(),
            requests_ok: now.requests.ok.saturating_sub(before.requests.ok),
            requests_failed: failed_by_class(&now.requests, &before.requests),
            requests_retried: now.requests.retries.saturating_sub(before.requests.retries),
            wire_bytes: now.wire_bytes.saturating_sub(before.wire_bytes),
            raw_bytes: now.raw_bytes.saturating_sub(before.raw_bytes),
            cpu_ms: now.cpu.saturating_sub(before.cpu).as_millis() as u64,
            rss_bytes: rss_bytes(),
            export_latency: interval_hist(&now.export, &before.export),
            scenario_latency: interval_hist(&now.scenario, &before.scenario),
            start_lag: interval_hist(&now.lag, &before.lag),
            queries: query_rows(&now.queries, &before.queries),
            ..Row::default()
        };
        row.settle_percentiles();
        self.last = now;
        self.last_at = now_at;
        match self.rows.last_mut() {
            // A second sample within one interval (the last one, after a tick) joins it.
            Some(last) if last.start_unix_ms == row.start_unix_ms => last.absorb(&row, false),
            _ => self.rows.push(row),
        }
    }

    /// Rows so far.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The series recorded.
    pub fn finish(self) -> Series {
        Series { interval_ms: self.interval.as_millis() as u64, rows: self.rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::export::{ExportObserver, RequestOutcome, RequestRecord};

    fn request(outcome: RequestOutcome, latency_ms: u64) -> RequestRecord {
        RequestRecord {
            wire_bytes: 1000,
            raw_bytes: 4000,
            spans: 10,
            outcome,
            latency: Duration::from_millis(latency_ms),
            retries: 0,
            message: None,
        }
    }

    /// A stand-in for a run on paused time: every 10 ms a trace starts and ends, a request
    /// goes out and spans are created and exported; the recorder samples at each boundary.
    async fn drive(metrics: &Metrics, recorder: &mut Recorder, steps: u64) {
        let work = async {
            for i in 0..steps {
                metrics.trace_started(0, Duration::from_millis(i % 20));
                for _ in 0..10 {
                    metrics.span_created();
                }
                let outcome = if i % 7 == 0 {
                    RequestOutcome::Status(429)
                } else {
                    RequestOutcome::Status(200)
                };
                metrics.on_request(&request(outcome, 5 + i % 50));
                metrics.on_exported(8);
                metrics.on_dropped(2);
                metrics.trace_finished(0, Duration::from_millis(100 + i), i % 5 == 0, 10, 500);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::pin!(work);
        loop {
            tokio::select! {
                () = &mut work => break,
                () = recorder.tick() => recorder.sample(metrics),
            }
        }
        recorder.sample(metrics);
    }

    #[tokio::test(start_paused = true)]
    async fn rows_add_up_to_the_totals() {
        let metrics = Metrics::new(&[("a", 1.0)]);
        let mut recorder = Recorder::new(Duration::from_secs(1));
        drive(&metrics, &mut recorder, 1000).await;
        let total = metrics.snapshot();
        let series = recorder.finish();
        let rows = &series.rows;
        // 10 s of work: 10 or 11 rows (the first and last partial), aligned and in order.
        assert!((10..=11).contains(&rows.len()), "{} rows", rows.len());
        for pair in rows.windows(2) {
            assert_eq!(pair[1].start_unix_ms - pair[0].start_unix_ms, 1000);
        }
        assert!(rows.iter().all(|r| r.start_unix_ms.is_multiple_of(1000)));
        let sum = |f: fn(&Row) -> u64| rows.iter().map(f).sum::<u64>();
        assert_eq!(sum(|r| r.traces_started), total.traces_started());
        assert_eq!(sum(|r| r.traces_finished), total.traces_finished());
        assert_eq!(sum(|r| r.traces_failed), 200);
        assert_eq!(sum(|r| r.spans_created), total.spans.created);
        assert_eq!(sum(|r| r.spans_exported), total.spans.accepted);
        assert_eq!(sum(|r| r.spans_queue_full), total.spans.queue_full);
        assert_eq!(sum(|r| r.requests_ok), total.requests.ok);
        assert_eq!(sum(Row::requests_failed_total), total.requests.failed());
        assert_eq!(sum(|r| r.wire_bytes), total.wire_bytes);
        assert_eq!(sum(|r| r.raw_bytes), total.raw_bytes);
        assert_eq!(sum(|r| r.late_starts), total.late);
        let export: u64 = rows.iter().map(|r| r.export_latency.decode().len()).sum();
        assert_eq!(export, total.export_latency.len());
        // The durations cover the whole run, and a full interval is whole.
        assert!((9_900..=10_100).contains(&sum(|r| r.duration_ms)), "{}", sum(|r| r.duration_ms));
        assert_eq!(rows[2].duration_ms, 1000);
        // Per-interval percentiles come from the interval's own samples: 5..55 ms export
        // latency in every full interval.
        let p99 = f64::from(rows[2].export_p99_ms) / 1000.0;
        assert!((50.0..=55.5).contains(&p99), "{p99}");
        assert!(rows[2].requests_failed.get("429").copied().unwrap_or(0) > 0);
    }

    #[tokio::test(start_paused = true)]
    async fn merged_rows_line_up_and_add() {
        let a_metrics = Metrics::new(&[("a", 1.0)]);
        let mut a = Recorder::new(Duration::from_secs(1));
        drive(&a_metrics, &mut a, 300).await;
        let b_metrics = Metrics::new(&[("a", 1.0)]);
        let mut b = Recorder::new(Duration::from_secs(1));
        drive(&b_metrics, &mut b, 300).await;
        let (a, b) = (a.finish(), b.finish());
        let mut merged = a.clone();
        // Through JSON, as the reports of separate processes travel.
        let b: Series = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        merged.merge(&b);
        let sum = |s: &Series| s.rows.iter().map(|r| r.traces_started).sum::<u64>();
        assert_eq!(sum(&merged), sum(&a) + sum(&b));
        // Both ran on the same paused clock: the same row starts, so they add row by row.
        let common =
            a.rows.iter().filter(|r| b.rows.iter().any(|o| o.start_unix_ms == r.start_unix_ms));
        for row in common {
            let m = merged.rows.iter().find(|m| m.start_unix_ms == row.start_unix_ms).unwrap();
            let other = b.rows.iter().find(|o| o.start_unix_ms == row.start_unix_ms).unwrap();
            assert_eq!(m.spans_exported, row.spans_exported + other.spans_exported);
            let mut pooled = row.export_latency.decode();
            pooled.add(other.export_latency.decode()).unwrap();
            assert_eq!(m.export_p99_ms, quantile_micros(&pooled, 0.99));
        }
        for pair in merged.rows.windows(2) {
            assert!(pair[0].start_unix_ms < pair[1].start_unix_ms);
        }
        // All at once gives exactly what one by one gives.
        assert_eq!(Series::merge_all(&[&a, &b]), merged);
    }

    #[test]
    fn a_row_is_small() {
        // A busy second: 2,000 requests from 1 ms to 2 s, 500 traces from 50 ms to 30 s.
        let mut export = empty_histogram();
        let mut scenario = empty_histogram();
        let mut lag = empty_histogram();
        let mut x = 7u64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as f64 / (1u64 << 31) as f64
        };
        for _ in 0..2000 {
            // Log-uniform: the widest realistic spread of distinct buckets.
            export.saturating_record((1000.0 * 2000f64.powf(next())) as u64);
        }
        for _ in 0..500 {
            scenario.saturating_record((50_000.0 * 600f64.powf(next())) as u64);
            lag.saturating_record((100.0 * 100f64.powf(next())) as u64);
        }
        let mut row = Row {
            export_latency: CompactHist::of(&export),
            scenario_latency: CompactHist::of(&scenario),
            start_lag: CompactHist::of(&lag),
            requests_failed: [("429".to_owned(), 3)].into(),
            ..Row::default()
        };
        row.settle_percentiles();
        let bytes = row.bytes();
        // 14,400 rows (4 hours at 1 s) in under 8 MB even at this spread.
        // The widest spread (three decades, log-uniform): about 1.5 KB.
        assert!(bytes < 1600, "a busy row holds {bytes} bytes");
        // A typical second: 200 requests of 2..20 ms, 200 traces of 0.5..5 s, lags of
        // 0.1..2 ms.
        let mut typical = Row::default();
        for (target, low, decades, n) in [
            (&mut typical.export_latency, 2000.0, 1.0, 200),
            (&mut typical.scenario_latency, 500_000.0, 1.0, 200),
            (&mut typical.start_lag, 100.0, 1.3, 200),
        ] {
            let mut h = empty_histogram();
            for _ in 0..n {
                h.saturating_record((low * 10f64.powf(decades * next())) as u64);
            }
            *target = CompactHist::of(&h);
        }
        let typical = typical.bytes();
        assert!(typical < 1000, "a typical row holds {typical} bytes");
        // Idle: the struct alone (its counters, three empty histograms, the empty query map).
        let idle = Row::default().bytes();
        assert!(idle <= 256, "an idle row holds {idle} bytes");
        eprintln!("row bytes: idle {idle}, typical {typical}, widest {bytes}");
    }

    #[test]
    fn compact_histograms_survive_json() {
        let mut h = empty_histogram();
        for v in [1u64, 10, 1000, 1_000_000] {
            h.saturating_record(v);
        }
        let c = CompactHist::of(&h);
        let json = serde_json::to_string(&c).unwrap();
        let back: CompactHist = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.decode().len(), 4);
        assert!(serde_json::from_str::<CompactHist>("\"AAAA\"").is_err());
        assert_eq!(serde_json::from_str::<CompactHist>("\"\"").unwrap(), CompactHist::default());
    }
}
