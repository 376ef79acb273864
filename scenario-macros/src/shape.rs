//! Shape arithmetic: what one run of a scenario produces, computed from the model.
//!
//! Rules (the runtime's `Shape` documents the same):
//! - spans: `llm` and `tool` 1 each; `delegate` 1 plus its body; blocks and `parallel` add their
//!   steps; `route` ranges over its branches (min of mins, max of maxes); `repeat N` multiplies
//!   its body by N; plus 1 for the root `invoke_agent` span.
//! - depth: the root span is depth 1; a step directly under an agent at depth d is at d + 1; a
//!   delegate's children are one deeper than its own span; `parallel`, `route` and `repeat` add
//!   no depth (they emit no span). The deepest branch of a route counts.
//! - payload bytes: an `llm` step's (input + output) tokens x `BYTES_PER_TOKEN`, a `tool` step's
//!   result size.
//! - tokens: input + output; llm/tool calls: the steps executed.
//!
//! Arithmetic saturates instead of overflowing: `repeat 10000` nested deeply gives `u64::MAX`,
//! never a wrapped, wrong count.

use crate::model::{Step, StepKind};

/// Bytes of message text per token; the runtime's `scenario_runtime::shape::BYTES_PER_TOKEN`.
pub const BYTES_PER_TOKEN: u64 = 4;

/// An inclusive range of per-run values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

impl Range {
    pub const ZERO: Range = Range { min: 0, max: 0 };

    pub const fn exact(value: u64) -> Self {
        Range { min: value, max: value }
    }

    pub fn add(self, other: Range) -> Range {
        Range { min: self.min.saturating_add(other.min), max: self.max.saturating_add(other.max) }
    }

    pub fn times(self, n: u64) -> Range {
        Range { min: self.min.saturating_mul(n), max: self.max.saturating_mul(n) }
    }

    /// The range covering either `self` or `other` (one of two route branches).
    pub fn either(self, other: Range) -> Range {
        Range { min: self.min.min(other.min), max: self.max.max(other.max) }
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..{}", self.min, self.max)
        }
    }
}

/// What one run produces; mirrors `scenario_runtime::Shape`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub spans: Range,
    pub depth: u32,
    pub payload_bytes: Range,
    pub llm_calls: Range,
    pub tool_calls: Range,
    pub tokens: Range,
}

/// Per-run totals of a block, without the root span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Totals {
    spans: Range,
    bytes: Range,
    llm_calls: Range,
    tool_calls: Range,
    tokens: Range,
}

impl Totals {
    const ZERO: Totals = Totals {
        spans: Range::ZERO,
        bytes: Range::ZERO,
        llm_calls: Range::ZERO,
        tool_calls: Range::ZERO,
        tokens: Range::ZERO,
    };

    fn add(self, o: Totals) -> Totals {
        Totals {
            spans: self.spans.add(o.spans),
            bytes: self.bytes.add(o.bytes),
            llm_calls: self.llm_calls.add(o.llm_calls),
            tool_calls: self.tool_calls.add(o.tool_calls),
            tokens: self.tokens.add(o.tokens),
        }
    }

    fn times(self, n: u64) -> Totals {
        Totals {
            spans: self.spans.times(n),
            bytes: self.bytes.times(n),
            llm_calls: self.llm_calls.times(n),
            tool_calls: self.tool_calls.times(n),
            tokens: self.tokens.times(n),
        }
    }

    fn either(self, o: Totals) -> Totals {
        Totals {
            spans: self.spans.either(o.spans),
            bytes: self.bytes.either(o.bytes),
            llm_calls: self.llm_calls.either(o.llm_calls),
            tool_calls: self.tool_calls.either(o.tool_calls),
            tokens: self.tokens.either(o.tokens),
        }
    }
}

/// The shape of a scenario whose root agent runs `steps`.
pub fn of(steps: &[Step]) -> Shape {
    let totals = block(steps);
    Shape {
        spans: totals.spans.add(Range::exact(1)),
        depth: depth(steps, 1),
        payload_bytes: totals.bytes,
        llm_calls: totals.llm_calls,
        tool_calls: totals.tool_calls,
        tokens: totals.tokens,
    }
}

fn block(steps: &[Step]) -> Totals {
    steps.iter().map(step).fold(Totals::ZERO, Totals::add)
}

fn step(step: &Step) -> Totals {
    match &step.kind {
        StepKind::Llm(llm) => {
            let tokens = u64::from(llm.input_tokens) + u64::from(llm.output_tokens);
            Totals {
                spans: Range::exact(1),
                bytes: Range::exact(tokens * BYTES_PER_TOKEN),
                llm_calls: Range::exact(1),
                tool_calls: Range::ZERO,
                tokens: Range::exact(tokens),
            }
        }
        StepKind::Tool(tool) => Totals {
            spans: Range::exact(1),
            bytes: Range::exact(u64::from(tool.result_bytes)),
            llm_calls: Range::ZERO,
            tool_calls: Range::exact(1),
            tokens: Range::ZERO,
        },
        StepKind::Delegate { body, .. } => {
            Totals { spans: Range::exact(1), ..Totals::ZERO }.add(block(body))
        }
        StepKind::Parallel { body } => block(body),
        StepKind::Route { branches, .. } => branches
            .iter()
            .map(|branch| block(&branch.body))
            .reduce(Totals::either)
            .unwrap_or(Totals::ZERO),
        StepKind::Repeat { times, body } => block(body).times(u64::from(*times)),
    }
}

/// The deepest span under an agent whose span is at `agent_depth` (or `agent_depth` itself if
/// it has no steps).
fn depth(steps: &[Step], agent_depth: u32) -> u32 {
    steps
        .iter()
        .map(|step| match &step.kind {
            StepKind::Llm(_) | StepKind::Tool(_) => agent_depth + 1,
            StepKind::Delegate { body, .. } => depth(body, agent_depth + 1),
            StepKind::Parallel { body } | StepKind::Repeat { body, .. } => depth(body, agent_depth),
            StepKind::Route { branches, .. } => branches
                .iter()
                .map(|branch| depth(&branch.body, agent_depth))
                .max()
                .unwrap_or(agent_depth),
        })
        .max()
        .unwrap_or(agent_depth)
}
