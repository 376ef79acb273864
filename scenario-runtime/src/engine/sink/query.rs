//! Read routes of the embedded sink, so that `--query-rate` has something to read when the
//! sink is the target. The sink keeps ids only (no names or attributes), so its operations are
//! about what it holds: traces seen last, one trace's span and parent ids, traces with a root
//! and several spans, and the counts. Traces complete and idle for [`super::EVICT_AFTER`] are
//! forgotten (only counted), so `get` of an older trace answers 404.
//!
//! - `GET /v1/query/traces?limit=&within_ms=&min_spans=&root=` ->
//!   `{"data":[{"trace_id","spans","root","idle_ms"}]}`, most recently seen first;
//! - `GET /v1/query/traces/{32 hex}` -> `{"data":[{"span_id","parent_id"}]}`, 404 if not held;
//! - `GET /v1/query/count` -> `{"spans","traces"}`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::json;

use super::SinkState;

/// Rows one list answers at most.
const MAX_LIMIT: usize = 1000;

pub fn routes() -> Router<Arc<SinkState>> {
    Router::new()
        .route("/v1/query/traces", get(list))
        .route("/v1/query/traces/{trace_id}", get(trace))
        .route("/v1/query/count", get(count))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON answer (the sink's axum has no `Json` extractor feature).
fn json_answer(value: serde_json::Value) -> Response {
    ([(CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

/// Query parameters; values are ids and numbers, never percent-encoded by the client.
fn params_of(query: Option<String>) -> HashMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message).into_response()
}

/// A whole-number query parameter, `default` when absent; the error is the message for a 400.
fn number(params: &HashMap<String, String>, name: &str, default: u64) -> Result<u64, String> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => {
            v.parse().map_err(|_| format!("query parameter {name}=`{v}` is not a whole number"))
        }
    }
}

async fn list(State(state): State<Arc<SinkState>>, RawQuery(query): RawQuery) -> Response {
    let params = params_of(query);
    let parsed = (|| {
        Ok::<_, String>((
            number(&params, "limit", 50)?,
            number(&params, "within_ms", 15 * 60 * 1000)?,
            number(&params, "min_spans", 0)?,
        ))
    })();
    let (limit, within_ms, min_spans) = match parsed {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    };
    let need_root = match params.get("root").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return bad_request(format!("root=`{other}`: expected true or false")),
    };
    let held = state.ledger.lock().unwrap_or_else(|e| e.into_inner()).recent(
        Instant::now(),
        Duration::from_millis(within_ms),
        (limit as usize).min(MAX_LIMIT),
        min_spans,
        need_root,
    );
    let data: Vec<_> = held
        .iter()
        .map(|t| {
            json!({
                "trace_id": hex(&t.trace_id),
                "spans": t.spans,
                "root": t.has_root,
                "idle_ms": t.idle_ms,
            })
        })
        .collect();
    json_answer(json!({ "data": data }))
}

async fn trace(State(state): State<Arc<SinkState>>, Path(trace_id): Path<String>) -> Response {
    let mut id = [0u8; 16];
    let valid = trace_id.len() == 32
        && trace_id.is_ascii()
        && id.iter_mut().enumerate().all(|(i, byte)| {
            u8::from_str_radix(&trace_id[2 * i..2 * i + 2], 16).map(|b| *byte = b).is_ok()
        });
    if !valid {
        return bad_request(format!("trace id `{trace_id}`: expected 32 hex digits"));
    }
    let spans = state.ledger.lock().unwrap_or_else(|e| e.into_inner()).spans_of(&id);
    match spans {
        None => (StatusCode::NOT_FOUND, format!("trace {trace_id} is not held")).into_response(),
        Some(spans) => {
            let data: Vec<_> = spans
                .iter()
                .map(|(span, parent)| {
                    json!({"span_id": hex(span), "parent_id": parent.map(|p| hex(&p))})
                })
                .collect();
            json_answer(json!({ "data": data }))
        }
    }
}

async fn count(State(state): State<Arc<SinkState>>) -> Response {
    let stats = state.stats();
    json_answer(json!({"spans": stats.spans, "traces": stats.traces}))
}
