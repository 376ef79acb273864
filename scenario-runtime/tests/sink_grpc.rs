//! The sink's gRPC receiver against the standard generated OTLP client (what SDKs use), and its
//! gRPC fault answers.
#![cfg(feature = "engine")]

mod export_support;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use scenario_runtime::engine::export::Protocol;
use scenario_runtime::engine::export::encode::{BatchEncoder, to_proto};
use scenario_runtime::engine::export::rpc_status::retry_info;
use scenario_runtime::engine::sink::{Faults, RunningSink, SinkConfig, Throttle, Trigger};

fn request(
    traces: usize,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    let spans = export_support::traces(traces, 3, 500).into_iter().map(to_proto).collect();
    BatchEncoder::new(export_support::resource(), Protocol::Grpc).request(spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_client_exports_to_the_sink() {
    let sink = RunningSink::start(SinkConfig::default()).await.expect("sink starts");
    let mut client = TraceServiceClient::connect(format!("http://{}", sink.local_addr()))
        .await
        .expect("connects");
    for _ in 0..3 {
        client.export(request(5)).await.expect("export succeeds");
    }
    let stats = sink.shutdown().await;
    assert_eq!((stats.requests_grpc, stats.spans, stats.traces), (3, 45, 5));
    assert_eq!(stats.duplicate_spans, 30, "the same five traces were sent three times");
    assert_eq!(stats.orphan_spans, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_faults_map_to_grpc_status_codes() {
    let faults = Faults {
        throttle: Some(Throttle { when: Trigger::every(2), status: 503, retry_after: None }),
        bad_request: Trigger::every(3),
        ..Faults::default()
    };
    let sink =
        RunningSink::start(SinkConfig { faults, ..SinkConfig::default() }).await.expect("sink");
    let mut client = TraceServiceClient::connect(format!("http://{}", sink.local_addr()))
        .await
        .expect("connects");
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(match client.export(request(1)).await {
            Ok(_) => tonic::Code::Ok,
            Err(status) => status.code(),
        });
    }
    assert_eq!(
        codes,
        [
            tonic::Code::Ok,
            tonic::Code::Unavailable,
            tonic::Code::InvalidArgument,
            tonic::Code::Unavailable
        ]
    );
    let stats = sink.shutdown().await;
    assert_eq!((stats.accepted_requests, stats.rejected_requests, stats.spans), (1, 3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_carries_retry_info_and_too_large_does_not() {
    let throttle = |status| Faults {
        throttle: Some(Throttle {
            when: Trigger::every(1),
            status,
            retry_after: Some(std::time::Duration::from_millis(1_500)),
        }),
        ..Faults::default()
    };
    let cases = [
        (throttle(429), tonic::Code::ResourceExhausted, Some(Some(1_500))),
        (throttle(503), tonic::Code::Unavailable, Some(Some(1_500))),
        (
            Faults { reject_above: Some(100), ..Faults::default() },
            tonic::Code::ResourceExhausted,
            None,
        ),
    ];
    for (faults, code, expected) in cases {
        let sink =
            RunningSink::start(SinkConfig { faults, ..SinkConfig::default() }).await.expect("sink");
        let mut client = TraceServiceClient::connect(format!("http://{}", sink.local_addr()))
            .await
            .expect("connects");
        let status = client.export(request(1)).await.expect_err("refused");
        assert_eq!(status.code(), code, "{status:?}");
        let delay = retry_info(status.details()).map(|d| d.map(|d| d.as_millis()));
        assert_eq!(delay, expected, "{status:?}");
        if expected.is_none() {
            assert!(status.message().starts_with("message larger than max ("), "{status:?}");
        }
        sink.shutdown().await;
    }
}
