//! Shared by the read-back tests: a store of fake spans that become visible over time, the
//! ledger of what was "sent", and a loopback HTTP server for platform fakes.
#![allow(dead_code)] // each test file uses a different part

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scenario_runtime::engine::verify::Ledger;
use tokio::time::Instant;

/// One span a fake backend holds.
#[derive(Clone, Debug)]
pub struct FakeSpan {
    pub trace: [u8; 16],
    pub span: [u8; 8],
    pub parent: Option<[u8; 8]>,
    /// The kind the platform assigned, in its own words.
    pub kind: &'static str,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// When it becomes readable, counted from the store's creation.
    pub visible_after: Duration,
}

/// A trace of `spans` spans (>= 1): an agent root, then alternately an LLM call (with tokens)
/// and a tool call, all children of the root. Kinds are given as (agent, llm, tool).
pub fn trace(n: u8, spans: u8, kinds: (&'static str, &'static str, &'static str)) -> Vec<FakeSpan> {
    let trace = [n; 16];
    let id = |i: u8| [n, i, 0, 0, 0, 0, 0, 1];
    (0..spans)
        .map(|i| {
            let llm = i % 2 == 1;
            FakeSpan {
                trace,
                span: id(i),
                parent: (i > 0).then(|| id(0)),
                kind: if i == 0 {
                    kinds.0
                } else if llm {
                    kinds.1
                } else {
                    kinds.2
                },
                input_tokens: llm.then_some(100),
                output_tokens: llm.then_some(7),
                visible_after: Duration::ZERO,
            }
        })
        .collect()
}

/// What a fake backend holds, and what it was asked.
#[derive(Debug)]
pub struct Store {
    pub spans: Vec<FakeSpan>,
    /// What `visible_after` counts from.
    pub started: Mutex<Instant>,
    /// (when, method and path with query) of every request.
    pub requests: Mutex<Vec<(Instant, String)>>,
    /// Requests still to answer 429 with `Retry-After: 1`.
    pub throttle: AtomicU32,
}

impl Store {
    pub fn new(spans: Vec<FakeSpan>) -> Self {
        Self {
            spans,
            started: Mutex::new(Instant::now()),
            requests: Mutex::default(),
            throttle: AtomicU32::new(0),
        }
    }

    /// Restarts the visibility clock (call it when the run's spans are acknowledged).
    pub fn restart_clock(&self) {
        *self.started.lock().unwrap() = Instant::now();
    }

    pub fn visible(&self) -> Vec<FakeSpan> {
        let elapsed = self.started.lock().unwrap().elapsed();
        self.spans.iter().filter(|s| s.visible_after <= elapsed).cloned().collect()
    }

    pub fn visible_trace(&self, trace: &[u8; 16]) -> Vec<FakeSpan> {
        self.visible().into_iter().filter(|s| &s.trace == trace).collect()
    }

    /// Logs the request; answers 429 while throttling.
    pub fn enter(&self, what: String) -> Option<Response> {
        self.requests.lock().unwrap().push((Instant::now(), what));
        let throttled = self
            .throttle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        throttled.then(|| {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], "rate limit exceeded")
                .into_response()
        })
    }

    pub fn request_times(&self) -> Vec<Instant> {
        self.requests.lock().unwrap().iter().map(|(at, _)| *at).collect()
    }

    pub fn request_log(&self) -> Vec<String> {
        self.requests.lock().unwrap().iter().map(|(_, what)| what.clone()).collect()
    }
}

/// The ledger of a run that sent `spans`, every trace acknowledged at `at_ms`.
pub fn ledger(spans: &[FakeSpan], at_ms: u64) -> Ledger {
    let mut ledger = Ledger::new();
    for s in spans {
        ledger.accept(s.trace, 1, s.parent.is_none(), at_ms.saturating_sub(1_000), at_ms);
    }
    ledger
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON answer.
pub fn json(value: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

pub fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, r#"{"message":"Invalid credentials"}"#).into_response()
}

pub fn bad_request(why: String) -> Response {
    (StatusCode::BAD_REQUEST, why).into_response()
}

pub fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()) == Some(value)
}

/// The decoded value of `key` in a query string.
pub fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves `router` on 127.0.0.1; returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}
