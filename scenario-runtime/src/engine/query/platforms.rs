//! Each platform's read operations as single requests, built on its read-back client (base
//! URL, credentials) and the API sources that client names.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::{PAGE, QueryApi, QueryContext, QueryOp, QueryRequest, Rows};
use crate::engine::verify::http::{Http, encode, hex, rfc3339_ms};
use crate::engine::verify::{
    Braintrust, Langfuse, Langsmith, Mlflow, Opik, Phoenix, ReadError, ReadOptions, Unverifiable,
    Weave, platform_client,
};
use crate::platform::{PlatformId, PlatformSettings};

/// Why `get` is not run on Opik.
const OPIK_NO_GET: &str = "Opik re-keys OTel trace ids as UUIDv7 derived from the first batch, \
     so a trace cannot be asked for by the id the run sent";

pub(super) fn build(
    platform: PlatformId,
    settings: &PlatformSettings,
    options: &ReadOptions,
    sink: Option<SocketAddr>,
) -> Result<Arc<dyn QueryApi>, Unverifiable> {
    let unverifiable = |reason: String| Unverifiable { platform, reason };
    if let Some(addr) = sink {
        let http = Http::new(
            &format!("http://{addr}"),
            Vec::new(),
            Duration::ZERO,
            options.request_timeout,
        )
        .map_err(|e| unverifiable(e.to_string()))?;
        return Ok(Arc::new(SinkQueries(http)));
    }
    let built: Result<Arc<dyn QueryApi>, ReadError> = match platform {
        PlatformId::Console | PlatformId::Otlp | PlatformId::Datadog => {
            return Err(unverifiable(format!(
                "`{}` has no read API scaletest can query",
                platform.name()
            )));
        }
        _ => platform_client!(platform, settings, options),
    };
    built.map_err(|e| unverifiable(e.to_string()))
}

/// The trace of a `get`, which the driver always provides.
fn trace(cx: &QueryContext) -> Result<[u8; 16], &'static str> {
    cx.trace_id.ok_or("no delivered trace to ask for")
}

// ---------------------------------------------------------------------------------------------

/// The embedded sink's read routes (`engine::sink`'s `query` module).
#[derive(Debug)]
pub struct SinkQueries(Http);

