//! Read load beside ingestion: users reading the backend while the run writes to it.
//!
//! `--query-rate N` starts N read requests per second (open model: each starts on time whether
//! or not the earlier ones were answered), spread over four operations by a weighted mix:
//!
//! - [`QueryOp::List`]: the most recent traces of the run's project;
//! - [`QueryOp::Get`]: one trace whole, by the id of a trace this run delivered;
//! - [`QueryOp::Search`]: spans or traces filtered by name, attribute and time window;
//! - [`QueryOp::Count`]: an aggregate count, where the platform has one.
//!
//! Each operation is one HTTP request (no paging: a page is what a user's screen asks for),
//! bounded by a time window ([`WINDOW`] back from now, never before the run began) and limited to
//! [`PAGE`] rows and the fields a list shows, as the platforms' docs advise for large projects.
//! Requests go through the read-back clients of [`crate::engine::verify`] (same base URL, same
//! credentials, kept out of every message), but unpaced: the rate is the user's.
//!
//! | platform | list | get | search | count |
//! |---|---|---|---|---|
//! | embedded sink | `GET /v1/query/traces?limit&within_ms` | `GET /v1/query/traces/{id}` | `GET /v1/query/traces?min_spans&root` | `GET /v1/query/count` |
//! | Phoenix | `GET /v1/projects/{p}/traces?start_time&end_time&limit` | `GET /v1/projects/{p}/spans?trace_id` | `GET /v1/projects/{p}/spans?span_kind=LLM&status_code=OK&status_code=UNSET&start_time&end_time&limit` | GraphQL `traceCount(timeRange)` |
//! | MLflow | `POST /api/3.0/mlflow/traces/search` (window, newest first) | `GET /api/3.0/mlflow/traces/get?trace_id=tr-…` | traces/search with `trace.status = 'OK'` and the window | `POST /api/3.0/mlflow/traces/metrics` (`trace_count`, `COUNT`) |
//! | Langfuse | `GET /api/public/v2/observations` (window, `fields=core,basic`) | v2 observations `?traceId` | v2 observations `?type=GENERATION` | v2 metrics `count` |
//! | LangSmith | `POST /api/v1/runs/query` `is_root`, `select` | runs/query `trace` | runs/query `filter=eq(run_type, "llm")` | `POST /api/v1/runs/stats` |
//! | Braintrust | BTQL `is_root` newest first | BTQL `root_span_id =` | BTQL `span_attributes.type = 'llm'` | BTQL `count(*)` |
//! | Opik | `GET /v1/private/traces?project_name&size&filters` | — (Opik re-keys trace ids) | `GET /v1/private/spans?type=llm` | the `total` of a 1-row list |
//! | Weave | `POST /calls/stream_query` roots, newest first | stream_query `trace_ids` | stream_query, op name contains `chat` | `POST /calls/query_stats` |
//!
//! What is measured per operation is in [`crate::engine::measure::QueryMeasurements`].

mod driver;
mod platforms;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use driver::QueryLoad;

use crate::engine::verify::{ReadError, ReadOptions, TraceId, Unverifiable};
use crate::platform::{PlatformId, PlatformSettings};

/// How far back a query looks: the window is `[max(run start - 1 min, now - WINDOW), now + 1
/// min]`, so a long run's queries stay bounded.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Slack on both ends of the window for clock differences between generator and backend.
pub const WINDOW_SLACK: Duration = Duration::from_secs(60);

/// Rows one list or search asks for.
pub const PAGE: u32 = 50;

/// The read operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryOp {
    List,
    Get,
    Search,
    Count,
}

impl QueryOp {
    pub const ALL: [QueryOp; 4] = [QueryOp::List, QueryOp::Get, QueryOp::Search, QueryOp::Count];

