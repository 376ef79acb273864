//! Shared by the export and sink tests: synthetic traces, an observer that keeps everything,
//! and exporter settings sized for fast tests.
#![allow(dead_code)] // each test file uses a different part

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scenario_runtime::engine::export::{
    Compression, ExportConfig, ExportObserver, Protocol, RequestRecord, RetryPolicy,
};
use scenario_runtime::engine::sink::SinkStats;
use scenario_runtime::span::{Attribute, SpanKind, SpanRecord, Status};

/// `traces` traces of `spans_per_trace` spans (>= 2), each span carrying `payload` bytes.
/// Spans come children first, root last, as a scenario emits them; the tree is a root with
/// children and one grandchild, so parent checks see more than one level.
pub fn traces(traces: usize, spans_per_trace: usize, payload: usize) -> Vec<SpanRecord> {
    let mut out = Vec::with_capacity(traces * spans_per_trace);
    for t in 0..traces {
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&(t as u64 + 1).to_be_bytes());
        trace_id[8] = 0x5c;
        let span_id = |i: usize| {
            let mut id = [0u8; 8];
            id[..4].copy_from_slice(&(t as u32).to_be_bytes());
            id[4..].copy_from_slice(&(i as u32 + 1).to_be_bytes());
            id
        };
        // Span 0 is the root; 1 is a child of the root; the rest are children of span 1.
        for i in (0..spans_per_trace).rev() {
            let parent = match i {
                0 => None,
                1 => Some(span_id(0)),
                _ => Some(span_id(1)),
            };
            out.push(SpanRecord {
                trace_id,
                span_id: span_id(i),
                parent_span_id: parent,
                name: format!("chat step-{i}"),
                kind: SpanKind::Client,
                start_unix_nanos: 1_767_225_600_000_000_000 + i as u64,
                end_unix_nanos: 1_767_225_600_001_000_000,
                status: Status::Unset,
                attributes: vec![
                    Attribute::new("gen_ai.operation.name", "chat"),
                    Attribute::new("gen_ai.usage.input_tokens", 120i64),
                    Attribute::new("gen_ai.input.messages", payload_text(t * 31 + i, payload)),
                ],
            });
        }
    }
    out
}

/// Chat-like JSON text of `len` bytes, varied by `seed` so compression has work to do.
pub fn payload_text(seed: usize, len: usize) -> String {
    let words = ["the", "hotel", "booking", "agent", "search", "price", "night", "review", "check"];
    let mut text = String::with_capacity(len + 16);
    text.push_str("[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"");
    let mut x = seed as u64 | 1;
    while text.len() < len.saturating_sub(4) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push_str(words[(x % words.len() as u64) as usize]);
        text.push(' ');
    }
    text.push_str("\"}]}]");
    text
}

/// Fast-test exporter settings: small batches, short timeouts, quick retries.
pub fn config(endpoint: String, protocol: Protocol, compression: Compression) -> ExportConfig {
    let mut config = ExportConfig::new(endpoint);
    config.protocol = protocol;
    config.compression = compression;
    config.max_batch_spans = 32;
    config.batch_timeout = Duration::from_millis(20);
    config.max_in_flight = 4;
    config.request_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_retries: 5,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
        budget: Duration::from_secs(10),
    };
    config
}

/// Keeps every record with the instant it was reported.
#[derive(Debug, Default)]
pub struct Keeper {
    pub records: Mutex<Vec<(Instant, RequestRecord)>>,
    pub dropped: AtomicU64,
    pub exported: AtomicU64,
}

impl Keeper {
    pub fn records(&self) -> Vec<(Instant, RequestRecord)> {
        self.records.lock().unwrap().clone()
    }

    pub fn wire_bytes_accepted(&self) -> u64 {
        self.records()
            .iter()
            .filter(|(_, r)| r.outcome.is_success())
            .map(|(_, r)| r.wire_bytes)
            .sum()
    }
}

impl ExportObserver for Keeper {
    fn on_request(&self, record: &RequestRecord) {
        self.records.lock().unwrap().push((Instant::now(), record.clone()));
    }
    fn on_dropped(&self, spans: u64) {
        self.dropped.fetch_add(spans, Ordering::Relaxed);
    }
    fn on_exported(&self, spans: u64) {
        self.exported.fetch_add(spans, Ordering::Relaxed);
    }
}

/// The resource every test exporter sends.
pub fn resource() -> Vec<Attribute> {
    vec![Attribute::new("service.name", "scaletest-test")]
}

/// The sink received exactly `spans` spans in `traces` whole traces: every parent arrived,
/// each trace has its root, no span came twice.
pub fn assert_whole_traces(stats: &SinkStats, spans: u64, traces: u64, label: &str) {
    assert_eq!(stats.spans, spans, "{label}: {stats:?}");
    assert_eq!(stats.traces, traces, "{label}");
    assert_eq!(stats.orphan_spans, 0, "{label}: {stats:?}");
    assert_eq!(stats.traces_without_root, 0, "{label}");
    assert_eq!(stats.duplicate_spans, 0, "{label}");
}
