//! The `sdk` export path: spans go through the standard OpenTelemetry SDK pipeline
//! (`SdkTracerProvider` + `BatchSpanProcessor` + `opentelemetry-otlp`), as they would in an
//! instrumented application, so a run shows what such an application would see.
//!
//! The SDK hides most of what a load test needs (measured traps in `measurements.md`): its
//! batch processor drops spans silently when its queue is full, and the OTLP exporter turns
//! HTTP errors into opaque errors. So this path measures at the two seams the SDK does expose:
//! - an [`opentelemetry_http::HttpClient`] of our own records every request (wire bytes,
//!   status, latency) and runs it on the tokio runtime, since the processor's export thread
//!   has no reactor;
//! - a wrapping `SpanExporter` counts the spans each batch carried and whether it succeeded.
//!
//! Spans the SDK dropped are then `ended - reached the exporter`. Span ids and parent links are
//! those of the step tree: a thread-local id generator hands the SDK the ids we chose, and each
//! parent is given as a (non-remote) span context, since spans are handed over as they end,
//! children before their parents.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, KeyValue, StringValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, IdGenerator, SdkTracer, SdkTracerProvider, SpanData,
    SpanExporter,
};

use super::export::{
    Compression, ExportError, ExportObserver, ExportSummary, Fate, Protocol, RequestOutcome,
    RequestRecord, SettledSpan,
};
use crate::span::{self, Attribute, SpanRecord, SpanSink};

/// Settings of the SDK pipeline.
#[derive(Clone, Debug)]
pub struct SdkConfig {
    /// Full traces URL.
    pub endpoint: String,
    pub headers: Vec<(String, String)>,
    pub protocol: Protocol,
    pub compression: Compression,
    pub request_timeout: Duration,
    /// The batch processor's queue (the SDK default is 2048).
    pub max_queue_size: usize,
    /// Spans per export batch (the SDK default is 512).
    pub max_export_batch_size: usize,
    /// How often the processor exports a partial batch (the SDK default is 5 s).
    pub scheduled_delay: Duration,
    /// Bytes the calling thread has allocated so far, when the allocator can tell (the binary
    /// chooses the allocator, so it supplies this); measures the tracer's memory per span.
    pub thread_allocated_bytes: Option<fn() -> u64>,
}

impl SdkConfig {
    /// The SDK's own defaults for everything but the endpoint.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            headers: Vec::new(),
            protocol: Protocol::HttpProtobuf,
            compression: Compression::None,
            request_timeout: Duration::from_secs(10),
            max_queue_size: 2048,
            max_export_batch_size: 512,
            scheduled_delay: Duration::from_secs(5),
            thread_allocated_bytes: None,
        }
    }
}

/// What the SDK path measured besides the request records.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SdkCost {
    /// Spans ended through the SDK tracer.
    pub spans_ended: u64,
    /// Nanoseconds the calling threads spent creating and ending those spans.
    pub tracer_nanos: u64,
    /// Bytes the calling threads allocated while creating and ending them (`None` when the
    /// allocator cannot tell). The SDK keeps this memory until the span is exported.
    pub tracer_alloc_bytes: Option<u64>,
}

impl SdkCost {
    /// Average CPU cost on the calling thread of one span, in nanoseconds.
    pub fn nanos_per_span(&self) -> f64 {
        if self.spans_ended == 0 { 0.0 } else { self.tracer_nanos as f64 / self.spans_ended as f64 }
    }

    /// Average bytes allocated by the tracer on the calling thread for one span.
    pub fn alloc_bytes_per_span(&self) -> Option<f64> {
        let bytes = self.tracer_alloc_bytes?;
        Some(if self.spans_ended == 0 { 0.0 } else { bytes as f64 / self.spans_ended as f64 })
    }
}

#[derive(Debug, Default)]
struct Counts {
    ended: AtomicU64,
    tracer_nanos: AtomicU64,
    tracer_alloc_bytes: AtomicU64,
    /// Spans that reached the exporter in a batch.
    exported_attempted: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    requests: AtomicU64,
    bytes_wire: AtomicU64,
}

/// Sends spans through the OpenTelemetry SDK. Implements [`SpanSink`].
pub struct SdkExporter {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    counts: Arc<Counts>,
    thread_allocated_bytes: Option<fn() -> u64>,
}

impl fmt::Debug for SdkExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkExporter").finish_non_exhaustive()
    }
}