    pub fn name(self) -> &'static str {
        match self {
            QueryOp::List => "list",
            QueryOp::Get => "get",
            QueryOp::Search => "search",
            QueryOp::Count => "count",
        }
    }

    /// The operation named `name`, or an error listing the names.
    pub fn parse(name: &str) -> Result<QueryOp, String> {
        QueryOp::ALL.into_iter().find(|op| op.name() == name.trim()).ok_or_else(|| {
            format!("unknown query operation `{}`: expected one of list, get, search, count", name)
        })
    }
}

impl fmt::Display for QueryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Relative weights of the operations (`list=4,get=3,search=2,count=1` by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryMix(pub Vec<(QueryOp, u32)>);

impl Default for QueryMix {
    fn default() -> Self {
        QueryMix(vec![
            (QueryOp::List, 4),
            (QueryOp::Get, 3),
            (QueryOp::Search, 2),
            (QueryOp::Count, 1),
        ])
    }
}

impl QueryMix {
    /// Parses `list=4,get=3,...`; operations left out get weight 0. The error names the bad
    /// part.
    pub fn parse(text: &str) -> Result<QueryMix, String> {
        let mut mix = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, weight)) = part.split_once('=') else {
                return Err(format!(
                    "invalid query mix entry `{part}`: expected OPERATION=WEIGHT, e.g. \
                     `list=4,get=3,search=2,count=1`"
                ));
            };
            let op = QueryOp::parse(name)?;
            let weight: u32 = weight.trim().parse().map_err(|_| {
                format!(
                    "invalid weight `{}` for `{op}` in the query mix: expected a whole number",
                    weight.trim()
                )
            })?;
            if mix.iter().any(|(o, _)| *o == op) {
                return Err(format!("`{op}` appears twice in the query mix `{text}`"));
            }
            mix.push((op, weight));
        }
        mix.sort_by_key(|(op, _)| *op);
        if mix.iter().all(|(_, w)| *w == 0) {
            return Err(format!("query mix `{text}` has no operation with a weight above 0"));
        }
        Ok(QueryMix(mix))
    }

    /// The mix without `ops` (operations the platform cannot run).
    pub fn without(&self, ops: &[QueryOp]) -> QueryMix {
        QueryMix(self.0.iter().copied().filter(|(op, _)| !ops.contains(op)).collect())
    }

    pub fn weight(&self, op: QueryOp) -> u32 {
        self.0.iter().find(|(o, _)| *o == op).map_or(0, |(_, w)| *w)
    }

    /// The operations in the order they are sent: a smooth weighted round robin, so every
    /// window of `sum(weights)` requests holds each operation its weight's times, interleaved.
    pub fn cycle(&self) -> Vec<QueryOp> {
        let total: i64 = self.0.iter().map(|(_, w)| i64::from(*w)).sum();
        let mut current: Vec<i64> = vec![0; self.0.len()];
        let mut out = Vec::with_capacity(total as usize);
        for _ in 0..total {
            for (c, (_, w)) in current.iter_mut().zip(&self.0) {
                *c += i64::from(*w);
            }
            let Some(best) = (0..current.len()).max_by_key(|&i| (current[i], -(i as i64))) else {
                break;
            };
            current[best] -= total;
            out.push(self.0[best].0);
        }
        out
    }
}

impl fmt::Display for QueryMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(op, w)| format!("{op}={w}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// The read load of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryPlan {
    /// Queries started per second.
    pub rate_per_s: f64,
    pub mix: QueryMix,
    /// Per request; a request without an answer by then counts as a timeout.
    pub timeout: Duration,
    /// Largest number of queries in flight; a start beyond it is skipped and counted.
    pub max_in_flight: usize,
}

impl QueryPlan {
    pub fn new(rate_per_s: f64) -> Self {
        QueryPlan {
            rate_per_s,
            mix: QueryMix::default(),
            timeout: Duration::from_secs(30),
            max_in_flight: 1000,
        }
    }
}

