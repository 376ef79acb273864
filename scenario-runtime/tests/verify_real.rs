//! Read-back against real backends: Arize Phoenix and MLflow, started by `.ci/backends.sh`.
//!
//! Each test prints a skip line and returns when its backend's variables are unset:
//! - Phoenix: `SCALETEST_PHOENIX_URL` (e.g. `http://127.0.0.1:6006`), optionally
//!   `SCALETEST_PHOENIX_GRPC_PORT` for the gRPC check;
//! - MLflow: `SCALETEST_MLFLOW_URL` and `SCALETEST_MLFLOW_EXPERIMENT_ID`.
//!
//! When set, built-in scenarios are exported with the direct exporter and the platform profile,
//! the ledger records each trace's acknowledgement, and verification must find everything:
//! stored == accepted, one root per trace, the span kinds the backend assigned (AGENT, LLM,
//! TOOL) as many as were sent, and the tokens sent.
#![cfg(feature = "engine")]

mod export_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use export_support::{Keeper, config};
use scenario_runtime::engine::export::{Compression, Exporter, Protocol};
use scenario_runtime::engine::verify::{
    Budget, Ledger, Outcome, ReadOptions, Verification, Verifier, create_mlflow_experiment,
    read_api,
};
use scenario_runtime::exec::{Clock, RunSettings, TraceRun};
use scenario_runtime::platform::{PlatformId, PlatformSettings};
use scenario_runtime::recorder::Recorder;
use scenario_runtime::span::{SpanRecord, Value};
use scenario_runtime::{Emitter, SpanSink};

/// Traces of each built-in scenario per run.
const ROUNDS: usize = 3;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// What was sent, by the kind the backend should assign, with the tokens sent.
#[derive(Debug, Default)]
struct Sent {
    kinds: BTreeMap<String, u64>,
    input_tokens: u64,
    output_tokens: u64,
}

fn int(span: &SpanRecord, key: &str) -> u64 {
    match span.attribute(key) {
        Some(Value::Int(n)) => *n as u64,
        _ => 0,
    }
}

fn sent_facts(spans: &[SpanRecord]) -> Sent {
    let mut sent = Sent::default();
    for span in spans {
        let kind = match span.attribute("gen_ai.operation.name") {
            Some(Value::Str(op)) if op == "chat" => "LLM",
            Some(Value::Str(op)) if op == "execute_tool" => "TOOL",
            Some(Value::Str(op)) if op == "invoke_agent" => "AGENT",
            Some(Value::Str(op)) if op == "invoke_workflow" => "CHAIN",
            // Creating an agent is a generic step, not the agent at work.
            Some(Value::Str(op)) if op == "create_agent" => "CHAIN",
            Some(Value::Str(op)) if op == "embeddings" => "EMBEDDING",
            Some(Value::Str(op)) if op == "retrieval" => "RETRIEVER",
            other => panic!("unexpected operation {other:?} on {}", span.name),
        };
        *sent.kinds.entry(kind.to_owned()).or_default() += 1;
        sent.input_tokens += int(span, "gen_ai.usage.input_tokens");
        sent.output_tokens += int(span, "gen_ai.usage.output_tokens");
    }
    sent
}

