//! `SpanRecord` -> OTLP: one `ExportTraceServiceRequest` per batch, as protobuf written straight
//! from the records (in pieces referencing long values, or streamed into a compressor), or as the
//! OTLP/JSON mapping through the generated types (conversion that moves every string).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span, status};
use prost::Message;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};
use std::io;

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
        kind: kind_code(kind),
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
/// [`BatchEncoder::pieces`]) or straight into the compressor (see
/// [`BatchEncoder::write_records`]); shorter ones are copied with the fields around them.
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
    batch: Arc<Vec<SpanRecord>>,
    span: usize,
    attribute: usize,
}

impl AsRef<[u8]> for SharedValue {
    fn as_ref(&self) -> &[u8] {
        let value = self.batch.get(self.span).and_then(|span| span.attributes.get(self.attribute));
        match value.map(|attribute| &attribute.value) {
            Some(Value::Str(text)) => text.as_bytes(),
            _ => &[],
        }
    }
}

/// Where [`BatchEncoder::write_records`] puts a body: short fields go into `buf`; each long
/// string value is handed over on its own, after its field headers.
trait Output {
    fn buf(&mut self) -> &mut BytesMut;
    fn long_value(&mut self, span: usize, attribute: usize, text: &str);
    /// After each span: a streaming output passes on what `buf` holds once it is large.
    fn span_done(&mut self) {}
}

/// Collects a body as [`Pieces`] referencing the batch's long values.
struct PiecesOutput {
    batch: Arc<Vec<SpanRecord>>,
    pieces: Pieces,
    buf: BytesMut,
}

impl Output for PiecesOutput {
    fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    fn long_value(&mut self, span: usize, attribute: usize, _: &str) {
        self.pieces.push(self.buf.split().freeze());
        self.pieces.push(Bytes::from_owner(SharedValue {
            batch: Arc::clone(&self.batch),
            span,
            attribute,
        }));
    }
}

/// Short fields gathered before they are written to a streaming output.
const STREAM_CHUNK: usize = 64 * 1024;

/// Writes a body to an [`io::Write`] (a compressor) as it is encoded: no whole uncompressed
/// body is ever built, and long values go from the spans straight into the writer.
struct WriteOutput<W> {
    writer: W,
    buf: BytesMut,
    error: Option<io::Error>,
}

impl<W: io::Write> WriteOutput<W> {
    fn pass_on(&mut self, bytes: &[u8]) {
        if self.error.is_none() && !bytes.is_empty() {
            self.error = self.writer.write_all(bytes).err();
        }
    }

    fn pass_buf(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.pass_on(&buf);
        self.buf = buf;
        self.buf.clear();
    }

    fn finish(mut self) -> io::Result<W> {
        self.pass_buf();
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.writer),
        }
    }
}

impl<W: io::Write> Output for WriteOutput<W> {
    fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    fn long_value(&mut self, _: usize, _: usize, text: &str) {
        self.pass_buf();
        self.pass_on(text.as_bytes());
    }

    fn span_done(&mut self) {
        if self.buf.len() >= STREAM_CHUNK {
            self.pass_buf();
        }
    }
}