/// What a request needs to know: its time window and, for `get`, the trace.
#[derive(Clone, Copy, Debug)]
pub struct QueryContext {
    /// Start of the window, Unix milliseconds.
    pub start_ms: u64,
    /// End of the window, Unix milliseconds.
    pub end_ms: u64,
    /// A trace the run delivered (for `get`).
    pub trace_id: Option<TraceId>,
}

/// How to read the rows out of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// The length of the JSON array at this pointer (`""`: the answer itself).
    Array(&'static str),
    /// The JSON answer holds a count at this pointer: one row when present.
    Count(&'static str),
    /// One JSON object per line.
    Lines,
}

/// One read request, as a platform spells an operation.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryRequest {
    pub method: reqwest::Method,
    /// Path and query string after the base URL.
    pub path: String,
    pub body: Option<serde_json::Value>,
    pub rows: Rows,
}

impl QueryRequest {
    pub(crate) fn get(path: String, rows: Rows) -> Self {
        QueryRequest { method: reqwest::Method::GET, path, body: None, rows }
    }

    pub(crate) fn post(path: &str, body: serde_json::Value, rows: Rows) -> Self {
        QueryRequest {
            method: reqwest::Method::POST,
            path: path.to_owned(),
            body: Some(body),
            rows,
        }
    }
}

/// One platform's read operations.
#[async_trait::async_trait]
pub trait QueryApi: Send + Sync + fmt::Debug {
    fn platform(&self) -> PlatformId;

    /// Sends `request` through the platform's client (its base URL and credentials): the
    /// status and body whatever they are; an error only when no answer came.
    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError>;

    /// What must be looked up once before the load starts (LangSmith's project id); not
    /// measured.
    async fn prepare(&self) -> Result<(), ReadError> {
        Ok(())
    }

    /// The request for `op`, or why the platform has no such operation.
    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str>;

    /// One line saying what `op` asks, for the report.
    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str>;
}

/// The read operations of `platform`, configured like its read-back, or why there are none.
/// `sink`: the embedded sink's address when it is the target.
pub fn query_api(
    platform: PlatformId,
    settings: &PlatformSettings,
    options: &ReadOptions,
    sink: Option<std::net::SocketAddr>,
) -> Result<Arc<dyn QueryApi>, Unverifiable> {
    platforms::build(platform, settings, options, sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_interleave() {
        let mix = QueryMix::parse("count=1, list=4,get=3,search=2").unwrap();
        assert_eq!(mix, QueryMix::default());
        assert_eq!(mix.to_string(), "list=4,get=3,search=2,count=1");
        let cycle = mix.cycle();
        assert_eq!(cycle.len(), 10);
        for op in QueryOp::ALL {
            assert_eq!(cycle.iter().filter(|o| **o == op).count() as u32, mix.weight(op));
        }
        // Interleaved, not in blocks: no operation twice in a row with these weights.
        assert!(cycle.windows(2).all(|w| w[0] != w[1]) || cycle.len() < 2, "{cycle:?}");
        assert_eq!(QueryMix::parse("get=1,list=0").unwrap().cycle(), vec![QueryOp::Get]);
        let without = mix.without(&[QueryOp::Get]);
        assert_eq!(without.weight(QueryOp::Get), 0);
        assert_eq!(without.cycle().len(), 7);
    }

    #[test]
    fn bad_mixes_name_the_problem() {
        let err = QueryMix::parse("lst=1").unwrap_err();
        assert!(err.contains("`lst`") && err.contains("list, get, search, count"), "{err}");
        let err = QueryMix::parse("list=x").unwrap_err();
        assert!(err.contains("`x`"), "{err}");
        assert!(QueryMix::parse("list").unwrap_err().contains("OPERATION=WEIGHT"));
        assert!(QueryMix::parse("list=1,list=2").unwrap_err().contains("twice"));
        assert!(QueryMix::parse("list=0").unwrap_err().contains("above 0"));
    }
}
