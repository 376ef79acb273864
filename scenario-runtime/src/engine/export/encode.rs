//! `SpanRecord` -> OTLP: conversion that moves every string (no copies of payloads), and one
//! `ExportTraceServiceRequest` per batch encoded as protobuf or as the OTLP/JSON mapping.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span, status};
use prost::Message;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::platform::Protocol;
use crate::span::{Attribute, SpanKind, SpanRecord, Status, Value};

/// Instrumentation scope name on every exported span.
pub const SCOPE_NAME: &str = "scaletest";

/// W3C "sampled" flag plus "is-remote is known (false)": what an SDK sets on local spans.
const SPAN_FLAGS: u32 = 0x01 | 0x100;

/// Converts one span, moving its name, attribute keys that were built at run time and every
/// string value into the protobuf message.
pub fn to_proto(record: SpanRecord) -> Span {
    let SpanRecord {
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind,
        start_unix_nanos,
        end_unix_nanos,
        status,
        attributes,
    } = record;
    Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        trace_state: String::new(),
        parent_span_id: parent_span_id.map(|id| id.to_vec()).unwrap_or_default(),
        flags: SPAN_FLAGS,
        name,
        kind: match kind {
            SpanKind::Internal => span::SpanKind::Internal as i32,
            SpanKind::Client => span::SpanKind::Client as i32,
            SpanKind::Server => span::SpanKind::Server as i32,
        },
        start_time_unix_nano: start_unix_nanos,
        end_time_unix_nano: end_unix_nanos,
        attributes: attributes.into_iter().map(key_value).collect(),
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        links: Vec::new(),
        dropped_links_count: 0,
        status: match status {
            Status::Unset => None,
            Status::Error(message) => Some(opentelemetry_proto::tonic::trace::v1::Status {
                message,
                code: status::StatusCode::Error as i32,
            }),
        },
    }
}

/// One attribute as an OTLP `KeyValue`.
pub fn key_value(attribute: Attribute) -> KeyValue {
    KeyValue {
        key: attribute.key.into_owned(),
        value: Some(any_value(attribute.value)),
        key_strindex: 0,
    }
}

fn any_value(value: Value) -> AnyValue {
    let value = match value {
        Value::Str(s) => any_value::Value::StringValue(s),
        Value::Int(i) => any_value::Value::IntValue(i),
        Value::F64(f) => any_value::Value::DoubleValue(f),
        Value::Bool(b) => any_value::Value::BoolValue(b),
        Value::StrArray(items) => any_value::Value::ArrayValue(ArrayValue {
            values: items
                .into_iter()
                .map(|s| AnyValue { value: Some(any_value::Value::StringValue(s)) })
                .collect(),
        }),
    };
    AnyValue { value: Some(value) }
}

/// Request-body bytes one span adds, estimated from its string and attribute sizes before
/// conversion, so cutting batches costs no encoding pass.
///
/// For protobuf it is an upper bound (every length prefix counted at its largest), so a batch
/// cut by it never needs splitting. For JSON it allows for hex ids, field names and some
/// escaping; the real size is checked after encoding and an oversized batch is split.
pub fn estimated_len(record: &SpanRecord, protocol: Protocol) -> usize {
    /// Ids, timestamps, kind, flags, status and the span's own tag and length.
    const SPAN_FIXED: usize = 96;
    /// Tags and length prefixes of `KeyValue`, key, `AnyValue` and value, at their largest.
    const PER_ATTRIBUTE: usize = 24;
    /// `AnyValue` wrapping of each item of a string array.
    const PER_ITEM: usize = 12;
    let status = match &record.status {
        Status::Error(message) => message.len() + 8,
        Status::Unset => 0,
    };
    let attributes: usize = record
        .attributes
        .iter()
        .map(|a| {
            let items = match &a.value {
                Value::StrArray(items) => items.len() * PER_ITEM,
                _ => 0,
            };
            a.key.len() + a.value.byte_len() + PER_ATTRIBUTE + items
        })
        .sum();
    let proto = SPAN_FIXED + record.name.len() + status + attributes;
    match protocol {
        Protocol::HttpJson => proto + proto / 4 + 160 + record.attributes.len() * 40,
        Protocol::HttpProtobuf | Protocol::Grpc => proto,
    }
}

