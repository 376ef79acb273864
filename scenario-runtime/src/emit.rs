//! Building spans from steps: names, kinds, GenAI attributes, content and platform extras.
//!
//! Span shapes follow the OpenTelemetry GenAI conventions (see [`crate::genai`]):
//! - every agent is an `invoke_agent <agent>` span of kind INTERNAL, the root included. The
//!   conventions use CLIENT for an agent reached over the network; the application scaletest
//!   imitates runs its agents in-process, and a CLIENT root would announce a remote agent whose
//!   server side never reports.
//! - `llm` steps are `chat <model>` CLIENT spans (a call to the provider) with the prompt
//!   (`gen_ai.input.messages`: the agent's growing history, trimmed to the step's input tokens),
//!   the agent's system prompt apart in `gen_ai.system_instructions` (sent once, not also as a
//!   `system` message, and counted in the input tokens),
//!   the answer (`gen_ai.output.messages`, with a `tool_call` part per tool the step calls),
//!   usage, finish reasons, the system instructions and the definitions of the offered tools.
//! - `tool` steps are `execute_tool <name>` INTERNAL spans with the call's id (the same id as
//!   the `tool_call` part that asked for it), arguments and a JSON result of the declared size.
//! - An injected failure sets `error.type` and status Error; the agents above it are marked
//!   failed too, as an agent whose step failed reports the failure.
//!
//! Content is decided by the trace's content seed alone (see [`crate::exec::TraceRun::rng`]),
//! ids of tool calls and conversations included, so the same seed gives byte-identical
//! attributes; span and trace ids are fresh per run. With the synthetic clock, parallel branches
//! run in declaration order, so their additions to a shared conversation are deterministic too.

use std::borrow::Cow;
use std::sync::MutexGuard;

use rand::Rng;
use rand::rngs::SmallRng;

use crate::content::{self, BYTES_PER_TOKEN, ToolKind};
use crate::exec::{AgentScope, TraceRun, mix};
use crate::genai;
use crate::platform::{PlatformId, Profile, SpanFacts, SpanRole, decorate};
use crate::span::{Attribute, SpanId, SpanKind, SpanRecord, Status, TraceId};
use crate::step::{CreateAgent, Embed, Llm, LlmDetails, Mcp, Retrieve, Tool};

pub use crate::content::Conversation;

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

/// Salts that derive a tool call's id and arguments from the tool step, so the `llm` step that
/// asks for the call and the `tool` step that runs it compute the same values.
const CALL_ID_SALT: u64 = 0xC411_1D00;
const ARGUMENTS_SALT: u64 = 0xA265_0000;
/// Salt of the conversation id, mixed with the run's conversation seed.
const CONVERSATION_SALT: u64 = 0xC0DE_C0DE;

/// At most this much of an agent's first request and last answer goes on its span.
const AGENT_SUMMARY_BYTES: usize = 400;

/// Default `service.name`.
pub const DEFAULT_SERVICE_NAME: &str = "scaletest";

/// Builds spans for one run configuration: the platform's dialect and the resource.
#[derive(Debug)]
pub struct Emitter {
    platform: PlatformId,
    genai_content: bool,
    resource: Vec<Attribute>,
}

impl Default for Emitter {
    /// The generic OTLP profile: current GenAI attributes only, default resource.
    fn default() -> Self {
        Self::with_parts(PlatformId::Otlp, true, Vec::new(), Vec::new())
    }
}

impl Emitter {
    /// An emitter for `profile`. The resource is `service.name=scaletest`, `service.version`,
    /// `telemetry.sdk.*` naming scaletest as the producer, then the profile's own attributes
    /// (project, entity, ...), then `resource_overrides` (from `OTEL_SERVICE_NAME`,
    /// `OTEL_RESOURCE_ATTRIBUTES`, flags), which replace attributes of the same key.
    pub fn new(profile: &Profile, resource_overrides: Vec<(String, String)>) -> Self {
        Self::with_parts(
            profile.id,
            profile.genai_content,
            profile.resource.clone(),
            resource_overrides,
        )
    }

    fn with_parts(
        platform: PlatformId,
        genai_content: bool,
        profile_resource: Vec<(String, String)>,
        overrides: Vec<(String, String)>,
    ) -> Self {
        let version = env!("CARGO_PKG_VERSION");
        let mut resource = vec![
            Attribute::new("service.name", DEFAULT_SERVICE_NAME),
            Attribute::new("service.version", version),
            Attribute::new("telemetry.sdk.name", "scaletest"),
            Attribute::new("telemetry.sdk.language", "rust"),
            Attribute::new("telemetry.sdk.version", version),
        ];
        for (key, value) in profile_resource.into_iter().chain(overrides) {
            match resource.iter_mut().find(|a| a.key == key.as_str()) {
                Some(existing) => existing.value = value.into(),
                None => resource.push(Attribute::new(key, value)),
            }
        }
        Self { platform, genai_content, resource }
    }

    /// The platform whose dialect the spans speak.
    pub fn platform(&self) -> PlatformId {
        self.platform
    }

