//! LangSmith: runs listed through `POST /api/v1/runs/query`.
//!
//! Sources: LangSmith's OpenAPI as generated into `langchain-ai/langsmith-go` (`run.go`:
//! `RunQueryParams`, `RunQueryResponse{runs, cursors}`), the Python client's `list_runs`
//! (`langsmith/client.py`: project id looked up by name through `GET /api/v1/sessions?name=`).
//! - `x-api-key` header.
//! - `POST /api/v1/runs/query {session:[project id], start_time, select, limit<=100, cursor}`
//!   -> `{"runs":[{id, trace_id, parent_run_id, run_type, prompt_tokens, completion_tokens}],
//!   "cursors":{"next"}}`; 400 unless one of session/id/parent_run/trace/reference_example is set.
//! - LangSmith turns an OTel trace id into the UUID with the same 16 bytes, so trace
//!   `0123..ef` is queried as `trace: "01234567-89ab-cdef-...."`.
//! - There is no count endpoint in the public API scaletest relies on: counting lists the runs
//!   of the window (100 per page, at most [`MAX_COUNT_PAGES`] pages) and counts those without a
//!   parent as traces. Larger runs: use a shorter window or another platform's figures.
//! - Rate limits are plan-dependent and not published per endpoint: 0.5 s between requests is
//!   scaletest's choice.

use std::time::Duration;

use serde_json::json;
use tokio::sync::OnceCell;

use super::http::{Http, as_count, encode, rfc3339_ms};
use super::{
    Countable, Counts, ReadApi, ReadError, ReadOptions, StoredTrace, TimeWindow, TraceId, base_url,
    project_name, required,
};
use crate::platform::{PlatformId, PlatformSettings};

pub const DEFAULT_GAP: Duration = Duration::from_millis(500);
/// Pages listed per count at most (100 runs each).
pub const MAX_COUNT_PAGES: usize = 100;
const MAX_TRACE_PAGES: usize = 20;

#[derive(Debug)]
pub struct Langsmith {
    pub(crate) http: Http,
    pub(crate) project: String,
    pub(crate) session: OnceCell<String>,
}

/// `0123456789abcdef...` as `01234567-89ab-cdef-....-............`.
pub(crate) fn uuid(id: &TraceId) -> String {
    let h = super::http::hex(id);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

impl Langsmith {
    /// `base` like `https://api.smith.langchain.com`; `project` the project (session) name.
    pub fn new(
        base: &str,
        api_key: &str,
        project: &str,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let http = Http::new(
            base,
            vec![("x-api-key", api_key.to_owned(), true)],
            options.min_request_gap.unwrap_or(DEFAULT_GAP),
            options.request_timeout,
        )?;
        Ok(Self { http, project: project.to_owned(), session: OnceCell::new() })
    }

    pub fn from_settings(
        settings: &PlatformSettings,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let key = required(&settings.api_key, "LANGSMITH_API_KEY")?;
        let default = match settings.region.as_deref().map(str::trim) {
            Some("eu") | Some("EU") => "https://eu.api.smith.langchain.com",
            _ => "https://api.smith.langchain.com",
        };
        Self::new(&base_url(settings, options, default), key, &project_name(settings), options)
    }

    /// The project's id, looked up once by name.
    pub(crate) async fn session(&self) -> Result<&str, ReadError> {
        self.session
            .get_or_try_init(|| async {
                let answer = self
                    .http
                    .get_json(&format!("/api/v1/sessions?name={}", encode(&self.project)))
                    .await?;
                answer
                    .as_array()
                    .and_then(|list| {
                        list.iter().find(|s| {
                            s.get("name").and_then(|n| n.as_str()) == Some(self.project.as_str())
                        })
                    })
                    .and_then(|s| s.get("id"))
                    .and_then(|id| id.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ReadError::NotFound(format!(
                            "no LangSmith project named `{}`",
                            self.project
                        ))
                    })
            })
            .await
            .map(String::as_str)
    }

    /// Lists runs matching `query` page by page, calling `each` per run; `Ok(false)` if the page
    /// limit stopped it.
    async fn list(
        &self,
        mut query: serde_json::Value,
        max_pages: usize,
        mut each: impl FnMut(&serde_json::Value),
    ) -> Result<bool, ReadError> {
        for _ in 0..max_pages {
            let page = self.http.post_json("/api/v1/runs/query", &query).await?;
            let runs = page
                .get("runs")
                .and_then(|r| r.as_array())
                .ok_or_else(|| ReadError::Decode("runs/query answer has no `runs` array".into()))?;
            runs.iter().for_each(&mut each);
            match page.pointer("/cursors/next").and_then(|c| c.as_str()).filter(|c| !c.is_empty()) {
                Some(next) => query["cursor"] = json!(next),
                None => return Ok(true),
            }
        }
        Ok(false)
    }
}

fn is_root(run: &serde_json::Value) -> bool {
    run.get("parent_run_id").is_none_or(|p| p.is_null() || p.as_str() == Some(""))
}

#[async_trait::async_trait]
impl ReadApi for Langsmith {
    fn platform(&self) -> PlatformId {
        PlatformId::Langsmith
    }

    fn countable(&self) -> Countable {
        Countable { spans: true, traces: true }
    }

    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError> {
        let session = self.session().await?.to_owned();
        let query = json!({
            "session": [session],
            "start_time": rfc3339_ms(window.start_ms),
            "select": ["id", "parent_run_id"],
            "limit": 100,
        });
        let (mut spans, mut traces) = (0u64, 0u64);
        let complete = self
            .list(query, MAX_COUNT_PAGES, |run| {
                spans += 1;
                traces += u64::from(is_root(run));
            })
            .await?;
        if !complete {
            return Err(ReadError::Unsupported(
                "more than 10,000 runs in the window: LangSmith counts by listing runs",
            ));
        }
        Ok(Counts { spans: Some(spans), traces: Some(traces) })
    }

    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        let session = self.session().await?.to_owned();
        let query = json!({
            "session": [session],
            "trace": uuid(trace_id),
            "select": ["id", "parent_run_id", "run_type", "prompt_tokens", "completion_tokens"],
            "limit": 100,
        });
        let mut stored = StoredTrace::default();
        self.list(query, MAX_TRACE_PAGES, |run| {
            let kind = run.get("run_type").and_then(|t| t.as_str());
            // Tokens of `llm` runs only: LangSmith also shows chains the sum of their children.
            let llm = kind == Some("llm");
            stored.add_span(
                is_root(run),
                kind,
                as_count(run.get("prompt_tokens")).filter(|_| llm),
                as_count(run.get("completion_tokens")).filter(|_| llm),
            );
        })
        .await?;
        Ok((stored.spans > 0).then_some(stored))
    }
}
