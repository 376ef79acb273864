//! Langfuse: spans counted through the v2 metrics API, traces fetched through v2 observations.
//!
//! Sources: Langfuse's API definitions `fern/apis/server/definition/metrics-v2.yml` and
//! `observations-v2.yml` (langfuse/langfuse), and <https://langfuse.com/docs/api-and-data-platform/features/observations-api>.
//! - Basic auth `public:secret`.
//! - `GET /api/public/v2/metrics?query={"view":"observations","metrics":[{"measure":"count",
//!   "aggregation":"count"}],"dimensions":[],"filters":[],"fromTimestamp","toTimestamp"}` ->
//!   `{"data":[{"count_count": N}]}` (ClickHouse counts may come as strings).
//! - `GET /api/public/v2/observations?traceId=<32 hex>&fields=core,usage&limit=1000&cursor=` ->
//!   `{"data":[{id, traceId, parentObservationId, type, usageDetails:{input,output,total}}],
//!   "meta":{"cursor"}}`; Langfuse keeps OTel trace ids as 32 lower-case hex characters.
//! - Langfuse counts observations, not traces (the v2 metrics API has no traces view).
//! - Rate limits on Cloud (per organisation): general API 30-1,000 requests/min by plan, metrics
//!   100-2,000 per day. Self-hosted: none. Hence a 2 s gap between requests and at most one
//!   count every 15 s (12 metric calls in a 3-minute budget).

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use super::http::{Http, as_count, encode, hex, rfc3339_ms};
use super::{
    Countable, Counts, ReadApi, ReadError, ReadOptions, StoredTrace, TimeWindow, TraceId, base_url,
    required,
};
use crate::platform::{PlatformId, PlatformSettings};

/// Gap between requests: the Hobby plan's 30 requests per minute.
pub const DEFAULT_GAP: Duration = Duration::from_secs(2);
/// Between counts: metrics calls are limited per day.
const MIN_POLL: Duration = Duration::from_secs(15);
/// Pages of observations read for one trace at most (1,000 per page).
const MAX_PAGES: usize = 20;

/// Langfuse's public API (Cloud or self-hosted).
#[derive(Debug)]
pub struct Langfuse {
    pub(crate) http: Http,
    min_poll: Duration,
}

impl Langfuse {
    /// `base` like `https://cloud.langfuse.com`.
    pub fn new(
        base: &str,
        public_key: &str,
        secret_key: &str,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{public_key}:{secret_key}"));
        let mut http = Http::new(
            base,
            vec![("authorization", format!("Basic {token}"), true)],
            options.min_request_gap.unwrap_or(DEFAULT_GAP),
            options.request_timeout,
        )?;
        http.add_secret(secret_key.to_owned());
        // A poll interval below the daily metrics quota only when the caller paces faster.
        let min_poll = if options.min_request_gap.is_some() { Duration::ZERO } else { MIN_POLL };
        Ok(Self { http, min_poll })
    }

    pub fn from_settings(
        settings: &PlatformSettings,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let public = required(&settings.api_key, "LANGFUSE_PUBLIC_KEY")?;
        let secret = required(&settings.secret_key, "LANGFUSE_SECRET_KEY")?;
        let default = match settings.region.as_deref().map(str::trim) {
            Some("us") | Some("US") => "https://us.cloud.langfuse.com",
            _ => "https://cloud.langfuse.com",
        };
        Self::new(&base_url(settings, options, default), public, secret, options)
    }
}

#[async_trait::async_trait]
impl ReadApi for Langfuse {
    fn platform(&self) -> PlatformId {
        PlatformId::Langfuse
    }

    fn countable(&self) -> Countable {
        Countable { spans: true, traces: false }
    }

    fn min_poll_interval(&self) -> Duration {
        self.min_poll
    }

    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError> {
        let query = json!({
            "view": "observations",
            "metrics": [{"measure": "count", "aggregation": "count"}],
            "dimensions": [],
            "filters": [],
            "fromTimestamp": rfc3339_ms(window.start_ms),
            "toTimestamp": rfc3339_ms(window.end_ms),
        });
        let answer = self
            .http
            .get_json(&format!("/api/public/v2/metrics?query={}", encode(&query.to_string())))
            .await?;
        let rows = answer
            .get("data")
            .and_then(|d| d.as_array())
            .ok_or_else(|| ReadError::Decode("metrics answer has no `data` array".into()))?;
        // No row: nothing in the window.
        let Some(row) = rows.first() else { return Ok(Counts { spans: Some(0), traces: None }) };
        let spans = as_count(row.get("count_count"))
            .ok_or_else(|| ReadError::Decode(format!("metrics row has no count_count: {row}")))?;
        Ok(Counts { spans: Some(spans), traces: None })
    }

    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        let mut stored = StoredTrace::default();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut path = format!(
                "/api/public/v2/observations?traceId={}&fields=core,usage&limit=1000&fromStartTime={}&toStartTime={}",
                hex(trace_id),
                encode(&rfc3339_ms(window.start_ms)),
                encode(&rfc3339_ms(window.end_ms)),
            );
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", encode(c)));
            }
            let page = self.http.get_json(&path).await?;
            let data = page.get("data").and_then(|d| d.as_array()).ok_or_else(|| {
                ReadError::Decode("observations answer has no `data` array".into())
            })?;
            for o in data {
                let parent = o.get("parentObservationId").and_then(|p| p.as_str());
                let usage = o.get("usageDetails");
                stored.add_span(
                    parent.is_none_or(str::is_empty),
                    o.get("type").and_then(|t| t.as_str()),
                    usage.and_then(|u| as_count(u.get("input"))),
                    usage.and_then(|u| as_count(u.get("output"))),
                );
            }
            cursor = page
                .pointer("/meta/cursor")
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
