//! Mergeable measurements: the counters and HDR histograms of a run as plain data.
//!
//! [`Measurements`] is what the live aggregator ([`crate::engine::metrics::Metrics`]) hands out
//! and what the report is computed from ([`crate::engine::report::build`]). Two measurements of
//! the same plan (two shards, two processes, two halves of one sample set) combine exactly with
//! [`Measurements::merge`]: counters add, histograms add bucket by bucket, time windows span
//! both. Histograms serialize as base64 of hdrhistogram's V2 format, so a JSON report carries
//! everything a later merge needs and percentiles of the merge equal those of the pooled samples.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::engine::report::Percentiles;

/// Largest latency a histogram holds: one hour, in microseconds. Longer values are clamped.
pub const MAX_MICROS: u64 = 3_600_000_000;

/// A latency histogram in microseconds (1 µs to 1 h, 3 significant digits).
#[derive(Clone, Debug, PartialEq)]
pub struct Hist(pub(crate) Histogram<u64>);

impl Default for Hist {
    fn default() -> Self {
        // Constant bounds that hdrhistogram documents as valid: this cannot fail.
        #[allow(clippy::expect_used)]
        Self(
            Histogram::new_with_bounds(1, MAX_MICROS, 3)
                .expect("1..=1h at 3 significant digits is valid"),
        )
    }
}