/// Builds requests around batches of spans: one `ResourceSpans` with the emitter's resource and
/// one scope (`scaletest`, crate version).
#[derive(Clone, Debug)]
pub struct BatchEncoder {
    resource: Resource,
    scope: InstrumentationScope,
    protocol: Protocol,
}

impl BatchEncoder {
    pub fn new(resource: Vec<Attribute>, protocol: Protocol) -> Self {
        Self {
            resource: Resource {
                attributes: resource.into_iter().map(key_value).collect(),
                dropped_attributes_count: 0,
                entity_refs: Vec::new(),
            },
            scope: InstrumentationScope {
                name: SCOPE_NAME.to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                attributes: Vec::new(),
                dropped_attributes_count: 0,
            },
            protocol,
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Wraps `spans` into one request (moving them in).
    pub fn request(&self, spans: Vec<Span>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(self.resource.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(self.scope.clone()),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    /// Encodes `spans` as one request body and gives the spans back (for a later split).
    pub fn encode(&self, spans: Vec<Span>) -> (Vec<u8>, Vec<Span>) {
        match self.protocol {
            Protocol::HttpProtobuf | Protocol::Grpc => {
                let body = self.encode_protobuf(&spans);
                (body, spans)
            }
            Protocol::HttpJson => {
                let mut request = self.request(spans);
                // Serializing generated OTLP types cannot fail: no maps with non-string keys,
                // and non-finite floats serialize as strings.
                let body = serde_json::to_vec(&request).unwrap_or_default();
                (body, take_spans(&mut request))
            }
        }
    }

    /// The protobuf encoding of [`BatchEncoder::request`], byte for byte, computing each
    /// span's length once. (prost's `encode_to_vec` on the whole request walks every span four
    /// times to size the nested length prefixes: a tenth of the exporter's time on small spans.)
    fn encode_protobuf(&self, spans: &[Span]) -> Vec<u8> {
        use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};
        /// Bytes of a length-delimited field of `len` bytes with a one-byte key.
        fn field_len(len: usize) -> usize {
            1 + encoded_len_varint(len as u64) + len
        }
        let span_lens: Vec<usize> = spans.iter().map(Message::encoded_len).collect();
        let scope_len = self.scope.encoded_len();
        let scope_spans_len =
            field_len(scope_len) + span_lens.iter().map(|&len| field_len(len)).sum::<usize>();
        let resource_len = self.resource.encoded_len();
        let resource_spans_len = field_len(resource_len) + field_len(scope_spans_len);
        let mut body = Vec::with_capacity(field_len(resource_spans_len));
        // ExportTraceServiceRequest.resource_spans = 1
        encode_key(1, WireType::LengthDelimited, &mut body);
        encode_varint(resource_spans_len as u64, &mut body);
        // ResourceSpans.resource = 1
        encode_key(1, WireType::LengthDelimited, &mut body);
        encode_varint(resource_len as u64, &mut body);
        self.resource.encode_raw(&mut body);
        // ResourceSpans.scope_spans = 2
        encode_key(2, WireType::LengthDelimited, &mut body);
        encode_varint(scope_spans_len as u64, &mut body);
        // ScopeSpans.scope = 1
        encode_key(1, WireType::LengthDelimited, &mut body);
        encode_varint(scope_len as u64, &mut body);
        self.scope.encode_raw(&mut body);
        // ScopeSpans.spans = 2
        for (span, len) in spans.iter().zip(span_lens) {
            encode_key(2, WireType::LengthDelimited, &mut body);
            encode_varint(len as u64, &mut body);
            span.encode_raw(&mut body);
        }
        body
    }
}

/// String values at least this long go into a protobuf body by reference (see
/// [`BatchEncoder::encode_pieces`]); shorter ones are copied with the fields around them.
pub const BY_REFERENCE_MIN: usize = 8 * 1024;

/// A request body in pieces, in order: the fields of the spans encoded together, and long
/// string values referenced where the spans hold them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pieces {
    pub parts: Vec<Bytes>,
    /// Bytes in all parts.
    pub len: usize,
}

impl Pieces {
    fn push(&mut self, part: Bytes) {
        if !part.is_empty() {
            self.len += part.len();
            self.parts.push(part);
        }
    }

    /// The body in one buffer (a copy; for tests and for paths that need it whole).
    pub fn concat(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.len);
        for part in &self.parts {
            body.extend_from_slice(part);
        }
        body
    }
}

/// A long string attribute value of a span in a shared batch: the owner a by-reference piece
/// keeps alive, so the spans stay whole (a batch may still be split after a 413).
struct SharedValue {
    batch: Arc<Vec<Span>>,
    span: usize,
    attribute: usize,
}

impl AsRef<[u8]> for SharedValue {
    fn as_ref(&self) -> &[u8] {
        let value = self.batch.get(self.span).and_then(|span| span.attributes.get(self.attribute));
        match value.and_then(|kv| kv.value.as_ref()).and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(text)) => text.as_bytes(),
            _ => &[],
        }
    }
}

