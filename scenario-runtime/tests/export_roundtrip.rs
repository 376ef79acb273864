//! Exporter -> embedded sink over loopback, for every protocol and compression: exact counts,
//! parent links intact, and the exporter's measured wire bytes equal what the sink received.
#![cfg(feature = "engine")]

mod export_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use export_support::{Keeper, assert_whole_traces, config, resource, traces};
use scenario_runtime::SpanSink;
use scenario_runtime::engine::export::{Compression, Exporter, Protocol};
use scenario_runtime::engine::sink::{RunningSink, SinkConfig};

async fn round_trip(protocol: Protocol, compression: Compression) {
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let keeper = Arc::new(Keeper::default());
    let exporter = Exporter::start(
        config(sink.traces_url(), protocol, compression),
        resource(),
        keeper.clone(),
    )
    .expect("exporter starts");
    let spans = traces(40, 6, 2_000);
    let handle = exporter.handle();
    for span in spans {
        handle.emit(span);
    }
    let summary = exporter.shutdown(Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    let label = format!("{protocol} {compression}");
    assert!(summary.balances(), "{label}: {summary:?}");
    assert_eq!(summary.spans_handed, 240, "{label}");
    assert_eq!(summary.spans_accepted, 240, "{label}: {summary:?}");
    assert_eq!(keeper.exported.load(Ordering::Relaxed), 240, "{label}");
    assert_whole_traces(&stats, 240, 40, &label);
    assert_eq!(stats.requests, summary.requests, "{label}");
    assert!(summary.requests >= 240 / 32, "{label}: batches of at most 32 spans");
    assert_eq!(stats.bytes_wire, keeper.wire_bytes_accepted(), "{label}: wire bytes measured");
    assert_eq!(summary.bytes_wire, stats.bytes_wire, "{label}");
    let by_protocol = match protocol {
        Protocol::HttpProtobuf => stats.requests_http_protobuf,
        Protocol::HttpJson => stats.requests_http_json,
        Protocol::Grpc => stats.requests_grpc,
    };
    assert_eq!(by_protocol, stats.requests, "{label}");
    if compression == Compression::None {
        assert_eq!(
            stats.bytes_raw + if protocol == Protocol::Grpc { 5 * stats.requests } else { 0 },
            stats.bytes_wire,
            "{label}"
        );
    } else {
        assert!(stats.bytes_wire * 2 < stats.bytes_raw, "{label}: {stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_all_compressions() {
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        round_trip(Protocol::HttpProtobuf, compression).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_all_compressions() {
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        round_trip(Protocol::HttpJson, compression).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_all_compressions() {
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        round_trip(Protocol::Grpc, compression).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_stay_under_the_byte_limit() {
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let keeper = Arc::new(Keeper::default());
    let mut settings = config(sink.traces_url(), Protocol::HttpProtobuf, Compression::None);
    settings.max_batch_spans = 1000;
    settings.max_batch_bytes = 20_000;
    let exporter = Exporter::start(settings, resource(), keeper.clone()).expect("exporter starts");
    for span in traces(10, 5, 3_000) {
        exporter.emit(span);
    }
    let summary = exporter.shutdown(Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert_eq!((summary.spans_accepted, stats.spans), (50, 50), "{summary:?}");
    let records = keeper.records();
    assert!(records.len() >= 50 * 3_000 / 20_000, "{} requests", records.len());
    for (_, record) in &records {
        assert!(record.raw_bytes <= 20_000, "a {}-byte request", record.raw_bytes);
    }
}

#[tokio::test]
async fn bad_settings_are_named() {
    let mut settings =
        config("ftp://example.com/x".into(), Protocol::HttpProtobuf, Compression::None);
    let err =
        Exporter::start(settings.clone(), resource(), Arc::new(Keeper::default())).unwrap_err();
    assert!(err.to_string().contains("ftp://example.com/x"), "{err}");
    settings.endpoint = "http://127.0.0.1:1/v1/traces".into();
    settings.max_in_flight = 0;
    let err =
        Exporter::start(settings.clone(), resource(), Arc::new(Keeper::default())).unwrap_err();
    assert!(err.to_string().contains("max_in_flight"), "{err}");
    settings.max_in_flight = 1;
    settings.headers = vec![("authorization".into(), "Bearer sec\nret".into())];
    let err = Exporter::start(settings, resource(), Arc::new(Keeper::default())).unwrap_err();
    assert!(err.to_string().contains("authorization") && !err.to_string().contains("sec"), "{err}");
}
