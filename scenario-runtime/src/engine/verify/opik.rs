//! Opik: spans and traces counted from the `total` of its paged lists; traces are not fetched
//! whole because Opik does not keep the OTel trace id.
//!
//! Sources: Opik REST API reference (`GET /v1/private/traces`, `GET /v1/private/spans`:
//! `project_name`, `page`, `size`, `filters` -> `{page, size, total, content}`), and
//! comet-ml/opik `apps/opik-backend/.../OpenTelemetryMapper.java`: an OTel trace id becomes a
//! UUIDv7 derived from its bytes *and* the earliest span timestamp of the first batch that
//! carried it (kept in Redis), so it cannot be computed from the trace id alone.
//! - `Authorization: <API key>` (no scheme) and `Comet-Workspace` on Comet's cloud.
//! - The window is a `start_time` filter.
//! - Rate limits are not published; 0.5 s between requests is scaletest's choice.

use std::time::Duration;

use serde_json::json;

use super::http::{Http, as_count, encode, rfc3339_ms};
use super::{
    Countable, Counts, ReadApi, ReadError, ReadOptions, StoredTrace, TimeWindow, TraceId, base_url,
    project_name,
};
use crate::platform::{PlatformId, PlatformSettings};

pub const DEFAULT_GAP: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct Opik {
    pub(crate) http: Http,
    pub(crate) project: String,
}

impl Opik {
    /// `base` like `https://www.comet.com/opik/api` (what `OPIK_URL_OVERRIDE` holds).
    pub fn new(
        base: &str,
        api_key: Option<&str>,
        workspace: Option<&str>,
        project: &str,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let mut headers = Vec::new();
        if let Some(key) = api_key {
            headers.push(("authorization", key.to_owned(), true));
        }
        if let Some(ws) = workspace {
            headers.push(("comet-workspace", ws.to_owned(), false));
        }
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
        fn set(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let base = base_url(settings, options, "https://www.comet.com/opik/api");
        Self::new(
            &base,
            set(&settings.api_key),
            set(&settings.workspace),
            &project_name(settings),
            options,
        )
    }

    async fn total(&self, list: &str, window: TimeWindow) -> Result<u64, ReadError> {
        let filters = json!([
            {"field": "start_time", "operator": ">=", "value": rfc3339_ms(window.start_ms)},
            {"field": "start_time", "operator": "<=", "value": rfc3339_ms(window.end_ms)},
        ]);
        let answer = self
            .http
            .get_json(&format!(
                "/v1/private/{list}?project_name={}&page=1&size=1&filters={}",
                encode(&self.project),
                encode(&filters.to_string())
            ))
            .await?;
        as_count(answer.get("total"))
            .ok_or_else(|| ReadError::Decode(format!("{list} list answer has no `total`")))
    }
}

#[async_trait::async_trait]
impl ReadApi for Opik {
    fn platform(&self) -> PlatformId {
        PlatformId::Opik
    }

    fn countable(&self) -> Countable {
        Countable { spans: true, traces: true }
    }

    fn trace_lookup_unsupported(&self) -> Option<&'static str> {
        Some(
            "Opik re-keys each OTel trace as a UUIDv7 derived from the id and the first batch's \
             earliest span time, so a trace cannot be looked up by its OTel id",
        )
    }

    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError> {
        let spans = self.total("spans", window).await?;
        let traces = self.total("traces", window).await?;
        Ok(Counts { spans: Some(spans), traces: Some(traces) })
    }

    async fn fetch_trace(
        &self,
        _trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        Err(ReadError::Unsupported("Opik has no lookup by OTel trace id"))
    }
}
