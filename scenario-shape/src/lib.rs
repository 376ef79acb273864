//! The shape of a scenario: what one run produces (spans, depth, content bytes, calls, tokens),
//! known without running it.
//!
//! The `scenario!` macro computes it at build time and the runtime carries it in each
//! scenario's metadata; both take the types and the arithmetic from this crate, so the
//! constants a scenario is built with and the runtime's reading of them cannot drift apart.
//!
//! Rules:
//! - spans: `llm`, `tool`, `embed`, `retrieve` and `create_agent` 1 each; `mcp` 2 (the `execute_tool` span and
//!   its MCP client span `tools/call <tool>` below it), 3 with `server_span: true` (the MCP
//!   server's `tools/call <tool>` span below the client's); `delegate` 1 plus its body; blocks
//!   and `parallel` add their steps; `route` ranges over its branches (min of mins, max of
//!   maxes); `repeat N` multiplies its body by N; plus 1 for the root `invoke_agent` span, and
//!   1 more for the `invoke_workflow` span above it when the scenario declares a `workflow`.
//! - depth: the root span is depth 1; a step directly under an agent at depth d is at d + 1; a
//!   delegate's children are one deeper than its own span; `parallel`, `route` and `repeat` add
//!   no depth (they emit no span); an `mcp` step reaches one level below its own span (two with
//!   its server span); a workflow adds a level above the root agent. The deepest branch of a
//!   route counts.
//! - payload bytes: an `llm` step's (input + output) tokens x [`BYTES_PER_TOKEN`], a `tool` or
//!   `mcp` step's result size, an `embed` step's input tokens x [`BYTES_PER_TOKEN`], a
//!   `retrieve` step's documents.
//! - tokens: input + output of `llm`, input of `embed` (reasoning and cached tokens are parts of
//!   these, not additions); llm calls: `llm` steps executed; tool calls: `tool` and `mcp` steps
//!   executed (an `mcp` call is a tool call the model asked for).
//!
//! Arithmetic saturates instead of overflowing: `repeat 10000` nested deeply gives `u64::MAX`,
//! never a wrapped, wrong count.
//!
//! ```
//! use scenario_shape::{Part, Range};
//!
//! // llm; delegate { tool 4 KiB; route { llm | tool 1 KiB } }
//! let route = Part::llm(1000, 100).or(Part::tool(1024));
//! let steps = Part::llm(2000, 200).then(Part::delegate(Part::tool(4096).then(route)));
//! let shape = steps.root();
//! assert_eq!(shape.spans, Range { min: 5, max: 5 });
//! assert_eq!(shape.depth, 3);
//! assert_eq!(shape.llm_calls, Range { min: 1, max: 2 });
//! assert_eq!(shape.payload_bytes.max, 2200 * 4 + 4096 + 1100 * 4);
//! ```

#[cfg(feature = "serde")]
use serde::Serialize;

/// Bytes of message text per token, the usual rule of thumb for English text.
pub const BYTES_PER_TOKEN: u64 = 4;

/// An inclusive range of values a scenario can produce in one run.
///
/// `min == max` unless a `route` makes branches differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

impl Range {
    pub const ZERO: Range = Range { min: 0, max: 0 };

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

    /// Both in one run (one step after another).
    pub const fn add(self, other: Range) -> Range {
        Range { min: self.min.saturating_add(other.min), max: self.max.saturating_add(other.max) }
    }

    /// `n` runs of the same steps.
    pub const fn times(self, n: u64) -> Range {
        Range { min: self.min.saturating_mul(n), max: self.max.saturating_mul(n) }
    }

    /// The range covering either `self` or `other` (one of two route branches).
    pub const fn either(self, other: Range) -> Range {
        let min = if self.min < other.min { self.min } else { other.min };
        let max = if self.max > other.max { self.max } else { other.max };
        Range { min, max }
    }
}

