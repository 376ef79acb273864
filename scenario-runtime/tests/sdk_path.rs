//! The `sdk` export path against the embedded sink: every span the SDK accepted arrives with
//! the step tree's ids and parent links, and the books the SDK path reports add up.
#![cfg(feature = "engine")]

mod export_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use export_support::{Keeper, assert_whole_traces, resource, traces};
use scenario_runtime::SpanSink;
use scenario_runtime::engine::export::{Compression, Protocol};
use scenario_runtime::engine::sdk::{SdkConfig, SdkExporter};
use scenario_runtime::engine::sink::{RunningSink, SinkConfig};

async fn through_sdk(protocol: Protocol, compression: Compression) {
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let keeper = Arc::new(Keeper::default());
    let mut config = SdkConfig::new(sink.traces_url());
    config.protocol = protocol;
    config.compression = compression;
    config.scheduled_delay = Duration::from_millis(50);
    config.max_queue_size = 10_000;
    let exporter = SdkExporter::start(config, resource(), keeper.clone()).expect("sdk starts");
    for span in traces(30, 5, 1_000) {
        exporter.emit(span);
    }
    let (summary, cost) = exporter.shutdown(Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    let label = format!("{protocol} {compression}");
    assert!(summary.balances(), "{label}: {summary:?}");
    assert_eq!(cost.spans_ended, 150, "{label}");
    assert!(cost.tracer_nanos > 0, "{label}");
    assert_eq!(summary.spans_accepted, 150, "{label}: {summary:?}");
    assert_eq!(keeper.exported.load(Ordering::Relaxed), 150, "{label}");
    // Ids and parents are the step tree's, not the SDK's own.
    assert_whole_traces(&stats, 150, 30, &label);
    assert_eq!(stats.requests, summary.requests, "{label}");
    assert_eq!(stats.bytes_wire, summary.bytes_wire, "{label}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_path_delivers_every_span_with_its_ids() {
    through_sdk(Protocol::HttpProtobuf, Compression::None).await;
    through_sdk(Protocol::HttpProtobuf, Compression::Zstd).await;
    through_sdk(Protocol::HttpJson, Compression::Gzip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_path_counts_what_its_queue_drops() {
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let mut config = SdkConfig::new(sink.traces_url());
    config.max_queue_size = 16;
    config.max_export_batch_size = 16;
    let exporter =
        SdkExporter::start(config, resource(), Arc::new(Keeper::default())).expect("sdk starts");
    for span in traces(200, 5, 200) {
        exporter.emit(span);
    }
    let (summary, _) = exporter.shutdown(Duration::from_secs(10)).await;
    let stats = sink.shutdown().await;
    assert!(summary.balances(), "{summary:?}");
    assert!(summary.spans_dropped > 0, "a 16-span queue must drop some of 1000: {summary:?}");
    assert_eq!(summary.spans_accepted, stats.spans, "{summary:?} {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_path_refuses_grpc_with_a_clear_message() {
    let mut config = SdkConfig::new("http://127.0.0.1:9/v1/traces");
    config.protocol = Protocol::Grpc;
    let error = SdkExporter::start(config, resource(), Arc::new(Keeper::default()))
        .expect_err("grpc is refused");
    assert!(error.to_string().contains("grpc"), "{error}");
}
