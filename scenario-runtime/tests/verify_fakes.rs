//! Read-back clients against fakes of the platforms scaletest cannot run locally: Langfuse,
//! LangSmith, Braintrust, Opik and W&B Weave. Each fake answers as the platform's public API
//! documents it (request shape, auth header, pagination, answer JSON), with the source named,
//! and refuses requests that do not match, so a client that drifts from the API fails here.
#![cfg(feature = "engine")]

mod verify_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use scenario_runtime::engine::verify::{
    Braintrust, Budget, Langfuse, Langsmith, Opik, Outcome, ReadApi, ReadOptions, Verification,
    Verifier, Weave,
};
use serde_json::{Value, json};
use verify_support::{
    FakeSpan, Store, bad_request, header_is, hex, json, ledger, query_param, serve, trace,
    unauthorized,
};

fn options() -> ReadOptions {
    ReadOptions {
        min_request_gap: Some(Duration::ZERO),
        request_timeout: Duration::from_secs(5),
        base_url: None,
    }
}

fn budget(timeout_ms: u64, sample: usize) -> Budget {
    Budget {
        timeout: Duration::from_millis(timeout_ms),
        poll_interval: Duration::from_millis(50),
        sample_traces: sample,
        ..Budget::default()
    }
}

async fn verify(api: Arc<dyn ReadApi>, spans: &[FakeSpan], budget: Budget) -> Verification {
    let verifier = Verifier::new(api, budget);
    let ledger = ledger(spans, verifier.now_ms());
    verifier.verify(&ledger, None).await
}

fn uuid(trace: &[u8; 16]) -> String {
    let h = hex(trace);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

// ---------------------------------------------------------------------------------------------
// Langfuse. Source: langfuse/langfuse `fern/apis/server/definition/metrics-v2.yml` and
// `observations-v2.yml`; Basic auth public:secret; counts come back as strings (ClickHouse).

const LF_PUBLIC: &str = "pk-lf-fake";
const LF_SECRET: &str = "sk-lf-very-secret";

fn langfuse_auth(headers: &HeaderMap) -> bool {
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("{LF_PUBLIC}:{LF_SECRET}"));
    header_is(headers, "authorization", &format!("Basic {token}"))
}

async fn langfuse_metrics(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if let Some(throttled) = store.enter(format!("GET metrics?{query}")) {
        return throttled;
    }
    if !langfuse_auth(&headers) {
        return unauthorized();
    }
    let Some(q) = query_param(&query, "query").and_then(|q| serde_json::from_str::<Value>(&q).ok())
    else {
        return bad_request("query must be a JSON object".into());
    };
    let shape_ok = q["view"] == "observations"
        && q["metrics"] == json!([{"measure": "count", "aggregation": "count"}])
        && q["fromTimestamp"].is_string()
        && q["toTimestamp"].is_string();
    if !shape_ok {
        return bad_request(format!("unexpected metrics query {q}"));
    }
    json(json!({"data": [{"count_count": store.visible().len().to_string()}]}))
}

