//! The exporter against a misbehaving sink: 413 split (gRPC: RESOURCE_EXHAUSTED without
//! RetryInfo), Retry-After (gRPC: RetryInfo) honoured, 400 never retried, retry budget, resets, a dead endpoint, a sink that stops, and a full queue. The books balance
//! in every case, and what the exporter counts as accepted is exactly what the sink received.
#![cfg(feature = "engine")]

mod export_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use export_support::{Keeper, config, resource, traces};
use scenario_runtime::SpanSink;
use scenario_runtime::engine::export::{
    Compression, ExportConfig, ExportSummary, Exporter, Protocol, RequestOutcome,
};
use scenario_runtime::engine::sink::{
    Faults, RunningSink, SinkConfig, SinkStats, Throttle, Trigger,
};

async fn sink_with(faults: Faults) -> RunningSink {
    RunningSink::start(SinkConfig { faults, ..SinkConfig::default() }).await.expect("sink starts")
}

/// Emits `spans` through a fresh exporter and shuts it down with `deadline`.
async fn run(
    settings: ExportConfig,
    spans: Vec<scenario_runtime::SpanRecord>,
    deadline: Duration,
) -> (ExportSummary, Arc<Keeper>) {
    let keeper = Arc::new(Keeper::default());
    let exporter = Exporter::start(settings, resource(), keeper.clone()).expect("exporter starts");
    for span in spans {
        exporter.emit(span);
    }
    let summary = exporter.shutdown(deadline).await;
    assert!(summary.balances(), "{summary:?}");
    assert_eq!(keeper.dropped.load(Ordering::Relaxed), summary.spans_dropped);
    assert_eq!(keeper.exported.load(Ordering::Relaxed), summary.spans_accepted);
    (summary, keeper)
}

