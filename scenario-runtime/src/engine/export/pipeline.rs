//! The batcher and the request tasks, and the books they keep.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;

use super::compress::{compress, compress_stream};
use super::config::{Compression, ExportConfig, HOLD_FACTOR};
use super::encode::BatchEncoder;
use super::retry::{Verdict, backoff, verdict};
use super::transport::{Body, GRPC_HEADER, Transport};
use super::{ExportObserver, ExportSummary, Fate, RequestOutcome, RequestRecord, SettledSpan};
use crate::platform::Protocol;
use crate::span::{Attribute, SpanRecord};

/// Spans taken from the queue at once: amortizes the channel's synchronization.
const RECV_CHUNK: usize = 256;

/// State shared by the handles, the batcher and the request tasks.
pub struct Shared {
    pub config: ExportConfig,
    pub encoder: BatchEncoder,
    pub transport: Transport,
    pub observer: Arc<dyn ExportObserver>,
    /// Spans given to `emit`.
    pub handed: AtomicU64,
    /// Spans refused by a full (or closed) queue.
    pub dropped: AtomicU64,
    /// Estimated encoded bytes of the spans in the queue (see `ExportConfig::queue_bytes`).
    pub queued_bytes: AtomicU64,
    /// Queue room spoken for: spans queued plus what running traces have reserved and not yet
    /// emitted (see `ExportHandle::reserve`).
    pub committed: AtomicU64,
    /// Woken when spans leave a queue over its hold bound (see `SpanSink::hold`).
    pub drained: tokio::sync::Notify,
    /// Spans of batches in an attempt right now, or waiting to retry after an attempt that got
    /// no answer: at a shutdown deadline their outcome is unknown, not "unsent".
    in_doubt: AtomicU64,
    books: Mutex<Books>,
    permits: Arc<Semaphore>,
}

/// What request tasks have settled. Behind a mutex (taken once per request, not per span) so
/// that sealing at shutdown is atomic: a task aborted mid-way cannot count after the seal.
#[derive(Default)]
struct Books {
    sealed: bool,
    accepted: u64,
    rejected: u64,
    failed: u64,
    unknown: u64,
    requests: u64,
    retries: u64,
    splits: u64,
    bytes_wire: u64,
    bytes_raw: u64,
}

impl Shared {
    /// Queued bytes above which running traces wait (see `SpanSink::hold`).
    pub fn hold_bound(&self) -> u64 {
        (self.config.queue_bytes as u64).saturating_mul(HOLD_FACTOR as u64)
    }

    pub fn over_hold_bound(&self) -> bool {
        self.queued_bytes.load(Ordering::Relaxed) > self.hold_bound()
    }

