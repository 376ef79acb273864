//! Read-load operations (`--query-rate`) of the platforms scaletest cannot run locally:
//! Langfuse, LangSmith, Braintrust, Opik and W&B Weave. Each fake checks a request as the
//! platform's public API documents it (route, method, auth header, the parameters that bound
//! the query: time window, page size, projected fields) and answers the documented JSON; a
//! request that does not match gets a 400, so a client that drifts from the API fails here.
//! Phoenix and MLflow are checked against the real servers (`.ci/backends.sh`).
#![cfg(feature = "engine")]

mod verify_support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use scenario_runtime::engine::query::{QueryApi, QueryContext, QueryOp, Rows};
use scenario_runtime::engine::verify::{Braintrust, Langfuse, Langsmith, Opik, ReadOptions, Weave};
use serde_json::{Value, json};
use verify_support::{bad_request, header_is, json, query_param, serve, unauthorized};

const TRACE: [u8; 16] = [0xab; 16];
const TRACE_HEX: &str = "abababababababababababababababab";
const START_MS: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const END_MS: u64 = START_MS + 900_000;

fn options() -> ReadOptions {
    ReadOptions {
        min_request_gap: Some(Duration::ZERO),
        request_timeout: Duration::from_secs(5),
        base_url: None,
    }
}

/// One request as a fake sees it.
struct Request {
    method: Method,
    path: String,
    query: String,
    body: Value,
}

type Check = fn(&Request) -> Result<Value, String>;
type Auth = fn(&HeaderMap) -> bool;

/// A fake answering every route through `check`; requests failing auth get 401 and any other
/// mismatch 400 naming it.
async fn fake(check: Check, auth: Auth) -> String {
    async fn handle(
        State((check, auth)): State<(Check, Auth)>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if !auth(&headers) {
            return unauthorized();
        }
        let body = if body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return bad_request(format!("body is not JSON: {e}")),
            }
        };
        let request = Request {
            method,
            path: uri.path().to_owned(),
            query: uri.query().unwrap_or_default().to_owned(),
            body,
        };
        match check(&request) {
            Ok(Value::String(lines)) => lines.into_response(),
            Ok(answer) => json(answer),
            Err(why) => bad_request(why),
        }
    }
    serve(Router::new().fallback(handle).with_state((check, auth))).await
}

/// Rows in a 2xx answer, read where the request says they are.
fn rows(rows: Rows, body: &[u8]) -> u64 {
    match rows {
        Rows::Lines => {
            String::from_utf8_lossy(body).lines().filter(|l| !l.trim().is_empty()).count() as u64
        }
        Rows::Array(pointer) => {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            v.pointer(pointer).and_then(|a| a.as_array()).map_or(0, |a| a.len() as u64)
        }
        Rows::Count(pointer) => {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let count = v
                .pointer(pointer)
                .and_then(|n| n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())));
            assert!(count.is_some_and(|n| n > 0), "no count at {pointer} in {v}");
            1
        }
    }
}

/// Runs every operation once; each must be answered 2xx with rows. Returns the operations
/// the platform declined, with their reasons.
async fn run_all(api: Arc<dyn QueryApi>) -> Vec<(QueryOp, &'static str)> {
    api.prepare().await.expect("prepare");
    let cx = QueryContext { start_ms: START_MS, end_ms: END_MS, trace_id: Some(TRACE) };
    let mut declined = Vec::new();
    for op in QueryOp::ALL {
        let request = match api.request(op, &cx) {
            Ok(r) => r,
            Err(why) => {
                assert_eq!(api.describe(op), Err(why), "{op}: describe and request agree");
                declined.push((op, why));
                continue;
            }
        };
        assert!(api.describe(op).is_ok(), "{op}");
        let (status, body) = api.exchange(&request).await.expect("answered");
        assert_eq!(status, 200, "{op}: {}", String::from_utf8_lossy(&body));
        assert!(
            rows(request.rows, &body) > 0,
            "{op}: no rows in {}",
            String::from_utf8_lossy(&body)
        );
    }
    declined
}

