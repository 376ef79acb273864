//! The measured OTLP exporter (the `direct` export path).
//!
//! Spans go from [`SpanSink::emit`] into a bounded queue (a full queue drops and counts, it never
//! blocks the load generator), a batcher cuts batches by span count, encoded size and time, and
//! at most `max_in_flight` request tasks encode, compress (off the async reactor) and send them,
//! retrying transient failures and splitting on 413 (gRPC: RESOURCE_EXHAUSTED without
//! `RetryInfo`). Every attempt is reported to an
//! [`ExportObserver`] as a [`RequestRecord`], and [`Exporter::shutdown`] returns books that
//! balance: spans handed = accepted + rejected + failed + dropped + unfinished.

pub mod compress;
mod config;
pub mod encode;
mod pipeline;
mod retry;
pub mod rpc_status;
mod transport;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub use config::{
    Compression, ExportConfig, GRPC_MAX_MESSAGE_BYTES, HOLD_FACTOR, ParseChoiceError, RetryPolicy,
};
pub use pipeline::encode_body;
pub use retry::parse_retry_after;
pub use transport::Body;
pub use transport::GRPC_EXPORT_PATH;
pub use transport::http_client_builder;

/// The OTLP transport, as the platform profiles define it.
pub use crate::platform::Protocol;

use crate::span::{Attribute, Hold, SpanRecord, SpanSink};

/// How one request attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum RequestOutcome {
    /// An HTTP response status (for gRPC: a non-200 HTTP status, e.g. from a proxy).
    Status(u16),
    /// A gRPC status code (0 = OK).
    GrpcStatus(i32),
    /// No complete response within the request timeout.
    Timeout,
    /// The connection could not be established.
    Connect,
    /// The connection failed during the exchange (reset, protocol error).
    Io(String),
}

impl RequestOutcome {
    /// Whether the backend acknowledged the data.
    pub fn is_success(&self) -> bool {
        matches!(self, RequestOutcome::Status(200..=299) | RequestOutcome::GrpcStatus(0))
    }

    /// A short class for counting errors: `2xx`, `4xx`, `5xx`, `grpc_ok`, `grpc_error`,
    /// `timeout`, `connect`, `io`.
    pub fn class(&self) -> &'static str {
        match self {
            RequestOutcome::Status(100..=199) => "1xx",
            RequestOutcome::Status(200..=299) => "2xx",
            RequestOutcome::Status(300..=399) => "3xx",
            RequestOutcome::Status(400..=499) => "4xx",
            RequestOutcome::Status(_) => "5xx",
            RequestOutcome::GrpcStatus(0) => "grpc_ok",
            RequestOutcome::GrpcStatus(_) => "grpc_error",
            RequestOutcome::Timeout => "timeout",
            RequestOutcome::Connect => "connect",
            RequestOutcome::Io(_) => "io",
        }
    }
}

impl fmt::Display for RequestOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestOutcome::Status(code) => write!(f, "HTTP {code}"),
            RequestOutcome::GrpcStatus(code) => write!(f, "gRPC status {code}"),
            RequestOutcome::Timeout => f.write_str("timeout"),
            RequestOutcome::Connect => f.write_str("connection failed"),
            RequestOutcome::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

/// One request attempt, as measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RequestRecord {
    /// Body bytes sent (after compression; gRPC: including the 5-byte frame header).
    pub wire_bytes: u64,
    /// Encoded OTLP bytes before compression.
    pub raw_bytes: u64,
    pub spans: u64,
    pub outcome: RequestOutcome,
    /// From handing the request to the client to the end of the response.
    pub latency: Duration,
    /// How many attempts of this same body came before this one (0 for the first).
    pub retries: u32,
    /// What the backend said with a refusal (start of the error body, or `grpc-message`).
    pub message: Option<String>,
}

/// What became of spans, for the per-trace delivery ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Acknowledged by the backend.
    Accepted,
    /// Certainly not stored: refused, never sent, or the connection was never made.
    Lost,
    /// Sent without an answer (timeout, reset) or partly refused: the backend may have them.
    Unknown,
}

/// One settled span, as the delivery ledger counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettledSpan {
    pub trace_id: crate::span::TraceId,
    /// The trace's root (no parent).
    pub root: bool,
}