async fn langfuse_observations(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if let Some(throttled) = store.enter(format!("GET observations?{query}")) {
        return throttled;
    }
    if !langfuse_auth(&headers) {
        return unauthorized();
    }
    let Some(trace_id) = query_param(&query, "traceId") else {
        return bad_request("this fake needs traceId".into());
    };
    // Pages of 2, so the client must follow `meta.cursor`.
    let offset: usize = query_param(&query, "cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let fields = query_param(&query, "fields").unwrap_or_default();
    let all: Vec<FakeSpan> =
        store.visible().into_iter().filter(|s| hex(&s.trace) == trace_id).collect();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(2)
        .map(|s| {
            let mut o = json!({
                "id": hex(&s.span),
                "traceId": hex(&s.trace),
                "parentObservationId": s.parent.map(|p| hex(&p)),
                "type": s.kind,
                "startTime": "2026-12-01T00:00:00.000Z",
            });
            if fields.contains("usage") {
                o["usageDetails"] = json!({
                    "input": s.input_tokens.unwrap_or(0),
                    "output": s.output_tokens.unwrap_or(0),
                });
            }
            o
        })
        .collect();
    let next = (offset + 2 < all.len()).then(|| (offset + 2).to_string());
    json(json!({"data": page, "meta": {"cursor": next}}))
}

async fn langfuse(store: Arc<Store>) -> String {
    serve(
        Router::new()
            .route("/api/public/v2/metrics", get(langfuse_metrics))
            .route("/api/public/v2/observations", get(langfuse_observations))
            .with_state(store),
    )
    .await
}

#[tokio::test]
async fn langfuse_counts_and_fetches_pages_of_observations() {
    let spans = [
        trace(1, 5, ("AGENT", "GENERATION", "TOOL")),
        trace(2, 3, ("AGENT", "GENERATION", "TOOL")),
    ]
    .concat();
    let store = Arc::new(Store::new(spans.clone()));
    let base = langfuse(store.clone()).await;
    let api = Arc::new(Langfuse::new(&base, LF_PUBLIC, LF_SECRET, &options()).unwrap());
    let result = verify(api, &spans, budget(2_000, 2)).await;
    assert_eq!(result.outcome, Outcome::AllVisible, "{result:#?}");
    let end = result.visible_at_end.unwrap();
    assert_eq!((end.spans, end.traces), (Some(8), None), "Langfuse counts observations only");
    let whole = result.whole_traces.unwrap();
    assert_eq!((whole.asked, whole.found), (2, 2));
    assert!(whole.span_count_differs.is_empty() && whole.rootless.is_empty(), "{whole:?}");
    assert_eq!(whole.kinds.get("GENERATION"), Some(&3));
    assert_eq!(whole.kinds.get("AGENT"), Some(&2));
    assert_eq!((whole.input_tokens, whole.output_tokens), (Some(300), Some(21)));
    // Trace 1 (5 spans) took three pages.
    let pages = store.request_log().iter().filter(|r| r.contains(&hex(&[1; 16]))).count();
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn langfuse_reports_spans_that_become_visible_late_as_lag() {
    // 10 spans accepted now; 5 readable after 300 ms, the rest after 600 ms.
    let mut spans = trace(3, 10, ("AGENT", "GENERATION", "TOOL"));
    for (i, s) in spans.iter_mut().enumerate() {
        s.visible_after = Duration::from_millis(if i < 5 { 300 } else { 600 });
    }
    let store = Arc::new(Store::new(spans.clone()));
    let base = langfuse(store.clone()).await;
    let api = Arc::new(Langfuse::new(&base, LF_PUBLIC, LF_SECRET, &options()).unwrap());
    // Acknowledged now: the ledger's time is taken just after this.
    store.restart_clock();
    let result = verify(api, &spans, budget(5_000, 1)).await;
    assert_eq!(result.outcome, Outcome::AllVisible, "{result:#?}");
    let lag = result.lag.unwrap();
    let (p50, p100) = (lag.p50_ms.unwrap(), lag.p100_ms.unwrap());
    let slack = lag.resolution_ms.unwrap() + 100;
    assert!((300..300 + slack).contains(&p50), "p50 {p50} ms, resolution {slack}");
    assert!((600..600 + slack).contains(&p100), "p100 {p100} ms, resolution {slack}");
    let first = result.visible_at_run_end.unwrap();
    assert_eq!(first.spans, Some(0), "nothing readable when the run ended");
    assert!(result.samples.len() >= 3, "{:?}", result.samples);
}

// ---------------------------------------------------------------------------------------------
// LangSmith. Source: langchain-ai/langsmith-go `run.go` (RunQueryParams, RunQueryResponse
// {runs, cursors}); the Python client's `list_runs` (project id from `GET /api/v1/sessions?name=`);
// `x-api-key`; 400 unless session/id/parent_run/trace/reference_example is given.

const LS_KEY: &str = "lsv2_fake_secret_key";
const LS_SESSION: &str = "4f1c7a52-0000-4000-8000-00000000beef";

async fn langsmith_sessions(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    store.enter(format!("GET sessions?{query}"));
    if !header_is(&headers, "x-api-key", LS_KEY) {
        return unauthorized();
    }
    match query_param(&query, "name").as_deref() {
        Some("checkout") => json(json!([{"id": LS_SESSION, "name": "checkout"}])),
        _ => json(json!([])),
    }
}

async fn langsmith_runs(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(throttled) =
        store.enter(format!("POST runs/query {}", String::from_utf8_lossy(&body)))
    {
        return throttled;
    }
    if !header_is(&headers, "x-api-key", LS_KEY) {
        return unauthorized();
    }
    let Ok(q) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("body must be JSON".into());
    };
    if q["session"] != json!([LS_SESSION]) {
        return bad_request(format!("unknown or missing session: {q}"));
    }
    let limit = q["limit"].as_u64().unwrap_or(100) as usize;
    if limit > 100 {
        return bad_request("limit must be <= 100".into());
    }
    let runs: Vec<FakeSpan> = store
        .visible()
        .into_iter()
        .filter(|s| q["trace"].as_str().is_none_or(|t| t == uuid(&s.trace)))
        .collect();
    // Pages of 3, whatever the limit, so the client must follow `cursors.next`.
    let offset: usize = q["cursor"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = runs
        .iter()
        .skip(offset)
        .take(3)
        .map(|s| {
            let id = |span: &[u8; 8]| uuid(&[*span, [0; 8]].concat().try_into().unwrap());
            json!({
                "id": id(&s.span),
                "trace_id": uuid(&s.trace),
                "parent_run_id": s.parent.map(|p| id(&p)),
                "run_type": s.kind,
                "prompt_tokens": s.input_tokens.unwrap_or(0),
                "completion_tokens": s.output_tokens.unwrap_or(0),
                "session_id": LS_SESSION,
            })
        })
        .collect();
    let next = (offset + 3 < runs.len()).then(|| (offset + 3).to_string());
    json(json!({"runs": page, "cursors": {"next": next, "prev": null}}))
}

#[tokio::test]
async fn langsmith_finds_missing_and_rootless_traces() {
    // Sent: traces 4, 5 and 6, each whole with its root. Stored: 4 whole, 5 not at all, 6
    // without its root.
    let sent = [
        trace(4, 4, ("chain", "llm", "tool")),
        trace(5, 3, ("chain", "llm", "tool")),
        trace(6, 5, ("chain", "llm", "tool")),
    ]
    .concat();
    let stored: Vec<FakeSpan> = sent
        .iter()
        .filter(|s| s.trace != [5; 16] && !(s.trace == [6; 16] && s.parent.is_none()))
        .cloned()
        .collect();
    let store = Arc::new(Store::new(stored));
    let base = serve(
        Router::new()
            .route("/api/v1/sessions", get(langsmith_sessions))
            .route("/api/v1/runs/query", post(langsmith_runs))
            .with_state(store.clone()),
    )
    .await;
    let api = Arc::new(Langsmith::new(&base, LS_KEY, "checkout", &options()).unwrap());
    let result = verify(api, &sent, budget(400, 3)).await;
    assert_eq!(result.outcome, Outcome::Incomplete, "{result:#?}");
    let end = result.visible_at_end.unwrap();
    assert_eq!((end.spans, end.traces), (Some(8), Some(1)), "runs, and runs without a parent");
    assert_eq!((result.spans_not_visible, result.traces_not_visible), (Some(4), Some(2)));
    let lag = result.lag.unwrap();
    assert!(lag.p50_ms.is_some() && lag.p100_ms.is_none(), "never fully visible: {lag:?}");
    let whole = result.whole_traces.unwrap();
    assert_eq!(whole.missing, vec![hex(&[5; 16])]);
    assert_eq!(whole.rootless.len(), 1, "{whole:?}");
    assert_eq!(whole.rootless[0].trace_id, hex(&[6; 16]));
    assert!(whole.rootless[0].root_accepted, "the root was sent and accepted, then lost");
    assert_eq!(whole.span_count_differs.len(), 1);
    assert_eq!((whole.span_count_differs[0].accepted, whole.span_count_differs[0].stored), (5, 4));
    assert_eq!(whole.kinds.get("LLM"), Some(&4));
    // Tokens of llm runs only: trace 4 has 2, trace 6 has 2.
    assert_eq!(whole.input_tokens, Some(400));
    // The project id was looked up once, by name.
    let lookups = store.request_log().iter().filter(|r| r.starts_with("GET sessions")).count();
    assert_eq!(lookups, 1);
}

#[tokio::test]
async fn langsmith_names_an_unknown_project() {
    let store = Arc::new(Store::new(Vec::new()));
    let base = serve(
        Router::new()
            .route("/api/v1/sessions", get(langsmith_sessions))
            .route("/api/v1/runs/query", post(langsmith_runs))
            .with_state(store),
    )
    .await;
    let api = Arc::new(Langsmith::new(&base, LS_KEY, "nope", &options()).unwrap());
    let spans = trace(7, 2, ("chain", "llm", "tool"));
    let result = verify(api, &spans, budget(300, 1)).await;
    assert_eq!(result.outcome, Outcome::Failed);
    assert!(result.read_error_examples["not_found"].contains("`nope`"), "{result:?}");
}

// ---------------------------------------------------------------------------------------------
// Braintrust. Sources: https://www.braintrust.dev/docs/reference/sql (POST /btql
// {"query", "fmt": "json"} -> {"data": [...]}, `project_logs`, `is_root`) and the SDK's OTel
// bridge (`root_span_id` = OTel trace id hex, `span_id` = span id hex); Bearer auth.

const BT_KEY: &str = "sk-bt-fake-secret";

async fn braintrust_btql(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(throttled) = store.enter(format!("POST btql {}", String::from_utf8_lossy(&body))) {
        return throttled;
    }
    if !header_is(&headers, "authorization", &format!("Bearer {BT_KEY}")) {
        return unauthorized();
    }
    let Ok(q) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("body must be JSON".into());
    };
    let (Some(sql), Some("json")) = (q["query"].as_str(), q["fmt"].as_str()) else {
        return bad_request(format!("expected {{query, fmt: json}}: {q}"));
    };
    if !sql.contains("FROM project_logs('p-123')") {
        return bad_request(format!("unknown project in {sql}"));
    }
    let spans = store.visible();
    if sql.starts_with("SELECT count(*) AS n") {
        let n = spans.iter().filter(|s| !sql.contains("is_root") || s.parent.is_none()).count();
        return json(json!({"data": [{"n": n}]}));
    }
    let Some(root) = sql.split("root_span_id = '").nth(1).and_then(|r| r.get(..32)) else {
        return bad_request(format!("unsupported query {sql}"));
    };
    let rows: Vec<Value> = spans
        .iter()
        .filter(|s| hex(&s.trace) == root)
        .map(|s| {
            json!({
                "span_id": hex(&s.span),
                "root_span_id": hex(&s.trace),
                "span_parents": s.parent.map(|p| vec![hex(&p)]),
                "span_attributes": {"type": s.kind, "name": "x"},
                "metrics": {"prompt_tokens": s.input_tokens, "completion_tokens": s.output_tokens},
            })
        })
        .collect();
    json(json!({"data": rows}))
}

#[tokio::test]
async fn braintrust_counts_spans_and_roots_with_sql() {
    let spans =
        [trace(8, 6, ("task", "llm", "tool")), trace(9, 2, ("task", "llm", "tool"))].concat();
    let store = Arc::new(Store::new(spans.clone()));
    let base = serve(Router::new().route("/btql", post(braintrust_btql)).with_state(store)).await;
    let api = Arc::new(Braintrust::new(&base, BT_KEY, "p-123", &options()).unwrap());
    let result = verify(api, &spans, budget(2_000, 2)).await;
    assert_eq!(result.outcome, Outcome::AllVisible, "{result:#?}");
    let end = result.visible_at_end.unwrap();
    assert_eq!((end.spans, end.traces), (Some(8), Some(2)));
    let whole = result.whole_traces.unwrap();
    assert_eq!(whole.found, 2);
    assert_eq!(whole.kinds.get("TASK"), Some(&2));
    assert_eq!(whole.kinds.get("TOOL"), Some(&2));
    assert_eq!(whole.kinds.get("LLM"), Some(&4));
    assert_eq!((whole.input_tokens, whole.output_tokens), (Some(400), Some(28)));
}

// ---------------------------------------------------------------------------------------------
// Opik. Source: Opik REST API (`GET /v1/private/traces|spans?project_name&page&size&filters`
// -> {page, size, total, content}); `Authorization: <key>` without scheme, `Comet-Workspace`.

const OPIK_KEY: &str = "opik-fake-secret";

async fn opik_list(
    State(store): State<Arc<Store>>,
    Path(list): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if let Some(throttled) = store.enter(format!("GET {list}?{query}")) {
        return throttled;
    }
    if !header_is(&headers, "authorization", OPIK_KEY)
        || !header_is(&headers, "comet-workspace", "team")
    {
        return unauthorized();
    }
    if query_param(&query, "project_name").as_deref() != Some("checkout") {
        return bad_request("project_name".into());
    }
    let filters =
        query_param(&query, "filters").and_then(|f| serde_json::from_str::<Value>(&f).ok());
    if !filters.is_some_and(|f| f[0]["field"] == "start_time") {
        return bad_request("filters".into());
    }
    let visible = store.visible();
    let total = match list.as_str() {
        "spans" => visible.len(),
        "traces" => visible.iter().filter(|s| s.parent.is_none()).count(),
        _ => return bad_request(list),
    };
    json(json!({"page": 1, "size": 1, "total": total, "content": []}))
}

#[tokio::test]
async fn opik_honours_retry_after_and_says_it_cannot_fetch_by_otel_id() {
    let spans = trace(10, 4, ("general", "llm", "tool"));
    let store = Arc::new(Store::new(spans.clone()));
    store.throttle.store(1, Ordering::SeqCst);
    let base =
        serve(Router::new().route("/v1/private/{list}", get(opik_list)).with_state(store.clone()))
            .await;
    let api =
        Arc::new(Opik::new(&base, Some(OPIK_KEY), Some("team"), "checkout", &options()).unwrap());
    let result = verify(api, &spans, budget(5_000, 1)).await;
    assert_eq!(result.outcome, Outcome::AllVisible, "{result:#?}");
    assert_eq!(result.read_errors.get("rate_limited"), Some(&1));
    let times = store.request_times();
    let waited = times[1] - times[0];
    assert!(waited >= Duration::from_millis(990), "next request after {waited:?}, Retry-After: 1");
    let whole = result.whole_traces.unwrap();
    assert!(whole.unsupported.unwrap().contains("UUIDv7"));
    assert_eq!(whole.found, 0, "nothing fetched is nothing claimed");
    let end = result.visible_at_end.unwrap();
    assert_eq!((end.spans, end.traces), (Some(4), Some(1)));
}

// ---------------------------------------------------------------------------------------------
// W&B Weave. Source: wandb/weave `weave/trace_server/trace_server_interface.py`
// (CallsQueryStatsReq {project_id, filter} -> {count}; CallsFilter {trace_roots_only,
// trace_ids}; calls/stream_query answers JSON lines) and `remote_http_trace_server.py`
// (HTTP Basic, user `api`, password the key).

const WANDB_KEY: &str = "wandb-fake-secret-0123456789";

fn weave_auth(headers: &HeaderMap) -> bool {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("api:{WANDB_KEY}"));
    header_is(headers, "authorization", &format!("Basic {token}"))
}