/// Bytes of a length-delimited field of `len` bytes with a one-byte key.
fn field_len(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

/// Bytes of the `AnyValue` message `to_proto` makes of `value` (a oneof: always encoded).
fn value_len(value: &Value) -> usize {
    match value {
        Value::Str(text) => field_len(text.len()),
        Value::Int(i) => 1 + encoded_len_varint(*i as u64),
        Value::F64(_) => 1 + 8,
        Value::Bool(_) => 1 + 1,
        Value::StrArray(items) => {
            field_len(items.iter().map(|item| field_len(field_len(item.len()))).sum())
        }
    }
}

/// Bytes of the `KeyValue` message `to_proto` makes of `attribute`.
fn attribute_len(attribute: &Attribute) -> usize {
    let key = if attribute.key.is_empty() { 0 } else { field_len(attribute.key.len()) };
    key + field_len(value_len(&attribute.value))
}

/// Bytes of the `Status` message of an error with `message`.
fn status_len(message: &str) -> usize {
    let message = if message.is_empty() { 0 } else { field_len(message.len()) };
    message + 2
}

/// Bytes of the `Span` message `to_proto` makes of `record` (what prost's `encoded_len` says).
pub fn record_len(record: &SpanRecord) -> usize {
    let mut len = field_len(record.trace_id.len()) + field_len(record.span_id.len());
    if let Some(parent) = &record.parent_span_id {
        len += field_len(parent.len());
    }
    if !record.name.is_empty() {
        len += field_len(record.name.len());
    }
    len += 1 + encoded_len_varint(kind_code(record.kind) as u64);
    if record.start_unix_nanos != 0 {
        len += 1 + 8;
    }
    if record.end_unix_nanos != 0 {
        len += 1 + 8;
    }
    len += record.attributes.iter().map(|a| field_len(attribute_len(a))).sum::<usize>();
    if let Status::Error(message) = &record.status {
        len += field_len(status_len(message));
    }
    // flags: fixed32 with the two-byte key of field 16.
    len + 2 + 4
}

fn kind_code(kind: SpanKind) -> i32 {
    match kind {
        SpanKind::Internal => span::SpanKind::Internal as i32,
        SpanKind::Client => span::SpanKind::Client as i32,
        SpanKind::Server => span::SpanKind::Server as i32,
    }
}

fn put_len_field(tag: u32, len: usize, buf: &mut BytesMut) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
}

fn put_str_field(tag: u32, text: &str, buf: &mut BytesMut) {
    put_len_field(tag, text.len(), buf);
    buf.put_slice(text.as_bytes());
}

/// The `AnyValue` of `value` (without its own key and length).
fn put_value(value: &Value, buf: &mut BytesMut) {
    match value {
        Value::Str(text) => put_str_field(1, text, buf),
        Value::Bool(b) => {
            encode_key(2, WireType::Varint, buf);
            encode_varint(u64::from(*b), buf);
        }
        Value::Int(i) => {
            encode_key(3, WireType::Varint, buf);
            encode_varint(*i as u64, buf);
        }
        Value::F64(f) => {
            encode_key(4, WireType::SixtyFourBit, buf);
            buf.put_f64_le(*f);
        }
        Value::StrArray(items) => {
            let array_len: usize = items.iter().map(|item| field_len(field_len(item.len()))).sum();
            put_len_field(5, array_len, buf);
            for item in items {
                // ArrayValue.values = 1: AnyValue { string_value = 1 }
                put_len_field(1, field_len(item.len()), buf);
                put_str_field(1, item, buf);
            }
        }
    }
}

/// One span's fields in the order prost encodes `to_proto(record)` (by tag), long string
/// attribute values handed to `out` on their own.
fn put_record(index: usize, record: &SpanRecord, out: &mut impl Output) {
    let buf = out.buf();
    put_len_field(1, record.trace_id.len(), buf);
    buf.put_slice(&record.trace_id);
    put_len_field(2, record.span_id.len(), buf);
    buf.put_slice(&record.span_id);
    if let Some(parent) = &record.parent_span_id {
        put_len_field(4, parent.len(), buf);
        buf.put_slice(parent);
    }
    if !record.name.is_empty() {
        put_str_field(5, &record.name, buf);
    }
    encode_key(6, WireType::Varint, buf);
    encode_varint(kind_code(record.kind) as u64, buf);
    if record.start_unix_nanos != 0 {
        encode_key(7, WireType::SixtyFourBit, buf);
        buf.put_u64_le(record.start_unix_nanos);
    }
    if record.end_unix_nanos != 0 {
        encode_key(8, WireType::SixtyFourBit, buf);
        buf.put_u64_le(record.end_unix_nanos);
    }
    for (attribute, kv) in record.attributes.iter().enumerate() {
        let buf = out.buf();
        put_len_field(9, attribute_len(kv), buf);
        if !kv.key.is_empty() {
            put_str_field(1, &kv.key, buf);
        }
        put_len_field(2, value_len(&kv.value), buf);
        match &kv.value {
            Value::Str(text) if text.len() >= BY_REFERENCE_MIN => {
                put_len_field(1, text.len(), buf);
                out.long_value(index, attribute, text);
            }
            value => put_value(value, buf),
        }
    }
    let buf = out.buf();
    if let Status::Error(message) = &record.status {
        put_len_field(15, status_len(message), buf);
        if !message.is_empty() {
            put_str_field(2, message, buf);
        }
        encode_key(3, WireType::Varint, buf);
        encode_varint(status::StatusCode::Error as u64, buf);
    }
    encode_key(16, WireType::ThirtyTwoBit, buf);
    buf.put_u32_le(SPAN_FLAGS);
    out.span_done();
}

