//! Sends one encoded body and reports what happened: HTTP and gRPC (HTTP/2 only, the status
//! read from the trailers) via reqwest.
//!
//! gRPC messages are framed here rather than through the generated client so the exporter
//! compresses them itself (same fast settings as HTTP) and knows the exact bytes on the wire.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http_body_util::BodyExt;

use super::config::{Compression, ExportConfig};
use super::retry::parse_retry_after;
use super::rpc_status::{GRPC_STATUS_DETAILS, retry_info_in_header};
use super::{ExportError, RequestOutcome};
use crate::platform::Protocol;

/// The gRPC method OTLP trace export calls.
pub const GRPC_EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Bytes before a gRPC message: the compressed flag and the message's length.
pub const GRPC_HEADER: usize = 5;

/// A request body as it goes out: whole, or in pieces written one after the other (see
/// [`super::encode::BatchEncoder::pieces`]). Cloning shares the bytes.
#[derive(Clone, Debug)]
pub enum Body {
    Whole(Bytes),
    Pieces(Arc<[Bytes]>, usize),
}

impl Body {
    /// Bytes on the wire.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        match self {
            Body::Whole(bytes) => bytes.len(),
            Body::Pieces(_, len) => *len,
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Body::Whole(bytes) => bytes,
            Body::Pieces(parts, len) => {
                let mut whole = BytesMut::with_capacity(len);
                for part in parts.iter() {
                    whole.put_slice(part);
                }
                whole.freeze()
            }
        }
    }

    /// The body for reqwest: pieces go out with a `Content-Length`, in vectored writes.
    pub fn into_request_body(self) -> reqwest::Body {
        match self {
            Body::Whole(bytes) => reqwest::Body::from(bytes),
            Body::Pieces(parts, len) => {
                reqwest::Body::wrap(PiecesBody { parts, next: 0, remaining: len as u64 })
            }
        }
    }
}

/// The pieces of a body as an HTTP body of known length (so it goes out with a
/// `Content-Length`, written with vectored writes).
struct PiecesBody {
    parts: Arc<[Bytes]>,
    next: usize,
    remaining: u64,
}