/// The window every request must carry, as RFC 3339.
fn window_ok(from: Option<String>, to: Option<String>) -> Result<(), String> {
    match (from.as_deref(), to.as_deref()) {
        (Some("2026-01-01T00:00:00.000Z"), Some("2026-01-01T00:15:00.000Z")) => Ok(()),
        other => Err(format!("time window missing or wrong: {other:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Langfuse: <https://langfuse.com/docs/api-and-data-platform/features/observations-api>
// (`GET /api/public/v2/observations`: fromStartTime, toStartTime, type, traceId, fields, limit
// <= 1000 -> `{data, meta}`) and the v2 metrics API (`GET /api/public/v2/metrics?query=`);
// Basic auth public:secret.

fn langfuse_check(r: &Request) -> Result<Value, String> {
    let p = |k: &str| query_param(&r.query, k);
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/api/public/v2/observations") => {
            let limit: u32 = p("limit").and_then(|l| l.parse().ok()).unwrap_or(0);
            if limit == 0 || limit > 1000 || p("fields").is_none() {
                return Err("limit (1..=1000) and fields are expected".into());
            }
            if p("traceId").is_none() {
                window_ok(p("fromStartTime"), p("toStartTime"))?;
            } else if p("traceId").as_deref() != Some(TRACE_HEX) {
                return Err("traceId is the OTel id in hex".into());
            }
            let kind = p("type").unwrap_or_else(|| "SPAN".into());
            Ok(json!({"data": [{"id": "o1", "traceId": TRACE_HEX, "type": kind}], "meta": {}}))
        }
        ("GET", "/api/public/v2/metrics") => {
            let q: Value = serde_json::from_str(&p("query").unwrap_or_default())
                .map_err(|_| "query is a JSON object".to_owned())?;
            window_ok(
                q["fromTimestamp"].as_str().map(str::to_owned),
                q["toTimestamp"].as_str().map(str::to_owned),
            )?;
            if q["view"] != "observations" {
                return Err(format!("view {}", q["view"]));
            }
            Ok(json!({"data": [{"count_count": "42"}]}))
        }
        (m, path) => Err(format!("no route {m} {path}")),
    }
}

#[tokio::test]
async fn langfuse_operations() {
    fn auth(h: &HeaderMap) -> bool {
        let token = base64::engine::general_purpose::STANDARD.encode("pk:sk-secret");
        header_is(h, "authorization", &format!("Basic {token}"))
    }
    let base = fake(langfuse_check, auth).await;
    let api = Arc::new(Langfuse::new(&base, "pk", "sk-secret", &options()).unwrap());
    assert!(run_all(api).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// LangSmith: `POST /api/v1/runs/query` (RunQueryParams: session, trace, is_root, filter,
// start_time, select, limit <= 100 -> `{runs, cursors}`; 400 unless session, id, parent_run,
// trace or reference_example is given) and `POST /api/v1/runs/stats` (RunStatsQueryParams ->
// RunStats with `run_count`): <https://reference.langchain.com/javascript/langsmith/_openapi_client/resources/Runs/stats>;
// project id from `GET /api/v1/sessions?name=`; `x-api-key`.

fn langsmith_check(r: &Request) -> Result<Value, String> {
    let b = &r.body;
    let scoped = b["session"] == json!(["proj-uuid"]) || b["trace"].is_string();
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/api/v1/sessions") => Ok(json!([{"id": "proj-uuid", "name": "scaletest"}])),
        ("POST", "/api/v1/runs/query") => {
            if !scoped {
                return Err("one of session, id, parent_run, trace, reference_example".into());
            }
            let limit = b["limit"].as_u64().unwrap_or(0);
            if limit == 0 || limit > 100 || !b["select"].is_array() {
                return Err("limit (1..=100) and select are expected".into());
            }
            if b["trace"].is_string() {
                if b["trace"] != "abababab-abab-abab-abab-abababababab" {
                    return Err(format!("trace {}", b["trace"]));
                }
            } else if !b["start_time"].is_string() || !b["end_time"].is_string() {
                return Err("a list is bounded by start_time and end_time".into());
            }
            Ok(json!({"runs": [{"id": "r1", "run_type": "llm"}], "cursors": {"next": null}}))
        }
        ("POST", "/api/v1/runs/stats") => {
            if b["session"] != json!(["proj-uuid"]) || !b["start_time"].is_string() {
                return Err("stats need the session and a start_time".into());
            }
            Ok(json!({"run_count": 9, "latency_p50": 1.2}))
        }
        (m, path) => Err(format!("no route {m} {path}")),
    }
}

#[tokio::test]
async fn langsmith_operations() {
    fn auth(h: &HeaderMap) -> bool {
        header_is(h, "x-api-key", "ls-secret")
    }
    let base = fake(langsmith_check, auth).await;
    let api = Arc::new(Langsmith::new(&base, "ls-secret", "scaletest", &options()).unwrap());
    assert!(run_all(api).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Braintrust: <https://www.braintrust.dev/docs/reference/sql> (`POST /btql {query, fmt}` ->
// `{data}`), Bearer auth.

fn braintrust_check(r: &Request) -> Result<Value, String> {
    if (r.method.as_str(), r.path.as_str()) != ("POST", "/btql") || r.body["fmt"] != "json" {
        return Err(format!("expected POST /btql with fmt json, got {} {}", r.method, r.path));
    }
    let sql = r.body["query"].as_str().unwrap_or_default();
    if !sql.contains("FROM project_logs('proj-1')") {
        return Err(format!("not the project's logs: {sql}"));
    }
    if sql.contains("count(*)") {
        return Ok(json!({"data": [{"n": 12}]}));
    }
    if !sql.contains("LIMIT") {
        return Err(format!("unbounded query: {sql}"));
    }
    let windowed = sql.contains("created >= '2026-01-01T00:00:00.000Z'")
        && sql.contains("created <= '2026-01-01T00:15:00.000Z'");
    if !(windowed || sql.contains(&format!("root_span_id = '{TRACE_HEX}'"))) {
        return Err(format!("neither a window nor a trace: {sql}"));
    }
    Ok(json!({"data": [{"span_id": "s1", "root_span_id": TRACE_HEX}]}))
}

#[tokio::test]
async fn braintrust_operations() {
    fn auth(h: &HeaderMap) -> bool {
        header_is(h, "authorization", "Bearer bt-secret")
    }
    let base = fake(braintrust_check, auth).await;
    let api = Arc::new(Braintrust::new(&base, "bt-secret", "proj-1", &options()).unwrap());
    assert!(run_all(api).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Opik: <https://www.comet.com/docs/opik/reference/rest-api/traces/get-traces-by-project> and
// get-spans-by-project (`project_name`, `page`, `size`, `filters`, `exclude`, spans `type` ->
// `{page, size, total, content}`); `Authorization: <key>`.

fn opik_check(r: &Request) -> Result<Value, String> {
    let p = |k: &str| query_param(&r.query, k);
    if r.method != Method::GET
        || !["/v1/private/traces", "/v1/private/spans"].contains(&r.path.as_str())
    {
        return Err(format!("no route {} {}", r.method, r.path));
    }
    if p("project_name").as_deref() != Some("scaletest") || p("size").is_none() {
        return Err("project_name and size are expected".into());
    }
    let filters: Value = serde_json::from_str(&p("filters").unwrap_or_default())
        .map_err(|_| "filters is a JSON array".to_owned())?;
    if filters[0]["field"] != "start_time" || filters[1]["operator"] != "<=" {
        return Err(format!("no start_time window in {filters}"));
    }
    Ok(json!({"page": 1, "size": 1, "total": 7, "content": [{"id": "0190-uuid"}]}))
}

#[tokio::test]
async fn opik_operations_without_get() {
    fn auth(h: &HeaderMap) -> bool {
        header_is(h, "authorization", "opik-secret")
    }
    let base = fake(opik_check, auth).await;
    let api =
        Arc::new(Opik::new(&base, Some("opik-secret"), None, "scaletest", &options()).unwrap());
    let declined = run_all(api).await;
    assert_eq!(declined.len(), 1);
    assert_eq!(declined[0].0, QueryOp::Get);
    assert!(declined[0].1.contains("UUIDv7"), "{}", declined[0].1);
}

// ---------------------------------------------------------------------------------------------
// W&B Weave: trace server API, <https://docs.wandb.ai/weave/reference/service-api>
// (`POST /calls/stream_query` {project_id, filter, query, sort_by, limit, columns} answered as
// JSON lines; `POST /calls/query_stats` -> `{count}`); Basic auth `api:<key>`.

fn weave_check(r: &Request) -> Result<Value, String> {
    let b = &r.body;
    if b["project_id"] != "team/scaletest" {
        return Err(format!("project_id {}", b["project_id"]));
    }
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/calls/stream_query") => {
            let limit = b["limit"].as_u64().unwrap_or(0);
            if limit == 0 || !b["columns"].is_array() {
                return Err("limit and columns are expected".into());
            }
            let by_trace = b["filter"]["trace_ids"] == json!([TRACE_HEX]);
            if !by_trace && !b["query"]["$expr"].is_object() {
                return Err("a list is bounded by a started_at expression".into());
            }
            Ok(Value::String(format!(
                "{}\n{}\n",
                json!({"id": "c1", "trace_id": TRACE_HEX}),
                json!({"id": "c2", "trace_id": TRACE_HEX})
            )))
        }
        ("POST", "/calls/query_stats") => Ok(json!({"count": 5})),
        (m, path) => Err(format!("no route {m} {path}")),
    }
}

#[tokio::test]
async fn weave_operations() {
    fn auth(h: &HeaderMap) -> bool {
        let token = base64::engine::general_purpose::STANDARD.encode("api:wb-secret");
        header_is(h, "authorization", &format!("Basic {token}"))
    }
    let base = fake(weave_check, auth).await;
    let api = Arc::new(Weave::new(&base, "wb-secret", "team", "scaletest", &options()).unwrap());
    assert!(run_all(api).await.is_empty());
}

#[tokio::test]
async fn a_wrong_key_is_a_4xx_answer_and_never_echoed() {
    fn auth(h: &HeaderMap) -> bool {
        header_is(h, "authorization", "Bearer right")
    }
    let base = fake(braintrust_check, auth).await;
    let api = Braintrust::new(&base, "wrong-key-1234", "proj-1", &options()).unwrap();
    let cx = QueryContext { start_ms: START_MS, end_ms: END_MS, trace_id: None };
    let request = api.request(QueryOp::List, &cx).unwrap();
    let (status, body) = api.exchange(&request).await.unwrap();
    assert_eq!(status, 401);
    assert!(!String::from_utf8_lossy(&body).contains("wrong-key"));
    assert!(!format!("{api:?}").contains("wrong-key"));
    // The request carries no credential in its path or body either.
    assert!(!format!("{request:?}").contains("wrong-key"));
}