#[async_trait::async_trait]
impl QueryApi for SinkQueries {
    fn platform(&self) -> PlatformId {
        PlatformId::Otlp
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.0.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        let within = cx.end_ms.saturating_sub(cx.start_ms);
        Ok(match op {
            QueryOp::List => QueryRequest::get(
                format!("/v1/query/traces?limit={PAGE}&within_ms={within}"),
                Rows::Array("/data"),
            ),
            QueryOp::Get => QueryRequest::get(
                format!("/v1/query/traces/{}", hex(&trace(cx)?)),
                Rows::Array("/data"),
            ),
            QueryOp::Search => QueryRequest::get(
                format!("/v1/query/traces?limit={PAGE}&within_ms={within}&min_spans=3&root=true"),
                Rows::Array("/data"),
            ),
            QueryOp::Count => QueryRequest::get("/v1/query/count".into(), Rows::Count("/traces")),
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => "GET /v1/query/traces: the 50 traces seen last",
            QueryOp::Get => "GET /v1/query/traces/{id}: span and parent ids of one delivered trace",
            QueryOp::Search => {
                "GET /v1/query/traces?min_spans=3&root=true: traces with a root and 3+ spans"
            }
            QueryOp::Count => "GET /v1/query/count: spans and traces received",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Phoenix: `routers/v1/traces.py` (`GET /v1/projects/{p}/traces`, start_time inclusive,
// end_time exclusive, newest first by default), `routers/v1/spans.py` (`GET
// /v1/projects/{p}/spans` with trace_id, span_kind, status_code), GraphQL `traceCount`.

#[async_trait::async_trait]
impl QueryApi for Phoenix {
    fn platform(&self) -> PlatformId {
        PlatformId::Phoenix
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.http.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        let project = encode(&self.project);
        let (start, end) = (encode(&rfc3339_ms(cx.start_ms)), encode(&rfc3339_ms(cx.end_ms)));
        Ok(match op {
            QueryOp::List => QueryRequest::get(
                format!(
                    "/v1/projects/{project}/traces?start_time={start}&end_time={end}&limit={PAGE}"
                ),
                Rows::Array("/data"),
            ),
            QueryOp::Get => QueryRequest::get(
                format!("/v1/projects/{project}/spans?trace_id={}&limit=1000", hex(&trace(cx)?)),
                Rows::Array("/data"),
            ),
            QueryOp::Search => QueryRequest::get(
                format!(
                    "/v1/projects/{project}/spans?span_kind=LLM&status_code=OK&status_code=UNSET\
                     &start_time={start}&end_time={end}&limit={PAGE}"
                ),
                Rows::Array("/data"),
            ),
            QueryOp::Count => QueryRequest::post(
                "/graphql",
                json!({
                    "query": crate::engine::verify::PHOENIX_COUNT_QUERY,
                    "variables": {
                        "name": self.project,
                        "start": rfc3339_ms(cx.start_ms),
                        "end": rfc3339_ms(cx.end_ms),
                    },
                }),
                Rows::Count("/data/getProjectByName/traceCount"),
            ),
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => "GET /v1/projects/{p}/traces?start_time&end_time&limit=50",
            QueryOp::Get => "GET /v1/projects/{p}/spans?trace_id=<hex>&limit=1000",
            QueryOp::Search => {
                "GET /v1/projects/{p}/spans?span_kind=LLM&status_code=OK,UNSET&start_time&end_time&limit=50"
            }
            QueryOp::Count => "POST /graphql getProjectByName { traceCount(timeRange) }",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// MLflow 3.x: `mlflow/server/handlers.py` (`_search_traces_v3`, `_get_trace`,
// `_query_trace_metrics`), `mlflow/tracing/constant.py` (`TraceMetricKey.TRACE_COUNT`).

impl Mlflow {
    fn search(&self, cx: &QueryContext, extra: &str) -> serde_json::Value {
        json!({
            "locations": [{
                "type": "MLFLOW_EXPERIMENT",
                "mlflow_experiment": {"experiment_id": self.experiment_id},
            }],
            "filter": format!(
                "trace.timestamp_ms >= {} AND trace.timestamp_ms <= {}{extra}",
                cx.start_ms, cx.end_ms
            ),
            "max_results": PAGE,
            "order_by": ["timestamp_ms DESC"],
        })
    }
}

#[async_trait::async_trait]
impl QueryApi for Mlflow {
    fn platform(&self) -> PlatformId {
        PlatformId::Mlflow
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.http.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        const SEARCH: &str = "/api/3.0/mlflow/traces/search";
        Ok(match op {
            QueryOp::List => {
                QueryRequest::post(SEARCH, self.search(cx, ""), Rows::Array("/traces"))
            }
            QueryOp::Get => QueryRequest::get(
                format!("/api/3.0/mlflow/traces/get?trace_id=tr-{}", hex(&trace(cx)?)),
                Rows::Array("/trace/spans"),
            ),
            QueryOp::Search => QueryRequest::post(
                SEARCH,
                self.search(cx, " AND trace.status = 'OK'"),
                Rows::Array("/traces"),
            ),
            QueryOp::Count => QueryRequest::post(
                "/api/3.0/mlflow/traces/metrics",
                json!({
                    "experiment_ids": [self.experiment_id],
                    "view_type": "TRACES",
                    "metric_name": "trace_count",
                    "aggregations": [{"aggregation_type": "COUNT"}],
                    "start_time_ms": cx.start_ms,
                    "end_time_ms": cx.end_ms,
                }),
                Rows::Count("/data_points/0/values/COUNT"),
            ),
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => "POST /api/3.0/mlflow/traces/search (window, 50 newest)",
            QueryOp::Get => "GET /api/3.0/mlflow/traces/get?trace_id=tr-<hex>",
            QueryOp::Search => {
                "POST /api/3.0/mlflow/traces/search trace.status = 'OK' (window, 50)"
            }
            QueryOp::Count => "POST /api/3.0/mlflow/traces/metrics trace_count COUNT (window)",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Langfuse: `observations-v2.yml` (`GET /api/public/v2/observations` with fromStartTime,
// toStartTime, type, traceId, fields, limit) and `metrics-v2.yml`.

#[async_trait::async_trait]
impl QueryApi for Langfuse {
    fn platform(&self) -> PlatformId {
        PlatformId::Langfuse
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.http.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        let window = format!(
            "fromStartTime={}&toStartTime={}",
            encode(&rfc3339_ms(cx.start_ms)),
            encode(&rfc3339_ms(cx.end_ms))
        );
        Ok(match op {
            QueryOp::List => QueryRequest::get(
                format!("/api/public/v2/observations?{window}&fields=core,basic&limit={PAGE}"),
                Rows::Array("/data"),
            ),
            QueryOp::Get => QueryRequest::get(
                format!(
                    "/api/public/v2/observations?traceId={}&fields=core&limit=1000",
                    hex(&trace(cx)?)
                ),
                Rows::Array("/data"),
            ),
            QueryOp::Search => QueryRequest::get(
                format!(
                    "/api/public/v2/observations?type=GENERATION&{window}&fields=core,basic\
                     &limit={PAGE}"
                ),
                Rows::Array("/data"),
            ),
            QueryOp::Count => {
                let query = json!({
                    "view": "observations",
                    "metrics": [{"measure": "count", "aggregation": "count"}],
                    "dimensions": [],
                    "filters": [],
                    "fromTimestamp": rfc3339_ms(cx.start_ms),
                    "toTimestamp": rfc3339_ms(cx.end_ms),
                });
                QueryRequest::get(
                    format!("/api/public/v2/metrics?query={}", encode(&query.to_string())),
                    Rows::Count("/data/0/count_count"),
                )
            }
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => {
                "GET /api/public/v2/observations?fromStartTime&toStartTime&fields=core,basic&limit=50"
            }
            QueryOp::Get => "GET /api/public/v2/observations?traceId=<hex>&fields=core",
            QueryOp::Search => {
                "GET /api/public/v2/observations?type=GENERATION&fromStartTime&toStartTime&limit=50"
            }
            QueryOp::Count => "GET /api/public/v2/metrics observations count (window)",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// LangSmith: `POST /api/v1/runs/query` (`RunQueryParams`) and `POST /api/v1/runs/stats`
// (`RunStatsQueryParams` -> `RunStats{run_count, ...}`), langsmith-go / the JS OpenAPI client.

impl Langsmith {
    fn runs_query(
        &self,
        cx: &QueryContext,
        extra: serde_json::Value,
    ) -> Result<serde_json::Value, &'static str> {
        let session = self.session.get().ok_or("the LangSmith project id was not looked up")?;
        let mut body = json!({
            "session": [session],
            "start_time": rfc3339_ms(cx.start_ms),
            "end_time": rfc3339_ms(cx.end_ms),
            "select": ["id", "name", "run_type", "start_time", "end_time", "trace_id", "parent_run_id"],
            "limit": PAGE,
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        Ok(body)
    }
}

#[async_trait::async_trait]
impl QueryApi for Langsmith {
    fn platform(&self) -> PlatformId {
        PlatformId::Langsmith
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.http.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    async fn prepare(&self) -> Result<(), ReadError> {
        self.session().await.map(|_| ())
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        const QUERY: &str = "/api/v1/runs/query";
        Ok(match op {
            QueryOp::List => QueryRequest::post(
                QUERY,
                self.runs_query(cx, json!({"is_root": true}))?,
                Rows::Array("/runs"),
            ),
            QueryOp::Get => {
                let id = crate::engine::verify::langsmith_uuid(&trace(cx)?);
                QueryRequest::post(
                    QUERY,
                    json!({
                        "trace": id,
                        "select": ["id", "name", "run_type", "parent_run_id"],
                        "limit": 100,
                    }),
                    Rows::Array("/runs"),
                )
            }
            QueryOp::Search => QueryRequest::post(
                QUERY,
                self.runs_query(cx, json!({"filter": "eq(run_type, \"llm\")"}))?,
                Rows::Array("/runs"),
            ),
            QueryOp::Count => {
                let mut body = self.runs_query(cx, json!({"is_root": true}))?;
                if let Some(body) = body.as_object_mut() {
                    body.remove("select");
                    body.remove("limit");
                }
                QueryRequest::post("/api/v1/runs/stats", body, Rows::Count("/run_count"))
            }
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => "POST /api/v1/runs/query is_root, window, select, limit=50",
            QueryOp::Get => "POST /api/v1/runs/query trace=<uuid>",
            QueryOp::Search => {
                "POST /api/v1/runs/query filter=eq(run_type, \"llm\"), window, limit=50"
            }
            QueryOp::Count => "POST /api/v1/runs/stats is_root, window (run_count)",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Braintrust: SQL through `POST /btql` (<https://www.braintrust.dev/docs/reference/sql>).

impl Braintrust {
    fn btql(&self, sql: String) -> QueryRequest {
        QueryRequest::post("/btql", json!({"query": sql, "fmt": "json"}), Rows::Array("/data"))
    }
}

#[async_trait::async_trait]
impl QueryApi for Braintrust {
    fn platform(&self) -> PlatformId {
        PlatformId::Braintrust
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.http.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        let from = format!("FROM project_logs('{}')", self.project);
        let range = format!(
            "created >= '{}' AND created <= '{}'",
            rfc3339_ms(cx.start_ms),
            rfc3339_ms(cx.end_ms)
        );
        Ok(match op {
            QueryOp::List => self.btql(format!(
                "SELECT id, root_span_id, span_attributes, created {from} WHERE is_root AND \
                 {range} ORDER BY created DESC LIMIT {PAGE}"
            )),
            QueryOp::Get => self.btql(format!(
                "SELECT span_id, span_parents, span_attributes {from} WHERE root_span_id = '{}' \
                 LIMIT 1000",
                hex(&trace(cx)?)
            )),
            QueryOp::Search => self.btql(format!(
                "SELECT id, root_span_id, span_attributes, created {from} WHERE \
                 span_attributes.type = 'llm' AND {range} ORDER BY created DESC LIMIT {PAGE}"
            )),
            QueryOp::Count => {
                let mut request = self.btql(format!("SELECT count(*) AS n {from} WHERE {range}"));
                request.rows = Rows::Count("/data/0/n");
                request
            }
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => "POST /btql SELECT ... WHERE is_root AND created in window LIMIT 50",
            QueryOp::Get => "POST /btql SELECT ... WHERE root_span_id = '<hex>'",
            QueryOp::Search => {
                "POST /btql SELECT ... WHERE span_attributes.type = 'llm' AND window LIMIT 50"
            }
            QueryOp::Count => "POST /btql SELECT count(*) WHERE created in window",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Opik: `GET /v1/private/traces`, `GET /v1/private/spans` (`project_name`, `page`, `size`,
// `filters`, `type`, `exclude`) -> `{page, size, total, content}` (Opik REST API reference).

impl Opik {
    fn list(&self, what: &str, cx: &QueryContext, size: u32, extra: &str) -> QueryRequest {
        let filters = json!([
            {"field": "start_time", "operator": ">=", "value": rfc3339_ms(cx.start_ms)},
            {"field": "start_time", "operator": "<=", "value": rfc3339_ms(cx.end_ms)},
        ]);
        QueryRequest::get(
            format!(
                "/v1/private/{what}?project_name={}&page=1&size={size}&filters={}\
                 &exclude=input,output,metadata{extra}",
                encode(&self.project),
                encode(&filters.to_string())
            ),
            Rows::Array("/content"),
        )
    }
}

#[async_trait::async_trait]
impl QueryApi for Opik {
    fn platform(&self) -> PlatformId {
        PlatformId::Opik
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.http.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        Ok(match op {
            QueryOp::List => self.list("traces", cx, PAGE, ""),
            QueryOp::Get => return Err(OPIK_NO_GET),
            QueryOp::Search => self.list("spans", cx, PAGE, "&type=llm"),
            QueryOp::Count => {
                let mut request = self.list("traces", cx, 1, "");
                request.rows = Rows::Count("/total");
                request
            }
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => "GET /v1/private/traces?project_name&size=50&filters=<window>",
            QueryOp::Get => return Err(OPIK_NO_GET),
            QueryOp::Search => "GET /v1/private/spans?type=llm&size=50&filters=<window>",
            QueryOp::Count => "GET /v1/private/traces?size=1&filters=<window> (its total)",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Weave: `trace_server_interface.py` (`CallsQueryReq {project_id, filter, query, sort_by,
// limit, columns}` answered as JSON lines by `/calls/stream_query`; `CallsQueryStatsReq`).

impl Weave {
    fn calls(&self, cx: &QueryContext, filter: serde_json::Value, limit: u32) -> QueryRequest {
        QueryRequest::post(
            "/calls/stream_query",
            json!({
                "project_id": self.project_id,
                "filter": filter,
                "query": {"$expr": {"$gte": [
                    {"$getField": "started_at"},
                    {"$literal": rfc3339_ms(cx.start_ms)},
                ]}},
                "sort_by": [{"field": "started_at", "direction": "desc"}],
                "columns": ["id", "trace_id", "parent_id", "op_name", "started_at", "ended_at"],
                "limit": limit,
            }),
            Rows::Lines,
        )
    }
}

#[async_trait::async_trait]
impl QueryApi for Weave {
    fn platform(&self) -> PlatformId {
        PlatformId::Weave
    }

    async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
        self.http.exchange(request.method.clone(), &request.path, request.body.as_ref()).await
    }

    fn request(&self, op: QueryOp, cx: &QueryContext) -> Result<QueryRequest, &'static str> {
        Ok(match op {
            QueryOp::List => self.calls(cx, json!({"trace_roots_only": true}), PAGE),
            QueryOp::Get => QueryRequest::post(
                "/calls/stream_query",
                json!({
                    "project_id": self.project_id,
                    "filter": {"trace_ids": [hex(&trace(cx)?)]},
                    "columns": ["id", "trace_id", "parent_id", "op_name"],
                    "limit": 10_000,
                }),
                Rows::Lines,
            ),
            QueryOp::Search => {
                let mut request = self.calls(cx, json!({"trace_roots_only": false}), PAGE);
                if let Some(body) = request.body.as_mut() {
                    body["query"] = json!({"$expr": {"$and": [
                        body["query"]["$expr"].clone(),
                        {"$contains": {
                            "input": {"$getField": "op_name"},
                            "substr": {"$literal": "chat"},
                        }},
                    ]}});
                }
                request
            }
            QueryOp::Count => QueryRequest::post(
                "/calls/query_stats",
                json!({"project_id": self.project_id, "filter": {"trace_roots_only": true}}),
                Rows::Count("/count"),
            ),
        })
    }

    fn describe(&self, op: QueryOp) -> Result<&'static str, &'static str> {
        Ok(match op {
            QueryOp::List => {
                "POST /calls/stream_query trace roots started in the window, 50 newest"
            }
            QueryOp::Get => "POST /calls/stream_query filter.trace_ids=[<hex>]",
            QueryOp::Search => {
                "POST /calls/stream_query op_name contains `chat`, window, 50 newest"
            }
            QueryOp::Count => "POST /calls/query_stats trace_roots_only (whole project)",
        })
    }
}