    pub fn new(
        config: ExportConfig,
        resource: Vec<Attribute>,
        transport: Transport,
        observer: Arc<dyn ExportObserver>,
    ) -> Self {
        let encoder = BatchEncoder::new(resource, config.protocol);
        let permits = Arc::new(Semaphore::new(config.max_in_flight));
        Self {
            config,
            encoder,
            transport,
            observer,
            handed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            queued_bytes: AtomicU64::new(0),
            committed: AtomicU64::new(0),
            drained: tokio::sync::Notify::new(),
            in_doubt: AtomicU64::new(0),
            books: Mutex::new(Books::default()),
            permits,
        }
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Closes the books and returns them; later updates are ignored.
    pub fn seal(&self, deadline_hit: bool) -> ExportSummary {
        let mut books = self.books();
        books.sealed = true;
        let dropped = self.dropped.load(Ordering::Relaxed);
        let handed = self.handed.load(Ordering::Relaxed);
        // Sent and unanswered when the books close: the backend may have them.
        let in_doubt = self.in_doubt.load(Ordering::Relaxed);
        let unknown = books.unknown + in_doubt;
        let settled = books.accepted + books.rejected + books.failed + unknown + dropped;
        ExportSummary {
            spans_handed: handed.max(settled),
            spans_accepted: books.accepted,
            spans_rejected: books.rejected,
            spans_failed: books.failed,
            spans_unknown: unknown,
            spans_dropped: dropped,
            spans_unfinished: handed.saturating_sub(settled),
            requests: books.requests,
            retries: books.retries,
            splits: books.splits,
            bytes_wire: books.bytes_wire,
            bytes_raw: books.bytes_raw,
            deadline_hit,
        }
    }
}

/// A batch being filled.
struct Batch {
    spans: Vec<SpanRecord>,
    bytes: usize,
}

/// Pulls spans from the queue, cuts batches and hands each to a request task once
/// a slot is free. On `stop` it drains the queue, sends the rest and waits for every task.
pub async fn run_batcher(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<(SpanRecord, usize)>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut tasks = JoinSet::new();
    let mut batch = Batch { spans: Vec::new(), bytes: 0 };
    let mut incoming = Vec::with_capacity(RECV_CHUNK);
    let timer = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(timer);
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            _ = &mut stop, if !stopping => {
                // No new spans from here on; what is already queued is still sent.
                rx.close();
                stopping = true;
            }
            received = rx.recv_many(&mut incoming, RECV_CHUNK) => {
                if received == 0 {
                    break;
                }
                // Out of the queue: the room they held is free again.
                let _ = shared.committed.fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                    Some(c.saturating_sub(received as u64))
                });
                let bytes: usize = incoming.iter().map(|(_, len)| len).sum();
                let before = shared.queued_bytes.fetch_sub(bytes as u64, Ordering::Relaxed);
                if before > shared.hold_bound() {
                    shared.drained.notify_waiters();
                }
                for (span, len) in incoming.drain(..) {
                    if !batch.spans.is_empty() && batch.bytes + len > shared.config.max_batch_bytes {
                        flush(&shared, &mut batch, &mut tasks).await;
                    }
                    if batch.spans.is_empty() {
                        timer.as_mut().reset(tokio::time::Instant::now() + shared.config.batch_timeout);
                    }
                    batch.spans.push(span);
                    batch.bytes += len;
                    if batch.spans.len() >= shared.config.max_batch_spans
                        || batch.bytes >= shared.config.max_batch_bytes
                    {
                        flush(&shared, &mut batch, &mut tasks).await;
                    }
                }
            }
            () = &mut timer, if !batch.spans.is_empty() => {
                flush(&shared, &mut batch, &mut tasks).await;
            }
        }
        while tasks.try_join_next().is_some() {}
    }
    flush(&shared, &mut batch, &mut tasks).await;
    while tasks.join_next().await.is_some() {}
}

/// Hands the current batch to a new request task, waiting for a free slot. While it waits the
/// queue fills and `emit` starts dropping: that is the backpressure, and it is counted.
async fn flush(shared: &Arc<Shared>, batch: &mut Batch, tasks: &mut JoinSet<()>) {
    if batch.spans.is_empty() {
        return;
    }
    let spans = std::mem::take(&mut batch.spans);
    batch.bytes = 0;
    let Ok(permit) = shared.permits.clone().acquire_owned().await else {
        return; // The semaphore is never closed.
    };
    let shared = shared.clone();
    tasks.spawn(async move {
        deliver(&shared, spans).await;
        drop(permit);
    });
}

/// How a batch ended after its retries.
enum Final {
    /// Acknowledged; the backend may still say it rejected some spans (partial success).
    Accepted {
        rejected: u64,
    },
    Split,
    Rejected,
    /// Never delivered: nothing reached the backend.
    Failed,
    /// Sent without an answer: the backend may have stored it.
    Unknown,
}

fn keys(spans: &[SpanRecord]) -> Vec<SettledSpan> {
    spans
        .iter()
        .map(|span| SettledSpan { trace_id: span.trace_id, root: span.parent_span_id.is_none() })
        .collect()
}

