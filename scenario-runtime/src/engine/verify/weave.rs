//! W&B Weave: calls counted with `POST /calls/query_stats`, traces fetched with
//! `POST /calls/stream_query`.
//!
//! Sources: wandb/weave `weave/trace_server/trace_server_interface.py` (`CallsQueryStatsReq
//! {project_id, filter}` -> `{count}`, `CallsFilter {trace_roots_only, trace_ids}`,
//! `CallsQueryReq` answered as JSON lines by `stream_query`) and
//! `weave/trace_server_bindings/remote_http_trace_server.py` (HTTP Basic auth, user `api`,
//! password the API key).
//! - `project_id` is `entity/project`.
//! - OTel spans become calls whose `trace_id` is the OTel trace id in hex and whose `id` is the
//!   span id; a call without `parent_id` is a root.
//! - Weave assigns no span kinds; its `summary.usage` is rolled up to the root call, so tokens
//!   are read from the root only.
//! - `query_stats` takes no time range here: the count is the whole project's (give the run a
//!   project of its own).
//! - Rate limits are not published; 0.5 s between requests is scaletest's choice.

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use super::http::{Http, as_count, hex};
use super::{
    Countable, Counts, ReadApi, ReadError, ReadOptions, StoredTrace, TimeWindow, TraceId, base_url,
    project_name, required,
};
use crate::platform::{PlatformId, PlatformSettings};

pub const DEFAULT_GAP: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct Weave {
    pub(crate) http: Http,
    pub(crate) project_id: String,
}

impl Weave {
    /// `base` like `https://trace.wandb.ai`.
    pub fn new(
        base: &str,
        api_key: &str,
        entity: &str,
        project: &str,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("api:{api_key}"));
        let mut http = Http::new(
            base,
            vec![("authorization", format!("Basic {token}"), true)],
            options.min_request_gap.unwrap_or(DEFAULT_GAP),
            options.request_timeout,
        )?;
        http.add_secret(api_key.to_owned());
        Ok(Self { http, project_id: format!("{entity}/{project}") })
    }

    pub fn from_settings(
        settings: &PlatformSettings,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let key = required(&settings.api_key, "WANDB_API_KEY")?;
        let entity = required(&settings.entity, "WANDB_ENTITY")?;
        // The profile has no base URL setting for Weave; only the options override it.
        let base = base_url(
            &PlatformSettings { base_url: None, ..settings.clone() },
            options,
            "https://trace.wandb.ai",
        );
        Self::new(&base, key, entity, &project_name(settings), options)
    }

    async fn stats(&self, filter: serde_json::Value) -> Result<u64, ReadError> {
        let answer = self
            .http
            .post_json(
                "/calls/query_stats",
                &json!({"project_id": self.project_id, "filter": filter}),
            )
            .await?;
        as_count(answer.get("count"))
            .ok_or_else(|| ReadError::Decode("query_stats answer has no `count`".into()))
    }
}

/// Sums every `*prompt_tokens`/`input_tokens` and `completion_tokens`/`output_tokens` under
/// `summary.usage.<model>`.
fn usage(call: &serde_json::Value) -> (Option<u64>, Option<u64>) {
    let Some(models) = call.pointer("/summary/usage").and_then(|u| u.as_object()) else {
        return (None, None);
    };
    let (mut input, mut output) = (None, None);
    for usage in models.values() {
        if let Some(n) =
            as_count(usage.get("input_tokens")).or(as_count(usage.get("prompt_tokens")))
        {
            *input.get_or_insert(0) += n;
        }
        if let Some(n) =
            as_count(usage.get("output_tokens")).or(as_count(usage.get("completion_tokens")))
        {
            *output.get_or_insert(0) += n;
        }
    }
    (input, output)
}

#[async_trait::async_trait]
impl ReadApi for Weave {
    fn platform(&self) -> PlatformId {
        PlatformId::Weave
    }

    fn countable(&self) -> Countable {
        Countable { spans: true, traces: true }
    }

    async fn count(&self, _window: TimeWindow) -> Result<Counts, ReadError> {
        let spans = self.stats(json!({})).await?;
        let traces = self.stats(json!({"trace_roots_only": true})).await?;
        Ok(Counts { spans: Some(spans), traces: Some(traces) })
    }

    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        let body = json!({
            "project_id": self.project_id,
            "filter": {"trace_ids": [hex(trace_id)]},
            "columns": ["id", "trace_id", "parent_id", "summary"],
            "limit": 10_000,
        });
        let text = self.http.post_text("/calls/stream_query", &body).await?;
        let mut stored = StoredTrace::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let call: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| ReadError::Decode(format!("stream_query line: {e}")))?;
            let root = call.get("parent_id").is_none_or(|p| p.is_null());
            let (input, output) = if root { usage(&call) } else { (None, None) };
            stored.add_span(root, None, input, output);
        }
        Ok((stored.spans > 0).then_some(stored))
    }
}