impl BatchEncoder {
    /// The protobuf encoding of [`BatchEncoder::request`] of the records converted by
    /// [`to_proto`], byte for byte, written to `out` straight from the records (no conversion:
    /// the records' keys and values are read where they are).
    fn write_records(&self, batch: &[SpanRecord], out: &mut impl Output) -> usize {
        let span_lens: Vec<usize> = batch.iter().map(record_len).collect();
        let scope_len = self.scope.encoded_len();
        let scope_spans_len =
            field_len(scope_len) + span_lens.iter().map(|&len| field_len(len)).sum::<usize>();
        let resource_len = self.resource.encoded_len();
        let resource_spans_len = field_len(resource_len) + field_len(scope_spans_len);
        let buf = out.buf();
        // ExportTraceServiceRequest.resource_spans = 1
        put_len_field(1, resource_spans_len, buf);
        // ResourceSpans.resource = 1
        put_len_field(1, resource_len, buf);
        self.resource.encode_raw(buf);
        // ResourceSpans.scope_spans = 2
        put_len_field(2, scope_spans_len, buf);
        // ScopeSpans.scope = 1
        put_len_field(1, scope_len, buf);
        self.scope.encode_raw(buf);
        for (index, (record, len)) in batch.iter().zip(span_lens).enumerate() {
            // ScopeSpans.spans = 2
            put_len_field(2, len, out.buf());
            put_record(index, record, out);
        }
        field_len(resource_spans_len)
    }

    /// The protobuf body of `batch` in pieces: string values of [`BY_REFERENCE_MIN`] bytes or
    /// more are not copied but referenced in `batch`, so the kernel reads them where content
    /// generation wrote them (a copy of the whole body saved per request: most of a body's
    /// bytes are such values).
    pub fn pieces(&self, batch: &Arc<Vec<SpanRecord>>) -> Pieces {
        let mut out = PiecesOutput {
            batch: Arc::clone(batch),
            pieces: Pieces::default(),
            buf: BytesMut::with_capacity(64 * 1024),
        };
        let len = self.write_records(batch, &mut out);
        let mut pieces = std::mem::take(&mut out.pieces);
        pieces.push(out.buf.split().freeze());
        debug_assert_eq!(pieces.len, len);
        pieces
    }

    /// Writes the protobuf body of `batch` to `writer` as it is encoded (long values go from
    /// the records straight to it) and returns the writer and the body's length.
    pub fn write_protobuf<W: io::Write>(
        &self,
        batch: &[SpanRecord],
        writer: W,
    ) -> io::Result<(W, usize)> {
        let mut out =
            WriteOutput { writer, buf: BytesMut::with_capacity(STREAM_CHUNK * 2), error: None };
        let len = self.write_records(batch, &mut out);
        Ok((out.finish()?, len))
    }

    /// The body of `batch` in one buffer: protobuf (as [`BatchEncoder::write_protobuf`]) or
    /// the OTLP/JSON mapping (through a converted copy of the records).
    pub fn encode_records(&self, batch: &[SpanRecord]) -> Vec<u8> {
        match self.protocol {
            Protocol::HttpProtobuf | Protocol::Grpc => {
                let len = self.body_len(batch);
                self.write_protobuf(batch, Vec::with_capacity(len))
                    .map(|(body, _)| body)
                    .unwrap_or_default()
            }
            Protocol::HttpJson => {
                let spans = batch.iter().cloned().map(to_proto).collect();
                self.encode(spans).0
            }
        }
    }

