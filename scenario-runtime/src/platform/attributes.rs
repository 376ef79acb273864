//! The attributes each platform reads beyond the GenAI conventions.
//!
//! What is added, per platform, and why:
//! - Braintrust: `braintrust.span_attributes` = `{"type":"llm"|"tool"|"task"}`, which gives the
//!   span its type in Braintrust's UI (it reads content from `gen_ai.*` already).
//! - LangSmith: `langsmith.span.kind` (`llm`, `tool`, `chain`), `langsmith.metadata.session_id`
//!   on every span (the metadata key LangSmith groups a conversation's traces by into a
//!   thread, read on child runs too), and the deprecated
//!   `gen_ai.system` next to `gen_ai.provider.name` on chat spans: LangSmith still maps the
//!   provider (and so costs) from the old name. This is the only dual emission.
//! - Langfuse: `langfuse.observation.type` (`generation`, `tool`, `agent`); on the root,
//!   `langfuse.trace.name` and `langfuse.session.id`, which name the trace and group it.
//! - Phoenix: the OpenInference set (`openinference.span.kind`, `llm.*` including flattened
//!   `llm.input_messages.N.message.*`, `input.value`/`output.value` with their MIME types,
//!   `tool.*`, `agent.name`, `session.id`). Phoenix does not read `gen_ai.*` content, so its
//!   profile carries the content here instead (see [`super::Profile::genai_content`]).
//! - MLflow: `mlflow.spanType` (`AGENT`, `LLM`, `TOOL`, MLflow's `SpanType` names) on every
//!   span, because MLflow's OTLP ingestion fills its span-type column from that attribute before
//!   any conversion of OpenInference attributes (without it the type search finds nothing); on
//!   the root, `mlflow.traceTag.mlflow.traceName`, which its store turns into the trace's name
//!   (`mlflow/store/tracking/sqlalchemy_store.py` reads root attributes prefixed
//!   `mlflow.traceTag.`); and `openinference.span.kind` for tools reading OpenInference.
//! - Datadog, Opik, Weave, generic OTLP, console: nothing; they read the current names.
//!
//! A workflow span (the trace's root above the root agent) is a chain: Braintrust `task`,
//! LangSmith and Langfuse `chain`, OpenInference and MLflow `CHAIN`, and takes the trace-wide
//! attributes the root agent takes otherwise. The MCP server span is a tool, like the client's.
//!
//! An agent's creation (`create_agent`) is not an agent at work, so none of the platforms' agent
//! kinds: OpenInference and MLflow `CHAIN` (OpenInference's kind for a step that is not a model,
//! tool, retriever or agent run), LangSmith `chain`, Langfuse `span` (its generic observation),
//! Braintrust `function`; OpenInference gets `agent.name` and, as `input.value`, the
//! instructions the agent is created with.
//!
//! Embeddings, retrieval and MCP client spans take each platform's kind for them: Braintrust
//! `llm` / `function` / `tool`; LangSmith `embedding` / `retriever` / `tool`; Langfuse
//! `embedding` / `retriever` / `tool` (its observation types); MLflow `EMBEDDING` / `RETRIEVER`
//! / `TOOL` (its `SpanType` names); OpenInference `EMBEDDING` / `RETRIEVER` / `TOOL`, with
//! `embedding.model_name` and `embedding.embeddings.0.embedding.text` (Arize-ai/openinference
//! `spec/embedding_spans.md`; the vectors are left out, as `OPENINFERENCE_HIDE_EMBEDDINGS_VECTORS`
//! does, because a 1,536-float array per span is not what backends are sized for) and
//! `retrieval.documents.N.document.id|score|content` (`spec/semantic_conventions.md`).
//! Reasoning and declared cached tokens go to `llm.token_count.completion_details.reasoning`
//! and `llm.token_count.prompt_details.cache_read` (same file).

use std::borrow::Cow;

use crate::content::Prompt;
use crate::span::Attribute;

use super::PlatformId;

/// What kind of span is being decorated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanRole {
    Chat,
    Tool,
    Agent {
        root: bool,
    },
    Embedding,
    Retrieval,
    /// The MCP client span below an `execute_tool` span.
    McpClient,
    /// The MCP server's span below the client's.
    McpServer,
    /// An `invoke_workflow` span: the trace's root, above the root agent.
    Workflow,
    /// A `create_agent` span: the agent service's creation of an agent, before it runs.
    AgentCreation,
}