impl SdkExporter {
    /// Builds the pipeline. Must be called inside a tokio runtime (requests run on it).
    pub fn start(
        config: SdkConfig,
        resource: Vec<Attribute>,
        observer: Arc<dyn ExportObserver>,
    ) -> Result<SdkExporter, ExportError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ExportError::NoRuntime)?;
        let protocol = match config.protocol {
            Protocol::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
            Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
            Protocol::Grpc => {
                return Err(ExportError::Config(
                    "the sdk exporter sends http/protobuf or http/json; use --exporter direct for grpc"
                        .to_owned(),
                ));
            }
        };
        let client = super::export::http_client_builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| ExportError::Client(e.to_string()))?;
        let counts = Arc::new(Counts::default());
        let http_observer = observer.clone();
        let http = MeasuredClient {
            client,
            runtime,
            observer,
            counts: counts.clone(),
            compressed: config.compression != Compression::None,
        };
        let headers: HashMap<String, String> = config.headers.iter().cloned().collect();
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(http)
            .with_endpoint(config.endpoint.clone())
            .with_protocol(protocol)
            .with_timeout(config.request_timeout)
            .with_headers(headers);
        builder = match config.compression {
            Compression::None => builder,
            Compression::Gzip => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
            Compression::Zstd => builder.with_compression(opentelemetry_otlp::Compression::Zstd),
        };
        let otlp = builder.build().map_err(|e| ExportError::Client(e.to_string()))?;
        let exporter =
            CountingExporter { inner: otlp, counts: counts.clone(), observer: http_observer };
        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(config.max_queue_size)
            .with_max_export_batch_size(config.max_export_batch_size)
            .with_scheduled_delay(config.scheduled_delay)
            .build();
        let processor = BatchSpanProcessor::builder(exporter).with_batch_config(batch).build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_id_generator(GivenIds)
            .with_resource(
                // The SDK's own `telemetry.sdk.*` (and environment) attributes, then ours,
                // except our `telemetry.sdk.*`: on this path the SDK is the OpenTelemetry one.
                opentelemetry_sdk::Resource::builder()
                    .with_attributes(
                        resource
                            .into_iter()
                            .filter(|a| !a.key.starts_with("telemetry.sdk."))
                            .map(key_value),
                    )
                    .build(),
            )
            .build();
        let tracer = provider.tracer_with_scope(
            opentelemetry::InstrumentationScope::builder("scaletest")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        Ok(SdkExporter {
            provider,
            tracer,
            counts,
            thread_allocated_bytes: config.thread_allocated_bytes,
        })
    }

    /// Flushes and shuts the pipeline down within `deadline` (the SDK blocks, so this runs on a
    /// blocking thread), then returns the books and the tracer's cost.
    pub async fn shutdown(self, deadline: Duration) -> (ExportSummary, SdkCost) {
        let provider = self.provider.clone();
        let finished =
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(deadline)).await;
        let deadline_hit = !matches!(finished, Ok(Ok(())));
        let c = &self.counts;
        let ended = c.ended.load(Ordering::Relaxed);
        let attempted = c.exported_attempted.load(Ordering::Relaxed);
        let accepted = c.accepted.load(Ordering::Relaxed);
        let rejected = c.rejected.load(Ordering::Relaxed);
        let summary = ExportSummary {
            spans_handed: ended,
            spans_accepted: accepted,
            spans_rejected: rejected,
            spans_failed: 0,
            // The SDK does not say why a span never reached its exporter: a full queue, or a
            // shutdown that did not drain it. Both are lost to the application.
            spans_dropped: ended.saturating_sub(attempted),
            // Handed to the SDK's exporter and never answered before the shutdown ended.
            spans_unknown: attempted.saturating_sub(accepted + rejected),
            spans_unfinished: 0,
            requests: c.requests.load(Ordering::Relaxed),
            retries: 0,
            splits: 0,
            bytes_wire: c.bytes_wire.load(Ordering::Relaxed),
            bytes_raw: 0,
            deadline_hit,
        };
        let cost = SdkCost {
            spans_ended: ended,
            tracer_nanos: c.tracer_nanos.load(Ordering::Relaxed),
            tracer_alloc_bytes: self
                .thread_allocated_bytes
                .map(|_| c.tracer_alloc_bytes.load(Ordering::Relaxed)),
        };
        (summary, cost)
    }
}

impl SpanSink for SdkExporter {
    fn emit(&self, record: SpanRecord) {
        let allocated_before = self.thread_allocated_bytes.map(|read| read());
        let started = Instant::now();
        let trace_id = TraceId::from_bytes(record.trace_id);
        let parent = match record.parent_span_id {
            Some(parent) => Context::new().with_remote_span_context(SpanContext::new(
                trace_id,
                SpanId::from_bytes(parent),
                TraceFlags::SAMPLED,
                // Not remote: the parent is in this process (it only ends later).
                false,
                TraceState::default(),
            )),
            None => Context::new(),
        };
        NEXT_IDS.with(|ids| ids.set(Some((trace_id, SpanId::from_bytes(record.span_id)))));
        let mut span = self
            .tracer
            .span_builder(record.name)
            .with_kind(match record.kind {
                span::SpanKind::Internal => SpanKind::Internal,
                span::SpanKind::Client => SpanKind::Client,
                span::SpanKind::Server => SpanKind::Server,
            })
            .with_start_time(system_time(record.start_unix_nanos))
            .with_attributes(record.attributes.into_iter().map(key_value))
            .start_with_context(&self.tracer, &parent);
        NEXT_IDS.with(|ids| ids.set(None));
        if let span::Status::Error(description) = record.status {
            span.set_status(Status::error(description));
        }
        span.end_with_timestamp(system_time(record.end_unix_nanos));
        self.counts.ended.fetch_add(1, Ordering::Relaxed);
        self.counts.tracer_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if let (Some(read), Some(before)) = (self.thread_allocated_bytes, allocated_before) {
            // The record's own strings were allocated before `emit`; what is counted here is
            // what the SDK allocates to hold the span (its `SpanData`, attribute vectors).
            let allocated = read().saturating_sub(before);
            self.counts.tracer_alloc_bytes.fetch_add(allocated, Ordering::Relaxed);
        }
    }
}