impl BatchEncoder {
    /// The protobuf encoding of [`BatchEncoder::request`], byte for byte, in pieces: string
    /// values of [`BY_REFERENCE_MIN`] bytes or more are not copied but referenced in `batch`,
    /// so the kernel reads them where content generation wrote them (a copy of the whole body
    /// saved per request: most of a body's bytes are such values).
    pub fn encode_pieces(&self, batch: &Arc<Vec<Span>>) -> Pieces {
        use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};
        fn field_len(len: usize) -> usize {
            1 + encoded_len_varint(len as u64) + len
        }
        let span_lens: Vec<usize> = batch.iter().map(Message::encoded_len).collect();
        let scope_len = self.scope.encoded_len();
        let scope_spans_len =
            field_len(scope_len) + span_lens.iter().map(|&len| field_len(len)).sum::<usize>();
        let resource_len = self.resource.encoded_len();
        let resource_spans_len = field_len(resource_len) + field_len(scope_spans_len);
        let mut pieces = Pieces::default();
        let mut out = BytesMut::with_capacity(64 * 1024);
        // The same envelope as `encode_protobuf`.
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(resource_spans_len as u64, &mut out);
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(resource_len as u64, &mut out);
        self.resource.encode_raw(&mut out);
        encode_key(2, WireType::LengthDelimited, &mut out);
        encode_varint(scope_spans_len as u64, &mut out);
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(scope_len as u64, &mut out);
        self.scope.encode_raw(&mut out);
        for (index, (span, len)) in batch.iter().zip(span_lens).enumerate() {
            encode_key(2, WireType::LengthDelimited, &mut out);
            encode_varint(len as u64, &mut out);
            encode_span(batch, index, span, &mut out, &mut pieces);
        }
        pieces.push(out.freeze());
        pieces
    }
}