/// Sends one batch to its end: encodes, splits what is too large (before sending, or on 413 or
/// gRPC RESOURCE_EXHAUSTED without `RetryInfo`),
/// retries what is transient, and settles every span in the books.
async fn deliver(shared: &Arc<Shared>, spans: Vec<SpanRecord>) {
    let mut pending = vec![spans];
    while let Some(spans) = pending.pop() {
        let count = spans.len() as u64;
        let (body, raw_len, spans) = prepare(shared, spans).await;
        let outcome = if raw_len > shared.config.max_batch_bytes && spans.len() > 1 {
            // The body may reference the spans: let go of it before they are split.
            drop(body);
            Final::Split
        } else {
            match body {
                Ok(body) => send_with_retry(shared, body, raw_len as u64, count).await,
                // Encoding or compression failing means memory or a bug, not the backend:
                // the spans are lost, counted as failed.
                Err(_) => Final::Failed,
            }
        };
        let (fate, exported) = {
            let mut books = shared.books();
            if books.sealed {
                return;
            }
            match outcome {
                Final::Accepted { rejected } => {
                    let rejected = rejected.min(count);
                    books.accepted += count - rejected;
                    books.rejected += rejected;
                    // A partial rejection does not say which spans: none of the batch's traces
                    // is known to be whole.
                    (if rejected > 0 { Fate::Unknown } else { Fate::Accepted }, count - rejected)
                }
                Final::Split if spans.len() > 1 => {
                    books.splits += 1;
                    // Every body referencing them is gone by now; a copy only if not.
                    let mut left =
                        Arc::try_unwrap(spans).unwrap_or_else(|shared| (*shared).clone());
                    let right = left.split_off(left.len() / 2);
                    pending.push(right);
                    pending.push(left);
                    continue;
                }
                Final::Split | Final::Rejected => {
                    books.rejected += count;
                    (Fate::Lost, 0)
                }
                Final::Failed => {
                    books.failed += count;
                    (Fate::Lost, 0)
                }
                Final::Unknown => {
                    books.unknown += count;
                    (Fate::Unknown, 0)
                }
            }
        };
        if exported > 0 {
            shared.observer.on_exported(exported);
        }
        shared.observer.on_settled(fate, &keys(&spans));
    }
}

/// Counts a batch in `Shared::in_doubt` while set. Deliberately not cleared on drop: a request
/// task aborted at the shutdown deadline leaves its batch counted, which is what `seal` reads.
struct InDoubt<'a> {
    shared: &'a Shared,
    spans: u64,
    counted: std::sync::atomic::AtomicBool,
}

impl InDoubt<'_> {
    fn set(&self, doubt: bool) {
        if doubt != self.counted.swap(doubt, Ordering::Relaxed) {
            if doubt {
                self.shared.in_doubt.fetch_add(self.spans, Ordering::Relaxed);
            } else {
                self.shared.in_doubt.fetch_sub(self.spans, Ordering::Relaxed);
            }
        }
    }
}

/// Encodes and compresses off the async reactor: a 3 MB body takes milliseconds to compress,
/// which would stall every other task on that worker thread. Protobuf is encoded straight from
/// the records: uncompressed http/protobuf bodies reference the spans' long values instead of
/// copying them (see [`BatchEncoder::pieces`]), so the spans come back shared; compressed and
/// gRPC bodies are compressed while they are encoded, long values going from the records into
/// the compressor. The gRPC frame header is written in place.
async fn prepare(
    shared: &Arc<Shared>,
    spans: Vec<SpanRecord>,
) -> (std::io::Result<Body>, usize, Arc<Vec<SpanRecord>>) {
    let worker = shared.clone();
    let job = tokio::task::spawn_blocking(move || {
        let spans = Arc::new(spans);
        let (body, raw_len) = encode_body(&worker.encoder, worker.config.compression, &spans);
        (body, raw_len, spans)
    });
    match job.await {
        Ok(done) => done,
        // The job panicked or the runtime is shutting down: nothing to send.
        Err(e) => (Err(std::io::Error::other(e.to_string())), 0, Arc::default()),
    }
}