impl Hist {
    /// Records one duration (clamped to 1 µs..1 h).
    pub fn record(&mut self, value: Duration) {
        let micros = (value.as_micros() as u64).clamp(1, MAX_MICROS);
        self.0.saturating_record(micros);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Hist) {
        if self.0.add(&other.0).is_err() {
            // Different bounds (a hand-made report): add value by value, clamped.
            for v in other.0.iter_recorded() {
                self.0.saturating_record_n(
                    v.value_iterated_to().clamp(1, MAX_MICROS),
                    v.count_at_value(),
                );
            }
        }
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value at quantile `q` (0..=1) in milliseconds; `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        (!self.0.is_empty()).then(|| self.0.value_at_quantile(q) as f64 / 1000.0)
    }

    /// P50/P95/P99/max/mean in milliseconds.
    pub fn percentiles(&self) -> Percentiles {
        let h = &self.0;
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Percentiles {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }

    /// Samples at most `micros` (cumulative bucket counts, as Prometheus histograms have them).
    pub fn count_at_most(&self, micros: u64) -> u64 {
        if self.0.is_empty() { 0 } else { self.0.count_between(0, micros) }
    }

    /// Sum of the samples in microseconds (from the bucket values, as HdrHistogram keeps them).
    pub fn sum_micros(&self) -> f64 {
        self.0.mean() * self.0.len() as f64
    }

    /// The V2 encoding, base64.
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::new();
        // Writing into a Vec cannot fail, and the histogram's own bounds always encode.
        if V2Serializer::new().serialize(&self.0, &mut bytes).is_err() {
            bytes.clear();
        }
        BASE64.encode(bytes)
    }

    /// Reads [`Hist::to_base64`]'s output; the error names what was wrong.
    pub fn from_base64(text: &str) -> Result<Hist, String> {
        if text.is_empty() {
            return Ok(Hist::default());
        }
        let bytes = BASE64.decode(text).map_err(|e| format!("histogram is not base64: {e}"))?;
        let decoded: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| format!("histogram is not in HdrHistogram V2 format: {e:?}"))?;
        let mut hist = Hist::default();
        hist.merge(&Hist(decoded));
        Ok(hist)
    }
}

impl Serialize for Hist {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Hist {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hist::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// What became of the spans the scenarios created, counted where each loss happened.
///
/// `created = accepted + lost() + unknown + pending`, where
/// `lost() = queue_full + rejected + failed + unfinished`: a lost span is certainly not stored,
/// an unknown one was sent and never answered (the backend may have it). This is the only place
/// the rule is written down.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanBooks {
    /// Handed to the export path by the scenarios.
    pub created: u64,
    /// Acknowledged by the backend (2xx, gRPC OK).
    pub accepted: u64,
    /// Dropped before sending: the exporter's queue (or the SDK's) had no room.
    pub queue_full: u64,
    /// Refused by the backend (non-retryable status, or retries exhausted).
    pub rejected: u64,
    /// Never delivered after retries: the connection could not be made.
    pub failed: u64,
    /// Sent without an answer (timeouts, resets, in flight at the shutdown deadline), or
    /// acknowledged with an unattributed partial rejection: outcome unknown.
    #[serde(default)]
    pub unknown: u64,
    /// Queued, never sent, when the export shutdown deadline passed (cut at shutdown).
    pub unfinished: u64,
}

impl SpanBooks {
    /// Every span that will never be accepted, whatever the cause.
    pub fn lost(&self) -> u64 {
        self.queue_full + self.rejected + self.failed + self.unfinished
    }

    /// Neither accepted, lost nor unknown yet (queued or in flight; zero once the books are
    /// closed).
    pub fn pending(&self) -> u64 {
        self.created.saturating_sub(self.accepted + self.lost() + self.unknown)
    }

    fn merge(&mut self, other: &SpanBooks) {
        self.created += other.created;
        self.accepted += other.accepted;
        self.queue_full += other.queue_full;
        self.rejected += other.rejected;
        self.failed += other.failed;
        self.unknown += other.unknown;
        self.unfinished += other.unfinished;
    }
}

/// Traces by what reached the backend. `delivered + lost + unknown + unsettled` = traces
/// started (once the books are closed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceBooks {
    /// Every span acknowledged.
    pub delivered: u64,
    /// At least one span certainly not stored.
    pub lost: u64,
    /// No span lost, at least one with an unknown outcome.
    pub unknown: u64,
    /// Cut before they ended (drain timeout, abort), or with spans never settled.
    pub unsettled: u64,
    /// Starts refused because the export queue could not hold a whole trace (k6's dropped
    /// iterations): the trace never ran, so nothing of it was sent.
    pub dropped_starts: u64,
    /// Conversations of session scenarios whose first turn started.
    #[serde(default)]
    pub conversations_started: u64,
    /// Conversations whose every turn ran to its end.
    #[serde(default)]
    pub conversations_finished: u64,
}

impl TraceBooks {
    fn merge(&mut self, other: &TraceBooks) {
        self.delivered += other.delivered;
        self.lost += other.lost;
        self.unknown += other.unknown;
        self.unsettled += other.unsettled;
        self.dropped_starts += other.dropped_starts;
        self.conversations_started += other.conversations_started;
        self.conversations_finished += other.conversations_finished;
    }
}

/// Export request attempts by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// 2xx, gRPC OK.
    pub ok: u64,
    /// Non-2xx HTTP statuses.
    pub by_status: BTreeMap<u16, u64>,
    /// Non-OK gRPC statuses.
    pub by_grpc: BTreeMap<i32, u64>,
    pub timeout: u64,
    pub connect: u64,
    pub io: u64,
    /// Attempts that resent an earlier attempt's body.
    pub retries: u64,
    /// The first thing the backend said with each kind of refusal (`HTTP 400`, `gRPC status
    /// 8`, ...): the start of its error body, credentials taken out.
    #[serde(default)]
    pub messages: BTreeMap<String, String>,
}

impl RequestCounts {
    /// Attempts that did not succeed.
    pub fn failed(&self) -> u64 {
        self.by_status.values().sum::<u64>()
            + self.by_grpc.values().sum::<u64>()
            + self.timeout
            + self.connect
            + self.io
    }

    pub fn total(&self) -> u64 {
        self.ok + self.failed()
    }

    fn merge(&mut self, other: &RequestCounts) {
        self.ok += other.ok;
        for (k, v) in &other.by_status {
            *self.by_status.entry(*k).or_default() += v;
        }
        for (k, v) in &other.by_grpc {
            *self.by_grpc.entry(*k).or_default() += v;
        }
        self.timeout += other.timeout;
        self.connect += other.connect;
        self.io += other.io;
        self.retries += other.retries;
        for (class, message) in &other.messages {
            self.messages.entry(class.clone()).or_insert_with(|| message.clone());
        }
    }
}

/// One scenario's counters and latency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioMeasurements {
    pub name: String,
    pub weight: f64,
    pub started: u64,
    /// Ended with no injected failure.
    pub completed: u64,
    /// Ended with at least one injected step failure.
    pub failed: u64,
    /// Spans the finished traces emitted.
    pub spans: u64,
    /// Span content (names, attribute keys and values) of the finished traces.
    pub payload_bytes: u64,
    /// From intended start to end.
    pub latency: Hist,
}