impl core::fmt::Display for Range {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
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
/// declares: message text (about [`BYTES_PER_TOKEN`] bytes per token, input and output) plus
/// tool results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
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

/// What some steps under one agent add to a run: the totals of [`Shape`] without the agent's
/// own span, and how many levels of spans they reach below it.
///
/// Build it bottom-up, one constructor or combinator per construct of the scenario language,
/// then close the root agent with [`Part::root`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub spans: Range,
    /// Levels of spans below the agent's span: 0 for no steps, 1 for `llm` or `tool`.
    pub depth: u32,
    pub payload_bytes: Range,
    pub llm_calls: Range,
    pub tool_calls: Range,
    pub tokens: Range,
}

impl Part {
    /// No steps.
    pub const EMPTY: Part = Part {
        spans: Range::ZERO,
        depth: 0,
        payload_bytes: Range::ZERO,
        llm_calls: Range::ZERO,
        tool_calls: Range::ZERO,
        tokens: Range::ZERO,
    };

    /// An `llm` step: one span and its message text.
    pub const fn llm(input_tokens: u32, output_tokens: u32) -> Part {
        let tokens = input_tokens as u64 + output_tokens as u64;
        Part {
            spans: Range::exact(1),
            depth: 1,
            payload_bytes: Range::exact(tokens * BYTES_PER_TOKEN),
            llm_calls: Range::exact(1),
            tool_calls: Range::ZERO,
            tokens: Range::exact(tokens),
        }
    }

    /// A `tool` step: one span and its result.
    pub const fn tool(result_bytes: u32) -> Part {
        Part {
            spans: Range::exact(1),
            depth: 1,
            payload_bytes: Range::exact(result_bytes as u64),
            llm_calls: Range::ZERO,
            tool_calls: Range::exact(1),
            tokens: Range::ZERO,
        }
    }

    /// An `mcp` step: the `execute_tool` span, the MCP client span below it, and the result.
    pub const fn mcp(result_bytes: u32) -> Part {
        Part { spans: Range::exact(2), depth: 2, ..Part::tool(result_bytes) }
    }

    /// An `mcp` step with the MCP server's span below the client's: three spans, three levels.
    pub const fn mcp_with_server(result_bytes: u32) -> Part {
        Part { spans: Range::exact(3), depth: 3, ..Part::tool(result_bytes) }
    }

    /// An `embed` step: one span and its input text.
    pub const fn embed(input_tokens: u32) -> Part {
        let tokens = input_tokens as u64;
        Part {
            spans: Range::exact(1),
            depth: 1,
            payload_bytes: Range::exact(tokens * BYTES_PER_TOKEN),
            llm_calls: Range::ZERO,
            tool_calls: Range::ZERO,
            tokens: Range::exact(tokens),
        }
    }

    /// A `retrieve` step: one span and the documents it returns.
    pub const fn retrieve(result_bytes: u32) -> Part {
        Part {
            spans: Range::exact(1),
            depth: 1,
            payload_bytes: Range::exact(result_bytes as u64),
            llm_calls: Range::ZERO,
            tool_calls: Range::ZERO,
            tokens: Range::ZERO,
        }
    }

    /// A `create_agent` step: one span, no tokens (the agent's definition is not a model call).
    pub const fn create_agent() -> Part {
        Part { spans: Range::exact(1), depth: 1, ..Part::EMPTY }
    }

    /// A `delegate` step: the sub-agent's span above its `body`.
    pub const fn delegate(body: Part) -> Part {
        Part { spans: Range::exact(1).add(body.spans), depth: body.depth.saturating_add(1), ..body }
    }

    /// `self`, then `next` (a block's steps in sequence, or the branches of `parallel`).
    pub const fn then(self, next: Part) -> Part {
        Part {
            spans: self.spans.add(next.spans),
            depth: if self.depth > next.depth { self.depth } else { next.depth },
            payload_bytes: self.payload_bytes.add(next.payload_bytes),
            llm_calls: self.llm_calls.add(next.llm_calls),
            tool_calls: self.tool_calls.add(next.tool_calls),
            tokens: self.tokens.add(next.tokens),
        }
    }