impl SpanRole {
    /// Whether the span is the trace's root, where platforms read trace-wide attributes.
    fn trace_root(self) -> bool {
        matches!(self, SpanRole::Agent { root: true } | SpanRole::Workflow)
    }
}

/// What a platform may need to know about a span to add its attributes.
#[derive(Clone, Copy, Debug)]
pub struct SpanFacts<'a> {
    pub role: SpanRole,
    /// Model (chat), tool name (tool) or agent name (agent).
    pub name: &'a str,
    /// Provider of a chat span; empty otherwise.
    pub provider: &'a str,
    pub conversation_id: &'a str,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub temperature: f64,
    pub max_tokens: u32,
    /// The system prompt of a chat span.
    pub system: Option<&'a str>,
    /// The prompt of a chat span.
    pub prompt: Option<&'a Prompt>,
    /// The answer text of a chat span.
    pub output_text: Option<&'a str>,
    /// Tool calls of a chat span's answer: (id, name, arguments).
    pub tool_calls: &'a [(String, &'a str, String)],
    /// JSON arguments (tool) or the request text (agent).
    pub input_value: Option<&'a str>,
    /// JSON result (tool) or the final answer (agent).
    pub output_value: Option<&'a str>,
    /// Description of a tool span's tool.
    pub description: &'a str,
    /// JSON schema of a tool span's arguments.
    pub parameters: &'a str,
    /// Reasoning tokens of a chat span's answer (0: none).
    pub reasoning_tokens: u32,
    /// Cached input tokens a chat step declares.
    pub cached_tokens: Option<u32>,
    /// Documents of a retrieval span.
    pub documents: &'a [crate::content::Document],
}

impl<'a> SpanFacts<'a> {
    /// Facts with only the role, name and conversation set; the rest empty, for
    /// `SpanFacts { field: .., ..SpanFacts::new(..) }`.
    pub fn new(role: SpanRole, name: &'a str, conversation_id: &'a str) -> Self {
        Self {
            role,
            name,
            provider: "",
            conversation_id,
            input_tokens: 0,
            output_tokens: 0,
            temperature: 0.0,
            max_tokens: 0,
            system: None,
            prompt: None,
            output_text: None,
            tool_calls: &[],
            input_value: None,
            output_value: None,
            description: "",
            parameters: "",
            reasoning_tokens: 0,
            cached_tokens: None,
            documents: &[],
        }
    }
}

/// Appends `platform`'s extra attributes for the span described by `facts`.
pub fn decorate(platform: PlatformId, facts: &SpanFacts<'_>, out: &mut Vec<Attribute>) {
    match platform {
        PlatformId::Braintrust => {
            let kind = match facts.role {
                SpanRole::Chat => r#"{"type":"llm"}"#,
                SpanRole::Tool => r#"{"type":"tool"}"#,
                SpanRole::Agent { .. } => r#"{"type":"task"}"#,
                SpanRole::Embedding => r#"{"type":"llm"}"#,
                SpanRole::Retrieval => r#"{"type":"function"}"#,
                SpanRole::McpClient | SpanRole::McpServer => r#"{"type":"tool"}"#,
                SpanRole::Workflow => r#"{"type":"task"}"#,
                SpanRole::AgentCreation => r#"{"type":"function"}"#,
            };
            out.push(Attribute::new("braintrust.span_attributes", kind));
        }
        PlatformId::Langsmith => {
            let kind = match facts.role {
                SpanRole::Chat => "llm",
                SpanRole::Tool => "tool",
                SpanRole::Agent { .. } => "chain",
                SpanRole::Embedding => "embedding",
                SpanRole::Retrieval => "retriever",
                SpanRole::McpClient | SpanRole::McpServer => "tool",
                SpanRole::Workflow | SpanRole::AgentCreation => "chain",
            };
            out.push(Attribute::new("langsmith.span.kind", kind));
            // LangSmith groups the traces of one conversation into a thread by a `session_id`
            // metadata key, read on every run (child runs included, for thread filters and
            // token totals).
            out.push(Attribute::new("langsmith.metadata.session_id", facts.conversation_id));
            if matches!(facts.role, SpanRole::Chat | SpanRole::Embedding) {
                out.push(Attribute::new(crate::genai::deprecated::SYSTEM, facts.provider));
            }
        }
        PlatformId::Langfuse => {
            let kind = match facts.role {
                SpanRole::Chat => "generation",
                SpanRole::Tool => "tool",
                SpanRole::Agent { .. } => "agent",
                SpanRole::Embedding => "embedding",
                SpanRole::Retrieval => "retriever",
                SpanRole::McpClient | SpanRole::McpServer => "tool",
                SpanRole::Workflow => "chain",
                SpanRole::AgentCreation => "span",
            };
            out.push(Attribute::new("langfuse.observation.type", kind));
            if facts.role.trace_root() {
                out.push(Attribute::new("langfuse.trace.name", facts.name));
                out.push(Attribute::new("langfuse.session.id", facts.conversation_id));
            }
        }
        PlatformId::Phoenix => openinference(facts, out),
        PlatformId::Mlflow => {
            // MLflow's SpanType names are OpenInference's for these three kinds.
            out.push(Attribute::new("mlflow.spanType", oi_kind(facts)));
            out.push(Attribute::new("openinference.span.kind", oi_kind(facts)));
            if facts.role.trace_root() {
                out.push(Attribute::new("mlflow.traceTag.mlflow.traceName", facts.name));
            }
        }
        PlatformId::Console
        | PlatformId::Otlp
        | PlatformId::Datadog
        | PlatformId::Opik
        | PlatformId::Weave => {}
    }
}