impl ScenarioMeasurements {
    fn merge(&mut self, other: &ScenarioMeasurements) {
        self.started += other.started;
        self.completed += other.completed;
        self.failed += other.failed;
        self.spans += other.spans;
        self.payload_bytes += other.payload_bytes;
        self.latency.merge(&other.latency);
    }
}

/// One read operation's outcomes (`--query-rate`): every query started is counted once, in
/// exactly one class. `started = ok + http_4xx + http_5xx + timeout + transport + unanswered`;
/// `skipped_*` never started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryMeasurements {
    /// `list`, `get`, `search` or `count`.
    pub op: String,
    pub started: u64,
    /// 2xx answers.
    pub ok: u64,
    /// Non-2xx answers by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// No answer within the request timeout.
    pub timeout: u64,
    /// Connection refused or broken before an answer.
    pub transport: u64,
    /// Started but still unanswered when the run ended (outcome unknown).
    pub unanswered: u64,
    /// 2xx answers whose body was not the JSON the platform documents.
    pub decode_errors: u64,
    /// 2xx answers with no row (nothing found, or not yet visible).
    pub empty: u64,
    /// Rows (traces, spans, runs; 1 per count) in the 2xx answers.
    pub rows: u64,
    /// Response bodies received, all answers.
    pub bytes: u64,
    /// `get` starts skipped because no trace had been delivered yet.
    pub skipped_no_trace: u64,
    /// Starts skipped because `max_in_flight` queries were already waiting.
    pub skipped_in_flight: u64,
    /// The largest count a `count` answer carried.
    pub max_count: Option<u64>,
    /// From send to the end of the answer's body, every answered query (any status).
    pub latency: Hist,
}

impl QueryMeasurements {
    pub fn new(op: &str) -> Self {
        QueryMeasurements { op: op.to_owned(), ..QueryMeasurements::default() }
    }

    /// Answers with a status other than 2xx.
    pub fn http_errors(&self, class: u16) -> u64 {
        self.by_status.iter().filter(|(s, _)| **s / 100 == class).map(|(_, n)| n).sum()
    }

    /// Started queries that did not end with a 2xx answer.
    pub fn failed(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.timeout + self.transport + self.unanswered
    }

    pub fn merge(&mut self, other: &QueryMeasurements) {
        self.started += other.started;
        self.ok += other.ok;
        for (k, v) in &other.by_status {
            *self.by_status.entry(*k).or_default() += v;
        }
        self.timeout += other.timeout;
        self.transport += other.transport;
        self.unanswered += other.unanswered;
        self.decode_errors += other.decode_errors;
        self.empty += other.empty;
        self.rows += other.rows;
        self.bytes += other.bytes;
        self.skipped_no_trace += other.skipped_no_trace;
        self.skipped_in_flight += other.skipped_in_flight;
        self.max_count = self.max_count.max(other.max_count);
        self.latency.merge(&other.latency);
    }
}

/// When a run happened: its start on the wall clock (Unix milliseconds, so windows of several
/// processes line up) and its lengths measured on the runtime's monotonic clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// The first intended start.
    pub began_unix_ms: u64,
    /// Seconds from the first intended start until the last start (the start window).
    pub start_window_s: f64,
    /// Seconds from the first intended start until the last trace ended or the drain gave up.
    pub duration_s: f64,
}

impl Window {
    fn merge(&mut self, other: &Window) {
        if other.began_unix_ms == 0 && other.duration_s == 0.0 {
            return;
        }
        if self.began_unix_ms == 0 && self.duration_s == 0.0 {
            *self = *other;
            return;
        }
        let began = self.began_unix_ms.min(other.began_unix_ms);
        let end = |w: &Window, length: f64| (w.began_unix_ms - began) as f64 / 1000.0 + length;
        self.start_window_s = end(self, self.start_window_s).max(end(other, other.start_window_s));
        self.duration_s = end(self, self.duration_s).max(end(other, other.duration_s));
        self.began_unix_ms = began;
    }
}