    /// Either `self` or `other` (two branches of a `route`); the deeper one counts for depth.
    pub const fn or(self, other: Part) -> Part {
        Part {
            spans: self.spans.either(other.spans),
            depth: if self.depth > other.depth { self.depth } else { other.depth },
            payload_bytes: self.payload_bytes.either(other.payload_bytes),
            llm_calls: self.llm_calls.either(other.llm_calls),
            tool_calls: self.tool_calls.either(other.tool_calls),
            tokens: self.tokens.either(other.tokens),
        }
    }

    /// `n` runs of `self` in sequence (`repeat n`): no deeper than one.
    pub const fn times(self, n: u32) -> Part {
        let n = n as u64;
        Part {
            spans: self.spans.times(n),
            depth: self.depth,
            payload_bytes: self.payload_bytes.times(n),
            llm_calls: self.llm_calls.times(n),
            tool_calls: self.tool_calls.times(n),
            tokens: self.tokens.times(n),
        }
    }

    /// The shape of a scenario whose root agent runs these steps.
    pub const fn root(self) -> Shape {
        Shape {
            spans: self.spans.add(Range::exact(1)),
            depth: self.depth.saturating_add(1),
            payload_bytes: self.payload_bytes,
            llm_calls: self.llm_calls,
            tool_calls: self.tool_calls,
            tokens: self.tokens,
        }
    }
}

impl Shape {
    /// The shape of the same run inside an `invoke_workflow` span: one span and one level more.
    pub const fn in_workflow(self) -> Shape {
        Shape {
            spans: self.spans.add(Range::exact(1)),
            depth: self.depth.saturating_add(1),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_agent_is_one_span_at_depth_one() {
        let shape = Part::EMPTY.root();
        assert_eq!((shape.spans, shape.depth), (Range::exact(1), 1));
        assert_eq!(Part::delegate(Part::EMPTY).root().depth, 2);
    }

    #[test]
    fn routes_range_and_repeats_multiply_without_adding_depth() {
        let route = Part::tool(10).or(Part::llm(1, 1).then(Part::tool(5)));
        assert_eq!(route.spans, Range { min: 1, max: 2 });
        assert_eq!(route.payload_bytes, Range { min: 10, max: 13 });
        assert_eq!(route.depth, 1);
        let repeated = route.times(3);
        assert_eq!(repeated.spans, Range { min: 3, max: 6 });
        assert_eq!(repeated.depth, 1);
        assert_eq!(Part::tool(1).times(0).spans, Range::ZERO);
    }

    #[test]
    fn server_spans_and_workflows_add_a_span_and_a_level() {
        let shape = Part::mcp_with_server(100).root();
        assert_eq!(
            (shape.spans, shape.depth, shape.tool_calls),
            (Range::exact(4), 4, Range::exact(1))
        );
        let workflow = Part::llm(10, 10).root().in_workflow();
        assert_eq!((workflow.spans, workflow.depth), (Range::exact(3), 3));
    }

    #[test]
    fn mcp_calls_are_two_spans_deep_and_count_as_tool_calls() {
        let shape = Part::llm(100, 10).then(Part::mcp(2048)).root();
        assert_eq!((shape.spans, shape.depth), (Range::exact(4), 3));
        assert_eq!(shape.tool_calls, Range::exact(1));
        assert_eq!(shape.payload_bytes, Range::exact(110 * 4 + 2048));
        let rag = Part::embed(50).then(Part::retrieve(4096)).root();
        assert_eq!((rag.spans, rag.depth), (Range::exact(3), 2));
        assert_eq!(rag.tokens, Range::exact(50));
        assert_eq!((rag.llm_calls, rag.tool_calls), (Range::ZERO, Range::ZERO));
        assert_eq!(rag.payload_bytes, Range::exact(200 + 4096));
    }

    #[test]
    fn arithmetic_saturates() {
        let huge = Part::tool(u32::MAX).times(u32::MAX).times(u32::MAX).times(u32::MAX);
        assert_eq!(huge.payload_bytes, Range::exact(u64::MAX));
        assert_eq!(huge.root().spans, Range::exact(u64::MAX));
    }

    #[test]
    fn ranges_display_as_a_value_or_min_dot_dot_max() {
        assert_eq!(Range::exact(5).to_string(), "5");
        assert_eq!(Range { min: 2, max: 9 }.to_string(), "2..9");
    }
}
