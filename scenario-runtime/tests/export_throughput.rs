//! Throughput of the exporter into the embedded sink on loopback (both in this process, sharing
//! the machine). A benchmark, not a timed test: it prints figures and asserts only that the
//! books balance and nothing was lost.
//!
//! ```text
//! cargo test --release -p scenario-runtime --features engine --test export_throughput \
//!     -- --ignored --nocapture --test-threads 1
//! ```
//!
//! Measured on a 2-core development machine shared with other builds (load average 1.5-6, so
//! the spread is wide; the higher figures are from the quieter runs): 50 KB spans, 64 per
//! request, 4 requests in flight, sink in the same process:
//!
//! | case | spans/s | MB/s raw (before compression) | MB/s on the wire |
//! |---|---|---|---|
//! | http/protobuf, none | 25k-51k | 1,240-2,590 | same |
//! | http/protobuf, zstd (level 1, 6.5x) | 5k-12k | 250-590 | 39-91 |
//! | http/protobuf, gzip (level 1, 3.5x) | 5k-9k | 270-460 | 78-133 |
//! | grpc, none | 25k-42k | 1,240-2,090 | same |
//! | http/json, none | 13k-20k | 660-1,020 | same |
//! | small spans (10 attributes), http/protobuf | 490k-950k | 210-410 | same |
//!
//! Encoding and compression run on the blocking pool; running uncompressed encoding inline on
//! the reactor measured no faster (within the noise) and would stall other tasks.
#![cfg(feature = "engine")]

mod export_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use export_support::{Keeper, payload_text};
use scenario_runtime::SpanSink;
use scenario_runtime::engine::export::{Compression, ExportConfig, Exporter, Protocol};
use scenario_runtime::engine::sink::{RunningSink, SinkConfig};
use scenario_runtime::span::{Attribute, SpanKind, SpanRecord, Status};

const RUN_FOR: Duration = Duration::from_secs(4);

fn template(seed: usize, payload: usize, small: bool) -> SpanRecord {
    let mut attributes = vec![
        Attribute::new("gen_ai.operation.name", "chat"),
        Attribute::new("gen_ai.provider.name", "openai"),
        Attribute::new("gen_ai.request.model", "gpt-4o"),
        Attribute::new("gen_ai.usage.input_tokens", 1200i64),
        Attribute::new("gen_ai.usage.output_tokens", 150i64),
    ];
    if small {
        attributes.extend([
            Attribute::new("gen_ai.response.id", "chatcmpl-123"),
            Attribute::new("gen_ai.response.model", "gpt-4o-2024-08-06"),
            Attribute::new("gen_ai.request.temperature", 0.2),
            Attribute::new("gen_ai.agent.name", "booking"),
            Attribute::new("server.address", "api.openai.com"),
        ]);
    } else {
        attributes
            .push(Attribute::new("gen_ai.input.messages", payload_text(seed * 2, payload * 3 / 4)));
        attributes.push(Attribute::new(
            "gen_ai.output.messages",
            payload_text(seed * 2 + 1, payload / 4),
        ));
    }
    SpanRecord {
        trace_id: [7; 16],
        span_id: [1; 8],
        parent_span_id: None,
        name: "chat gpt-4o".into(),
        kind: SpanKind::Client,
        start_unix_nanos: 1_767_225_600_000_000_000,
        end_unix_nanos: 1_767_225_600_400_000_000,
        status: Status::Unset,
        attributes,
    }
}

/// Emits copies of `pool`'s spans for `RUN_FOR` (ten spans per trace), keeping at most a
/// window of spans outstanding so the producer measures the exporter instead of filling the
/// queue and dropping. The pool is larger than a batch and its payloads differ, so compression
/// sees no more repetition than in real traffic.
async fn measure(
    label: &str,
    protocol: Protocol,
    compression: Compression,
    pool: &[SpanRecord],
    batch: usize,
) {
    // `EXPORT_BENCH_ONLY=zstd` runs only the cases whose label contains `zstd` (for profiling).
    if std::env::var("EXPORT_BENCH_ONLY").is_ok_and(|only| !label.contains(&only)) {
        return;
    }
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let keeper = Arc::new(Keeper::default());
    let mut config = ExportConfig::new(sink.traces_url());
    config.protocol = protocol;
    config.compression = compression;
    config.max_batch_spans = batch;
    config.max_batch_bytes = 4_000_000;
    config.max_in_flight = 4;
    config.queue_spans = batch * 16;
    let window = (batch * 12) as u64;
    let exporter = Exporter::start(config, Vec::new(), keeper.clone()).expect("exporter starts");
    let handle = exporter.handle();
    let started = Instant::now();
    let mut handed = 0u64;
    let mut n = 0u64;
    while started.elapsed() < RUN_FOR {
        for _ in 0..batch {
            let mut copy = pool[n as usize % pool.len()].clone();
            n += 1;
            copy.trace_id[..8].copy_from_slice(&(n / 10).to_be_bytes());
            copy.span_id = n.to_be_bytes();
            handle.emit(copy);
        }
        handed += batch as u64;
        while handed
            - keeper.exported.load(Ordering::Relaxed)
            - keeper.dropped.load(Ordering::Relaxed)
            > window
        {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    drop(handle);
    let summary = exporter.shutdown(Duration::from_secs(30)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let stats = sink.shutdown().await;
    assert!(summary.balances(), "{summary:?}");
    assert_eq!(summary.spans_accepted, stats.spans);
    println!(
        "{label:<28} {:>9.0} spans/s  {:>7.1} MB/s raw  {:>7.1} MB/s wire  ratio {:>5.2}  dropped {}",
        summary.spans_accepted as f64 / elapsed,
        summary.bytes_raw as f64 / elapsed / 1e6,
        summary.bytes_wire as f64 / elapsed / 1e6,
        summary.bytes_raw as f64 / summary.bytes_wire.max(1) as f64,
        summary.spans_dropped,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run in release with --ignored --nocapture (see the file's doc)"]
async fn throughput() {
    let big: Vec<SpanRecord> = (0..256).map(|seed| template(seed, 50_000, false)).collect();
    for (protocol, compression) in [
        (Protocol::HttpProtobuf, Compression::None),
        (Protocol::HttpProtobuf, Compression::Zstd),
        (Protocol::HttpProtobuf, Compression::Gzip),
        (Protocol::Grpc, Compression::None),
        (Protocol::HttpJson, Compression::None),
    ] {
        measure(&format!("50 KB spans {protocol} {compression}"), protocol, compression, &big, 64)
            .await;
    }
    measure(
        "small spans http/protobuf none",
        Protocol::HttpProtobuf,
        Compression::None,
        &[template(0, 0, true)],
        2048,
    )
    .await;
}
