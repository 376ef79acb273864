//! The shape of a scenario, computed by `scenario!` at build time.

use serde::Serialize;

/// An inclusive range of values a scenario can produce in one run.
///
/// `min == max` unless a `route` makes branches differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

impl Range {
    /// A range holding a single value.
    pub const fn exact(value: u64) -> Self {
        Self { min: value, max: value }
    }

    /// Whether every run produces the same value.
    pub const fn is_exact(&self) -> bool {
        self.min == self.max
    }

    /// Whether `value` lies within the range.
    pub const fn contains(&self, value: u64) -> bool {
        self.min <= value && value <= self.max
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_exact() {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..{}", self.min, self.max)
        }
    }
}

/// What one run of a scenario produces, known without running it.
///
/// Counts include the root `invoke_agent` span. `payload_bytes` is the content the scenario
/// declares: message text (about 4 bytes per token, input and output) plus tool results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shape {
    /// Spans per trace.
    pub spans: Range,
    /// Deepest nesting, the root span being depth 1.
    pub depth: u32,
    /// Declared content bytes per trace.
    pub payload_bytes: Range,
    /// `llm` steps executed per trace.
    pub llm_calls: Range,
    /// `tool` steps executed per trace.
    pub tool_calls: Range,
    /// Input plus output tokens per trace.
    pub tokens: Range,
}

/// Bytes of message text per token, the usual rule of thumb for English text.
pub const BYTES_PER_TOKEN: u64 = 4;