    /// Resource attributes of every span this emitter builds.
    pub fn resource(&self) -> &[Attribute] {
        &self.resource
    }

    fn record(
        place: &SpanPlace,
        name: String,
        kind: SpanKind,
        error: Option<&str>,
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
            status: error.map_or(Status::Unset, |e| Status::Error(e.to_owned())),
            attributes,
        }
    }

    /// A `chat <model>` span for an `llm` step; adds its prompt and answer to the agent's
    /// conversation. `ttft_nanos` is the measured time to first token of a streamed call.
    #[allow(clippy::too_many_arguments)]
    pub fn llm(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        step: &Llm,
        details: &LlmDetails,
        agent: &AgentScope,
        failed: bool,
        ttft_nanos: Option<u64>,
        rng: &mut SmallRng,
    ) -> SpanRecord {
        let budget = step.input_tokens as usize * BYTES_PER_TOKEN;
        let system = system_prompt(agent.name, budget);
        let calls: Vec<(String, &str, String)> = step
            .tool_calls
            .iter()
            .map(|call| {
                (
                    tool_call_id(run, call.step_id, place.salt),
                    call.name,
                    tool_call_arguments(run, call.step_id, call.name, place.salt),
                )
            })
            .collect();
        let finish_reason = if failed {
            "error"
        } else if calls.is_empty() {
            "stop"
        } else {
            "tool_call"
        };
        let instructions = system_instructions(&system);
        let facts = run.facts();
        let (prompt, answer) = {
            let mut conversation = lock(&agent.conversation);
            // The request names the trace's facts, in the words of what its tools do.
            let asks_for = step
                .tool_calls
                .first()
                .map(|c| ToolKind::for_tool(c.name))
                .or(conversation.last_tool_kind());
            let request = facts.request(asks_for);
            conversation.set_topic_about(facts, asks_for);
            let budget = budget.saturating_sub(instructions.len());
            let prompt = conversation.prompt_with(budget, &request, rng);
            let answer = (!failed).then(|| {
                let out_budget = step.output_tokens as usize * BYTES_PER_TOKEN;
                // A final answer concludes on what the tools found.
                let lead = if calls.is_empty() {
                    facts.conclusion(conversation.last_tool_kind())
                } else {
                    String::new()
                };
                conversation.answer_with(out_budget, &calls, finish_reason, &lead, rng)
            });
            (prompt, answer)
        };
        let error = failed.then(|| pick(rng, CHAT_ERRORS));
        let temperature = temperature(agent.name);
        let max_tokens = step.output_tokens.next_power_of_two().max(1024);
        // The provider's cache serves the unchanged prefix: instructions and whole history,
        // counted in its blocks of 64 tokens.
        let cached_bytes = instructions.len() + prompt.cached_bytes;
        let cached_tokens = details.cached_tokens.unwrap_or_else(|| {
            ((cached_bytes / BYTES_PER_TOKEN) as u32 / 64 * 64).min(step.input_tokens)
        });
        let response_id = response_id(step.provider, rng.random());
        let conversation_id = conversation_id(run);

        let mut attributes = Vec::with_capacity(24);
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::CHAT));
        attributes.push(Attribute::new(genai::PROVIDER_NAME, step.provider));
        attributes.push(Attribute::new(genai::REQUEST_MODEL, step.model));
        attributes.push(Attribute::new(genai::REQUEST_TEMPERATURE, temperature));
        attributes.push(Attribute::new(genai::REQUEST_MAX_TOKENS, max_tokens));
        attributes.push(Attribute::new(genai::CONVERSATION_ID, conversation_id.as_str()));
        attributes.push(Attribute::new(genai::AGENT_NAME, agent.name));
        attributes.push(Attribute::new(genai::USAGE_INPUT_TOKENS, step.input_tokens));
        attributes.push(Attribute::new(genai::USAGE_CACHE_READ_INPUT_TOKENS, cached_tokens));
        attributes
            .push(Attribute::new(genai::RESPONSE_FINISH_REASONS, vec![finish_reason.to_owned()]));
        if !failed {
            attributes.push(Attribute::new(genai::RESPONSE_MODEL, step.model));
            attributes.push(Attribute::new(genai::RESPONSE_ID, response_id));
            attributes.push(Attribute::new(genai::USAGE_OUTPUT_TOKENS, step.output_tokens));
            if details.reasoning_tokens > 0 {
                attributes.push(Attribute::new(
                    genai::USAGE_REASONING_OUTPUT_TOKENS,
                    details.reasoning_tokens,
                ));
            }
        }
        if details.ttft.is_some() {
            attributes.push(Attribute::new(genai::REQUEST_STREAM, true));
            if let Some(nanos) = ttft_nanos.filter(|_| !failed) {
                let seconds = (nanos / 1_000) as f64 / 1e6;
                attributes.push(Attribute::new(genai::RESPONSE_TIME_TO_FIRST_CHUNK, seconds));
            }
        }
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        let output_text =
            answer.as_ref().map(|a| &a.output_json[a.text.clone()]).filter(|_| !failed);
        decorate(
            self.platform,
            &SpanFacts {
                provider: step.provider,
                input_tokens: step.input_tokens,
                output_tokens: if failed { 0 } else { step.output_tokens },
                temperature,
                max_tokens,
                system: Some(&system),
                prompt: Some(&prompt),
                output_text,
                tool_calls: if failed { &[] } else { &calls },
                reasoning_tokens: if failed { 0 } else { details.reasoning_tokens },
                cached_tokens: details.cached_tokens,
                ..SpanFacts::new(SpanRole::Chat, step.model, &conversation_id)
            },
            &mut attributes,
        );
        if self.genai_content {
            attributes.push(Attribute::new(genai::SYSTEM_INSTRUCTIONS, instructions));
            if !calls.is_empty() {
                attributes.push(Attribute::new(genai::TOOL_DEFINITIONS, tool_definitions(&calls)));
            }
            attributes.push(Attribute::new(genai::INPUT_MESSAGES, prompt.json));
            if let Some(answer) = answer {
                attributes.push(Attribute::new(genai::OUTPUT_MESSAGES, answer.output_json));
            }
        }
        Self::record(place, format!("chat {}", step.model), SpanKind::Client, error, attributes)
    }

    /// An `execute_tool <name>` span for a `tool` step; adds its result to the agent's
    /// conversation as the response to the call.
    pub fn tool(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        step: &Tool,
        agent: &AgentScope,
        failed: bool,
        rng: &mut SmallRng,
    ) -> SpanRecord {
        let kind = ToolKind::for_tool(step.name);
        let call_id = tool_call_id(run, step.id, place.salt);
        let arguments = tool_call_arguments(run, step.id, step.name, place.salt);
        let error = failed.then(|| pick(rng, TOOL_ERRORS));
        let result = match error {
            Some(error) => {
                let topic = content::Topic::new(run.facts(), Some(kind));
                let result = format!(
                    r#"{{"error":{{"type":"{error}","message":"{}"}}}}"#,
                    content::text_about(&topic, rng, 120)
                );
                lock(&agent.conversation).push_tool_result(&call_id, &result);
                result
            }
            None => {
                let size = step.result_bytes as usize;
                let before = rng.clone();
                let facts = *run.facts();
                let mut result = String::with_capacity(size);
                content::push_tool_result_about(&mut result, kind, Some(&facts), rng, size);
                lock(&agent.conversation).push_generated_tool_result_about(
                    &call_id,
                    kind,
                    Some(facts),
                    before,
                    size,
                );
                result
            }
        };
        let conversation_id = conversation_id(run);

        let mut attributes = Vec::with_capacity(12);
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::EXECUTE_TOOL));
        attributes.push(Attribute::new(genai::TOOL_NAME, step.name));
        attributes.push(Attribute::new(genai::TOOL_TYPE, "function"));
        attributes.push(Attribute::new(genai::TOOL_CALL_ID, call_id));
        attributes.push(Attribute::new(genai::TOOL_DESCRIPTION, kind.description()));
        attributes.push(Attribute::new(genai::CONVERSATION_ID, conversation_id.as_str()));
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        decorate(
            self.platform,
            &SpanFacts {
                input_value: Some(&arguments),
                output_value: Some(&result),
                description: kind.description(),
                parameters: kind.parameters_schema(),
                ..SpanFacts::new(SpanRole::Tool, step.name, &conversation_id)
            },
            &mut attributes,
        );
        if self.genai_content {
            attributes.push(Attribute::new(genai::TOOL_CALL_ARGUMENTS, arguments));
            attributes.push(Attribute::new(genai::TOOL_CALL_RESULT, result));
        }
        Self::record(
            place,
            format!("execute_tool {}", step.name),
            SpanKind::Internal,
            error,
            attributes,
        )
    }

    /// An `mcp` step's two spans: `execute_tool <tool>` (as for a `tool` step, at `place`) and
    /// below it the MCP client span `tools/call <tool>` (at `client`), which carries the
    /// protocol's attributes. The tool's arguments and result stay on the `execute_tool` span
    /// only: the MCP conventions make them opt-in on the client span, and a second copy would
    /// double the payload without telling a backend anything new.
    #[allow(clippy::too_many_arguments)]
    ///
    /// With `server` (the step's `server_span: true`), the MCP server's span `tools/call <tool>`
    /// (SERVER) too, below the client's, with the same session and request id and, as the MCP
    /// conventions give the server side, the client's address instead of the server's.
    pub fn mcp(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        client: &SpanPlace,
        server: Option<&SpanPlace>,
        step: &Mcp,
        request_id: u64,
        agent: &AgentScope,
        failed: bool,
        rng: &mut SmallRng,
    ) -> (SpanRecord, SpanRecord, Option<SpanRecord>) {
        let as_tool = Tool {
            id: step.id,
            name: step.name,
            result_bytes: step.result_bytes,
            latency: step.latency,
            fail: step.fail,
        };
        let mut tool = self.tool(run, place, &as_tool, agent, failed, rng);
        tool.attributes
            .push(Attribute::new(genai::mcp::METHOD_NAME, genai::mcp::method::TOOLS_CALL));
        let conversation_id = conversation_id(run);
        // One MCP session per server and conversation, as a client keeps its connection.
        let session_seed = mix(run.conversation_seed(), name_hash(step.server));
        let session = format!("{session_seed:016x}{:016x}", mix(session_seed, 1));

        let mut attributes = Vec::with_capacity(14);
        attributes.push(Attribute::new(genai::mcp::METHOD_NAME, genai::mcp::method::TOOLS_CALL));
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::EXECUTE_TOOL));
        attributes.push(Attribute::new(genai::TOOL_NAME, step.name));
        attributes.push(Attribute::new(genai::mcp::SESSION_ID, session));
        attributes.push(Attribute::new(genai::mcp::JSONRPC_REQUEST_ID, request_id.to_string()));
        attributes
            .push(Attribute::new(genai::mcp::PROTOCOL_VERSION, genai::mcp::PROTOCOL_REVISION));
        attributes.push(Attribute::new(genai::mcp::NETWORK_TRANSPORT, "tcp"));
        attributes.push(Attribute::new(genai::mcp::NETWORK_PROTOCOL_NAME, "http"));
        // What both sides share; the client adds the server's address, the server the client's.
        let common = attributes.len();
        attributes.push(Attribute::new(
            genai::mcp::SERVER_ADDRESS,
            format!("mcp-{}.internal", step.server.replace('_', "-")),
        ));
        attributes.push(Attribute::new(genai::mcp::SERVER_PORT, 443u32));
        // A tool that reports failure answers with `isError: true`; the conventions name that
        // `tool_error`.
        let error = failed.then_some("tool_error");
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        let name = format!("{} {}", genai::mcp::method::TOOLS_CALL, step.name);
        let server = server.map(|server| {
            let mut server_attributes = Vec::with_capacity(common + 6);
            server_attributes.extend_from_slice(&attributes[..common]);
            server_attributes.push(Attribute::new(genai::mcp::CLIENT_ADDRESS, "10.0.4.17"));
            server_attributes.push(Attribute::new(
                genai::mcp::CLIENT_PORT,
                40_000 + (name_hash(&conversation_id) % 20_000) as u32,
            ));
            if let Some(error) = error {
                server_attributes.push(Attribute::new(genai::ERROR_TYPE, error));
            }
            decorate(
                self.platform,
                &SpanFacts {
                    description: ToolKind::for_tool(step.name).description(),
                    parameters: ToolKind::for_tool(step.name).parameters_schema(),
                    ..SpanFacts::new(SpanRole::McpServer, step.name, &conversation_id)
                },
                &mut server_attributes,
            );
            Self::record(server, name.clone(), SpanKind::Server, error, server_attributes)
        });
        decorate(
            self.platform,
            &SpanFacts {
                description: ToolKind::for_tool(step.name).description(),
                parameters: ToolKind::for_tool(step.name).parameters_schema(),
                ..SpanFacts::new(SpanRole::McpClient, step.name, &conversation_id)
            },
            &mut attributes,
        );
        let client = Self::record(client, name, SpanKind::Client, error, attributes);
        (tool, client, server)
    }

    /// An `embeddings <model>` span for an `embed` step.
    pub fn embed(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        step: &Embed,
        agent: &AgentScope,
        failed: bool,
        rng: &mut SmallRng,
    ) -> SpanRecord {
        // What is embedded is the user's question, about the trace's facts.
        let question = run.facts().request(Some(ToolKind::Documents));
        let topic = content::Topic::new(run.facts(), Some(ToolKind::Documents));
        let len = step.input_tokens as usize * BYTES_PER_TOKEN;
        let text = content::led_text_about(&question, &topic, rng, len);
        let error = failed.then(|| pick(rng, CHAT_ERRORS));
        let conversation_id = conversation_id(run);
        let mut attributes = Vec::with_capacity(12);
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::EMBEDDINGS));
        attributes.push(Attribute::new(genai::PROVIDER_NAME, step.provider));
        attributes.push(Attribute::new(genai::REQUEST_MODEL, step.model));
        attributes.push(Attribute::new(genai::REQUEST_ENCODING_FORMATS, vec!["float".to_owned()]));
        attributes.push(Attribute::new(genai::EMBEDDINGS_DIMENSION_COUNT, step.dimensions));
        attributes.push(Attribute::new(genai::USAGE_INPUT_TOKENS, step.input_tokens));
        attributes.push(Attribute::new(genai::CONVERSATION_ID, conversation_id.as_str()));
        attributes.push(Attribute::new(genai::AGENT_NAME, agent.name));
        if !failed {
            attributes.push(Attribute::new(genai::RESPONSE_MODEL, step.model));
        }
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        decorate(
            self.platform,
            &SpanFacts {
                provider: step.provider,
                input_tokens: step.input_tokens,
                input_value: Some(&text),
                ..SpanFacts::new(SpanRole::Embedding, step.model, &conversation_id)
            },
            &mut attributes,
        );
        Self::record(
            place,
            format!("{} {}", genai::operation::EMBEDDINGS, step.model),
            SpanKind::Client,
            error,
            attributes,
        )
    }

    /// A `retrieval <store>` span for a `retrieve` step; the documents join the agent's
    /// conversation as context for its next model call, as retrieval-augmented agents do.
    pub fn retrieve(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        step: &Retrieve,
        agent: &AgentScope,
        failed: bool,
        rng: &mut SmallRng,
    ) -> SpanRecord {
        let query_len = 60 + rng.random_range(0..80);
        let question = run.facts().request(Some(ToolKind::Documents));
        let topic = content::Topic::new(run.facts(), Some(ToolKind::Documents));
        let query = content::led_text_about(&question, &topic, rng, query_len);
        let error = failed.then(|| pick(rng, TOOL_ERRORS));
        let documents = if failed { Vec::new() } else { retrieved_documents(step, &topic, rng) };
        let conversation_id = conversation_id(run);
        if !documents.is_empty() {
            let mut context = String::with_capacity(step.result_bytes as usize + 64);
            context.push_str("Context retrieved from ");
            context.push_str(step.store);
            context.push(':');
            for document in &documents {
                context.push_str("\\n[");
                context.push_str(&document.id);
                context.push_str("] ");
                context.push_str(&document.content);
            }
            lock(&agent.conversation).push_context(&context);
        }

        let mut attributes = Vec::with_capacity(12);
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::RETRIEVAL));
        attributes.push(Attribute::new(genai::DATA_SOURCE_ID, step.store));
        attributes.push(Attribute::new(genai::REQUEST_TOP_K, f64::from(step.top_k)));
        attributes.push(Attribute::new(genai::CONVERSATION_ID, conversation_id.as_str()));
        attributes.push(Attribute::new(genai::AGENT_NAME, agent.name));
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        decorate(
            self.platform,
            &SpanFacts {
                input_value: Some(&query),
                documents: &documents,
                ..SpanFacts::new(SpanRole::Retrieval, step.store, &conversation_id)
            },
            &mut attributes,
        );
        if self.genai_content {
            attributes.push(Attribute::new(genai::RETRIEVAL_QUERY_TEXT, query.as_str()));
            if !failed {
                attributes
                    .push(Attribute::new(genai::RETRIEVAL_DOCUMENTS, documents_json(&documents)));
            }
        }
        Self::record(
            place,
            format!("{} {}", genai::operation::RETRIEVAL, step.store),
            SpanKind::Client,
            error,
            attributes,
        )
    }

    /// A `create_agent <agent>` CLIENT span for a `create_agent` step: the agent service
    /// creates the agent the next `delegate` runs, with the id, description and instructions
    /// that agent's own spans carry.
    pub fn create_agent(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        step: &CreateAgent,
        failed: bool,
        rng: &mut SmallRng,
    ) -> SpanRecord {
        let error = failed.then(|| pick(rng, CREATE_AGENT_ERRORS));
        let conversation_id = conversation_id(run);
        let system = system_prompt(step.agent, usize::MAX);
        let mut attributes = Vec::with_capacity(12);
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::CREATE_AGENT));
        attributes.push(Attribute::new(genai::PROVIDER_NAME, step.provider));
        attributes.push(Attribute::new(genai::REQUEST_MODEL, step.model));
        attributes.push(Attribute::new(genai::AGENT_NAME, step.agent));
        // A failed creation returns no agent, so no id.
        if !failed {
            attributes.push(Attribute::new(genai::AGENT_ID, agent_id(step.agent)));
        }
        attributes.push(Attribute::new(genai::AGENT_DESCRIPTION, agent_description(false)));
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        decorate(
            self.platform,
            &SpanFacts {
                provider: step.provider,
                system: Some(&system),
                ..SpanFacts::new(SpanRole::AgentCreation, step.agent, &conversation_id)
            },
            &mut attributes,
        );
        if self.genai_content {
            attributes
                .push(Attribute::new(genai::SYSTEM_INSTRUCTIONS, system_instructions(&system)));
        }
        Self::record(
            place,
            format!("{} {}", genai::operation::CREATE_AGENT, step.agent),
            SpanKind::Client,
            error,
            attributes,
        )
    }

    /// An `invoke_agent <agent>` span, built when the agent's steps are done; a sub-agent's
    /// final answer joins its parent's conversation.
    pub fn agent(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        scope: &AgentScope,
        parent: Option<&AgentScope>,
        failed: bool,
    ) -> SpanRecord {
        // The primary agent (no agent above it) is the trace's root unless a workflow holds it.
        let root = parent.is_none();
        let trace_root = place.parent_span_id.is_none();
        let (request, answer) = summary(&scope.conversation);
        if let (Some(parent), Some(answer)) = (parent, &answer)
            && !root
        {
            lock(&parent.conversation).push_agent_answer(scope.name, answer);
        }
        let conversation_id = conversation_id(run);
        let error = failed.then_some("step_failed");

        let mut attributes = Vec::with_capacity(12);
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::INVOKE_AGENT));
        attributes.push(Attribute::new(genai::PROVIDER_NAME, scope.provider));
        attributes.push(Attribute::new(genai::REQUEST_MODEL, scope.model));
        attributes.push(Attribute::new(genai::AGENT_NAME, scope.name));
        attributes.push(Attribute::new(genai::AGENT_ID, agent_id(scope.name)));
        attributes.push(Attribute::new(genai::AGENT_DESCRIPTION, agent_description(root)));
        attributes.push(Attribute::new(genai::CONVERSATION_ID, conversation_id.as_str()));
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        let role = SpanRole::Agent { root: trace_root };
        let summary = Summary { request, answer, failed };
        let span_name = format!("invoke_agent {}", scope.name);
        self.summary_span(
            place,
            span_name,
            role,
            scope.name,
            &conversation_id,
            &summary,
            attributes,
        )
    }

    /// Records a span that sums up a conversation (an agent's or a workflow's): the platform's
    /// attributes about it, its request and answer as messages, and its failure.
    #[allow(clippy::too_many_arguments)]
    fn summary_span(
        &self,
        place: &SpanPlace,
        span_name: String,
        role: SpanRole,
        name: &str,
        conversation_id: &str,
        summary: &Summary,
        mut attributes: Vec<Attribute>,
    ) -> SpanRecord {
        let (request, answer) = (summary.request.as_deref(), summary.answer.as_deref());
        decorate(
            self.platform,
            &SpanFacts {
                input_value: request,
                output_value: answer,
                ..SpanFacts::new(role, name, conversation_id)
            },
            &mut attributes,
        );
        if self.genai_content {
            push_summary_messages(&mut attributes, request, answer, summary.failed);
        }
        let error = summary.failed.then_some("step_failed");
        Self::record(place, span_name, SpanKind::Internal, error, attributes)
    }
}