    /// Bytes of the protobuf body of `batch`.
    pub fn body_len(&self, batch: &[SpanRecord]) -> usize {
        let spans: usize = batch.iter().map(|record| field_len(record_len(record))).sum();
        let scope_spans_len = field_len(self.scope.encoded_len()) + spans;
        field_len(field_len(self.resource.encoded_len()) + field_len(scope_spans_len))
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

    /// Records covering every value type, empty strings and arrays, both statuses, roots,
    /// zero timestamps, every kind, and long values on both sides of [`BY_REFERENCE_MIN`].
    fn varied_records() -> Vec<SpanRecord> {
        (0..6)
            .map(|i| {
                let mut rec = record();
                rec.kind = [SpanKind::Client, SpanKind::Internal, SpanKind::Server][i % 3];
                rec.attributes.push(Attribute::new("small", "s".repeat(i * 100)));
                rec.attributes.push(Attribute::new("gen_ai.input.messages", "m".repeat(i * 9000)));
                rec.attributes.push(Attribute { key: Cow::Borrowed("n"), value: Value::Int(-7) });
                rec.attributes.push(Attribute { key: Cow::Borrowed("f"), value: Value::F64(0.25) });
                rec.attributes
                    .push(Attribute { key: Cow::Borrowed("b"), value: Value::Bool(i % 2 == 0) });
                rec.attributes.push(Attribute { key: Cow::Borrowed("zero"), value: Value::Int(0) });
                rec.attributes.push(Attribute::new("empty", String::new()));
                rec.attributes.push(Attribute::new("", "no key"));
                rec.attributes.push(Attribute::new("none", Vec::<String>::new()));
                rec.attributes.push(Attribute::new(
                    "items",
                    vec![String::new(), "x".repeat(200), "é".repeat(i * 3000)],
                ));
                if i == 2 {
                    rec.parent_span_id = None;
                    rec.status = Status::Unset;
                }
                if i == 3 {
                    rec.status = Status::Error(String::new());
                    rec.name.clear();
                    rec.start_unix_nanos = 0;
                    rec.end_unix_nanos = 0;
                }
                if i == 4 {
                    rec.attributes.clear();
                }
                rec
            })
            .collect()
    }

    #[test]
    fn records_encode_as_prost_encodes_their_conversion() {
        let encoder =
            BatchEncoder::new(vec![Attribute::new("service.name", "t")], Protocol::HttpProtobuf);
        let records = varied_records();
        for count in [0, 1, 3, records.len()] {
            let batch = &records[..count];
            let spans: Vec<Span> = batch.iter().cloned().map(to_proto).collect();
            for (record, span) in batch.iter().zip(&spans) {
                assert_eq!(record_len(record), span.encoded_len());
            }
            let expected = encoder.request(spans).encode_to_vec();
            assert_eq!(encoder.body_len(batch), expected.len(), "{count} spans");
            assert_eq!(encoder.encode_records(batch), expected, "{count} spans");
            let (written, len) = encoder.write_protobuf(batch, Vec::new()).expect("writes");
            assert_eq!((written, len), (expected.clone(), expected.len()));
            let pieces = encoder.pieces(&Arc::new(batch.to_vec()));
            assert_eq!(pieces.concat(), expected, "{count} spans");
            assert_eq!(pieces.len, expected.len());
        }
    }

    #[test]
    fn pieces_reference_long_values() {
        let encoder =
            BatchEncoder::new(vec![Attribute::new("service.name", "t")], Protocol::HttpProtobuf);
        let batch = Arc::new(varied_records());
        let pieces = encoder.pieces(&batch);
        // The long values (spans 1 to 5 but 4, which has no attributes) are referenced where
        // the records hold them.
        for (i, span) in batch.iter().enumerate().skip(1).filter(|(i, _)| *i != 4) {
            let Some(Value::Str(text)) = span.attribute("gen_ai.input.messages") else {
                panic!("no messages attribute in span {i}");
            };
            assert!(
                pieces.parts.iter().any(|p| p.as_ptr() == text.as_ptr() && p.len() == text.len()),
                "span {i}"
            );
        }
        assert!(pieces.parts.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn json_records_use_the_otlp_mapping() {
        let encoder = BatchEncoder::new(Vec::new(), Protocol::HttpJson);
        let body = encoder.encode_records(&[record()]);
        let json: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        let span = &json["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["spanId"], "0102030405060708");
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