/// Everything one run (or several, merged) measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub window: Window,
    /// Per scenario, in mix order.
    pub scenarios: Vec<ScenarioMeasurements>,
    /// Scenario latency, all scenarios.
    pub scenario_latency: Hist,
    /// Export request latency, every attempt.
    pub export_latency: Hist,
    /// Delay between intended and actual start.
    pub start_lag: Hist,
    /// Starts more than the late threshold after their intended time.
    pub late: u64,
    /// Intended starts that never happened.
    pub missed: u64,
    /// Waits of running traces for room in the export queue (a backend slower than the
    /// generator), and their total length in seconds.
    #[serde(default)]
    pub held: u64,
    #[serde(default)]
    pub held_s: f64,
    pub spans: SpanBooks,
    /// Traces by delivery.
    #[serde(default)]
    pub traces: TraceBooks,
    pub requests: RequestCounts,
    /// Request bodies as sent (after compression).
    pub wire_bytes: u64,
    /// Request bodies before compression (0 when not measured).
    pub raw_bytes: u64,
    /// Generator CPU time over the window, all processes.
    pub cpu_s: f64,
    /// The largest peak resident set size of any process.
    pub peak_rss_bytes: u64,
    /// How many processes these measurements combine.
    pub processes: u64,
    /// The run interval by interval (absent from reports written before it existed).
    #[serde(default)]
    pub series: crate::engine::series::Series,
    /// Read load (`--query-rate`), one entry per operation; empty without it.
    #[serde(default)]
    pub queries: Vec<QueryMeasurements>,
}

impl Measurements {
    /// Adds `other` (a shard of the same plan) to these measurements, exactly.
    ///
    /// Scenarios are matched by name; a scenario only `other` has is appended.
    pub fn merge(&mut self, other: &Measurements) {
        self.window.merge(&other.window);
        for theirs in &other.scenarios {
            match self.scenarios.iter_mut().find(|s| s.name == theirs.name) {
                Some(ours) => ours.merge(theirs),
                None => self.scenarios.push(theirs.clone()),
            }
        }
        self.scenario_latency.merge(&other.scenario_latency);
        self.export_latency.merge(&other.export_latency);
        self.start_lag.merge(&other.start_lag);
        self.late += other.late;
        self.missed += other.missed;
        self.held += other.held;
        self.held_s += other.held_s;
        self.spans.merge(&other.spans);
        self.traces.merge(&other.traces);
        self.requests.merge(&other.requests);
        self.wire_bytes += other.wire_bytes;
        self.raw_bytes += other.raw_bytes;
        self.cpu_s += other.cpu_s;
        self.peak_rss_bytes = self.peak_rss_bytes.max(other.peak_rss_bytes);
        self.processes += other.processes;
        for theirs in &other.queries {
            match self.queries.iter_mut().find(|q| q.op == theirs.op) {
                Some(ours) => ours.merge(theirs),
                None => self.queries.push(theirs.clone()),
            }
        }
        self.series.merge(&other.series);
    }

    /// The merge of many: the same as merging one by one, with the series merged at once.
    pub fn merge_all(parts: &[&Measurements]) -> Measurements {
        let mut merged = Measurements::default();
        for part in parts {
            let mut part = (*part).clone();
            part.series = crate::engine::series::Series::default();
            merged.merge(&part);
        }
        merged.series = crate::engine::series::Series::merge_all(
            &parts.iter().map(|p| &p.series).collect::<Vec<_>>(),
        );
        merged
    }

    pub fn traces_started(&self) -> u64 {
        self.scenarios.iter().map(|s| s.started).sum()
    }

