//! Request handlers: OTLP/HTTP (protobuf or JSON, optionally gzip/zstd) on `/v1/traces` and
//! OTLP/gRPC on the `TraceService/Export` path, on the same port (HTTP/1.1 and h2c).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use bytes::{Buf, Bytes};
use http::StatusCode;
use http::header::{
    CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER,
};
use http_body::Frame;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

use super::faults::{Action, Faults, retry_after_value};
use super::light::SpanIds;
use super::{ConnKill, SinkState};
use crate::engine::export::GRPC_EXPORT_PATH;
use crate::engine::export::compress::{DecompressError, decompress};
use crate::engine::export::rpc_status::{GRPC_STATUS_DETAILS, retry_info_header};

pub fn router(state: Arc<SinkState>) -> Router {
    Router::new()
        .route("/v1/traces", axum::routing::post(http_traces))
        .route(GRPC_EXPORT_PATH, axum::routing::post(grpc_export))
        .merge(super::query::routes())
        .with_state(state)
}

/// Which encoding a request used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wire {
    Protobuf,
    Json,
    Grpc,
}

/// Why a request was not accepted, in protocol-neutral terms.
enum Refusal {
    Status {
        status: u16,
        retry_after: Option<std::time::Duration>,
        message: String,
        /// The request body was not read to its end: the connection cannot be reused.
        close: bool,
    },
    Reset,
}

fn refusal(status: u16, message: impl Into<String>) -> Refusal {
    Refusal::Status { status, retry_after: None, message: message.into(), close: false }
}

async fn http_traces(
    State(state): State<Arc<SinkState>>,
    Extension(kill): Extension<ConnKill>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let content_type = header_str(&headers, CONTENT_TYPE.as_str()).unwrap_or_default();
    let wire = match content_type.split(';').next().map(str::trim) {
        Some("application/x-protobuf" | "application/protobuf") => Wire::Protobuf,
        Some("application/json") => Wire::Json,
        _ => {
            state.requests.fetch_add(1, Ordering::Relaxed);
            state.count_request_refused();
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported Content-Type `{content_type}`: expected application/x-protobuf or application/json"),
            )
                .into_response();
        }
    };
    match receive(&state, &headers, body, wire).await {
        Ok(()) => {
            let response = ExportTraceServiceResponse { partial_success: None };
            match wire {
                Wire::Json => (
                    [(CONTENT_TYPE, "application/json")],
                    serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()),
                )
                    .into_response(),
                _ => ([(CONTENT_TYPE, "application/x-protobuf")], response.encode_to_vec())
                    .into_response(),
            }
        }
        Err(Refusal::Reset) => kill.reset().await,
        Err(Refusal::Status { status, retry_after, message, close }) => {
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), message)
                    .into_response();
            if let Some(after) = retry_after
                && let Ok(value) = HeaderValue::from_str(&retry_after_value(after))
            {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            if close {
                response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    }
}

