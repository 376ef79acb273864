//! Braintrust: spans and traces counted, and traces fetched, with SQL through `POST /btql`.
//!
//! Sources: <https://www.braintrust.dev/docs/reference/sql> (the `/btql` endpoint, `project_logs`,
//! `is_root`, `fmt: "json"`), <https://www.braintrust.dev/docs/guides/api> (Bearer auth), and the
//! Braintrust SDK's OTel bridge (`braintrust-sdk`, `js/src/otel`: a span's `root_span_id` is the
//! OTel trace id and its `span_id` the OTel span id, both lower-case hex).
//! - `POST {api}/btql {"query": "SELECT count(*) AS n FROM project_logs('<project>') WHERE ...",
//!   "fmt": "json"}` -> `{"data": [{"n": 12}]}`.
//! - Rows carry `span_id`, `root_span_id`, `span_parents` (null or empty for a root),
//!   `span_attributes.type` (`llm`, `tool`, `task`, ...), `metrics.prompt_tokens`,
//!   `metrics.completion_tokens`.
//! - The count window is on `created` (when Braintrust logged the row).
//! - Heavy polling of the logs endpoints gets 429 (docs): one request per second by default.

use std::time::Duration;

use serde_json::json;

use super::http::{Http, as_count, hex, rfc3339_ms};
use super::{
    Countable, Counts, ReadApi, ReadError, ReadOptions, StoredTrace, TimeWindow, TraceId, base_url,
    project_name, required,
};
use crate::platform::{PlatformId, PlatformSettings};

pub const DEFAULT_GAP: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Braintrust {
    pub(crate) http: Http,
    /// Project id, or name when no id is configured, as a SQL string literal's content.
    pub(crate) project: String,
}

/// `value` as the inside of a single-quoted SQL literal.
pub(crate) fn sql_text(value: &str) -> String {
    value.replace('\'', "''")
}

impl Braintrust {
    /// `base` like `https://api.braintrust.dev`; `project` a project id (or name).
    pub fn new(
        base: &str,
        api_key: &str,
        project: &str,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let http = Http::new(
            base,
            vec![("authorization", format!("Bearer {api_key}"), true)],
            options.min_request_gap.unwrap_or(DEFAULT_GAP),
            options.request_timeout,
        )?;
        Ok(Self { http, project: sql_text(project) })
    }

    pub fn from_settings(
        settings: &PlatformSettings,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let key = required(&settings.api_key, "BRAINTRUST_API_KEY")?;
        let project = settings
            .project_id
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| project_name(settings));
        Self::new(
            &base_url(settings, options, "https://api.braintrust.dev"),
            key,
            &project,
            options,
        )
    }

    async fn query(&self, sql: String) -> Result<Vec<serde_json::Value>, ReadError> {
        let answer = self.http.post_json("/btql", &json!({"query": sql, "fmt": "json"})).await?;
        answer
            .get("data")
            .and_then(|d| d.as_array())
            .cloned()
            .ok_or_else(|| ReadError::Decode("btql answer has no `data` array".into()))
    }

    async fn count_where(&self, condition: &str) -> Result<u64, ReadError> {
        let rows = self
            .query(format!(
                "SELECT count(*) AS n FROM project_logs('{}') WHERE {condition}",
                self.project
            ))
            .await?;
        match rows.first() {
            None => Ok(0),
            Some(row) => as_count(row.get("n"))
                .ok_or_else(|| ReadError::Decode(format!("btql count row has no `n`: {row}"))),
        }
    }
}

#[async_trait::async_trait]
impl ReadApi for Braintrust {
    fn platform(&self) -> PlatformId {
        PlatformId::Braintrust
    }

    fn countable(&self) -> Countable {
        Countable { spans: true, traces: true }
    }

    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError> {
        let range = format!(
            "created >= '{}' AND created <= '{}'",
            rfc3339_ms(window.start_ms),
            rfc3339_ms(window.end_ms)
        );
        let spans = self.count_where(&range).await?;
        let traces = self.count_where(&format!("{range} AND is_root")).await?;
        Ok(Counts { spans: Some(spans), traces: Some(traces) })
    }

    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        let rows = self
            .query(format!(
                "SELECT span_id, span_parents, span_attributes, metrics FROM project_logs('{}') \
                 WHERE root_span_id = '{}' LIMIT 1000",
                self.project,
                hex(trace_id)
            ))
            .await?;
        let mut stored = StoredTrace::default();
        for row in &rows {
            let root = row
                .get("span_parents")
                .is_none_or(|p| p.is_null() || p.as_array().is_some_and(|a| a.is_empty()));
            let metrics = row.get("metrics");
            stored.add_span(
                root,
                row.pointer("/span_attributes/type").and_then(|t| t.as_str()),
                metrics.and_then(|m| as_count(m.get("prompt_tokens"))),
                metrics.and_then(|m| as_count(m.get("completion_tokens"))),
            );
        }
        Ok((stored.spans > 0).then_some(stored))
    }
}