async fn weave_stats(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    store.enter("POST query_stats".into());
    if !weave_auth(&headers) {
        return unauthorized();
    }
    let q: Value = serde_json::from_slice(&body).unwrap_or_default();
    if q["project_id"] != "acme/checkout" {
        return bad_request(format!("project_id: {q}"));
    }
    let roots_only = q["filter"]["trace_roots_only"] == true;
    let count = store.visible().iter().filter(|s| !roots_only || s.parent.is_none()).count();
    json(json!({"count": count}))
}

async fn weave_stream(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    store.enter("POST stream_query".into());
    if !weave_auth(&headers) {
        return unauthorized();
    }
    let q: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(trace) = q["filter"]["trace_ids"][0].as_str().map(str::to_owned) else {
        return bad_request("filter.trace_ids".into());
    };
    let spans: Vec<FakeSpan> =
        store.visible().into_iter().filter(|s| hex(&s.trace) == trace).collect();
    // Weave rolls usage up to the root call.
    let (input, output): (u64, u64) = spans.iter().fold((0, 0), |(i, o), s| {
        (i + s.input_tokens.unwrap_or(0), o + s.output_tokens.unwrap_or(0))
    });
    let lines: Vec<String> = spans
        .iter()
        .map(|s| {
            let mut call = json!({
                "id": hex(&s.span),
                "project_id": "acme/checkout",
                "trace_id": hex(&s.trace),
                "parent_id": s.parent.map(|p| hex(&p)),
                "op_name": "chat",
                "summary": {},
            });
            if s.parent.is_none() {
                call["summary"] = json!({"usage": {"gpt-4o": {"prompt_tokens": input, "completion_tokens": output}}});
            }
            call.to_string()
        })
        .collect();
    ([(axum::http::header::CONTENT_TYPE, "application/jsonl")], lines.join("\n")).into_response()
}