impl http_body::Body for PiecesBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let part = this.parts.get(this.next).cloned();
        if let Some(part) = &part {
            this.next += 1;
            this.remaining = this.remaining.saturating_sub(part.len() as u64);
        }
        std::task::Poll::Ready(part.map(|part| Ok(http_body::Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.parts.len()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// The answer to one attempt.
#[derive(Debug)]
pub struct Reply {
    pub outcome: RequestOutcome,
    /// The server's requested pause (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
    /// Spans a successful answer says it rejected anyway (OTLP partial success).
    pub rejected_spans: u64,
    /// The gRPC status carried a `google.rpc.RetryInfo`: the server says it can recover.
    pub retry_info: bool,
    /// What the backend said with a refusal: the start of an HTTP error body, or the gRPC
    /// `grpc-message`. Header values (credentials) are taken out.
    pub message: Option<String>,
}

impl Reply {
    fn new(outcome: RequestOutcome, retry_after: Option<Duration>) -> Self {
        Self { outcome, retry_after, rejected_spans: 0, retry_info: false, message: None }
    }
}

/// The `rejected_spans` of an `ExportTraceServiceResponse` (protobuf or JSON); 0 when the body
/// is empty or unreadable, since the status already said the request succeeded.
pub fn partial_rejections(body: &[u8], json: bool) -> u64 {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    use prost::Message;
    if body.is_empty() {
        return 0;
    }
    if json {
        // OTLP/JSON allows int64 as a number or a string.
        let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let rejected = value.as_ref().and_then(|v| v.get("partialSuccess")?.get("rejectedSpans"));
        return match rejected {
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
            _ => 0,
        };
    }
    ExportTraceServiceResponse::decode(body)
        .ok()
        .and_then(|r| r.partial_success)
        .map_or(0, |p| u64::try_from(p.rejected_spans).unwrap_or(0))
}

#[derive(Debug, Clone)]
pub enum Transport {
    Http { client: reqwest::Client, url: reqwest::Url, headers: HeaderMap },
    Grpc { client: reqwest::Client, url: reqwest::Url, headers: HeaderMap },
}

impl Transport {
    /// Builds the client for `config`. Connections are made lazily, so a dead endpoint shows up
    /// as failed requests, not as a start-up error.
    pub fn new(config: &ExportConfig) -> Result<Self, ExportError> {
        let url = reqwest::Url::parse(&config.endpoint)
            .map_err(|e| ExportError::Endpoint(format!("`{}`: {e}", config.endpoint)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ExportError::Endpoint(format!(
                "`{}`: expected an http:// or https:// URL with a host",
                config.endpoint
            )));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let header = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
                .map_err(|_| ExportError::Header(format!("invalid header name `{name}`")))?;
            // The value is a secret more often than not: the message names only the header.
            let value = HeaderValue::from_str(value.trim()).map_err(|_| {
                ExportError::Header(format!("invalid characters in the value of header `{name}`"))
            })?;
            headers.append(header, value);
        }
        // Both protocols: no proxy for loopback (the embedded sink: a proxy from the environment
        // must not sit in between), a bounded connect, no Nagle, our user agent.
        let mut builder = http_client_builder()
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .tcp_nodelay(true)
            .user_agent(concat!("scaletest/", env!("CARGO_PKG_VERSION")));
        if url.host_str().is_some_and(is_loopback) {
            builder = builder.no_proxy();
        }
        let build = |builder: reqwest::ClientBuilder| {
            builder.build().map_err(|e| ExportError::Client(e.to_string()))
        };
        match config.protocol {
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                let content_type = match config.protocol {
                    Protocol::HttpJson => "application/json",
                    _ => "application/x-protobuf",
                };
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                if let Some(encoding) = config.compression.encoding() {
                    headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
                }
                let client = build(
                    builder
                        .pool_max_idle_per_host(config.max_in_flight.max(1))
                        .timeout(config.request_timeout),
                )?;
                Ok(Transport::Http { client, url, headers })
            }
            Protocol::Grpc => {
                let mut url = url;
                url.set_path(GRPC_EXPORT_PATH);
                url.set_query(None);
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
                headers.insert("te", HeaderValue::from_static("trailers"));
                if let Some(encoding) = config.compression.encoding() {
                    headers.insert("grpc-encoding", HeaderValue::from_static(encoding));
                }
                // HTTP/2 only: without TLS by prior knowledge (h2c), with TLS by ALPN `h2`. The
                // request's deadline is kept by `send` (a timeout around the whole call).
                let client = build(builder.http2_prior_knowledge().http2_adaptive_window(true))?;
                Ok(Transport::Grpc { client, url, headers })
            }
        }
    }

    /// Turns `frame`, a (compressed) protobuf message after [`GRPC_HEADER`] bytes of room, into
    /// a gRPC frame: the compressed flag and the message's length go into that room.
    pub fn grpc_header(compression: Compression, frame: &mut [u8]) {
        if frame.len() < GRPC_HEADER {
            return;
        }
        let len = u32::try_from(frame.len() - GRPC_HEADER).unwrap_or(u32::MAX);
        frame[0] = u8::from(compression != Compression::None);
        frame[1..GRPC_HEADER].copy_from_slice(&len.to_be_bytes());
    }

    /// Sends `body` (already encoded, compressed and, for gRPC, framed) once.
    pub async fn send(&self, body: Body, timeout: Duration) -> Reply {
        match self {
            Transport::Http { client, url, headers } => {
                let request = client.post(url.clone()).headers(headers.clone()).timeout(timeout);
                match request.body(body.into_request_body()).send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let retry_after = retry_after(response.headers());
                        let json = response
                            .headers()
                            .get(CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .is_some_and(|v| v.contains("json"));
                        // Read the (small) body to the end so the connection goes back to the pool.
                        match response.bytes().await {
                            Ok(body) if (200..300).contains(&status) => Reply {
                                rejected_spans: partial_rejections(&body, json),
                                ..Reply::new(RequestOutcome::Status(status), retry_after)
                            },
                            Ok(body) => Reply {
                                message: error_message(&body, headers),
                                ..Reply::new(RequestOutcome::Status(status), retry_after)
                            },
                            Err(e) => Reply::new(classify_reqwest(&e), None),
                        }
                    }
                    Err(e) => Reply::new(classify_reqwest(&e), None),
                }
            }
            Transport::Grpc { client, url, headers } => {
                let body = body.into_bytes();
                match tokio::time::timeout(timeout, grpc_call(client, url, headers, body)).await {
                    Ok(reply) => reply,
                    Err(_) => Reply::new(RequestOutcome::Timeout, None),
                }
            }
        }
    }
}

async fn grpc_call(
    client: &reqwest::Client,
    url: &reqwest::Url,
    headers: &HeaderMap,
    body: Bytes,
) -> Reply {
    let sent = client.post(url.clone()).headers(headers.clone()).body(body).send().await;
    let response: http::Response<reqwest::Body> = match sent {
        Ok(response) => response.into(),
        Err(e) => return Reply::new(classify_reqwest(&e), None),
    };
    let (parts, body) = response.into_parts();
    if parts.status != http::StatusCode::OK {
        return Reply::new(
            RequestOutcome::Status(parts.status.as_u16()),
            retry_after(&parts.headers),
        );
    }
    // Trailers-only responses carry the status in the headers.
    if let Some(code) = grpc_status(&parts.headers) {
        return grpc_reply(code, &parts.headers);
    }
    let collected = match body.collect().await {
        Ok(collected) => collected,
        Err(e) => {
            let error = format!("gRPC response body: {}", error_chain(&e));
            return Reply::new(RequestOutcome::Io(error), None);
        }
    };
    let Some(trailers) = collected.trailers().cloned() else {
        return Reply::new(RequestOutcome::Io("gRPC response without trailers".into()), None);
    };
    let Some(code) = grpc_status(&trailers) else {
        return Reply::new(RequestOutcome::Io("gRPC response without grpc-status".into()), None);
    };
    let mut reply = grpc_reply(code, &trailers);
    if code == 0 {
        // One uncompressed frame (we never offer a response encoding): flag, length, message.
        let frame = collected.to_bytes();
        if frame.len() > 5 && frame[0] == 0 {
            reply.rejected_spans = partial_rejections(&frame[5..], false);
        }
    }
    reply
}

/// The reply for gRPC status `code` with its trailers: the delay is `RetryInfo`'s
/// `retry_delay`, else a `Retry-After` (some proxies send one).
fn grpc_reply(code: i32, trailers: &HeaderMap) -> Reply {
    let retry_info =
        trailers.get(GRPC_STATUS_DETAILS).and_then(|v| retry_info_in_header(v.as_bytes()));
    let delay = retry_info.flatten().or_else(|| retry_after(trailers));
    let message = trailers.get("grpc-message").and_then(|v| {
        let text = percent_encoding::percent_decode(v.as_bytes()).decode_utf8_lossy();
        error_message(text.as_bytes(), &HeaderMap::new())
    });
    Reply {
        retry_info: retry_info.is_some(),
        message: if code == 0 { None } else { message },
        ..Reply::new(RequestOutcome::GrpcStatus(code), delay)
    }
}

/// Most bytes of a backend's error message kept for the report.
pub const ERROR_MESSAGE_BYTES: usize = 300;

/// The start of an error body as text (at most [`ERROR_MESSAGE_BYTES`], cut on a character
/// boundary, whitespace folded), with every header value we sent taken out: a backend that
/// echoes the request must not put a key into the report. `None` when empty.
fn error_message(body: &[u8], sent: &HeaderMap) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(4 * ERROR_MESSAGE_BYTES)]);
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for value in sent.values().filter_map(|v| v.to_str().ok()) {
        // Short values (`1`, `json`) are not credentials and would blank ordinary words.
        for secret in [value, value.rsplit(' ').next().unwrap_or(value)] {
            if secret.len() >= 8 {
                text = text.replace(secret, "<redacted>");
            }
        }
    }
    let mut end = text.len().min(ERROR_MESSAGE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (!text.is_empty()).then_some(text)
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn grpc_status(headers: &HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.trim().parse().ok()
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(http::header::RETRY_AFTER)?.to_str().ok()?, SystemTime::now())
}