/// The request body of `spans` as the exporter sends it (see [`prepare`]), and its length
/// before compression. Blocks: call it off the async reactor.
pub fn encode_body(
    encoder: &BatchEncoder,
    compression: Compression,
    spans: &Arc<Vec<SpanRecord>>,
) -> (std::io::Result<Body>, usize) {
    let protocol = encoder.protocol();
    match protocol {
        Protocol::HttpProtobuf if compression == Compression::None => {
            let pieces = encoder.pieces(spans);
            let raw_len = pieces.len;
            (Ok(Body::Pieces(pieces.parts.into(), pieces.len)), raw_len)
        }
        Protocol::HttpProtobuf | Protocol::Grpc => {
            let raw_len = encoder.body_len(spans);
            let prefix = if protocol == Protocol::Grpc { GRPC_HEADER } else { 0 };
            let body = compress_stream(compression, raw_len, prefix, |writer| {
                encoder.write_protobuf(spans, writer).map(|_| ())
            })
            .map(|mut body| {
                if protocol == Protocol::Grpc {
                    Transport::grpc_header(compression, &mut body);
                }
                Body::Whole(body.into())
            });
            (body, raw_len)
        }
        Protocol::HttpJson => {
            let raw = encoder.encode_records(spans);
            let raw_len = raw.len();
            (compress(compression, raw).map(|packed| Body::Whole(packed.into())), raw_len)
        }
    }
}

/// Sends one body until it is accepted, refused for good, or the retry budget is spent. Every
/// attempt is recorded.
async fn send_with_retry(shared: &Arc<Shared>, body: Body, raw_len: u64, spans: u64) -> Final {
    let doubt = InDoubt { shared, spans, counted: std::sync::atomic::AtomicBool::new(false) };
    let outcome = attempts(shared, body, raw_len, spans, &doubt).await;
    doubt.set(false);
    outcome
}

async fn attempts(
    shared: &Arc<Shared>,
    body: Body,
    raw_len: u64,
    spans: u64,
    doubt: &InDoubt<'_>,
) -> Final {
    let policy = &shared.config.retry;
    let mut waited = Duration::ZERO;
    let mut retries = 0u32;
    // Whether an attempt went out and got no answer: the backend may have stored the body.
    let mut unanswered = false;
    loop {
        let sent = Instant::now();
        doubt.set(true);
        let reply = shared.transport.send(body.clone(), shared.config.request_timeout).await;
        let record = RequestRecord {
            wire_bytes: body.len() as u64,
            raw_bytes: raw_len,
            spans,
            outcome: reply.outcome,
            latency: sent.elapsed(),
            retries,
            message: reply.message,
        };
        {
            let mut books = shared.books();
            books.requests += 1;
            books.retries += u64::from(retries > 0);
            books.bytes_wire += record.wire_bytes;
            books.bytes_raw += record.raw_bytes;
        }
        shared.observer.on_request(&record);
        unanswered |= matches!(record.outcome, RequestOutcome::Timeout | RequestOutcome::Io(_));
        doubt.set(unanswered);
        let give_up = || match record.outcome {
            _ if unanswered => Final::Unknown,
            RequestOutcome::Status(_) | RequestOutcome::GrpcStatus(_) => Final::Rejected,
            RequestOutcome::Timeout | RequestOutcome::Connect | RequestOutcome::Io(_) => {
                Final::Failed
            }
        };
        match verdict(&record.outcome, reply.retry_info) {
            Verdict::Accepted => return Final::Accepted { rejected: reply.rejected_spans },
            Verdict::Split => return Final::Split,
            Verdict::Rejected => return Final::Rejected,
            Verdict::Retry => {
                if retries >= policy.max_retries
                    || reply.retry_after.is_some_and(|after| after > policy.max_retry_after)
                {
                    return give_up();
                }
                let pause = backoff(policy, retries + 1, reply.retry_after);
                if waited + pause > policy.budget {
                    return give_up();
                }
                tokio::time::sleep(pause).await;
                waited += pause;
                retries += 1;
            }
        }
    }
}
