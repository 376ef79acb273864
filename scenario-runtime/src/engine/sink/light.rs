//! Decoding only what the sink checks: the ids of every span.
//!
//! The sink must keep up with the load generator on the same machine, so it does not
//! materialize attributes: the protobuf messages below declare only the id fields, and prost
//! skips the others (still walking the wire format, so a malformed body is refused). JSON is
//! parsed completely by serde, but attribute values are skipped without being stored.

use bytes::Bytes;
use prost::Message;

use crate::span::{SpanId, TraceId};

/// The ids of one received span.
pub type SpanIds = (TraceId, SpanId, Option<SpanId>);

/// `ExportTraceServiceRequest` with only `resource_spans`.
#[derive(Clone, PartialEq, prost::Message)]
struct Request {
    #[prost(message, repeated, tag = "1")]
    resource_spans: Vec<ResourceSpans>,
}

/// `ResourceSpans` with only `scope_spans`.
#[derive(Clone, PartialEq, prost::Message)]
struct ResourceSpans {
    #[prost(message, repeated, tag = "2")]
    scope_spans: Vec<ScopeSpans>,
}

/// `ScopeSpans` with only `spans`.
#[derive(Clone, PartialEq, prost::Message)]
struct ScopeSpans {
    #[prost(message, repeated, tag = "2")]
    spans: Vec<Span>,
}

/// `Span` with only its ids (slices of the request body, not copies).
#[derive(Clone, PartialEq, prost::Message)]
struct Span {
    #[prost(bytes = "bytes", tag = "1")]
    trace_id: Bytes,
    #[prost(bytes = "bytes", tag = "2")]
    span_id: Bytes,
    #[prost(bytes = "bytes", tag = "4")]
    parent_span_id: Bytes,
}

/// The span ids in a protobuf `ExportTraceServiceRequest`.
pub fn protobuf(body: impl bytes::Buf) -> Result<Vec<SpanIds>, String> {
    let request = Request::decode(body).map_err(|e| format!("undecodable OTLP protobuf: {e}"))?;
    let spans =
        request.resource_spans.iter().flat_map(|rs| &rs.scope_spans).flat_map(|ss| &ss.spans);
    spans.map(|s| ids(&s.trace_id, &s.span_id, &s.parent_span_id)).collect()
}

mod json {
    //! The OTLP/JSON mapping: camelCase names, ids as hex strings.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Request {
        #[serde(default)]
        pub resource_spans: Vec<ResourceSpans>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ResourceSpans {
        #[serde(default)]
        pub scope_spans: Vec<ScopeSpans>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ScopeSpans {
        #[serde(default)]
        pub spans: Vec<Span>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Span {
        pub trace_id: String,
        pub span_id: String,
        #[serde(default)]
        pub parent_span_id: String,
    }
}

/// The span ids in an OTLP/JSON `ExportTraceServiceRequest`.
pub fn json(body: &[u8]) -> Result<Vec<SpanIds>, String> {
    let request: json::Request =
        serde_json::from_slice(body).map_err(|e| format!("undecodable OTLP JSON: {e}"))?;
    let spans =
        request.resource_spans.iter().flat_map(|rs| &rs.scope_spans).flat_map(|ss| &ss.spans);
    spans
        .map(|s| {
            let hex = |what: &str, text: &str| {
                unhex(text).ok_or_else(|| format!("{what} `{text}` is not hexadecimal"))
            };
            ids(
                &hex("traceId", &s.trace_id)?,
                &hex("spanId", &s.span_id)?,
                &hex("parentSpanId", &s.parent_span_id)?,
            )
        })
        .collect()
}

fn ids(trace: &[u8], span: &[u8], parent: &[u8]) -> Result<SpanIds, String> {
    let trace: TraceId =
        trace.try_into().map_err(|_| format!("trace id of {} bytes (expected 16)", trace.len()))?;
    let span: SpanId =
        span.try_into().map_err(|_| format!("span id of {} bytes (expected 8)", span.len()))?;
    let parent = match parent.len() {
        0 => None,
        8 => parent.try_into().ok(),
        n => return Err(format!("parent span id of {n} bytes (expected 8 or none)")),
    };
    Ok((trace, span, parent))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let value = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    digits.chunks(2).map(|pair| Some(value(pair[0])? << 4 | value(pair[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::export::Protocol;
    use crate::engine::export::encode::{BatchEncoder, to_proto};
    use crate::span::{SpanKind, SpanRecord, Status};

    fn spans() -> Vec<SpanRecord> {
        (0..3u8)
            .map(|i| SpanRecord {
                trace_id: [0xa0 + i; 16],
                span_id: [i + 1; 8],
                parent_span_id: (i > 0).then_some([1; 8]),
                name: "x".into(),
                kind: SpanKind::Internal,
                start_unix_nanos: 1,
                end_unix_nanos: 2,
                status: Status::Unset,
                attributes: vec![crate::span::Attribute::new("k", "v".repeat(100))],
            })
            .collect()
    }

    #[test]
    fn both_encodings_yield_the_same_ids() {
        let expected: Vec<SpanIds> =
            spans().iter().map(|s| (s.trace_id, s.span_id, s.parent_span_id)).collect();
        for protocol in [Protocol::HttpProtobuf, Protocol::HttpJson] {
            let encoder = BatchEncoder::new(Vec::new(), protocol);
            let (body, _) = encoder.encode(spans().into_iter().map(to_proto).collect());
            let got = match protocol {
                Protocol::HttpJson => json(&body),
                _ => protobuf(Bytes::from(body)),
            };
            assert_eq!(got.as_ref(), Ok(&expected), "{protocol}");
        }
        assert!(protobuf(Bytes::from_static(&[0x0a, 0xff])).is_err());
        assert!(json(br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"01"}]}]}]}"#).is_err());
        assert_eq!(unhex("0aFf"), Some(vec![0x0a, 0xff]));
    }
}
