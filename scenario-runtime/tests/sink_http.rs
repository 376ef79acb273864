//! The embedded sink on its own, driven by hand-made requests: content types, encodings, size
//! caps, decode errors, parent checks across requests, and stopping.
#![cfg(feature = "engine")]

mod export_support;

use std::time::Duration;

use scenario_runtime::engine::export::compress::compress;
use scenario_runtime::engine::export::encode::{BatchEncoder, to_proto};
use scenario_runtime::engine::export::{Compression, Protocol, http_client_builder};
use scenario_runtime::engine::sink::{Faults, RunningSink, SinkConfig};

fn body(protocol: Protocol, spans: Vec<scenario_runtime::SpanRecord>) -> Vec<u8> {
    BatchEncoder::new(export_support::resource(), protocol)
        .encode(spans.into_iter().map(to_proto).collect())
        .0
}

/// A reqwest client on the TLS provider the exporter installs.
fn client() -> reqwest::Client {
    http_client_builder().build().expect("http client")
}

async fn post(url: &str, content_type: &str, encoding: Option<&str>, body: Vec<u8>) -> u16 {
    let client = client();
    let mut request = client.post(url).header("content-type", content_type).body(body);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    request.timeout(Duration::from_secs(5)).send().await.expect("sink answers").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_protobuf_and_json_plain_and_compressed() {
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let url = sink.traces_url();
    let mut spans = export_support::traces(4, 3, 1_000).into_iter();
    let mut next = |n: usize| spans.by_ref().take(n).collect::<Vec<_>>();
    let proto = body(Protocol::HttpProtobuf, next(3));
    assert_eq!(post(&url, "application/x-protobuf", None, proto).await, 200);
    let json = body(Protocol::HttpJson, next(3));
    assert_eq!(post(&url, "application/json", None, json).await, 200);
    let gz = compress(Compression::Gzip, body(Protocol::HttpProtobuf, next(3))).expect("gzip");
    assert_eq!(post(&url, "application/x-protobuf", Some("gzip"), gz).await, 200);
    let zst = compress(Compression::Zstd, body(Protocol::HttpJson, next(3))).expect("zstd");
    assert_eq!(post(&url, "application/json; charset=utf-8", Some("zstd"), zst).await, 200);
    let stats = sink.shutdown().await;
    assert_eq!((stats.requests, stats.accepted_requests, stats.spans, stats.traces), (4, 4, 12, 4));
    assert_eq!((stats.requests_http_protobuf, stats.requests_http_json), (2, 2));
    assert_eq!((stats.orphan_spans, stats.traces_without_root), (0, 0));
    assert!(stats.bytes_raw > stats.bytes_wire, "compressed bodies count smaller on the wire");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_what_it_cannot_take() {
    let sink = RunningSink::start(SinkConfig { max_body_bytes: 50_000, ..SinkConfig::default() })
        .await
        .expect("sink starts");
    let url = sink.traces_url();
    let small = body(Protocol::HttpProtobuf, export_support::traces(1, 2, 100));
    assert_eq!(post(&url, "text/plain", None, small.clone()).await, 415);
    assert_eq!(post(&url, "application/x-protobuf", Some("br"), small).await, 415);
    assert_eq!(post(&url, "application/x-protobuf", None, vec![0xff; 64]).await, 400);
    assert_eq!(post(&url, "application/json", None, b"{\"resourceSpans\": 3}".to_vec()).await, 400);
    assert_eq!(post(&url, "application/x-protobuf", Some("gzip"), b"not gzip".to_vec()).await, 400);
    // Too large as sent, and too large once decompressed (a small body that inflates).
    let big = body(Protocol::HttpProtobuf, export_support::traces(1, 2, 60_000));
    assert_eq!(post(&url, "application/x-protobuf", None, big).await, 413);
    let bomb = compress(Compression::Zstd, vec![0u8; 1_000_000]).expect("zstd");
    assert!(bomb.len() < 50_000);
    assert_eq!(post(&url, "application/x-protobuf", Some("zstd"), bomb).await, 413);
    let client = client();
    assert_eq!(client.get(&url).send().await.expect("answer").status().as_u16(), 405);
    let stats = sink.shutdown().await;
    assert_eq!((stats.requests, stats.accepted_requests, stats.rejected_requests), (7, 0, 7));
    assert_eq!(stats.decode_errors, 3);
    assert_eq!(stats.spans, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parents_may_arrive_after_their_children() {
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let url = sink.traces_url();
    let mut spans = export_support::traces(2, 4, 100);
    // Trace 0 in order of emission, but its root (last) held back; trace 1 loses its middle span.
    let root0 = spans.remove(3);
    spans.remove(5);
    assert_eq!(
        post(&url, "application/x-protobuf", None, body(Protocol::HttpProtobuf, spans)).await,
        200
    );
    let early = sink.stats();
    assert_eq!(early.traces, 2);
    assert_eq!(early.traces_without_root, 1, "{early:?}");
    assert_eq!(early.orphan_spans, 1 + 2, "trace 0's child of the root, trace 1's grandchildren");
    let late = body(Protocol::HttpProtobuf, vec![root0]);
    assert_eq!(post(&url, "application/x-protobuf", None, late).await, 200);
    let stats = sink.shutdown().await;
    assert_eq!((stats.spans, stats.traces, stats.traces_without_root), (7, 2, 0));
    assert_eq!(stats.orphan_spans, 2, "only trace 1's spans whose parent never came");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_accepting_after_n_requests() {
    let faults = Faults { stop_after_requests: Some(2), ..Faults::default() };
    let sink =
        RunningSink::start(SinkConfig { faults, ..SinkConfig::default() }).await.expect("sink");
    let url = sink.traces_url();
    let one = || body(Protocol::HttpProtobuf, export_support::traces(1, 2, 100));
    assert_eq!(post(&url, "application/x-protobuf", None, one()).await, 200);
    assert_eq!(post(&url, "application/x-protobuf", None, one()).await, 200);
    let third = client()
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(one())
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(third.is_err(), "the third request gets no answer: {third:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = tokio::net::TcpStream::connect(sink.local_addr()).await;
    assert!(refused.is_err(), "the listener is closed");
    let stats = sink.shutdown().await;
    assert!(stats.stopped);
    assert_eq!((stats.accepted_requests, stats.spans), (2, 4));
}

#[tokio::test]
async fn bad_settings_are_named() {
    let faults = Faults {
        bad_request: scenario_runtime::engine::sink::Trigger::probability(2.0),
        ..Faults::default()
    };
    let err = RunningSink::start(SinkConfig { faults, ..SinkConfig::default() }).await.unwrap_err();
    assert!(err.to_string().contains("probability 2"), "{err}");
    let taken = RunningSink::start(SinkConfig::default()).await.expect("sink");
    let err =
        RunningSink::start(SinkConfig { listen: taken.local_addr(), ..SinkConfig::default() })
            .await
            .unwrap_err();
    assert!(err.to_string().contains(&taken.local_addr().to_string()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_accepting_after_a_time() {
    let faults = Faults { stop_after: Some(Duration::from_millis(300)), ..Faults::default() };
    let sink =
        RunningSink::start(SinkConfig { faults, ..SinkConfig::default() }).await.expect("sink");
    let one = body(Protocol::HttpProtobuf, export_support::traces(1, 2, 100));
    assert_eq!(post(&sink.traces_url(), "application/x-protobuf", None, one).await, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let refused = tokio::net::TcpStream::connect(sink.local_addr()).await;
    assert!(refused.is_err(), "the listener is closed after 300 ms");
    let stats = sink.shutdown().await;
    assert!(stats.stopped);
    assert_eq!(stats.spans, 2);
}
