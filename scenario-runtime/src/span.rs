//! The spans a scenario run emits, in the OpenTelemetry data model.
//!
//! These are plain data: the engine turns them into OTLP (moving, not copying, their strings),
//! tests record them in memory.

use std::borrow::Cow;

/// A 16-byte trace id.
pub type TraceId = [u8; 16];
/// An 8-byte span id.
pub type SpanId = [u8; 8];

/// OpenTelemetry span kind (only the kinds scaletest emits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SpanKind {
    Internal,
    Client,
    /// The MCP server's side of a tool call.
    Server,
}

/// Span status. `Error` carries the description.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Status {
    Unset,
    Error(String),
}

/// An attribute value, as in the OTLP `AnyValue` subset scaletest uses.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum Value {
    Str(String),
    Int(i64),
    F64(f64),
    Bool(bool),
    StrArray(Vec<String>),
}

impl Value {
    /// The type's name, as shown in span-shape snapshots.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::F64(_) => "double",
            Value::Bool(_) => "bool",
            Value::StrArray(_) => "string[]",
        }
    }

    /// Payload bytes this value carries (string lengths; 8 for scalars).
    pub fn byte_len(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::StrArray(items) => items.iter().map(String::len).sum(),
            Value::Int(_) | Value::F64(_) => 8,
            Value::Bool(_) => 1,
        }
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Str(value)
    }
}
impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Str(value.to_owned())
    }
}
impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}
impl From<u32> for Value {
    fn from(value: u32) -> Self {
        Value::Int(i64::from(value))
    }
}
impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::F64(value)
    }
}
impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}
impl From<Vec<String>> for Value {
    fn from(value: Vec<String>) -> Self {
        Value::StrArray(value)
    }
}

/// A key and its value. Keys are usually `&'static str` constants; indexed keys
/// (`llm.input_messages.3.message.role`) are built at run time.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Attribute {
    pub key: Cow<'static, str>,
    pub value: Value,
}

impl Attribute {
    /// An attribute from a key and anything convertible to a [`Value`].
    pub fn new(key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        Self { key: key.into(), value: value.into() }
    }
}

/// One finished span.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SpanRecord {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub name: String,
    pub kind: SpanKind,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    pub status: Status,
    pub attributes: Vec<Attribute>,
}

impl SpanRecord {
    /// The value of the first attribute named `key`.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes.iter().find(|a| a.key == key).map(|a| &a.value)
    }
}

/// Where finished spans go: the exporter in a load run, a [`crate::Recorder`] in tests.
///
/// `emit` is called as each span ends (children before their parent) and must not block.
pub trait SpanSink: Send + Sync {
    fn emit(&self, span: SpanRecord);

    /// Reserves room for a whole trace of at most `spans` spans before it starts; `false` when
    /// there is none (the trace must not start, so that no trace is ever sent in part). Sinks
    /// without a bounded queue always have room.
    fn reserve(&self, _spans: u64) -> bool {
        true
    }

    /// Gives back what a finished trace reserved and did not emit.
    fn release(&self, _spans: u64) {}

    /// Asked by a running trace each time a simulated latency has passed: a wait while the sink holds more than
    /// it may, so that a backend slower than the generator slows the running traces down
    /// (their spans then last longer, as measured) instead of filling memory or losing spans.
    /// `None`: there is room, go on. Sinks without a bounded queue always have room.
    fn hold(&self) -> Option<Hold> {
        None
    }
}

/// A wait for room in a [`SpanSink`]'s queue (see [`SpanSink::hold`]).
pub type Hold = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>;
