//! What the exporter is told: where to send, how to encode and compress, how to batch and retry.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::platform::Protocol;

/// Request body compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    /// gzip at level 1 (zlib-rs): higher levels cost several times the CPU for a few percent.
    Gzip,
    /// zstd at level 1: the fastest setting, still 3-12x on chat JSON.
    Zstd,
}

impl Compression {
    /// The `Content-Encoding` / `grpc-encoding` token, or `None` for no compression.
    pub fn encoding(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encoding().unwrap_or("none"))
    }
}

/// A value that is not one of the accepted spellings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseChoiceError {
    what: &'static str,
    value: String,
    expected: &'static str,
}

impl fmt::Display for ParseChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`: expected {}", self.what, self.value, self.expected)
    }
}

impl std::error::Error for ParseChoiceError {}

impl FromStr for Compression {
    type Err = ParseChoiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            _ => Err(ParseChoiceError {
                what: "compression",
                value: s.to_owned(),
                expected: "one of none, gzip, zstd",
            }),
        }
    }
}

/// When and how often a failed request is sent again.
///
/// Retried: HTTP 429, 502, 503, 504, timeouts and connection failures (gRPC: UNAVAILABLE,
/// DEADLINE_EXCEEDED, ABORTED and the other transient codes, and RESOURCE_EXHAUSTED when it
/// carries a `google.rpc.RetryInfo`, whose delay counts as a `Retry-After`). Never retried:
/// other 4xx, notably 400, which would fail again. 413 (gRPC: RESOURCE_EXHAUSTED without
/// `RetryInfo`) is not retried as is: the batch is split.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries per batch after its first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// Backoff before the first retry; doubles each time, with full jitter.
    pub initial_backoff: Duration,
    /// Cap on one computed backoff.
    pub max_backoff: Duration,
    /// Cap on a server's `Retry-After`: a server asking for an hour must not stall the run.
    pub max_retry_after: Duration,
    /// Total time one batch may spend waiting between attempts. The retry budget: once spent,
    /// the batch's spans are counted as rejected (or failed) instead of waiting longer.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            budget: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }
}

/// gRPC's default maximum message size (grpc-go, grpc-java, the OpenTelemetry Collector):
/// larger messages are refused with RESOURCE_EXHAUSTED.
pub const GRPC_MAX_MESSAGE_BYTES: usize = 4 << 20;

/// Everything the exporter needs. Build with [`ExportConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct ExportConfig {
    /// The full traces URL (`https://host/v1/traces`). For gRPC only scheme, host and port count.
    pub endpoint: String,
    /// Extra request headers (auth, project routing). Values are never logged.
    pub headers: Vec<(String, String)>,
    pub protocol: Protocol,
    pub compression: Compression,
    /// Most spans in one request.
    pub max_batch_spans: usize,
    /// Most bytes in one request body before compression. Keep it under the platform's limit
    /// (3 MB by default); a batch that encodes larger is split before sending. For gRPC it is
    /// capped at [`GRPC_MAX_MESSAGE_BYTES`].
    pub max_batch_bytes: usize,
    /// A partial batch is sent after waiting this long for more spans.
    pub batch_timeout: Duration,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// Room for spans, queued or reserved by running traces (a trace starts only when the room
    /// for all its spans is free, see `ExportHandle::reserve`). Bounded, so a slow backend never
    /// blocks the load generator or grows memory without limit; large, because with the real
    /// clock a long trace holds the room for its spans until it has emitted them (only queued
    /// spans take memory).
    pub queue_spans: usize,
    /// Encoded bytes (as estimated for batching) the queue may hold before new traces are
    /// refused: spans are counted, but their size varies 1000-fold, and a backend slower than
    /// the generator must not fill memory with a queue of large spans. Admitted traces always
    /// have room for their spans: while the queue holds more than [`HOLD_FACTOR`] times this,
    /// they wait at the end of a simulated latency instead (see `SpanSink::hold`), so memory stays
    /// bounded and no span is dropped.
    pub queue_bytes: usize,
    /// Per-attempt timeout, from send to the end of the response.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

/// Running traces wait at the end of a simulated latency while the queue holds more than this many
/// times [`ExportConfig::queue_bytes`] (new traces are refused from one time).
pub const HOLD_FACTOR: usize = 4;

impl ExportConfig {
    /// Defaults: http/protobuf, no compression, 512 spans or 3 MB per request, 200 ms batch
    /// timeout, 8 requests in flight, room for 8,388,608 spans (100,000 traces of the
    /// largest built-in scenario, 80 spans, in flight) and 64 MiB queued, 10 s request timeout.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            headers: Vec::new(),
            protocol: Protocol::HttpProtobuf,
            compression: Compression::None,
            max_batch_spans: 512,
            max_batch_bytes: 3_000_000,
            batch_timeout: Duration::from_millis(200),
            max_in_flight: 8,
            queue_spans: 1 << 23,
            queue_bytes: 64 << 20,
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

impl ExportConfig {
    /// This configuration with the limits of its protocol applied: a gRPC batch never exceeds
    /// gRPC's default maximum message size.
    pub fn for_protocol(mut self) -> Self {
        if self.protocol == Protocol::Grpc {
            self.max_batch_bytes = self.max_batch_bytes.min(GRPC_MAX_MESSAGE_BYTES);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_batches_stay_under_the_default_message_size() {
        let mut config = ExportConfig::new("http://127.0.0.1:4317");
        config.protocol = Protocol::Grpc;
        assert!(config.clone().for_protocol().max_batch_bytes <= GRPC_MAX_MESSAGE_BYTES);
        config.max_batch_bytes = 16 << 20;
        assert_eq!(config.clone().for_protocol().max_batch_bytes, GRPC_MAX_MESSAGE_BYTES);
        config.protocol = Protocol::HttpProtobuf;
        assert_eq!(config.for_protocol().max_batch_bytes, 16 << 20);
    }

    #[test]
    fn parses_compression_and_names_bad_values() {
        assert_eq!("ZSTD".parse::<Compression>(), Ok(Compression::Zstd));
        assert_eq!(" none ".parse::<Compression>(), Ok(Compression::None));
        let err = "brotli".parse::<Compression>().unwrap_err().to_string();
        assert_eq!(err, "unknown compression `brotli`: expected one of none, gzip, zstd");
    }
}