fn assert_delivered_exactly(summary: &ExportSummary, stats: &SinkStats) {
    assert_eq!(summary.spans_accepted, stats.spans, "{summary:?}\n{stats:?}");
    assert_eq!(stats.duplicate_spans, 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_batches_are_split_until_they_fit() {
    let sink = sink_with(Faults { reject_above: Some(12_000), ..Faults::default() }).await;
    let settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    // 32-span batches of ~2 KB spans are ~70 KB: each must be halved about three times.
    let (summary, keeper) = run(settings, traces(16, 4, 2_000), Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!(summary.spans_accepted, 64, "{summary:?}");
    assert_delivered_exactly(&summary, &stats);
    assert!(summary.splits >= 4, "{summary:?}");
    let records = keeper.records();
    assert!(records.iter().any(|(_, r)| r.outcome == RequestOutcome::Status(413)));
    assert!(
        records.iter().filter(|(_, r)| r.outcome.is_success()).all(|(_, r)| r.wire_bytes <= 12_000)
    );
    assert_eq!(stats.orphan_spans, 0);
    assert_eq!(
        stats.faults.too_large,
        records.iter().filter(|(_, r)| r.outcome == RequestOutcome::Status(413)).count() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_span_too_large_is_rejected_not_retried_forever() {
    let sink = sink_with(Faults { reject_above: Some(1_000), ..Faults::default() }).await;
    let settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    let (summary, _) = run(settings, traces(1, 2, 5_000), Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!((summary.spans_rejected, summary.spans_accepted), (2, 0), "{summary:?}");
    assert_eq!(stats.spans, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_messages_too_large_are_split_until_they_fit() {
    // RESOURCE_EXHAUSTED without RetryInfo: the message is too large, resending it cannot help.
    let sink = sink_with(Faults { reject_above: Some(12_000), ..Faults::default() }).await;
    let settings = config(sink.traces_url(), Protocol::Grpc, Compression::None);
    let (summary, keeper) = run(settings, traces(16, 4, 2_000), Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!(summary.spans_accepted, 64, "{summary:?}");
    assert_delivered_exactly(&summary, &stats);
    assert!(summary.splits >= 4, "{summary:?}");
    assert_eq!(summary.retries, 0, "a message too large is never resent as is: {summary:?}");
    let records = keeper.records();
    let exhausted = records.iter().filter(|(_, r)| r.outcome == RequestOutcome::GrpcStatus(8));
    assert_eq!(stats.faults.too_large, exhausted.count() as u64);
    assert!(stats.faults.too_large > 0);
    assert!(
        records.iter().filter(|(_, r)| r.outcome.is_success()).all(|(_, r)| r.wire_bytes <= 12_000)
    );
    assert_eq!(stats.orphan_spans, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_grpc_span_too_large_is_rejected_not_retried() {
    let sink = sink_with(Faults { reject_above: Some(1_000), ..Faults::default() }).await;
    let mut settings = config(sink.traces_url(), Protocol::Grpc, Compression::None);
    settings.max_batch_spans = 1;
    let (summary, keeper) = run(settings, traces(1, 2, 5_000), Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!((summary.spans_rejected, summary.spans_accepted), (2, 0), "{summary:?}");
    assert_eq!((summary.requests, summary.retries, summary.splits), (2, 0, 0), "{summary:?}");
    assert!(keeper.records().iter().all(|(_, r)| r.outcome == RequestOutcome::GrpcStatus(8)));
    assert_eq!((stats.spans, stats.faults.too_large), (0, 2));
}

/// Throttles every second request with a 1 s retry delay (over HTTP a 429 with `Retry-After`;
/// over gRPC RESOURCE_EXHAUSTED with a `RetryInfo`) and checks that each throttled body is
/// resent, one request in flight, after at least that delay. Returns the books and how many
/// requests were throttled, for more checks.
async fn throttled_with_a_one_second_delay(
    protocol: Protocol,
    compression: Compression,
    throttled_outcome: RequestOutcome,
) -> (ExportSummary, u64) {
    let faults = Faults {
        throttle: Some(Throttle {
            when: Trigger::every(2),
            status: 429,
            retry_after: Some(Duration::from_secs(1)),
        }),
        ..Faults::default()
    };
    let sink = sink_with(faults).await;
    let mut settings = config(sink.traces_url(), protocol, compression);
    settings.max_in_flight = 1;
    settings.max_batch_spans = 10;
    let (summary, keeper) = run(settings, traces(5, 6, 500), Duration::from_secs(20)).await;
    let stats = sink.shutdown().await;
    assert_eq!(summary.spans_accepted, 30, "{summary:?}");
    assert_delivered_exactly(&summary, &stats);
    let records = keeper.records();
    let throttled: Vec<_> =
        records.iter().filter(|(_, r)| r.outcome == throttled_outcome).collect();
    assert!(!throttled.is_empty(), "every second request is throttled");
    for (at, record) in &throttled {
        // The retry of the same body comes next (one request in flight).
        let (retry_reported, retry) = records
            .iter()
            .find(|(when, r)| when > at && r.retries == record.retries + 1)
            .expect("a throttled request is retried");
        let retry_sent = *retry_reported - retry.latency;
        let waited = retry_sent.duration_since(*at);
        assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
        assert!(waited < Duration::from_secs(3), "retried after {waited:?}");
    }
    assert_eq!(stats.faults.throttled, throttled.len() as u64);
    (summary, throttled.len() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_throttling_with_retry_info_waits_its_delay_and_retries() {
    let (summary, throttled) = throttled_with_a_one_second_delay(
        Protocol::Grpc,
        Compression::Gzip,
        RequestOutcome::GrpcStatus(8),
    )
    .await;
    assert_eq!(summary.splits, 0, "throttling is not a size problem: {summary:?}");
    assert_eq!(summary.retries, throttled, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    throttled_with_a_one_second_delay(
        Protocol::HttpProtobuf,
        Compression::Zstd,
        RequestOutcome::Status(429),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_never_retried() {
    let sink = sink_with(Faults { bad_request: Trigger::every(1), ..Faults::default() }).await;
    let settings = config(sink.traces_url(), Protocol::HttpJson, Compression::Gzip);
    let (summary, keeper) = run(settings, traces(8, 8, 300), Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!((summary.spans_rejected, summary.spans_accepted), (64, 0), "{summary:?}");
    assert_eq!(summary.retries, 0);
    assert_eq!(summary.requests, stats.requests);
    assert!(keeper.records().iter().all(|(_, r)| r.outcome == RequestOutcome::Status(400)));
    assert_eq!(stats.spans, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_budget_bounds_attempts() {
    let faults = Faults {
        throttle: Some(Throttle { when: Trigger::every(1), status: 503, retry_after: None }),
        ..Faults::default()
    };
    let sink = sink_with(faults).await;
    let mut settings = config(sink.traces_url(), Protocol::Grpc, Compression::None);
    settings.retry.max_retries = 2;
    settings.max_batch_spans = 100;
    let (summary, keeper) = run(settings, traces(2, 5, 100), Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!(summary.spans_rejected, 10, "{summary:?}");
    assert_eq!(summary.requests, 3, "one batch, first attempt and two retries");
    assert_eq!(summary.retries, 2);
    assert!(keeper.records().iter().all(|(_, r)| r.outcome == RequestOutcome::GrpcStatus(14)));
    assert_eq!(stats.spans, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_retried() {
    let sink = sink_with(Faults { reset: Trigger::every(3), ..Faults::default() }).await;
    let settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    let (summary, keeper) = run(settings, traces(30, 4, 200), Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!(summary.spans_accepted, 120, "{summary:?}");
    assert_delivered_exactly(&summary, &stats);
    assert!(stats.faults.resets > 0);
    assert!(keeper.records().iter().any(|(_, r)| matches!(r.outcome, RequestOutcome::Io(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_ends_by_the_deadline_with_every_span_counted() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        let endpoint = format!("http://127.0.0.1:{port}/v1/traces");
        // Short retries: every batch gives up before the deadline and is counted as failed.
        let settings = config(endpoint.clone(), protocol, Compression::None);
        let (summary, keeper) = run(settings, traces(20, 5, 100), Duration::from_secs(5)).await;
        assert_eq!(summary.spans_failed, 100, "{protocol}: {summary:?}");
        assert!(!summary.deadline_hit);
        assert!(keeper.records().iter().all(|(_, r)| r.outcome == RequestOutcome::Connect));
        // Long retries: the deadline cuts them short and the rest is unfinished.
        let mut settings = config(endpoint, protocol, Compression::None);
        settings.retry.max_retries = 1_000;
        settings.retry.max_backoff = Duration::from_millis(400);
        settings.retry.budget = Duration::from_secs(600);
        let started = Instant::now();
        let (summary, _) = run(settings, traces(20, 5, 100), Duration::from_secs(1)).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "{protocol}: shutdown took {took:?}");
        assert!(summary.deadline_hit, "{protocol}: retries outlast a 1 s deadline");
        assert_eq!(summary.spans_accepted, 0);
        assert_eq!(summary.spans_unfinished, 100, "{protocol}: {summary:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_stops_accepting_ends_the_run_on_time() {
    let sink = sink_with(Faults { stop_after_requests: Some(3), ..Faults::default() }).await;
    let mut settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    settings.max_in_flight = 1;
    settings.max_batch_spans = 10;
    let started = Instant::now();
    let (summary, _) = run(settings, traces(20, 5, 100), Duration::from_secs(2)).await;
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    let stats = sink.shutdown().await;
    assert!(stats.stopped);
    assert_eq!(summary.spans_accepted, 30, "three requests of 10 spans got through: {summary:?}");
    assert_delivered_exactly(&summary, &stats);
    // The request in flight when the sink stopped got no answer: its outcome is unknown.
    assert_eq!(
        summary.spans_failed
            + summary.spans_unfinished
            + summary.spans_rejected
            + summary.spans_unknown,
        70
    );
    assert!(summary.balances(), "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_and_counts_without_blocking() {
    let sink = sink_with(Faults {
        latency: Some((Duration::from_millis(300), Duration::from_millis(300))),
        ..Faults::default()
    })
    .await;
    let mut settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    settings.queue_spans = 20;
    settings.max_in_flight = 1;
    settings.max_batch_spans = 10;
    let keeper = Arc::new(Keeper::default());
    let exporter = Exporter::start(settings, resource(), keeper.clone()).expect("exporter starts");
    let started = Instant::now();
    for span in traces(200, 5, 100) {
        exporter.emit(span);
    }
    let emitting = started.elapsed();
    // Blocking would take ~30 s (100 batches behind a 300 ms sink); 2 s allows a loaded machine.
    assert!(emitting < Duration::from_secs(2), "emit blocked: {emitting:?}");
    let summary = exporter.shutdown(Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert!(summary.balances(), "{summary:?}");
    assert!(summary.spans_dropped > 900, "{summary:?}");
    assert_eq!(keeper.dropped.load(Ordering::Relaxed), summary.spans_dropped);
    assert_eq!(summary.spans_accepted + summary.spans_dropped, 1000, "{summary:?}");
    assert_delivered_exactly(&summary, &stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_beyond_the_cap_gives_up_at_once() {
    let faults = Faults {
        throttle: Some(Throttle {
            when: Trigger::every(1),
            status: 503,
            retry_after: Some(Duration::from_secs(60)),
        }),
        ..Faults::default()
    };
    let sink = sink_with(faults).await;
    let mut settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    settings.max_batch_spans = 100;
    let started = Instant::now();
    let (summary, _) = run(settings, traces(2, 5, 100), Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    let stats = sink.shutdown().await;
    assert_eq!(
        (summary.requests, summary.retries, summary.spans_rejected),
        (1, 0, 10),
        "{summary:?}"
    );
    assert_eq!(stats.spans, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_get_a_clean_413_and_are_split() {
    // 32 spans of 100 KB: 3.2 MB bodies, refused while the client is still sending them. The
    // sink reads what it refuses, so the client sees the 413 and not a broken pipe.
    let cases = [
        (Faults { reject_above: Some(1_000_000), ..Faults::default() }, 64 << 20),
        (Faults::default(), 1_000_000),
    ];
    for (faults, max_body_bytes) in cases {
        let config_sink = SinkConfig { faults, max_body_bytes, ..SinkConfig::default() };
        let sink = RunningSink::start(config_sink).await.expect("sink starts");
        let settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
        let (summary, keeper) =
            run(settings, traces(16, 4, 100_000), Duration::from_secs(20)).await;
        let stats = sink.shutdown().await;
        assert_eq!(summary.spans_accepted, 64, "{summary:?}");
        assert_delivered_exactly(&summary, &stats);
        let records = keeper.records();
        assert!(records.iter().any(|(_, r)| r.outcome == RequestOutcome::Status(413)));
        let broken: Vec<_> = records
            .iter()
            .filter(|(_, r)| !r.outcome.is_success() && r.outcome != RequestOutcome::Status(413))
            .collect();
        assert!(broken.is_empty(), "{broken:?}");
    }
}

/// A sink without faults, and an exporter to it whose queue takes `queue_bytes`.
async fn exporter_with_budget(queue_bytes: usize) -> (RunningSink, Exporter) {
    let sink = sink_with(Faults::default()).await;
    let mut settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    settings.queue_bytes = queue_bytes;
    let keeper = Arc::new(Keeper::default());
    let exporter = Exporter::start(settings, resource(), keeper).expect("exporter starts");
    (sink, exporter)
}

/// A current-thread runtime: the batcher runs only when the test awaits, so what is emitted
/// stays queued until then, deterministically.
#[tokio::test(flavor = "current_thread")]
async fn a_queue_over_its_byte_budget_refuses_new_traces_and_drops_nothing() {
    let (sink, exporter) = exporter_with_budget(8 * 1024).await;
    assert!(exporter.reserve(10), "an empty queue has room");
    // Ten spans of 2,000 payload bytes: over the 8 KiB budget, within the span room.
    for span in traces(2, 5, 2000) {
        exporter.emit(span);
    }
    assert!(!exporter.reserve(1), "a queue over its byte budget must refuse new traces");
    // Once the batcher has taken the spans out of the queue, traces are admitted again.
    let mut admitted = false;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if exporter.reserve(1) {
            admitted = true;
            exporter.release(1);
            break;
        }
    }
    assert!(admitted, "the queue never had room again");
    let summary = exporter.shutdown(Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert!(summary.balances(), "{summary:?}");
    assert_eq!((summary.spans_accepted, summary.spans_dropped), (10, 0), "{summary:?}");
    assert_delivered_exactly(&summary, &stats);
}

/// Running traces are never refused: over four times its byte budget the queue makes them wait
/// (`hold`) until the batcher has taken spans out, and no span is dropped.
#[tokio::test(flavor = "current_thread")]
async fn running_traces_wait_while_the_queue_is_over_its_hold_bound() {
    let (sink, exporter) = exporter_with_budget(4 * 1024).await;
    assert!(exporter.hold().is_none(), "an empty queue holds no trace");
    // Spans of about 2 KB: five are over the 4 KiB budget and under four times it.
    let mut spans = traces(5, 5, 2000).into_iter();
    spans.by_ref().take(5).for_each(|span| exporter.emit(span));
    assert!(!exporter.reserve(1), "over its byte budget the queue refuses new traces");
    assert!(exporter.hold().is_none(), "under four times its budget running traces go on");
    // Twenty more: over 16 KiB (the batcher has not run: this runtime has one thread).
    spans.for_each(|span| exporter.emit(span));
    let hold = exporter.hold().expect("over four times its budget, running traces wait");
    // The wait ends once the batcher has taken the spans out of the queue.
    tokio::time::timeout(Duration::from_secs(10), hold)
        .await
        .expect("the wait ended when the queue drained");
    assert!(exporter.hold().is_none());
    let summary = exporter.shutdown(Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert!(summary.balances(), "{summary:?}");
    assert_eq!((summary.spans_accepted, summary.spans_dropped), (25, 0), "{summary:?}");
    assert_delivered_exactly(&summary, &stats);
}
