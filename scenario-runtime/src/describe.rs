//! A flat, indented description of a step tree, for `scaletest describe` and docs.

use serde::Serialize;

use crate::latency::Latency;
use crate::shape::BYTES_PER_TOKEN;
use crate::step::{CreateAgent, Embed, Llm, Mcp, Retrieve, Tool};

/// What a line of the description is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Llm,
    Tool,
    /// A tool reached through an MCP server; the line's name is `server/tool`.
    Mcp,
    Embed,
    /// A retrieval; the line's name is the store.
    Retrieve,
    /// The creation of an agent; the line's name is the agent created.
    CreateAgent,
    Delegate,
    Parallel,
    Route,
    Branch,
    Repeat,
}

/// One line of a step tree's description, `depth` levels deep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepInfo {
    pub depth: u32,
    pub kind: StepKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u32>,
    /// Content bytes of the step: message text for `llm`, the result for `tool`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'static str>,
    /// Failure probability, when not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail: Option<f64>,
    /// Branch weight or repeat count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// An `mcp` step whose server's span is in the trace too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub server_span: bool,
}

impl StepInfo {
    fn bare(kind: StepKind, name: impl Into<String>, depth: u32) -> Self {
        Self {
            depth,
            kind,
            name: name.into(),
            input_tokens: None,
            output_tokens: None,
            bytes: None,
            latency: None,
            model: None,
            provider: None,
            fail: None,
            weight: None,
            times: None,
            server_span: false,
        }
    }

    pub(crate) fn llm(step: &Llm, depth: u32) -> Self {
        Self {
            input_tokens: Some(step.input_tokens),
            output_tokens: Some(step.output_tokens),
            bytes: Some(
                (u64::from(step.input_tokens) + u64::from(step.output_tokens)) * BYTES_PER_TOKEN,
            ),
            latency: Some(step.latency),
            model: Some(step.model),
            provider: Some(step.provider),
            fail: (step.fail > 0.0).then_some(step.fail),
            ..Self::bare(StepKind::Llm, step.name, depth)
        }
    }

    pub(crate) fn tool(step: &Tool, depth: u32) -> Self {
        Self {
            bytes: Some(u64::from(step.result_bytes)),
            latency: Some(step.latency),
            fail: (step.fail > 0.0).then_some(step.fail),
            ..Self::bare(StepKind::Tool, step.name, depth)
        }
    }

    pub(crate) fn mcp(step: &Mcp, depth: u32) -> Self {
        Self {
            bytes: Some(u64::from(step.result_bytes)),
            latency: Some(step.latency),
            fail: (step.fail > 0.0).then_some(step.fail),
            server_span: step.server_span,
            ..Self::bare(StepKind::Mcp, format!("{}/{}", step.server, step.name), depth)
        }
    }

    pub(crate) fn embed(step: &Embed, depth: u32) -> Self {
        Self {
            input_tokens: Some(step.input_tokens),
            bytes: Some(u64::from(step.input_tokens) * BYTES_PER_TOKEN),
            latency: Some(step.latency),
            model: Some(step.model),
            provider: Some(step.provider),
            fail: (step.fail > 0.0).then_some(step.fail),
            ..Self::bare(StepKind::Embed, step.name, depth)
        }
    }

    pub(crate) fn retrieve(step: &Retrieve, depth: u32) -> Self {
        Self {
            bytes: Some(u64::from(step.result_bytes)),
            latency: Some(step.latency),
            fail: (step.fail > 0.0).then_some(step.fail),
            ..Self::bare(StepKind::Retrieve, step.store, depth)
        }
    }

    pub(crate) fn create_agent(step: &CreateAgent, depth: u32) -> Self {
        Self {
            latency: Some(step.latency),
            model: Some(step.model),
            provider: Some(step.provider),
            fail: (step.fail > 0.0).then_some(step.fail),
            ..Self::bare(StepKind::CreateAgent, step.agent, depth)
        }
    }

    pub(crate) fn group(kind: StepKind, name: &str, depth: u32) -> Self {
        Self::bare(kind, name, depth)
    }

    pub(crate) fn branch(weight: f64, depth: u32) -> Self {
        Self { weight: Some(weight), ..Self::bare(StepKind::Branch, "branch", depth) }
    }

    pub(crate) fn repeat(times: u32, depth: u32) -> Self {
        Self { times: Some(times), ..Self::bare(StepKind::Repeat, "repeat", depth) }
    }
}
