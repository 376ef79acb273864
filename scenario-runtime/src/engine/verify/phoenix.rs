//! Arize Phoenix: spans and traces counted with GraphQL, traces fetched with REST.
//!
//! Sources (arize-phoenix, `src/phoenix/server/api`): `queries.py` (`getProjectByName`),
//! `types/Project.py` (`recordCount(timeRange)`, `traceCount(timeRange)`; the range is on span
//! start time, `end` exclusive), `routers/v1/spans.py` (`GET /v1/projects/{project_identifier}/spans`
//! with `trace_id`, `limit<=1000`, `cursor` -> `{data, next_cursor}`; each span has
//! `context.trace_id`, `parent_id`, `span_kind`, `attributes`).
//! - Project from the resource attribute `openinference.project.name` (the profile sets it).
//! - Phoenix's span kind is the OpenInference kind (`AGENT`, `LLM`, `TOOL`, `CHAIN`, ...);
//!   tokens are the LLM spans' `llm.token_count.prompt` / `.completion`.
//! - Self-hosted: no rate limit, no gap between requests by default.

use std::time::Duration;

use serde_json::json;

use super::http::{Http, as_count, encode, hex, rfc3339_ms};
use super::{
    Countable, Counts, ReadApi, ReadError, ReadOptions, StoredTrace, TimeWindow, TraceId, base_url,
    project_name,
};
use crate::platform::{PlatformId, PlatformSettings};

pub const DEFAULT_GAP: Duration = Duration::ZERO;
const MAX_TRACE_PAGES: usize = 20;

pub(crate) const COUNT_QUERY: &str = "query ScaletestCount($name: String!, $start: DateTime!, $end: DateTime!) { \
     getProjectByName(name: $name) { \
       recordCount(timeRange: {start: $start, end: $end}) \
       traceCount(timeRange: {start: $start, end: $end}) } }";

#[derive(Debug)]
pub struct Phoenix {
    pub(crate) http: Http,
    pub(crate) project: String,
}

impl Phoenix {
    /// `base` like `http://127.0.0.1:6006`.
    pub fn new(
        base: &str,
        api_key: Option<&str>,
        project: &str,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let headers = api_key
            .map(|key| vec![("authorization", format!("Bearer {key}"), true)])
            .unwrap_or_default();
        let http = Http::new(
            base,
            headers,
            options.min_request_gap.unwrap_or(DEFAULT_GAP),
            options.request_timeout,
        )?;
        Ok(Self { http, project: project.to_owned() })
    }

    pub fn from_settings(
        settings: &PlatformSettings,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let key = settings.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
        let base = base_url(settings, options, "http://127.0.0.1:6006");
        Self::new(&base, key, &project_name(settings), options)
    }
}

/// An attribute of a REST span, whether Phoenix answers it flat (`"llm.token_count.prompt"`)
/// or nested (`{"llm": {"token_count": {"prompt": ..}}}`).
fn attribute<'a>(span: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    let attributes = span.get("attributes")?;
    attributes.get(key).or_else(|| attributes.pointer(&format!("/{}", key.replace('.', "/"))))
}

#[async_trait::async_trait]
impl ReadApi for Phoenix {
    fn platform(&self) -> PlatformId {
        PlatformId::Phoenix
    }

    fn countable(&self) -> Countable {
        Countable { spans: true, traces: true }
    }

    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError> {
        let body = json!({
            "query": COUNT_QUERY,
            "variables": {
                "name": self.project,
                "start": rfc3339_ms(window.start_ms),
                // `end` is exclusive.
                "end": rfc3339_ms(window.end_ms + 1),
            },
        });
        let answer = self.http.post_json("/graphql", &body).await?;
        if let Some(errors) = answer.get("errors").filter(|e| !e.is_null()) {
            let message = errors.pointer("/0/message").and_then(|m| m.as_str()).unwrap_or("");
            // Phoenix creates the project with its first span: before that, nothing is stored.
            if message.contains("not found") || message.contains("Not found") {
                return Ok(Counts { spans: Some(0), traces: Some(0) });
            }
            return Err(ReadError::Decode(format!("GraphQL error: {errors}")));
        }
        let project = answer.pointer("/data/getProjectByName").ok_or_else(|| {
            ReadError::Decode("GraphQL answer has no data.getProjectByName".into())
        })?;
        if project.is_null() {
            return Ok(Counts { spans: Some(0), traces: Some(0) });
        }
        let spans = as_count(project.get("recordCount"))
            .ok_or_else(|| ReadError::Decode("no recordCount in the answer".into()))?;
        let traces = as_count(project.get("traceCount"))
            .ok_or_else(|| ReadError::Decode("no traceCount in the answer".into()))?;
        Ok(Counts { spans: Some(spans), traces: Some(traces) })
    }

    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        let mut stored = StoredTrace::default();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_TRACE_PAGES {
            let mut path = format!(
                "/v1/projects/{}/spans?trace_id={}&limit=1000",
                encode(&self.project),
                hex(trace_id)
            );
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", encode(c)));
            }
            let page = match self.http.get_json(&path).await {
                // No such project yet: no such trace.
                Err(ReadError::NotFound(_)) if stored.spans == 0 => return Ok(None),
                other => other?,
            };
            let data = page
                .get("data")
                .and_then(|d| d.as_array())
                .ok_or_else(|| ReadError::Decode("spans answer has no `data` array".into()))?;
            for span in data {
                let parent = span.get("parent_id").and_then(|p| p.as_str());
                stored.add_span(
                    parent.is_none_or(str::is_empty),
                    span.get("span_kind").and_then(|k| k.as_str()),
                    as_count(attribute(span, "llm.token_count.prompt")),
                    as_count(attribute(span, "llm.token_count.completion")),
                );
            }
            cursor = page
                .get("next_cursor")
                .and_then(|c| c.as_str())
                .filter(|c| !c.is_empty())
                .map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        Ok((stored.spans > 0).then_some(stored))
    }
}
