//! Building spans from steps: names, kinds, GenAI attributes.
//!
//! Minimal for now: span names, kinds and the required GenAI keys.

use rand::rngs::SmallRng;

use crate::exec::{AgentScope, TraceRun};
use crate::span::{Attribute, SpanId, SpanKind, SpanRecord, Status, TraceId};
use crate::step::{Llm, Tool};

/// Identity and timing of a span being built.
#[derive(Clone, Copy, Debug)]
pub struct SpanPlace {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub start: u64,
    pub end: u64,
    pub salt: u64,
}

/// The messages an agent has exchanged so far in a trace.
#[derive(Debug, Default)]
pub struct Conversation {
    pub turns: u32,
}

/// Builds spans for one run configuration.
#[derive(Debug, Default)]
pub struct Emitter {}

impl Emitter {
    fn record(
        place: &SpanPlace,
        name: String,
        kind: SpanKind,
        failed: bool,
        error_type: &str,
        attributes: Vec<Attribute>,
    ) -> SpanRecord {
        SpanRecord {
            trace_id: place.trace_id,
            span_id: place.span_id,
            parent_span_id: place.parent_span_id,
            name,
            kind,
            start_unix_nanos: place.start,
            end_unix_nanos: place.end,
            status: if failed { Status::Error(error_type.to_owned()) } else { Status::Unset },
            attributes,
        }
    }

    pub fn llm(
        &self,
        _run: &TraceRun<'_>,
        place: &SpanPlace,
        step: &Llm,
        _agent: &AgentScope,
        failed: bool,
        _rng: &mut SmallRng,
    ) -> SpanRecord {
        let attributes = vec![
            Attribute::new("gen_ai.operation.name", "chat"),
            Attribute::new("gen_ai.provider.name", step.provider),
            Attribute::new("gen_ai.request.model", step.model),
        ];
        Self::record(
            place,
            format!("chat {}", step.model),
            SpanKind::Client,
            failed,
            "rate_limit_exceeded",
            attributes,
        )
    }

    pub fn tool(
        &self,
        _run: &TraceRun<'_>,
        place: &SpanPlace,
        step: &Tool,
        _agent: &AgentScope,
        failed: bool,
        _rng: &mut SmallRng,
    ) -> SpanRecord {
        let attributes = vec![
            Attribute::new("gen_ai.operation.name", "execute_tool"),
            Attribute::new("gen_ai.tool.name", step.name),
        ];
        Self::record(
            place,
            format!("execute_tool {}", step.name),
            SpanKind::Internal,
            failed,
            "tool_error",
            attributes,
        )
    }

    pub fn agent(
        &self,
        _run: &TraceRun<'_>,
        place: &SpanPlace,
        scope: &AgentScope,
        _parent: Option<&AgentScope>,
        failed: bool,
    ) -> SpanRecord {
        let attributes = vec![
            Attribute::new("gen_ai.operation.name", "invoke_agent"),
            Attribute::new("gen_ai.agent.name", scope.name),
        ];
        let kind =
            if place.parent_span_id.is_none() { SpanKind::Client } else { SpanKind::Internal };
        Self::record(
            place,
            format!("invoke_agent {}", scope.name),
            kind,
            failed,
            "agent_error",
            attributes,
        )
    }
}