/// One span's fields in the order prost encodes them (by tag), long string
/// attribute values as pieces of their own.
fn encode_span(
    batch: &Arc<Vec<Span>>,
    index: usize,
    span: &Span,
    out: &mut BytesMut,
    pieces: &mut Pieces,
) {
    use prost::encoding::{
        WireType, bytes, encode_key, encode_varint, encoded_len_varint, fixed32, fixed64, int32,
        message, string, uint32,
    };
    if !span.trace_id.is_empty() {
        bytes::encode(1, &span.trace_id, out);
    }
    if !span.span_id.is_empty() {
        bytes::encode(2, &span.span_id, out);
    }
    if !span.trace_state.is_empty() {
        string::encode(3, &span.trace_state, out);
    }
    if !span.parent_span_id.is_empty() {
        bytes::encode(4, &span.parent_span_id, out);
    }
    if !span.name.is_empty() {
        string::encode(5, &span.name, out);
    }
    if span.kind != 0 {
        int32::encode(6, &span.kind, out);
    }
    if span.start_time_unix_nano != 0 {
        fixed64::encode(7, &span.start_time_unix_nano, out);
    }
    if span.end_time_unix_nano != 0 {
        fixed64::encode(8, &span.end_time_unix_nano, out);
    }
    for (attribute, kv) in span.attributes.iter().enumerate() {
        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(text))
                if text.len() >= BY_REFERENCE_MIN && kv.key_strindex == 0 =>
            {
                // KeyValue { key = 1, value = 2: AnyValue { string_value = 1 } }
                encode_key(9, WireType::LengthDelimited, out);
                encode_varint(kv.encoded_len() as u64, out);
                if !kv.key.is_empty() {
                    string::encode(1, &kv.key, out);
                }
                let any_len = 1 + encoded_len_varint(text.len() as u64) + text.len();
                encode_key(2, WireType::LengthDelimited, out);
                encode_varint(any_len as u64, out);
                encode_key(1, WireType::LengthDelimited, out);
                encode_varint(text.len() as u64, out);
                pieces.push(out.split().freeze());
                pieces.push(Bytes::from_owner(SharedValue {
                    batch: Arc::clone(batch),
                    span: index,
                    attribute,
                }));
            }
            _ => message::encode(9, kv, out),
        }
    }
    if span.dropped_attributes_count != 0 {
        uint32::encode(10, &span.dropped_attributes_count, out);
    }
    message::encode_repeated(11, &span.events, out);
    if span.dropped_events_count != 0 {
        uint32::encode(12, &span.dropped_events_count, out);
    }
    message::encode_repeated(13, &span.links, out);
    if span.dropped_links_count != 0 {
        uint32::encode(14, &span.dropped_links_count, out);
    }
    if let Some(status) = &span.status {
        message::encode(15, status, out);
    }
    if span.flags != 0 {
        fixed32::encode(16, &span.flags, out);
    }
}