/// Receives the exporter's measurements; the metrics aggregator implements it.
///
/// Called from request tasks and from `emit`; implementations must be cheap and must not block.
pub trait ExportObserver: Send + Sync {
    /// One request attempt finished (every attempt, retries included).
    fn on_request(&self, record: &RequestRecord);
    /// Spans dropped because the queue was full (or the exporter shut down).
    fn on_dropped(&self, spans: u64);
    /// Spans the backend acknowledged.
    fn on_exported(&self, spans: u64);
    /// Spans settled for good, with the traces they belong to.
    fn on_settled(&self, _fate: Fate, _spans: &[SettledSpan]) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopObserver;

impl ExportObserver for NoopObserver {
    fn on_request(&self, _: &RequestRecord) {}
    fn on_dropped(&self, _: u64) {}
    fn on_exported(&self, _: u64) {}
}

/// Why the exporter could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportError {
    /// The endpoint URL is not usable.
    Endpoint(String),
    /// A header name or value is not valid in HTTP.
    Header(String),
    /// A configuration value is out of range.
    Config(String),
    /// The HTTP or gRPC client could not be built.
    Client(String),
    /// `Exporter::start` was called outside a tokio runtime.
    NoRuntime,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Endpoint(e) => write!(f, "invalid OTLP endpoint {e}"),
            ExportError::Header(e) => write!(f, "{e}"),
            ExportError::Config(e) => write!(f, "invalid export setting: {e}"),
            ExportError::Client(e) => write!(f, "could not build the OTLP client: {e}"),
            ExportError::NoRuntime => {
                f.write_str("the exporter must be started inside a tokio runtime")
            }
        }
    }
}

impl std::error::Error for ExportError {}

/// The exporter's books at shutdown.
///
/// `spans_handed = spans_accepted + spans_rejected + spans_failed + spans_unknown +
/// spans_dropped + spans_unfinished` always holds ([`ExportSummary::balances`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    /// Spans given to `emit`.
    pub spans_handed: u64,
    /// Acknowledged by the backend (2xx / gRPC OK).
    pub spans_accepted: u64,
    /// Refused by the backend: a non-retryable status (400, 413 for a single span, ...) or a
    /// retryable one after the retry budget ran out.
    pub spans_rejected: u64,
    /// Never delivered: the connection could not be made (nothing was sent), after the retry
    /// budget.
    pub spans_failed: u64,
    /// Outcome unknown: sent, but no answer came (timeouts, resets, still in flight at the
    /// shutdown deadline), or acknowledged with a partial rejection that names no spans. The
    /// backend may have stored them.
    pub spans_unknown: u64,
    /// Dropped before sending because the queue was full.
    pub spans_dropped: u64,
    /// Still queued or batched, never sent, when the shutdown deadline passed.
    pub spans_unfinished: u64,
    /// Request attempts, retries included.
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Batches split in two (413, or encoded larger than `max_batch_bytes`).
    pub splits: u64,
    pub bytes_wire: u64,
    pub bytes_raw: u64,
    /// Whether shutdown hit its deadline with work left.
    pub deadline_hit: bool,
}

impl ExportSummary {
    /// Whether every span handed over is accounted for exactly once.
    pub fn balances(&self) -> bool {
        self.spans_handed
            == self.spans_accepted
                + self.spans_rejected
                + self.spans_failed
                + self.spans_unknown
                + self.spans_dropped
                + self.spans_unfinished
    }
}

/// A cheap, cloneable [`SpanSink`] feeding an [`Exporter`]; give one to each worker.
#[derive(Clone)]
pub struct ExportHandle {
    /// Each span with its estimated encoded size, computed once here.
    tx: tokio::sync::mpsc::Sender<(SpanRecord, usize)>,
    shared: Arc<pipeline::Shared>,
}

impl fmt::Debug for ExportHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportHandle").finish_non_exhaustive()
    }
}

impl SpanSink for ExportHandle {
    fn emit(&self, span: SpanRecord) {
        self.shared.handed.fetch_add(1, Ordering::Relaxed);
        let key = SettledSpan { trace_id: span.trace_id, root: span.parent_span_id.is_none() };
        let len = encode::estimated_len(&span, self.shared.config.protocol);
        self.shared.queued_bytes.fetch_add(len as u64, Ordering::Relaxed);
        if self.tx.try_send((span, len)).is_err() {
            self.shared.queued_bytes.fetch_sub(len as u64, Ordering::Relaxed);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            self.shared.observer.on_dropped(1);
            self.shared.observer.on_settled(Fate::Lost, &[key]);
        }
    }