fn oi_kind(facts: &SpanFacts<'_>) -> &'static str {
    match facts.role {
        SpanRole::Chat => "LLM",
        SpanRole::Tool => "TOOL",
        SpanRole::Agent { .. } => "AGENT",
        SpanRole::Embedding => "EMBEDDING",
        SpanRole::Retrieval => "RETRIEVER",
        SpanRole::McpClient | SpanRole::McpServer => "TOOL",
        SpanRole::Workflow | SpanRole::AgentCreation => "CHAIN",
    }
}

fn key(s: String) -> Cow<'static, str> {
    Cow::Owned(s)
}

/// The OpenInference attributes of one span.
fn openinference(facts: &SpanFacts<'_>, out: &mut Vec<Attribute>) {
    out.push(Attribute::new("openinference.span.kind", oi_kind(facts)));
    out.push(Attribute::new("session.id", facts.conversation_id));
    match facts.role {
        SpanRole::Chat => {
            out.push(Attribute::new("llm.model_name", facts.name));
            out.push(Attribute::new("llm.provider", facts.provider));
            out.push(Attribute::new("llm.system", facts.provider));
            out.push(Attribute::new(
                "llm.invocation_parameters",
                format!(
                    r#"{{"temperature":{},"max_tokens":{}}}"#,
                    facts.temperature, facts.max_tokens
                ),
            ));
            out.push(Attribute::new("llm.token_count.prompt", facts.input_tokens));
            out.push(Attribute::new("llm.token_count.completion", facts.output_tokens));
            out.push(Attribute::new(
                "llm.token_count.total",
                i64::from(facts.input_tokens) + i64::from(facts.output_tokens),
            ));
            if let Some(cached) = facts.cached_tokens {
                out.push(Attribute::new("llm.token_count.prompt_details.cache_read", cached));
            }
            if facts.reasoning_tokens > 0 {
                out.push(Attribute::new(
                    "llm.token_count.completion_details.reasoning",
                    facts.reasoning_tokens,
                ));
            }
            let system = facts.system.map(|text| ("system", text, None));
            let history = facts.prompt.into_iter().flat_map(|prompt| {
                prompt
                    .messages
                    .iter()
                    .enumerate()
                    .map(|(i, (role, _))| (*role, prompt.content(i), prompt.tool_call_id(i)))
            });
            for (i, (role, content, call_id)) in system.into_iter().chain(history).enumerate() {
                let prefix = format!("llm.input_messages.{i}.message");
                out.push(Attribute::new(key(format!("{prefix}.role")), role));
                out.push(Attribute::new(key(format!("{prefix}.content")), content));
                if let Some(call_id) = call_id {
                    out.push(Attribute::new(key(format!("{prefix}.tool_call_id")), call_id));
                }
            }
            if let Some(prompt) = facts.prompt {
                let last = prompt.messages.len().saturating_sub(1);
                out.push(Attribute::new("input.value", prompt.content(last)));
                // The last message is a tool result (JSON) or the user's text.
                let mime = match prompt.messages.get(last) {
                    Some(("tool", _)) => "application/json",
                    _ => "text/plain",
                };
                out.push(Attribute::new("input.mime_type", mime));
            }
            if let Some(text) = facts.output_text {
                out.push(Attribute::new("llm.output_messages.0.message.role", "assistant"));
                out.push(Attribute::new("llm.output_messages.0.message.content", text));
                for (k, (id, name, arguments)) in facts.tool_calls.iter().enumerate() {
                    let prefix = format!("llm.output_messages.0.message.tool_calls.{k}.tool_call");
                    out.push(Attribute::new(key(format!("{prefix}.id")), id.as_str()));
                    out.push(Attribute::new(key(format!("{prefix}.function.name")), *name));
                    out.push(Attribute::new(
                        key(format!("{prefix}.function.arguments")),
                        arguments.as_str(),
                    ));
                }
                out.push(Attribute::new("output.value", text));
                out.push(Attribute::new("output.mime_type", "text/plain"));
            }
        }
        SpanRole::Tool => {
            out.push(Attribute::new("tool.name", facts.name));
            out.push(Attribute::new("tool.description", facts.description));
            out.push(Attribute::new("tool.parameters", facts.parameters));
            if let Some(input) = facts.input_value {
                out.push(Attribute::new("input.value", input));
                out.push(Attribute::new("input.mime_type", "application/json"));
            }
            if let Some(output) = facts.output_value {
                out.push(Attribute::new("output.value", output));
                out.push(Attribute::new("output.mime_type", "application/json"));
            }
        }
        SpanRole::McpClient | SpanRole::McpServer => {
            out.push(Attribute::new("tool.name", facts.name));
            out.push(Attribute::new("tool.description", facts.description));
        }
        SpanRole::Embedding => {
            out.push(Attribute::new("embedding.model_name", facts.name));
            out.push(Attribute::new(
                "embedding.invocation_parameters",
                format!(r#"{{"model":{},"encoding_format":"float"}}"#, json_str(facts.name)),
            ));
            if let Some(text) = facts.input_value {
                out.push(Attribute::new("embedding.embeddings.0.embedding.text", text));
            }
            out.push(Attribute::new("llm.token_count.prompt", facts.input_tokens));
            out.push(Attribute::new("llm.token_count.total", facts.input_tokens));
        }
        SpanRole::Retrieval => {
            if let Some(query) = facts.input_value {
                out.push(Attribute::new("input.value", query));
                out.push(Attribute::new("input.mime_type", "text/plain"));
            }
            for (i, document) in facts.documents.iter().enumerate() {
                let prefix = format!("retrieval.documents.{i}.document");
                out.push(Attribute::new(key(format!("{prefix}.id")), document.id.as_str()));
                out.push(Attribute::new(key(format!("{prefix}.score")), document.score));
                out.push(Attribute::new(
                    key(format!("{prefix}.content")),
                    document.content.as_str(),
                ));
            }
        }
        SpanRole::Workflow => {
            if let Some(input) = facts.input_value {
                out.push(Attribute::new("input.value", input));
                out.push(Attribute::new("input.mime_type", "text/plain"));
            }
            if let Some(output) = facts.output_value {
                out.push(Attribute::new("output.value", output));
                out.push(Attribute::new("output.mime_type", "text/plain"));
            }
        }
        SpanRole::AgentCreation => {
            out.push(Attribute::new("agent.name", facts.name));
            if let Some(system) = facts.system {
                out.push(Attribute::new("input.value", system));
                out.push(Attribute::new("input.mime_type", "text/plain"));
            }
        }
        SpanRole::Agent { .. } => {
            out.push(Attribute::new("agent.name", facts.name));
            if let Some(input) = facts.input_value {
                out.push(Attribute::new("input.value", input));
                out.push(Attribute::new("input.mime_type", "text/plain"));
            }
            if let Some(output) = facts.output_value {
                out.push(Attribute::new("output.value", output));
                out.push(Attribute::new("output.mime_type", "text/plain"));
            }
        }
    }
}

/// `s` as a JSON string, quotes included.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::content::push_json_str(&mut out, s);
    out
}