/// Takes the spans out of a request built by [`BatchEncoder::request`].
pub fn take_spans(request: &mut ExportTraceServiceRequest) -> Vec<Span> {
    request
        .resource_spans
        .iter_mut()
        .flat_map(|rs| rs.scope_spans.iter_mut())
        .flat_map(|ss| std::mem::take(&mut ss.spans))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn record() -> SpanRecord {
        SpanRecord {
            trace_id: [0xab; 16],
            span_id: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08],
            parent_span_id: Some([9; 8]),
            name: "chat gpt-4o".to_owned(),
            kind: SpanKind::Client,
            start_unix_nanos: 1_000,
            end_unix_nanos: 2_000,
            status: Status::Error("boom".to_owned()),
            attributes: vec![
                Attribute { key: Cow::Borrowed("gen_ai.usage.input_tokens"), value: Value::Int(7) },
                Attribute::new("gen_ai.response.finish_reasons", vec!["stop".to_owned()]),
            ],
        }
    }

    #[test]
    fn conversion_keeps_every_field() {
        let span = to_proto(record());
        assert_eq!(span.trace_id, vec![0xab; 16]);
        assert_eq!(span.parent_span_id, vec![9; 8]);
        assert_eq!(span.kind, span::SpanKind::Client as i32);
        assert_eq!(span.status.as_ref().map(|s| s.code), Some(2));
        assert_eq!(span.attributes[0].key, "gen_ai.usage.input_tokens");
        assert_eq!(span.attributes.len(), 2);
    }

    #[test]
    fn conversion_moves_string_payloads() {
        let mut rec = record();
        rec.attributes.push(Attribute::new("gen_ai.input.messages", "x".repeat(4096)));
        let ptr = match &rec.attributes[2].value {
            Value::Str(s) => s.as_ptr(),
            _ => unreachable!(),
        };
        let span = to_proto(rec);
        match &span.attributes[2].value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => assert_eq!(s.as_ptr(), ptr),
            other => panic!("unexpected value {other:?}"),
        }
    }

    #[test]
    fn json_uses_the_otlp_mapping() {
        let encoder =
            BatchEncoder::new(vec![Attribute::new("service.name", "t")], Protocol::HttpJson);
        let (body, spans) = encoder.encode(vec![to_proto(record())]);
        assert_eq!(spans.len(), 1);
        let json: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        let span = &json["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "abababababababababababababababab");
        assert_eq!(span["spanId"], "0102030405060708");
        assert_eq!(span["parentSpanId"], "0909090909090909");
        assert_eq!(span["kind"], 3, "enums are integers");
        assert_eq!(span["startTimeUnixNano"], "1000");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(json["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"], SCOPE_NAME);
        assert!(estimated_len(&record(), Protocol::HttpJson) >= body.len() / 2);
    }

    #[test]
    fn protobuf_matches_prost_byte_for_byte() {
        let encoder = BatchEncoder::new(vec![Attribute::new("service.name", "t")], Protocol::Grpc);
        for count in [0, 1, 3] {
            let spans: Vec<Span> = (0..count)
                .map(|i| {
                    let mut rec = record();
                    rec.attributes.push(Attribute::new("big", "y".repeat(i * 300)));
                    to_proto(rec)
                })
                .collect();
            let expected = encoder.request(spans.clone()).encode_to_vec();
            let (body, back) = encoder.encode(spans);
            assert_eq!(body, expected, "{count} spans");
            assert_eq!(back.len(), count);
        }
    }

    #[test]
    fn pieces_match_prost_and_reference_long_values() {
        let encoder =
            BatchEncoder::new(vec![Attribute::new("service.name", "t")], Protocol::HttpProtobuf);
        let spans: Vec<Span> = (0..4)
            .map(|i| {
                let mut rec = record();
                rec.attributes.push(Attribute::new("small", "s".repeat(i * 100)));
                rec.attributes.push(Attribute::new("gen_ai.input.messages", "m".repeat(i * 9000)));
                rec.attributes.push(Attribute { key: Cow::Borrowed("n"), value: Value::Int(7) });
                if i == 2 {
                    rec.parent_span_id = None;
                    rec.status = Status::Unset;
                }
                to_proto(rec)
            })
            .collect();
        let expected = encoder.request(spans.clone()).encode_to_vec();
        let batch = Arc::new(spans);
        let pieces = encoder.encode_pieces(&batch);
        assert_eq!(pieces.concat(), expected);
        assert_eq!(pieces.len, expected.len());
        // The long values (spans 1 to 3) are referenced where the spans hold them.
        for span in &batch[1..] {
            let Some(any_value::Value::StringValue(text)) =
                span.attributes[3].value.as_ref().and_then(|v| v.value.as_ref())
            else {
                panic!("no messages attribute");
            };
            assert!(
                pieces.parts.iter().any(|p| p.as_ptr() == text.as_ptr() && p.len() == text.len())
            );
        }
        assert!(pieces.parts.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn protobuf_estimate_is_a_close_upper_bound() {
        let encoder = BatchEncoder::new(Vec::new(), Protocol::HttpProtobuf);
        let overhead = encoder.encode(Vec::new()).0.len();
        for payload in [0, 100, 50_000] {
            let mut rec = record();
            rec.attributes.push(Attribute::new("gen_ai.input.messages", "x".repeat(payload)));
            let estimate = estimated_len(&rec, Protocol::HttpProtobuf);
            let actual = encoder.encode(vec![to_proto(rec)]).0.len() - overhead;
            assert!(actual <= estimate, "{actual} > {estimate}");
            assert!(estimate <= actual + 200, "{estimate} far above {actual}");
        }
    }
}