/// Runs every built-in scenario `ROUNDS` times into an exporter for `platform`, one trace at a
/// time, recording each trace's acknowledgement in the ledger; returns the ledger, every span
/// sent by trace, and how long export took.
async fn export_scenarios(
    platform: PlatformId,
    settings: &PlatformSettings,
    protocol: Protocol,
    verifier: &Verifier,
) -> (Ledger, BTreeMap<[u8; 16], Vec<SpanRecord>>) {
    let profile = platform.profile(settings).unwrap_or_else(|e| panic!("{platform}: {e}"));
    let endpoint = profile.endpoint_for(protocol).expect("the profile has an endpoint").to_owned();
    let emitter = Emitter::new(&profile, Vec::new());
    let keeper = Arc::new(Keeper::default());
    let mut export = config(endpoint, protocol, Compression::Gzip);
    export.headers = profile.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
    export.request_timeout = Duration::from_secs(30);
    let exporter =
        Exporter::start(export, emitter.resource().to_vec(), keeper.clone()).expect("exporter");
    let handle = exporter.handle();
    let mut ledger = Ledger::new();
    let mut sent = BTreeMap::new();
    let mut handed = 0u64;
    let salt = unix_nanos();
    for round in 0..ROUNDS {
        for (i, scenario) in scenarios::all().iter().enumerate() {
            let seed = salt ^ ((round * 100 + i) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&seed.to_be_bytes());
            trace_id[8..].copy_from_slice(&(!seed).rotate_left(17).to_be_bytes());
            let recorder = Recorder::new();
            let settings = RunSettings {
                sink: &recorder,
                clock: Clock::Synthetic,
                latency_scale: Default::default(),
                emitter: &emitter,
            };
            let run = TraceRun::new(settings, trace_id, seed);
            scenario.run(&run, unix_nanos()).await;
            let spans = recorder.take();
            let start_ms = spans.iter().map(|s| s.start_unix_nanos / 1_000_000).min().unwrap();
            let has_root = spans.iter().any(|s| s.parent_span_id.is_none());
            let count = spans.len() as u64;
            for span in &spans {
                handle.emit(span.clone());
            }
            handed += count;
            // The acknowledgement of this trace: the exporter reported all of it exported.
            let deadline = Instant::now() + Duration::from_secs(30);
            while keeper.exported.load(Ordering::Relaxed) < handed {
                assert!(Instant::now() < deadline, "{platform}: no acknowledgement within 30 s");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            ledger.accept(trace_id, count, has_root, start_ms, verifier.now_ms());
            sent.insert(trace_id, spans);
        }
    }
    let summary = exporter.shutdown(Duration::from_secs(30)).await;
    assert_eq!(summary.spans_accepted, handed, "{platform}: every span accepted: {summary:?}");
    (ledger, sent)
}

fn budget(traces: usize) -> Budget {
    Budget {
        timeout: Duration::from_secs(120),
        poll_interval: Duration::from_millis(500),
        sample_traces: traces,
        ..Budget::default()
    }
}

/// The checks every backend must pass; prints the verification for the record.
fn assert_stored(
    label: &str,
    result: &Verification,
    sent: &BTreeMap<[u8; 16], Vec<SpanRecord>>,
    tokens: bool,
) {
    println!("{label}: {}", serde_json::to_string_pretty(result).unwrap());
    let spans: u64 = sent.values().map(|s| s.len() as u64).sum();
    assert_eq!(result.spans_accepted, spans, "{label}");
    assert_eq!(result.traces_accepted, sent.len() as u64, "{label}");
    assert_eq!(
        result.outcome,
        Outcome::AllVisible,
        "{label}: not everything became visible: {:?}",
        result.read_error_examples
    );
    let end = result.visible_at_end.expect("a count at the end");
    let countable = result.countable.expect("countable");
    if countable.spans {
        assert_eq!(end.spans, Some(spans), "{label}: stored spans == accepted");
    }
    if countable.traces {
        assert_eq!(end.traces, Some(sent.len() as u64), "{label}: stored traces == accepted");
    }
    let lag = result.lag.as_ref().expect("a lag");
    assert!(lag.p100_ms.is_some(), "{label}: full visibility observed: {lag:?}");
    let whole = result.whole_traces.as_ref().expect("a whole-trace check");
    assert_eq!(whole.asked, sent.len() as u64, "{label}");
    assert_eq!(whole.found, whole.asked, "{label}: {whole:?}");
    assert!(whole.missing.is_empty() && whole.rootless.is_empty(), "{label}: {whole:?}");
    assert!(whole.several_roots.is_empty(), "{label}: one root per trace: {whole:?}");
    assert!(whole.span_count_differs.is_empty(), "{label}: {whole:?}");
    let expected = sent_facts(&sent.values().flatten().cloned().collect::<Vec<_>>());
    for kind in ["AGENT", "LLM", "TOOL", "EMBEDDING", "RETRIEVER", "CHAIN"] {
        assert_eq!(
            whole.kinds.get(kind),
            expected.kinds.get(kind),
            "{label}: spans the backend typed {kind}: {:?} vs sent {:?}",
            whole.kinds,
            expected.kinds
        );
    }
    if tokens {
        assert_eq!(whole.input_tokens, Some(expected.input_tokens), "{label}: input tokens");
        assert_eq!(whole.output_tokens, Some(expected.output_tokens), "{label}: output tokens");
    }
    assert!(result.read_errors.is_empty(), "{label}: {:?}", result.read_error_examples);
}

async fn verify_platform(
    label: &str,
    platform: PlatformId,
    settings: PlatformSettings,
    protocol: Protocol,
) {
    let options = ReadOptions::default();
    let api = read_api(platform, &settings, &options).unwrap_or_else(|e| panic!("{e}"));
    let traces = ROUNDS * scenarios::all().len();
    let verifier = Verifier::new(api, budget(traces));
    let watch = verifier.watch(verifier.now_ms());
    let export_started = Instant::now();
    let (ledger, sent) = export_scenarios(platform, &settings, protocol, &verifier).await;
    let exported_in = export_started.elapsed();
    let result = verifier.verify(&ledger, Some(watch)).await;
    println!(
        "{label}: exported {} spans in {} traces in {:.1} s; verification took {} ms",
        ledger.spans_accepted(),
        ledger.traces_accepted(),
        exported_in.as_secs_f64(),
        result.finished_at_ms - result.started_at_ms
    );
    assert_stored(label, &result, &sent, true);
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", unix_nanos() / 1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phoenix_stores_every_span_with_its_kind_and_tokens() {
    let Some(url) = var("SCALETEST_PHOENIX_URL") else {
        println!("skipped: SCALETEST_PHOENIX_URL is not set (.ci/backends.sh sets it)");
        return;
    };
    let settings = PlatformSettings {
        base_url: Some(url),
        project: Some(unique("scaletest-verify-http")),
        grpc_port: var("SCALETEST_PHOENIX_GRPC_PORT"),
        ..PlatformSettings::default()
    };
    verify_platform("phoenix http/protobuf", PlatformId::Phoenix, settings, Protocol::HttpProtobuf)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phoenix_over_grpc_goes_to_its_grpc_port() {
    let (Some(url), Some(port)) =
        (var("SCALETEST_PHOENIX_URL"), var("SCALETEST_PHOENIX_GRPC_PORT"))
    else {
        println!("skipped: SCALETEST_PHOENIX_URL or SCALETEST_PHOENIX_GRPC_PORT is not set");
        return;
    };
    let settings = PlatformSettings {
        base_url: Some(url),
        project: Some(unique("scaletest-verify-grpc")),
        grpc_port: Some(port.clone()),
        ..PlatformSettings::default()
    };
    let profile = PlatformId::Phoenix.profile(&settings).unwrap();
    assert!(profile.endpoint_for(Protocol::Grpc).unwrap().ends_with(&format!(":{port}")));
    verify_platform("phoenix grpc", PlatformId::Phoenix, settings, Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mlflow_stores_every_trace_with_its_span_types_and_tokens() {
    let (Some(url), Some(experiment)) =
        (var("SCALETEST_MLFLOW_URL"), var("SCALETEST_MLFLOW_EXPERIMENT_ID"))
    else {
        println!(
            "skipped: SCALETEST_MLFLOW_URL or SCALETEST_MLFLOW_EXPERIMENT_ID is not set \
             (.ci/backends.sh sets them)"
        );
        return;
    };
    let settings = PlatformSettings {
        base_url: Some(url),
        experiment_id: Some(experiment),
        ..PlatformSettings::default()
    };
    verify_platform("mlflow http/protobuf", PlatformId::Mlflow, settings, Protocol::HttpProtobuf)
        .await;
}

/// A capacity step's experiment of its own: created through the REST API, written to, and
/// counted alone (the count is exactly this run's, never other traffic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mlflow_experiments_created_for_a_run_hold_only_its_traces() {
    let Some(url) = var("SCALETEST_MLFLOW_URL") else {
        println!("skipped: SCALETEST_MLFLOW_URL is not set (.ci/backends.sh sets it)");
        return;
    };
    let settings = PlatformSettings { base_url: Some(url), ..PlatformSettings::default() };
    let options = ReadOptions::default();
    let name = unique("scaletest-own-experiment");
    let first = create_mlflow_experiment(&settings, &options, &name).await.unwrap();
    let second = create_mlflow_experiment(&settings, &options, &format!("{name}-2")).await.unwrap();
    assert_ne!(first, second);
    // The same name twice is refused, and the error says so rather than reusing it.
    let again = create_mlflow_experiment(&settings, &options, &name).await;
    assert!(again.is_err(), "{again:?}");
    let settings = PlatformSettings { experiment_id: Some(first), ..settings };
    verify_platform("mlflow own experiment", PlatformId::Mlflow, settings, Protocol::HttpProtobuf)
        .await;
}

/// What the profiles refuse up front is what the servers refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phoenix_and_mlflow_answer_zstd_as_their_profiles_say() {
    let mut checked = 0;
    let backends = [
        (PlatformId::Phoenix, var("SCALETEST_PHOENIX_URL"), None),
        (PlatformId::Mlflow, var("SCALETEST_MLFLOW_URL"), var("SCALETEST_MLFLOW_EXPERIMENT_ID")),
    ];
    for (platform, url, experiment) in backends {
        let Some(url) = url else { continue };
        let settings = PlatformSettings {
            base_url: Some(url),
            experiment_id: experiment,
            project: Some(unique("scaletest-verify-zstd")),
            ..PlatformSettings::default()
        };
        let profile = platform.profile(&settings).unwrap();
        assert!(
            profile.check_compression(Some("zstd")).is_err(),
            "{platform} refuses zstd up front"
        );
        let keeper = Arc::new(Keeper::default());
        let mut export = config(
            profile.default_endpoint.clone().unwrap(),
            Protocol::HttpProtobuf,
            Compression::Zstd,
        );
        export.headers =
            profile.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
        let exporter = Exporter::start(export, Vec::new(), keeper.clone()).unwrap();
        for span in export_support::traces(1, 3, 200) {
            exporter.emit(span);
        }
        let summary = exporter.shutdown(Duration::from_secs(30)).await;
        let statuses: Vec<String> =
            keeper.records().iter().map(|(_, r)| r.outcome.to_string()).collect();
        println!("{platform} answered zstd with {statuses:?}");
        assert_eq!(summary.spans_accepted, 0, "{platform}: {summary:?}");
        let expected = if platform == PlatformId::Phoenix { "HTTP 415" } else { "HTTP 400" };
        assert!(statuses.iter().all(|s| s == expected), "{platform}: {statuses:?}");
        checked += 1;
    }
    if checked == 0 {
        println!("skipped: neither SCALETEST_PHOENIX_URL nor SCALETEST_MLFLOW_URL is set");
    }
}