    /// Admits a trace only when the queue can hold all of it on top of what is queued and
    /// what traces already running have reserved: under overload whole traces wait or are
    /// refused, and no span is ever dropped from a trace that started. A queue holding more
    /// than `queue_bytes` refuses new traces too, so memory stays bounded however large the
    /// spans.
    fn reserve(&self, spans: u64) -> bool {
        let queued = self.shared.queued_bytes.load(Ordering::Relaxed);
        if queued > self.shared.config.queue_bytes as u64 {
            return false;
        }
        let capacity = self.shared.config.queue_spans as u64;
        self.shared
            .committed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |committed| {
                (committed + spans <= capacity).then_some(committed + spans)
            })
            .is_ok()
    }

    fn release(&self, spans: u64) {
        let _ = self
            .shared
            .committed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| Some(c.saturating_sub(spans)));
    }

    /// A wait while the queue holds more than [`HOLD_FACTOR`] times `queue_bytes`: woken by
    /// the batcher as it takes spans out, or ended with the trace when the run cancels it.
    fn hold(&self) -> Option<Hold> {
        if !self.shared.over_hold_bound() {
            return None;
        }
        let shared = Arc::clone(&self.shared);
        Some(Box::pin(async move {
            loop {
                let drained = shared.drained.notified();
                tokio::pin!(drained);
                // Registered before the check, so a wake-up between the two is not missed.
                drained.as_mut().enable();
                if !shared.over_hold_bound() {
                    return;
                }
                drained.await;
            }
        }))
    }
}

/// The running exporter. Dropping it without [`Exporter::shutdown`] abandons queued spans.
pub struct Exporter {
    handle: ExportHandle,
    stop: tokio::sync::oneshot::Sender<()>,
    batcher: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

impl Exporter {
    /// Starts the batcher on the current tokio runtime. `resource` becomes the OTLP resource of
    /// every request (service name, platform routing attributes).
    pub fn start(
        config: ExportConfig,
        resource: Vec<Attribute>,
        observer: Arc<dyn ExportObserver>,
    ) -> Result<Exporter, ExportError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ExportError::NoRuntime)?;
        validate(&config)?;
        let config = config.for_protocol();
        let transport = transport::Transport::new(&config)?;
        let (tx, rx) = tokio::sync::mpsc::channel(config.queue_spans);
        let shared = Arc::new(pipeline::Shared::new(config, resource, transport, observer));
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let batcher = runtime.spawn(pipeline::run_batcher(shared.clone(), rx, stop_rx));
        Ok(Exporter { handle: ExportHandle { tx, shared }, stop, batcher })
    }

    /// A cloneable sink feeding this exporter.
    pub fn handle(&self) -> ExportHandle {
        self.handle.clone()
    }

    /// Sends what is queued and waits for requests in flight, for at most `deadline`; then
    /// abandons the rest and returns the books, counting abandoned spans as unfinished.
    pub async fn shutdown(mut self, deadline: Duration) -> ExportSummary {
        let _ = self.stop.send(());
        let deadline_hit = tokio::time::timeout(deadline, &mut self.batcher).await.is_err();
        if deadline_hit {
            // Aborting the batcher drops its task set, which aborts every request task.
            self.batcher.abort();
            let _ = (&mut self.batcher).await;
        }
        self.handle.shared.seal(deadline_hit)
    }
}

impl SpanSink for Exporter {
    fn emit(&self, span: SpanRecord) {
        self.handle.emit(span);
    }

    fn reserve(&self, spans: u64) -> bool {
        self.handle.reserve(spans)
    }

    fn release(&self, spans: u64) {
        self.handle.release(spans);
    }

    fn hold(&self) -> Option<Hold> {
        self.handle.hold()
    }
}

fn validate(config: &ExportConfig) -> Result<(), ExportError> {
    let positive = [
        ("max_batch_spans", config.max_batch_spans),
        ("max_in_flight", config.max_in_flight),
        ("queue_spans", config.queue_spans),
        ("queue_bytes", config.queue_bytes),
    ];
    for (name, value) in positive {
        if value == 0 {
            return Err(ExportError::Config(format!("{name} is 0: expected at least 1")));
        }
    }
    if config.max_batch_bytes < 1024 {
        return Err(ExportError::Config(format!(
            "max_batch_bytes is {}: expected at least 1024 bytes",
            config.max_batch_bytes
        )));
    }
    if config.request_timeout.is_zero() {
        return Err(ExportError::Config(
            "request_timeout is 0: expected a positive duration".into(),
        ));
    }
    Ok(())
}