/// A reqwest client builder, with rustls's ring provider installed as the process default
/// (rustls is built with ring alone, which reqwest does not pick by itself). Any reqwest
/// client in the process, tests included, must come from here or after a call to it.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    // An error means a provider is installed already, which serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

fn classify_reqwest(error: &reqwest::Error) -> RequestOutcome {
    if error.is_timeout() {
        RequestOutcome::Timeout
    } else if error.is_connect() {
        RequestOutcome::Connect
    } else {
        RequestOutcome::Io(error_chain(error))
    }
}

/// An error and its sources on one line (reqwest's top-level message alone says little).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_short_and_keep_no_credential() {
        let mut sent = HeaderMap::new();
        sent.insert("authorization", HeaderValue::from_static("Bearer sk-live-0123456789"));
        sent.insert("x-project", HeaderValue::from_static("demo"));
        let body = b"{\"error\": \"bad key Bearer sk-live-0123456789\",\n  \"project\": \"demo\"}";
        let message = error_message(body, &sent).unwrap_or_default();
        assert!(!message.contains("sk-live"), "{message}");
        assert!(message.contains("<redacted>") && message.contains("demo"), "{message}");
        assert!(!message.contains('\n'));
        let long = "é".repeat(400);
        let cut = error_message(long.as_bytes(), &sent).unwrap_or_default();
        assert!(cut.len() <= ERROR_MESSAGE_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(error_message(b"  ", &sent), None);
    }
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use prost::Message;

    #[test]
    fn reads_partial_success_in_both_encodings() {
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 7,
                error_message: "too old".into(),
            }),
        };
        assert_eq!(partial_rejections(&response.encode_to_vec(), false), 7);
        let json = serde_json::to_vec(&response).expect("serializes");
        assert_eq!(partial_rejections(&json, true), 7);
        assert_eq!(partial_rejections(br#"{"partialSuccess":{"rejectedSpans":"3"}}"#, true), 3);
        assert_eq!(partial_rejections(b"", false), 0);
        assert_eq!(partial_rejections(b"not a response", true), 0);
    }

    #[test]
    fn grpc_header_states_flag_and_length() {
        let mut frame = vec![0u8; GRPC_HEADER];
        frame.extend_from_slice(&[7; 300]);
        Transport::grpc_header(Compression::Zstd, &mut frame);
        assert_eq!(&frame[..GRPC_HEADER], &[1, 0, 0, 1, 44]);
        Transport::grpc_header(Compression::None, &mut frame);
        assert_eq!(frame[0], 0);
        assert_eq!(&frame[GRPC_HEADER..], &[7; 300]);
    }

    #[test]
    fn loopback_hosts_are_recognized() {
        assert!(is_loopback("127.0.0.1") && is_loopback("[::1]") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("api.braintrust.dev") && !is_loopback("10.0.0.1"));
    }
}