impl Emitter {
    /// The `invoke_workflow <name>` span that holds a workflow's root agent `root` (INTERNAL,
    /// the trace's root): the same request and answer as the agent, and its failure.
    pub fn workflow(
        &self,
        run: &TraceRun<'_>,
        place: &SpanPlace,
        name: &str,
        root: &AgentScope,
        failed: bool,
    ) -> SpanRecord {
        let (request, answer) = summary(&root.conversation);
        let conversation_id = conversation_id(run);
        let error = failed.then_some("step_failed");
        let mut attributes = Vec::with_capacity(10);
        attributes.push(Attribute::new(genai::OPERATION_NAME, genai::operation::INVOKE_WORKFLOW));
        attributes.push(Attribute::new(genai::WORKFLOW_NAME, name.to_owned()));
        attributes.push(Attribute::new(genai::CONVERSATION_ID, conversation_id.as_str()));
        if let Some(error) = error {
            attributes.push(Attribute::new(genai::ERROR_TYPE, error));
        }
        let summary = Summary { request, answer, failed };
        let span_name = format!("{} {name}", genai::operation::INVOKE_WORKFLOW);
        let role = SpanRole::Workflow;
        self.summary_span(place, span_name, role, name, &conversation_id, &summary, attributes)
    }
}

/// What an agent or workflow span says of its conversation: the request, the answer, and
/// whether it failed.
struct Summary {
    request: Option<String>,
    answer: Option<String>,
    failed: bool,
}