async fn grpc_export(
    State(state): State<Arc<SinkState>>,
    Extension(kill): Extension<ConnKill>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(&state, &headers, body, Wire::Grpc).await {
        Ok(()) => {
            let message = ExportTraceServiceResponse { partial_success: None }.encode_to_vec();
            let mut frame = Vec::with_capacity(message.len() + 5);
            frame.push(0);
            frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
            frame.extend_from_slice(&message);
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            let frames = futures_util::stream::iter([
                Ok::<_, Infallible>(Frame::data(Bytes::from(frame))),
                Ok(Frame::trailers(trailers)),
            ]);
            let mut response = Response::new(Body::new(http_body_util::StreamBody::new(frames)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
            response
        }
        Err(Refusal::Reset) => kill.reset().await,
        Err(Refusal::Status { status, retry_after, message, .. }) => {
            // Trailers-only response: the status travels in the headers. Throttling carries a
            // google.rpc.RetryInfo (the OTLP/gRPC signal that the server can recover, with
            // the delay); a message too large is RESOURCE_EXHAUSTED without one.
            let (code, throttled) = match status {
                429 => (8, true),   // RESOURCE_EXHAUSTED
                503 => (14, true),  // UNAVAILABLE
                413 => (8, false),  // RESOURCE_EXHAUSTED
                415 => (12, false), // UNIMPLEMENTED
                _ => (3, false),    // INVALID_ARGUMENT
            };
            let message = message.replace(|c: char| !c.is_ascii_graphic() && c != ' ', "_");
            let mut response = Response::new(Body::empty());
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
            headers.insert("grpc-status", HeaderValue::from(code));
            if let Ok(value) = HeaderValue::from_str(&message) {
                headers.insert("grpc-message", value);
            }
            if throttled
                && let Ok(value) =
                    HeaderValue::from_str(&retry_info_header(code, &message, retry_after))
            {
                headers.insert(GRPC_STATUS_DETAILS, value);
            }
            response
        }
    }
}

/// Applies faults, reads and decodes one request, and records it.
async fn receive(
    state: &SinkState,
    headers: &HeaderMap,
    body: Body,
    wire: Wire,
) -> Result<(), Refusal> {
    let request = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let refused = |r: Refusal| {
        state.count_request_refused();
        Err(r)
    };
    if state.check_stop(request) {
        state.faults.counts.refused_after_stop.fetch_add(1, Ordering::Relaxed);
        return refused(Refusal::Reset);
    }
    if let Some(delay) = state.faults.delay() {
        tokio::time::sleep(delay).await;
    }
    let declared_len =
        header_str(headers, CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<usize>().ok());
    match state.faults.decide(request, declared_len) {
        Action::Proceed => {}
        Action::Reset => return refused(Refusal::Reset),
        Action::Respond { status, retry_after } => {
            let drained = drain(body, drain_cap(state.max_body_bytes)).await;
            return refused(Refusal::Status {
                status,
                retry_after,
                message: fault_message(wire, status, declared_len, &state.faults.faults),
                close: !drained,
            });
        }
    }
    let limit = state.max_body_bytes;
    if let Some(len) = declared_len.filter(|len| *len > limit) {
        let drained = drain(body, drain_cap(limit)).await;
        return refused(Refusal::Status {
            status: 413,
            retry_after: None,
            message: too_large(wire, Some(len), limit),
            close: !drained,
        });
    }
    let grpc_overhead = if wire == Wire::Grpc { 5 } else { 0 };
    // Collected as a list of chunks, not copied into one buffer: uncompressed protobuf is
    // decoded straight from the chunks.
    let limited = http_body_util::Limited::new(body, limit + grpc_overhead);
    let mut received = match limited.collect().await {
        Ok(collected) => collected.aggregate(),
        Err(_) => {
            // Stopped reading mid-body (or the client went away): the connection is done.
            return refused(Refusal::Status {
                status: 413,
                retry_after: None,
                message: too_large(wire, None, limit),
                close: true,
            });
        }
    };
    let wire_len = received.remaining();
    if declared_len.is_none()
        && let Action::Respond { status, retry_after } = state.faults.check_size(wire_len)
    {
        return refused(Refusal::Status {
            status,
            retry_after,
            message: fault_message(wire, status, Some(wire_len), &state.faults.faults),
            close: false,
        });
    }
    let encoding = match wire {
        Wire::Grpc => {
            // A unary call: one frame of flag (1 = compressed), length, message.
            let frame = (wire_len >= 5).then(|| (received.get_u8(), received.get_u32() as usize));
            match frame {
                Some((flag, len)) if received.remaining() == len => {
                    (flag == 1).then(|| header_str(headers, "grpc-encoding").unwrap_or("gzip"))
                }
                _ => {
                    state.decode_errors.fetch_add(1, Ordering::Relaxed);
                    return refused(refusal(400, "malformed gRPC frame"));
                }
            }
        }
        _ => header_str(headers, CONTENT_ENCODING.as_str()),
    };
    let identity = matches!(encoding.map(str::trim), None | Some("" | "identity"));
    let (decoded, raw_len) = if identity && wire != Wire::Json {
        // Skipping over attribute bytes is cheap: decode in place.
        let raw_len = received.remaining();
        (super::light::protobuf(received), raw_len)
    } else {
        // Decompressing or parsing JSON takes milliseconds per megabyte: off the reactor, so
        // the scheduler and exporter sharing this runtime keep their timing.
        let message = received.copy_to_bytes(received.remaining());
        let encoding = encoding.map(str::to_owned);
        let work = move || unpack(wire, encoding.as_deref(), &message, limit);
        match tokio::task::spawn_blocking(work).await {
            Ok(Ok(done)) => done,
            Ok(Err(Unpack::TooLarge)) => {
                let message = match wire {
                    Wire::Grpc => too_large(wire, None, limit),
                    _ => format!("decompressed body larger than the {limit}-byte limit"),
                };
                return refused(refusal(413, message));
            }
            Ok(Err(Unpack::Unsupported(e))) => return refused(refusal(415, e)),
            Ok(Err(Unpack::Invalid(e))) => {
                state.decode_errors.fetch_add(1, Ordering::Relaxed);
                return refused(refusal(400, e));
            }
            Err(e) => return refused(refusal(500, format!("decoding failed: {e}"))),
        }
    };
    match decoded {
        Ok(ids) => state.record(ids, Instant::now()),
        Err(e) => {
            state.decode_errors.fetch_add(1, Ordering::Relaxed);
            return refused(refusal(400, e));
        }
    }
    state.bytes_wire.fetch_add(wire_len as u64, Ordering::Relaxed);
    state.bytes_raw.fetch_add(raw_len as u64, Ordering::Relaxed);
    let by_wire = match wire {
        Wire::Protobuf => &state.requests_http_protobuf,
        Wire::Json => &state.requests_http_json,
        Wire::Grpc => &state.requests_grpc,
    };
    by_wire.fetch_add(1, Ordering::Relaxed);
    state.accepted_requests.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Why a body of `size` bytes (when known) is refused against `limit`. gRPC words it as gRPC
/// servers do for a message above their maximum.
fn too_large(wire: Wire, size: Option<usize>, limit: usize) -> String {
    match (wire, size) {
        (Wire::Grpc, Some(size)) => format!("message larger than max ({size} vs. {limit})"),
        (Wire::Grpc, None) => format!("message larger than max ({limit})"),
        _ => format!("body larger than the {limit}-byte limit"),
    }
}

/// The message of an injected fault answered with `status`.
fn fault_message(wire: Wire, status: u16, size: Option<usize>, faults: &Faults) -> String {
    match (wire, status, faults.reject_above) {
        (Wire::Grpc, 413, Some(limit)) => too_large(wire, size, limit),
        _ => format!("injected fault: {status}"),
    }
}

/// Reads and discards up to `cap` bytes of a body being refused; whether it reached the end.
/// An HTTP/1.1 client is still writing its body when an early answer arrives; if the server
/// closes instead of reading, the client sees a broken pipe rather than the 413 or 429 it should
/// act on.
async fn drain(body: Body, cap: usize) -> bool {
    let mut body = http_body_util::Limited::new(body, cap);
    loop {
        match body.frame().await {
            None => return true,
            Some(Ok(_)) => {}
            Some(Err(_)) => return false,
        }
    }
}

/// How much of a refused body the sink reads: enough for any batch a client would send to a
/// body of `limit` bytes, bounded so a huge upload cannot keep the sink busy.
fn drain_cap(limit: usize) -> usize {
    limit.saturating_mul(4).max(64 << 20)
}

/// Why a body could not be decompressed and decoded.
enum Unpack {
    TooLarge,
    Unsupported(String),
    Invalid(String),
}

/// Decompresses (within `limit`) and decodes a body: the span ids and the raw size.
fn unpack(
    wire: Wire,
    encoding: Option<&str>,
    message: &Bytes,
    limit: usize,
) -> Result<(Result<Vec<SpanIds>, String>, usize), Unpack> {
    let raw = match decompress(encoding, message, limit) {
        Ok(Some(raw)) => Bytes::from(raw),
        Ok(None) => message.clone(),
        Err(DecompressError::TooLarge) => return Err(Unpack::TooLarge),
        Err(e @ DecompressError::UnknownEncoding(_)) => {
            return Err(Unpack::Unsupported(e.to_string()));
        }
        Err(e @ DecompressError::Invalid(_)) => return Err(Unpack::Invalid(e.to_string())),
    };
    let decoded = match wire {
        Wire::Json => super::light::json(&raw),
        _ => super::light::protobuf(raw.clone()),
    };
    Ok((decoded, raw.len()))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