fn system_time(unix_nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(unix_nanos)
}

fn key_value(attribute: Attribute) -> KeyValue {
    let key = opentelemetry::Key::from(attribute.key);
    match attribute.value {
        span::Value::Str(s) => KeyValue::new(key, s),
        span::Value::Int(i) => KeyValue::new(key, i),
        span::Value::F64(f) => KeyValue::new(key, f),
        span::Value::Bool(b) => KeyValue::new(key, b),
        span::Value::StrArray(items) => KeyValue::new(
            key,
            opentelemetry::Value::Array(Array::String(
                items.into_iter().map(StringValue::from).collect(),
            )),
        ),
    }
}

thread_local! {
    /// The ids the next span built on this thread must get.
    static NEXT_IDS: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
}

/// Gives the SDK the ids chosen by the step tree (set just before each span is built).
#[derive(Debug)]
struct GivenIds;

impl IdGenerator for GivenIds {
    fn new_trace_id(&self) -> TraceId {
        NEXT_IDS.with(Cell::get).map_or(TraceId::INVALID, |(trace, _)| trace)
    }

    fn new_span_id(&self) -> SpanId {
        NEXT_IDS.with(Cell::get).map_or(SpanId::INVALID, |(_, span)| span)
    }
}

/// Counts the spans of each batch the SDK hands its exporter, and the outcome.
struct CountingExporter<E> {
    inner: E,
    counts: Arc<Counts>,
    observer: Arc<dyn ExportObserver>,
}

impl<E: fmt::Debug> fmt::Debug for CountingExporter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingExporter").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        self.counts.exported_attempted.fetch_add(spans, Ordering::Relaxed);
        let keys: Vec<SettledSpan> = batch
            .iter()
            .map(|span| SettledSpan {
                trace_id: span.span_context.trace_id().to_bytes(),
                root: span.parent_span_id == SpanId::INVALID,
            })
            .collect();
        let result = self.inner.export(batch).await;
        if result.is_ok() {
            self.counts.accepted.fetch_add(spans, Ordering::Relaxed);
            self.observer.on_exported(spans);
            self.observer.on_settled(Fate::Accepted, &keys);
        } else {
            self.counts.rejected.fetch_add(spans, Ordering::Relaxed);
            // The SDK's exporter error does not say whether the backend answered.
            self.observer.on_settled(Fate::Unknown, &keys);
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// The HTTP client handed to `opentelemetry-otlp`: measures every request and runs it on the
/// tokio runtime (the batch processor calls it from its own thread, which has no reactor).
struct MeasuredClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    observer: Arc<dyn ExportObserver>,
    counts: Arc<Counts>,
    /// Whether bodies arrive compressed (then their raw size is not observable here).
    compressed: bool,
}

impl fmt::Debug for MeasuredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeasuredClient").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for MeasuredClient {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
        let wire_bytes = request.body().len() as u64;
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let started = Instant::now();
        let exchange = self.runtime.spawn(async move {
            let response = client.execute(request).await?;
            let status = response.status();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        });
        let result = exchange.await;
        let latency = started.elapsed();
        let outcome = match &result {
            Ok(Ok((status, _))) => RequestOutcome::Status(status.as_u16()),
            Ok(Err(e)) if e.is_timeout() => RequestOutcome::Timeout,
            Ok(Err(e)) if e.is_connect() => RequestOutcome::Connect,
            Ok(Err(e)) => RequestOutcome::Io(e.to_string()),
            Err(e) => RequestOutcome::Io(e.to_string()),
        };
        self.counts.requests.fetch_add(1, Ordering::Relaxed);
        self.counts.bytes_wire.fetch_add(wire_bytes, Ordering::Relaxed);
        self.observer.on_request(&RequestRecord {
            wire_bytes,
            raw_bytes: if self.compressed { 0 } else { wire_bytes },
            // The client sees bytes, not spans; span counts come from the exporter wrapper.
            spans: 0,
            outcome,
            latency,
            retries: 0,
            message: None,
        });
        let (status, body) = result??;
        Ok(http::Response::builder().status(status).body(body)?)
    }
}