/// An agent's conversation as its span summarises it: the first user text and the last answer,
/// each cut to [`AGENT_SUMMARY_BYTES`].
fn summary(conversation: &std::sync::Mutex<Conversation>) -> (Option<String>, Option<String>) {
    let conversation = lock(conversation);
    (
        conversation.first_user_text_cut(AGENT_SUMMARY_BYTES).map(Cow::into_owned),
        conversation.last_assistant_text().map(|t| cut(&t, AGENT_SUMMARY_BYTES).to_owned()),
    )
}

/// The request and answer of an agent or workflow span as `gen_ai.input.messages` and
/// `gen_ai.output.messages` (the answer's finish reason `error` when the step failed).
fn push_summary_messages(
    attributes: &mut Vec<Attribute>,
    request: Option<&str>,
    answer: Option<&str>,
    failed: bool,
) {
    if let Some(request) = request {
        let mut json = String::with_capacity(request.len() + 64);
        json.push_str(r#"[{"role":"user","parts":[{"type":"text","content":"#);
        content::push_json_str(&mut json, request);
        json.push_str("}]}]");
        attributes.push(Attribute::new(genai::INPUT_MESSAGES, json));
    }
    if let Some(answer) = answer {
        let mut json = String::with_capacity(answer.len() + 96);
        json.push_str(r#"[{"role":"assistant","parts":[{"type":"text","content":"#);
        content::push_json_str(&mut json, answer);
        json.push_str(r#"}],"finish_reason":""#);
        json.push_str(if failed { "error" } else { "stop" });
        json.push_str(r#""}]"#);
        attributes.push(Attribute::new(genai::OUTPUT_MESSAGES, json));
    }
}

/// Low-cardinality error classes of failed model calls, as providers report them.
const CHAT_ERRORS: &[&str] =
    &["rate_limit_exceeded", "timeout", "server_error", "context_length_exceeded"];
/// Error classes of failed tool calls.
const TOOL_ERRORS: &[&str] = &["timeout", "http_503", "invalid_arguments", "not_found"];
/// Error classes of failed agent creations (a request to the agent service).
const CREATE_AGENT_ERRORS: &[&str] =
    &["timeout", "http_503", "rate_limit_exceeded", "quota_exceeded"];

fn pick(rng: &mut SmallRng, list: &'static [&'static str]) -> &'static str {
    list[rng.random_range(0..list.len())]
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The first `max` bytes of ASCII-safe pool text (cut at a character boundary anyway).
fn cut(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A stable hash of a name (FNV-1a), for ids and per-agent choices that must not change
/// between runs or processes.
fn name_hash(name: &str) -> u64 {
    name.bytes()
        .fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3))
}

/// The agent's system prompt: the same text on every call (as in real agents), 600 to 2,000
/// bytes depending on the agent, at most a quarter of the call's budget.
fn system_prompt(agent: &str, budget: usize) -> String {
    let hash = name_hash(agent);
    let len = (600 + (hash % 1_400) as usize).min(budget / 4).max(16);
    let mut prompt = format!(
        "You are {agent}, an AI agent acting for the user. Use the tools to check facts before \
         answering, say what you are not sure of, and ask before any action that cannot be \
         undone (booking, charging, deleting, deploying). Guidelines and examples follow. "
    );
    prompt.truncate(cut(&prompt, len).len());
    let mut rng = content::rng(hash);
    let rest = len - prompt.len();
    content::push_text(&mut prompt, &mut rng, rest);
    prompt
}

/// `gen_ai.system_instructions`: the system prompt as one text part.
fn system_instructions(system: &str) -> String {
    let mut json = String::with_capacity(system.len() + 48);
    json.push_str(r#"[{"type":"text","content":"#);
    content::push_json_str(&mut json, system);
    json.push_str("}]");
    json
}

fn temperature(agent: &str) -> f64 {
    [0.0, 0.2, 0.3, 0.7, 1.0][(name_hash(agent) % 5) as usize]
}

fn agent_id(agent: &str) -> String {
    format!("agent_{:016x}", name_hash(agent))
}

fn agent_description(root: bool) -> &'static str {
    if root {
        "Primary assistant: plans the user's request and delegates to specialists"
    } else {
        "Specialist sub-agent invoked by the primary assistant"
    }
}

/// The id of the call that runs tool step `step_id`: the same on both sides of the call.
fn tool_call_id(run: &TraceRun<'_>, step_id: u32, salt: u64) -> String {
    content::id("call_", run.rng(step_id, mix(salt, CALL_ID_SALT)).random(), 24)
}

fn tool_call_arguments(run: &TraceRun<'_>, step_id: u32, name: &str, salt: u64) -> String {
    let mut rng = run.rng(step_id, mix(salt, ARGUMENTS_SALT));
    let kind = ToolKind::for_tool(name);
    let facts = run.facts();
    // A tool that acts on an offer (books it, reads its reviews) names the one the searches
    // returned first; a search names none.
    let search = ["search", "find", "list", "lookup"].iter().any(|verb| name.starts_with(verb));
    let chosen = if search { None } else { run.chosen_offer(kind) };
    content::tool_arguments_about(kind, facts, chosen, &mut rng)
}

/// The trace's conversation: fresh per run (derived from the trace id), or the one the
/// scheduler put the trace in (see [`TraceRun::in_conversation`]). Never from the content
/// seed, so two runs with the same `--seed` do not merge their conversations.
fn conversation_id(run: &TraceRun<'_>) -> String {
    content::id("conv_", mix(run.conversation_seed(), CONVERSATION_SALT), 24)
}

/// Bytes of JSON around each document's content in `gen_ai.retrieval.documents`:
/// `{"id":"doc_" + 12 + `","score":0.000,"content":"` + `"}` + a comma.
const DOCUMENT_OVERHEAD: usize = 7 + 16 + 10 + 5 + 12 + 2 + 1;

/// The documents a `retrieve` step returns: `top_k` of them, best first, with ids, scores and
/// about `result_bytes` of JSON in all.
fn retrieved_documents(
    step: &Retrieve,
    topic: &content::Topic,
    rng: &mut SmallRng,
) -> Vec<content::Document> {
    let count = step.top_k as usize;
    let room = (step.result_bytes as usize).saturating_sub(2 + count * DOCUMENT_OVERHEAD);
    let each = (room / count.max(1)).max(16);
    let mut score: f64 = 0.93 - rng.random::<f64>() * 0.15;
    (0..count)
        .map(|i| {
            let len = if i + 1 == count { room.saturating_sub(each * i).max(16) } else { each };
            let document = content::Document {
                id: content::id("doc_", rng.random(), 16),
                score: (score * 1000.0).round() / 1000.0,
                content: content::text_about(topic, rng, len),
            };
            score -= 0.01 + rng.random::<f64>() * 0.05;
            score = score.max(0.05);
            document
        })
        .collect()
}

/// `gen_ai.retrieval.documents`: `[{"id","score","content"}, ..]`.
fn documents_json(documents: &[content::Document]) -> String {
    let mut out = String::with_capacity(documents.iter().map(|d| d.content.len() + 64).sum());
    out.push('[');
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"id":"#);
        content::push_json_str(&mut out, &document.id);
        out.push_str(&format!(r#","score":{:.3},"content":"#, document.score));
        content::push_json_str(&mut out, &document.content);
        out.push('}');
    }
    out.push(']');
    out
}

fn response_id(provider: &str, seed: u64) -> String {
    match provider {
        "anthropic" | "aws.bedrock" | "gcp.vertex_ai" => content::id("msg_", seed, 24),
        "openai" | "azure.ai.openai" => content::id("chatcmpl-", seed, 29),
        _ => content::id("resp_", seed, 24),
    }
}

/// `gen_ai.tool.definitions` for the tools an answer calls (each once).
fn tool_definitions(calls: &[(String, &str, String)]) -> String {
    let mut out = String::from("[");
    let mut seen: Vec<&str> = Vec::new();
    for (_, name, _) in calls {
        if seen.contains(name) {
            continue;
        }
        if !seen.is_empty() {
            out.push(',');
        }
        seen.push(name);
        let kind = ToolKind::for_tool(name);
        out.push_str(r#"{"type":"function","name":"#);
        content::push_json_str(&mut out, name);
        out.push_str(r#","description":"#);
        content::push_json_str(&mut out, kind.description());
        out.push_str(r#","parameters":"#);
        out.push_str(kind.parameters_schema());
        out.push('}');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::PlatformSettings;

    fn resource_value<'a>(emitter: &'a Emitter, key: &str) -> Option<&'a crate::span::Value> {
        emitter.resource().iter().find(|a| a.key == key).map(|a| &a.value)
    }

    #[test]
    fn the_resource_names_scaletest_and_takes_overrides_and_profile_attributes() {
        let default = Emitter::default();
        assert_eq!(resource_value(&default, "service.name"), Some(&"scaletest".into()));
        assert_eq!(default.platform(), PlatformId::Otlp);

        let settings =
            PlatformSettings { project: Some("checkout".into()), ..PlatformSettings::default() };
        let profile = PlatformId::Phoenix.profile(&settings);
        let profile = profile.unwrap_or_else(|e| panic!("{e}"));
        let emitter = Emitter::new(
            &profile,
            vec![
                ("service.name".into(), "booking-agent".into()),
                ("deployment.environment.name".into(), "staging".into()),
            ],
        );
        assert_eq!(resource_value(&emitter, "service.name"), Some(&"booking-agent".into()));
        assert_eq!(
            resource_value(&emitter, "openinference.project.name"),
            Some(&"checkout".into())
        );
        assert_eq!(
            resource_value(&emitter, "deployment.environment.name"),
            Some(&"staging".into())
        );
        let names = emitter.resource().iter().filter(|a| a.key == "service.name").count();
        assert_eq!(names, 1, "an override replaces, never duplicates");
    }

    #[test]
    fn tool_definitions_list_each_tool_once_as_valid_json() {
        let calls = vec![
            ("call_1".to_owned(), "search_flights", "{}".to_owned()),
            ("call_2".to_owned(), "search_flights", "{}".to_owned()),
            ("call_3".to_owned(), "get_weather", "{}".to_owned()),
        ];
        let parsed: serde_json::Value = serde_json::from_str(&tool_definitions(&calls))
            .unwrap_or_else(|e| panic!("invalid definitions: {e}"));
        let names: Vec<&str> =
            parsed.as_array().into_iter().flatten().filter_map(|d| d["name"].as_str()).collect();
        assert_eq!(names, ["search_flights", "get_weather"]);
    }

    #[test]
    fn agent_ids_and_system_prompts_are_stable_per_agent() {
        assert_eq!(agent_id("hotel"), agent_id("hotel"));
        assert_ne!(agent_id("hotel"), agent_id("flights"));
        let long = system_prompt("hotel", 100_000);
        let short = system_prompt("hotel", 2_000);
        assert!(long.len() >= 600 && short.len() <= 500);
        assert!(long.starts_with(&short[..short.len() - 1]), "one prompt, cut to the budget");
    }

    #[test]
    fn system_prompts_are_cut_between_characters_and_quoted_as_json() {
        // "You are " then `x` then two-byte letters: byte 16 falls inside one.
        let prompt = system_prompt("xàààààà", 64);
        assert!(prompt.starts_with("You are xààà"), "{prompt}");
        assert_eq!(prompt.len(), 16);
        let agent = "a \"quoted\" \\ name\n";
        let instructions = system_instructions(&system_prompt(agent, 100_000));
        let parsed: serde_json::Value = serde_json::from_str(&instructions)
            .unwrap_or_else(|e| panic!("invalid instructions ({e}): {instructions}"));
        let content = parsed[0]["content"].as_str().unwrap_or_default();
        assert!(content.starts_with(&format!("You are {agent},")), "{content}");
    }
}
