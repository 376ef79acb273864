//! MLflow (3.x tracking server): traces counted with the v3 search, fetched whole with `get`.
//!
//! Sources (mlflow, `mlflow/server/handlers.py`: `_search_traces_v3`, `_get_trace`;
//! `mlflow/tracing/utils/__init__.py`: `generate_mlflow_trace_id_from_otel_trace_id`;
//! `mlflow/entities/span.py`: `SpanType`, `Span.from_otel_proto`;
//! `mlflow/tracing/constant.py`: `SpanAttributeKey`):
//! - `POST /api/3.0/mlflow/traces/search {"locations":[{"type":"MLFLOW_EXPERIMENT",
//!   "mlflow_experiment":{"experiment_id"}}], "filter", "max_results"<=500, "page_token"}` ->
//!   `{"traces":[TraceInfoV3], "next_page_token"}`; the window filters `trace.timestamp_ms`
//!   (the trace's earliest span start).
//! - `GET /api/3.0/mlflow/traces/get?trace_id=tr-<32 hex of the OTel trace id>` ->
//!   `{"trace":{"trace_info", "spans":[OTLP span as protobuf JSON]}}`; 404 when absent.
//! - Span attributes come back as OTLP `AnyValue`s (`mlflow.spanType` a `string_value` such as
//!   `LLM`; `mlflow.chat.tokenUsage`, which MLflow derives from `gen_ai.usage.*`, a
//!   `kvlist_value` of `input_tokens`, `output_tokens`, `total_tokens`), as MLflow 3.17 answers.
//! - MLflow has no span count in its public trace API: it counts traces only (paging the
//!   search, at most [`MAX_COUNT_PAGES`] pages of 500).
//! - Self-hosted: no rate limit, no gap between requests by default.

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use super::http::{Http, as_count, hex};
use super::{
    Countable, Counts, ReadApi, ReadError, ReadOptions, StoredTrace, TimeWindow, TraceId, base_url,
    required,
};
use crate::platform::{PlatformId, PlatformSettings};

pub const DEFAULT_GAP: Duration = Duration::ZERO;
/// Search pages per count at most (500 traces each).
pub const MAX_COUNT_PAGES: usize = 200;

#[derive(Debug)]
pub struct Mlflow {
    pub(crate) http: Http,
    pub(crate) experiment_id: String,
}

/// MLflow's id for an OTel trace id: `tr-` and the 32 hex characters.
pub(crate) fn mlflow_trace_id(trace_id: &TraceId) -> String {
    format!("tr-{}", hex(trace_id))
}

impl Mlflow {
    /// `base` like `http://127.0.0.1:5000`.
    pub fn new(
        base: &str,
        experiment_id: &str,
        token: Option<&str>,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let headers =
            token.map(|t| vec![("authorization", format!("Bearer {t}"), true)]).unwrap_or_default();
        let http = Http::new(
            base,
            headers,
            options.min_request_gap.unwrap_or(DEFAULT_GAP),
            options.request_timeout,
        )?;
        Ok(Self { http, experiment_id: experiment_id.to_owned() })
    }

    pub fn from_settings(
        settings: &PlatformSettings,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let experiment = required(&settings.experiment_id, "MLFLOW_EXPERIMENT_ID")?;
        let token = settings.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
        let base = base_url(settings, options, "http://127.0.0.1:5000");
        Self::new(&base, experiment, token, options)
    }
}

/// Creates the experiment `name` and returns its id, so that a run (or a capacity step) writes
/// to an experiment of its own and the read-back counts only its traces.
///
/// Source: mlflow `mlflow/server/handlers.py` `_create_experiment`:
/// `POST /api/2.0/mlflow/experiments/create {"name"}` -> `{"experiment_id"}`.
pub async fn create_experiment(
    settings: &PlatformSettings,
    options: &ReadOptions,
    name: &str,
) -> Result<String, ReadError> {
    let token = settings.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let headers =
        token.map(|t| vec![("authorization", format!("Bearer {t}"), true)]).unwrap_or_default();
    let base = base_url(settings, options, "http://127.0.0.1:5000");
    let http = Http::new(&base, headers, Duration::ZERO, options.request_timeout)?;
    let answer =
        http.post_json("/api/2.0/mlflow/experiments/create", &json!({ "name": name })).await?;
    answer.get("experiment_id").and_then(|id| id.as_str()).map(str::to_owned).ok_or_else(|| {
        ReadError::Decode(format!("experiments/create answered without an experiment_id: {answer}"))
    })
}

/// The value of attribute `key` of an OTLP-JSON span, decoded to plain JSON.
fn attribute(span: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    let value = span
        .get("attributes")?
        .as_array()?
        .iter()
        .find(|a| a.get("key").and_then(|k| k.as_str()) == Some(key))?
        .get("value")?;
    any_value(value)
}

