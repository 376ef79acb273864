//! The embedded OTLP sink: a real HTTP server that receives traces, counts them and checks
//! their parent links, and can inject faults.
//!
//! One port serves everything: `POST /v1/traces` (OTLP/HTTP, protobuf or JSON by
//! `Content-Type`, gzip or zstd by `Content-Encoding`) over HTTP/1.1 or h2c, and OTLP/gRPC
//! (`/opentelemetry.proto.collector.trace.v1.TraceService/Export`, h2c) — a gRPC client pointed
//! at the sink's address works as is. Request bodies are capped before and after decompression.

mod faults;
mod ledger;
mod light;
mod query;
mod receive;

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use faults::{Action, FaultCounts, Faults, Throttle, Trigger};
use hyper_util::rt::{TokioExecutor, TokioIo};
pub use ledger::EVICT_AFTER;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Sink settings.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkConfig {
    /// Where to listen; loopback with a free port by default.
    pub listen: SocketAddr,
    /// Largest request body accepted, both as received and after decompression (413 beyond).
    pub max_body_bytes: usize,
    pub faults: Faults,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: 64 * 1024 * 1024,
            faults: Faults::default(),
        }
    }
}

/// Why the sink could not start.
#[derive(Debug)]
pub enum SinkError {
    Bind(SocketAddr, std::io::Error),
    Config(String),
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SinkError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            SinkError::Config(e) => write!(f, "invalid sink setting: {e}"),
        }
    }
}

impl std::error::Error for SinkError {}

/// What the sink has received so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SinkStats {
    /// Requests that arrived (refused ones included).
    pub requests: u64,
    pub accepted_requests: u64,
    /// Requests answered with an error or a reset (injected faults included).
    pub rejected_requests: u64,
    /// Bodies that could not be decompressed or decoded.
    pub decode_errors: u64,
    /// Spans in accepted requests.
    pub spans: u64,
    /// Distinct trace ids among them.
    pub traces: u64,
    /// Accepted bodies as received.
    pub bytes_wire: u64,
    /// Accepted bodies after decompression.
    pub bytes_raw: u64,
    /// Spans whose parent has not arrived (so far).
    pub orphan_spans: u64,
    /// Traces whose root span has not arrived (so far).
    pub traces_without_root: u64,
    /// Spans received twice (a retry of a request that had in fact been delivered).
    pub duplicate_spans: u64,
    pub requests_http_protobuf: u64,
    pub requests_http_json: u64,
    pub requests_grpc: u64,
    pub faults: FaultCounts,
    /// Whether a stop fault has shut the listener.
    pub stopped: bool,
}

/// Shared by the handlers.
#[derive(Debug)]
struct SinkState {
    max_body_bytes: usize,
    faults: faults::FaultState,
    started: Instant,
    requests: AtomicU64,
    accepted_requests: AtomicU64,
    rejected_requests: AtomicU64,
    decode_errors: AtomicU64,
    spans: AtomicU64,
    bytes_wire: AtomicU64,
    bytes_raw: AtomicU64,
    requests_http_protobuf: AtomicU64,
    requests_http_json: AtomicU64,
    requests_grpc: AtomicU64,
    ledger: Mutex<ledger::Ledger>,
    stopped: AtomicBool,
    stop: watch::Sender<bool>,
}

impl SinkState {
    fn count_request_refused(&self) {
        self.rejected_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether a stop fault applies to request number `request`; triggers the stop if so.
    fn check_stop(&self, request: u64) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return true;
        }
        let by_count = self.faults.faults.stop_after_requests.is_some_and(|n| request > n);
        let by_time = self.faults.faults.stop_after.is_some_and(|t| self.started.elapsed() >= t);
        if by_count || by_time {
            self.stopped.store(true, Ordering::Relaxed);
            self.stop.send_replace(true);
        }
        by_count || by_time
    }

    /// Counts a decoded request's spans and records their ids.
    fn record(&self, ids: Vec<light::SpanIds>, now: Instant) {
        self.spans.fetch_add(ids.len() as u64, Ordering::Relaxed);
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        for (trace, id, parent) in ids {
            ledger.add(trace, id, parent, now);
        }
    }

    fn stats(&self) -> SinkStats {
        let counts = self
            .ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .snapshot(Instant::now(), EVICT_AFTER);
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SinkStats {
            requests: get(&self.requests),
            accepted_requests: get(&self.accepted_requests),
            rejected_requests: get(&self.rejected_requests),
            decode_errors: get(&self.decode_errors),
            spans: get(&self.spans),
            traces: counts.traces,
            bytes_wire: get(&self.bytes_wire),
            bytes_raw: get(&self.bytes_raw),
            orphan_spans: counts.orphan_spans,
            traces_without_root: counts.traces_without_root,
            duplicate_spans: counts.duplicate_spans,
            requests_http_protobuf: get(&self.requests_http_protobuf),
            requests_http_json: get(&self.requests_http_json),
            requests_grpc: get(&self.requests_grpc),
            faults: self.faults.counts.snapshot(),
            stopped: self.stopped.load(Ordering::Relaxed),
        }
    }
}

/// Lets a handler drop its own connection without answering (the reset fault).
#[derive(Clone, Debug)]
struct ConnKill(Arc<Notify>);