async fn weave(store: Arc<Store>) -> String {
    serve(
        Router::new()
            .route("/calls/query_stats", post(weave_stats))
            .route("/calls/stream_query", post(weave_stream))
            .with_state(store),
    )
    .await
}

#[tokio::test]
async fn weave_counts_calls_and_reads_root_usage() {
    let spans = trace(11, 5, ("call", "call", "call"));
    let store = Arc::new(Store::new(spans.clone()));
    let base = weave(store).await;
    let api = Arc::new(Weave::new(&base, WANDB_KEY, "acme", "checkout", &options()).unwrap());
    let result = verify(api, &spans, budget(2_000, 1)).await;
    assert_eq!(result.outcome, Outcome::AllVisible, "{result:#?}");
    let whole = result.whole_traces.unwrap();
    assert_eq!((whole.found, whole.kinds.len()), (1, 0), "Weave assigns no kinds: {whole:?}");
    assert_eq!((whole.input_tokens, whole.output_tokens), (Some(200), Some(14)));
}

#[tokio::test]
async fn a_refused_key_fails_clearly_and_never_shows_the_key() {
    let spans = trace(12, 3, ("call", "call", "call"));
    let store = Arc::new(Store::new(spans.clone()));
    let base = weave(store.clone()).await;
    let wrong = "wandb-wrong-secret-9876543210";
    let api = Arc::new(Weave::new(&base, wrong, "acme", "checkout", &options()).unwrap());
    let result = verify(api, &spans, budget(3_000, 1)).await;
    assert_eq!(result.outcome, Outcome::Failed);
    let reason = result.reason.clone().unwrap();
    assert!(reason.contains("401") && reason.contains("credentials"), "{reason}");
    assert_eq!(result.read_errors.get("auth"), Some(&1), "stops at the first refusal");
    assert_eq!(store.request_log().len(), 1, "no retries with a refused key");
    assert!(
        result.lag.is_none() && result.visible_at_end.is_none(),
        "nothing observed, nothing claimed"
    );
    let shown = format!("{result:?} {}", serde_json::to_string(&result).unwrap());
    let token = base64::engine::general_purpose::STANDARD.encode(format!("api:{wrong}"));
    assert!(!shown.contains(wrong) && !shown.contains(&token), "{shown}");
}