/// An OTLP `AnyValue` in protobuf JSON (`{"string_value": ..}`, `{"kvlist_value": {"values":
/// [{key, value}]}}`, ...) as plain JSON. A string holding JSON is decoded too: MLflow stores
/// attribute values JSON-encoded, and some answers pass them on as such.
fn any_value(value: &serde_json::Value) -> Option<serde_json::Value> {
    use serde_json::Value;
    let field = |snake: &str, camel: &str| value.get(snake).or_else(|| value.get(camel));
    if let Some(text) = field("string_value", "stringValue").and_then(|v| v.as_str()) {
        return Some(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())));
    }
    if let Some(n) = field("int_value", "intValue") {
        // int64 may travel as a JSON string.
        return n.as_str().and_then(|t| t.parse::<i64>().ok()).map(Value::from).or(Some(n.clone()));
    }
    if let Some(v) = field("double_value", "doubleValue").or(field("bool_value", "boolValue")) {
        return Some(v.clone());
    }
    if let Some(list) = field("kvlist_value", "kvlistValue") {
        let mut object = serde_json::Map::new();
        for kv in list.get("values").and_then(|v| v.as_array()).into_iter().flatten() {
            if let (Some(k), Some(v)) = (kv.get("key").and_then(|k| k.as_str()), kv.get("value")) {
                object.insert(k.to_owned(), any_value(v).unwrap_or(Value::Null));
            }
        }
        return Some(Value::Object(object));
    }
    if let Some(list) = field("array_value", "arrayValue") {
        let values = list.get("values").and_then(|v| v.as_array()).into_iter().flatten();
        return Some(Value::Array(values.map(|v| any_value(v).unwrap_or(Value::Null)).collect()));
    }
    None
}

/// Whether an OTLP-JSON span has a parent (ids are base64 in protobuf JSON; empty when absent).
fn has_parent(span: &serde_json::Value) -> bool {
    let parent = span.get("parent_span_id").or_else(|| span.get("parentSpanId"));
    match parent.and_then(|p| p.as_str()) {
        None | Some("") => false,
        Some(id) => base64::engine::general_purpose::STANDARD
            .decode(id)
            .map_or(true, |bytes| bytes.iter().any(|b| *b != 0)),
    }
}

#[async_trait::async_trait]
impl ReadApi for Mlflow {
    fn platform(&self) -> PlatformId {
        PlatformId::Mlflow
    }

    fn countable(&self) -> Countable {
        Countable { spans: false, traces: true }
    }

    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError> {
        let mut body = json!({
            "locations": [{
                "type": "MLFLOW_EXPERIMENT",
                "mlflow_experiment": {"experiment_id": self.experiment_id},
            }],
            "filter": format!(
                "trace.timestamp_ms >= {} AND trace.timestamp_ms <= {}",
                window.start_ms, window.end_ms
            ),
            "max_results": 500,
        });
        let mut traces = 0u64;
        for _ in 0..MAX_COUNT_PAGES {
            let page = self.http.post_json("/api/3.0/mlflow/traces/search", &body).await?;
            // An empty result may come without the `traces` field (protobuf JSON omits it).
            traces += page.get("traces").and_then(|t| t.as_array()).map_or(0, |t| t.len() as u64);
            match page.get("next_page_token").and_then(|t| t.as_str()).filter(|t| !t.is_empty()) {
                Some(token) => body["page_token"] = json!(token),
                None => return Ok(Counts { spans: None, traces: Some(traces) }),
            }
        }
        Err(ReadError::Unsupported(
            "more than 100,000 traces in the window: MLflow counts by paging its search",
        ))
    }

    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        let path = format!("/api/3.0/mlflow/traces/get?trace_id={}", mlflow_trace_id(trace_id));
        let answer = match self.http.get_json(&path).await {
            Err(ReadError::NotFound(_)) => return Ok(None),
            other => other?,
        };
        let spans = answer.pointer("/trace/spans").and_then(|s| s.as_array());
        let Some(spans) = spans else { return Ok(None) };
        let mut stored = StoredTrace::default();
        for span in spans {
            let kind = attribute(span, "mlflow.spanType");
            let usage = attribute(span, "mlflow.chat.tokenUsage");
            stored.add_span(
                !has_parent(span),
                kind.as_ref().and_then(|k| k.as_str()),
                usage.as_ref().and_then(|u| as_count(u.get("input_tokens"))),
                usage.as_ref().and_then(|u| as_count(u.get("output_tokens"))),
            );
        }
        Ok((stored.spans > 0).then_some(stored))
    }
}