    pub fn traces_finished(&self) -> u64 {
        self.scenarios.iter().map(|s| s.completed + s.failed).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seed: u64, n: u64) -> Vec<Duration> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                Duration::from_micros(1 + (x >> 33) % 5_000_000)
            })
            .collect()
    }

    #[test]
    fn merged_parts_equal_the_whole() {
        let samples = sample(7, 30_000);
        let mut whole = Measurements { processes: 1, ..Measurements::default() };
        for s in &samples {
            whole.export_latency.record(*s);
            whole.spans.created += 3;
            whole.spans.accepted += 2;
            whole.requests.ok += 1;
        }
        *whole.requests.by_status.entry(503).or_default() += 4;
        // Three unequal parts, the 503s all in one.
        let mut parts = Vec::new();
        for chunk in [&samples[..1], &samples[1..12_345], &samples[12_345..]] {
            let mut part = Measurements { processes: 1, ..Measurements::default() };
            for s in chunk {
                part.export_latency.record(*s);
                part.spans.created += 3;
                part.spans.accepted += 2;
                part.requests.ok += 1;
            }
            parts.push(part);
        }
        *parts[1].requests.by_status.entry(503).or_default() += 4;
        let mut merged = Measurements::default();
        for part in &parts {
            // Through JSON, as reports of separate processes travel.
            let json = serde_json::to_string(part).unwrap();
            merged.merge(&serde_json::from_str(&json).unwrap());
        }
        assert_eq!(merged.processes, 3);
        assert_eq!(merged.spans, whole.spans);
        assert_eq!(merged.requests, whole.requests);
        assert_eq!(merged.export_latency, whole.export_latency);
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(merged.export_latency.quantile_ms(q), whole.export_latency.quantile_ms(q));
        }
        assert_eq!(merged.export_latency.percentiles(), whole.export_latency.percentiles());
    }

    #[test]
    fn read_load_merges_exactly() {
        let samples = sample(11, 5_000);
        let mut whole = QueryMeasurements::new("list");
        let mut parts = [QueryMeasurements::new("list"), QueryMeasurements::new("list")];
        for (i, s) in samples.iter().enumerate() {
            for m in [&mut whole, &mut parts[i % 2]] {
                m.started += 1;
                m.ok += 1;
                m.rows += 3;
                m.latency.record(*s);
            }
        }
        *parts[1].by_status.entry(503).or_default() += 2;
        *whole.by_status.entry(503).or_default() += 2;
        parts[0].max_count = Some(7);
        parts[1].max_count = Some(9);
        whole.max_count = Some(9);
        let mut merged = Measurements::default();
        for part in &parts {
            let m = Measurements { queries: vec![part.clone()], ..Measurements::default() };
            let json = serde_json::to_string(&m).unwrap();
            merged.merge(&serde_json::from_str(&json).unwrap());
        }
        assert_eq!(merged.queries, vec![whole.clone()]);
        assert_eq!(merged.queries[0].latency.percentiles(), whole.latency.percentiles());
        assert_eq!(merged.queries[0].failed(), 2);
    }

    #[test]
    fn histograms_survive_serialization() {
        let mut h = Hist::default();
        for s in sample(3, 1000) {
            h.record(s);
        }
        let back = Hist::from_base64(&h.to_base64()).unwrap();
        assert_eq!(back, h);
        assert_eq!(Hist::from_base64("").unwrap(), Hist::default());
        let err = Hist::from_base64("not base64!").unwrap_err();
        assert!(err.contains("base64"), "{err}");
        let err = Hist::from_base64("AAAA").unwrap_err();
        assert!(err.contains("V2"), "{err}");
    }

    #[test]
    fn books_define_loss_once() {
        let b = SpanBooks {
            created: 100,
            accepted: 60,
            queue_full: 10,
            rejected: 5,
            failed: 3,
            unknown: 4,
            unfinished: 2,
        };
        assert_eq!(b.lost(), 20);
        assert_eq!(b.pending(), 16);
    }

    #[test]
    fn windows_span_every_process() {
        let mut a = Window { began_unix_ms: 1000, start_window_s: 10.0, duration_s: 11.0 };
        a.merge(&Window { began_unix_ms: 1500, start_window_s: 9.7, duration_s: 11.5 });
        assert_eq!(a.began_unix_ms, 1000);
        assert!((a.duration_s - 12.0).abs() < 1e-9, "{a:?}");
        assert!((a.start_window_s - 10.2).abs() < 1e-9, "{a:?}");
        let mut empty = Window::default();
        empty.merge(&a);
        assert_eq!(empty, a);
    }
}