impl ConnKill {
    /// Asks the connection task to drop the connection, then waits to be cancelled with it.
    async fn reset(&self) -> axum::response::Response {
        self.0.notify_one();
        std::future::pending().await
    }
}

/// A sink serving on its own tasks.
#[derive(Debug)]
pub struct RunningSink {
    addr: SocketAddr,
    state: Arc<SinkState>,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningSink {
    /// Binds `config.listen` and starts serving on the current tokio runtime.
    pub async fn start(config: SinkConfig) -> Result<RunningSink, SinkError> {
        config.faults.validate().map_err(SinkError::Config)?;
        if config.max_body_bytes == 0 {
            return Err(SinkError::Config("max body size is 0: expected at least 1 byte".into()));
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| SinkError::Bind(config.listen, e))?;
        let addr = listener.local_addr().map_err(|e| SinkError::Bind(config.listen, e))?;
        let (stop, _) = watch::channel(false);
        let state = Arc::new(SinkState {
            max_body_bytes: config.max_body_bytes,
            faults: faults::FaultState::new(config.faults),
            started: Instant::now(),
            requests: AtomicU64::new(0),
            accepted_requests: AtomicU64::new(0),
            rejected_requests: AtomicU64::new(0),
            decode_errors: AtomicU64::new(0),
            spans: AtomicU64::new(0),
            bytes_wire: AtomicU64::new(0),
            bytes_raw: AtomicU64::new(0),
            requests_http_protobuf: AtomicU64::new(0),
            requests_http_json: AtomicU64::new(0),
            requests_grpc: AtomicU64::new(0),
            ledger: Mutex::new(ledger::Ledger::default()),
            stopped: AtomicBool::new(false),
            stop,
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        tokio::spawn(sweep(state.clone(), shutdown_rx.clone()));
        let server = tokio::spawn(serve(listener, state.clone(), shutdown_rx));
        Ok(RunningSink { addr, state, shutdown, server })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OTLP/HTTP traces URL (`http://ADDR/v1/traces`); gRPC clients use `http://ADDR`.
    pub fn traces_url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// Counts so far, with parent links checked now.
    pub fn stats(&self) -> SinkStats {
        self.state.stats()
    }

    /// A handle that reads the counts while the sink runs (the read-back of the embedded sink).
    pub fn reader(&self) -> SinkReader {
        SinkReader(self.state.clone())
    }

    /// Stops serving (closing every connection) and returns the final counts.
    pub async fn shutdown(self) -> SinkStats {
        self.shutdown.send_replace(true);
        let _ = self.server.await;
        self.state.stats()
    }
}

/// Reads a running sink's counts; cheap to clone.
#[derive(Clone)]
pub struct SinkReader(Arc<SinkState>);

impl fmt::Debug for SinkReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkReader").finish_non_exhaustive()
    }
}

impl SinkReader {
    pub fn stats(&self) -> SinkStats {
        self.0.stats()
    }
}

/// How often complete traces are forgotten when nobody asks for stats.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Forgets complete, idle traces periodically so the ledger's memory stays bounded during long
/// runs, whether or not anyone polls [`RunningSink::stats`].
async fn sweep(state: Arc<SinkState>, mut shutdown: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(SWEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = raised(&mut shutdown) => return,
            _ = ticks.tick() => {
                let state = state.clone();
                // Checking every trace held takes milliseconds: off the reactor.
                let _ = tokio::task::spawn_blocking(move || {
                    let mut ledger = state.ledger.lock().unwrap_or_else(|e| e.into_inner());
                    ledger.snapshot(Instant::now(), EVICT_AFTER);
                })
                .await;
            }
        }
    }
}

/// Accepts connections until shutdown or a stop fault, serving each on its own task.
async fn serve(listener: TcpListener, state: Arc<SinkState>, mut shutdown: watch::Receiver<bool>) {
    let router = receive::router(state.clone());
    let mut stop = state.stop.subscribe();
    let mut connections = JoinSet::new();
    let time_stop = state.faults.faults.stop_after;
    let stop_timer = tokio::time::sleep(time_stop.unwrap_or(Duration::from_secs(86_400 * 365)));
    tokio::pin!(stop_timer);
    loop {
        tokio::select! {
            () = raised(&mut shutdown) => break,
            () = raised(&mut stop) => break,
            () = &mut stop_timer, if time_stop.is_some() => {
                state.stopped.store(true, Ordering::Relaxed);
                break;
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                // Out of file descriptors or similar: pause instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
        while connections.try_join_next().is_some() {}
    }
    // Closing the listener refuses new connections; dropping the set closes the open ones.
    drop(listener);
    drop(connections);
    raised(&mut shutdown).await;
}

/// Waits until the flag is set (or its sender is gone).
async fn raised(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|set| *set).await.map(|_| ());
}

async fn serve_connection(stream: tokio::net::TcpStream, router: axum::Router) {
    let kill = Arc::new(Notify::new());
    let conn_kill = ConnKill(kill.clone());
    let service =
        hyper::service::service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(conn_kill.clone());
            router.clone().oneshot(request)
        });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .initial_stream_window_size(8 * 1024 * 1024)
        .initial_connection_window_size(16 * 1024 * 1024)
        .max_frame_size(1024 * 1024);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        () = kill.notified() => {}
    }
}
