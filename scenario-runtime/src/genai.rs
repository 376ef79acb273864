//! OpenTelemetry GenAI semantic-convention keys used by scaletest.
//!
//! The conventions moved to their own repository and the `opentelemetry-semantic-conventions`
//! crate only has them behind an experimental feature, all marked deprecated. Spans are the
//! product here, so we keep our own constants, checked by a test against the names we document.
//!
//! Only the *current* names are emitted by default. The deprecated names in [`deprecated`] are
//! sent only by the platform profiles that still read them (see [`crate::platform`]).
//!
//! Sources: the attribute registry and span definitions of
//! `open-telemetry/semantic-conventions-genai` (`model/gen-ai/registry.yaml`,
//! `model/gen-ai/spans.yaml`: the inference, embeddings and retrieval client spans; the
//! agent spans: `create_agent`, `invoke_agent`, `invoke_workflow`) and its MCP
//! conventions (`model/mcp/registry.yaml`, `model/mcp/common.yaml`, `model/mcp/spans.yaml`: the
//! `mcp.client` span), all at stability `development`.

/// Which operation a span describes: `chat`, `execute_tool`, `invoke_agent`, `create_agent`, ...
pub const OPERATION_NAME: &str = "gen_ai.operation.name";
/// Who serves the model: `openai`, `anthropic`, `aws.bedrock`, ... (was `gen_ai.system`).
pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
/// The model the request asked for.
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
/// The model that answered (often a dated snapshot of the requested one).
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
/// The provider's id of the completion.
pub const RESPONSE_ID: &str = "gen_ai.response.id";
/// Why the model stopped, one per choice (a string array).
pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Sampling temperature of the request.
pub const REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// Output token cap of the request.
pub const REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// Tokens in the prompt (was `gen_ai.usage.prompt_tokens`).
pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Tokens in the completion (was `gen_ai.usage.completion_tokens`).
pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Prompt tokens served from the provider's prompt cache.
pub const USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Output tokens spent reasoning; part of [`USAGE_OUTPUT_TOKENS`].
pub const USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// `true` when the request streamed its answer (unset means not streaming).
pub const REQUEST_STREAM: &str = "gen_ai.request.stream";
/// Seconds from the request to the first chunk of a streamed answer (a double).
pub const RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// Dimensions of the embeddings an `embeddings` request asks for.
pub const EMBEDDINGS_DIMENSION_COUNT: &str = "gen_ai.embeddings.dimension.count";
/// Encoding formats an `embeddings` request asks for (a string array, like `["float"]`).
pub const REQUEST_ENCODING_FORMATS: &str = "gen_ai.request.encoding_formats";
/// The data source a `retrieval` queries (its span is `retrieval <data source>`).
pub const DATA_SOURCE_ID: &str = "gen_ai.data_source.id";
/// Documents a `retrieval` asks for (a double in the registry, so emitted as one).
pub const REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// The query text of a `retrieval` (opt-in content).
pub const RETRIEVAL_QUERY_TEXT: &str = "gen_ai.retrieval.query.text";
/// The documents a `retrieval` returned: a JSON array of `{"id", "score", ..}` (opt-in content).
pub const RETRIEVAL_DOCUMENTS: &str = "gen_ai.retrieval.documents";
/// Groups the spans of one conversation: every turn of a session shares it.
pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// The workflow an `invoke_workflow` span runs (a group of agents).
pub const WORKFLOW_NAME: &str = "gen_ai.workflow.name";
/// The agent's human-readable name.
pub const AGENT_NAME: &str = "gen_ai.agent.name";
/// The agent's stable id.
pub const AGENT_ID: &str = "gen_ai.agent.id";
/// What the agent is for.
pub const AGENT_DESCRIPTION: &str = "gen_ai.agent.description";
/// The tool being executed.
pub const TOOL_NAME: &str = "gen_ai.tool.name";
/// The id the model gave the tool call; equal on the `tool_call` part and the tool span.
pub const TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// `function`, `extension` or `datastore`.
pub const TOOL_TYPE: &str = "gen_ai.tool.type";
/// What the tool does.
pub const TOOL_DESCRIPTION: &str = "gen_ai.tool.description";
/// The prompt: a JSON array of messages with `role` and `parts`.
pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// The completion: a JSON array of messages with `role`, `parts` and `finish_reason`.
pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// System instructions given apart from the chat history: a JSON array of parts.
pub const SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// The tools offered to the model: a JSON array of function definitions.
pub const TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";
/// The arguments of a tool call (JSON).
pub const TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// What the tool returned (JSON).
pub const TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// The class of error when an operation fails (with span status Error).
pub const ERROR_TYPE: &str = "error.type";

/// Values of [`OPERATION_NAME`].
pub mod operation {
    pub const CHAT: &str = "chat";
    pub const EXECUTE_TOOL: &str = "execute_tool";
    pub const INVOKE_AGENT: &str = "invoke_agent";
    pub const EMBEDDINGS: &str = "embeddings";
    pub const RETRIEVAL: &str = "retrieval";
    /// A coordinated process of several agents (`invoke_workflow <gen_ai.workflow.name>`,
    /// INTERNAL), above the agents it runs.
    pub const INVOKE_WORKFLOW: &str = "invoke_workflow";
    /// The creation of an agent in an agent service (`create_agent <gen_ai.agent.name>`,
    /// CLIENT), before the agent is invoked.
    pub const CREATE_AGENT: &str = "create_agent";
}

/// Keys of the MCP client span (`model/mcp/*.yaml`): the span below an `execute_tool` span
/// when the tool is reached through an MCP server, named `{mcp.method.name} {gen_ai.tool.name}`,
/// of kind CLIENT, carrying `gen_ai.operation.name = execute_tool` and `gen_ai.tool.name` too;
/// and of the MCP server span (`span.mcp.server`), its child when the server is instrumented:
/// the same name, kind SERVER, with the client's address instead of the server's.
pub mod mcp {
    /// The JSON-RPC method: [`method::TOOLS_CALL`] for a tool call (required).
    pub const METHOD_NAME: &str = "mcp.method.name";
    /// The session of a pre-2026-07-28 server (its `Mcp-Session-Id` header).
    pub const SESSION_ID: &str = "mcp.session.id";
    /// The MCP protocol revision the peers speak.
    pub const PROTOCOL_VERSION: &str = "mcp.protocol.version";
    /// The JSON-RPC request id (a string; conditionally required for requests).
    pub const JSONRPC_REQUEST_ID: &str = "jsonrpc.request.id";
    /// `tcp` for HTTP transports, `pipe` for stdio.
    pub const NETWORK_TRANSPORT: &str = "network.transport";
    /// `http` for the streamable HTTP transport.
    pub const NETWORK_PROTOCOL_NAME: &str = "network.protocol.name";
    /// The MCP server's host.
    pub const SERVER_ADDRESS: &str = "server.address";
    /// The MCP server's port.
    pub const SERVER_PORT: &str = "server.port";
    /// On the server span: the MCP client's address.
    pub const CLIENT_ADDRESS: &str = "client.address";
    /// On the server span: the MCP client's port.
    pub const CLIENT_PORT: &str = "client.port";

    /// Values of [`METHOD_NAME`].
    pub mod method {
        pub const TOOLS_CALL: &str = "tools/call";
    }

    /// The protocol revision scaletest's MCP spans claim: the last one with sessions, so
    /// [`SESSION_ID`] applies.
    pub const PROTOCOL_REVISION: &str = "2025-11-25";
}

/// Every current key scaletest may emit, for checks that nothing else under `gen_ai.` leaks.
pub const CURRENT: &[&str] = &[
    OPERATION_NAME,
    PROVIDER_NAME,
    REQUEST_MODEL,
    RESPONSE_MODEL,
    RESPONSE_ID,
    RESPONSE_FINISH_REASONS,
    REQUEST_TEMPERATURE,
    REQUEST_MAX_TOKENS,
    USAGE_INPUT_TOKENS,
    USAGE_OUTPUT_TOKENS,
    USAGE_CACHE_READ_INPUT_TOKENS,
    USAGE_REASONING_OUTPUT_TOKENS,
    REQUEST_STREAM,
    RESPONSE_TIME_TO_FIRST_CHUNK,
    EMBEDDINGS_DIMENSION_COUNT,
    REQUEST_ENCODING_FORMATS,
    DATA_SOURCE_ID,
    REQUEST_TOP_K,
    RETRIEVAL_QUERY_TEXT,
    RETRIEVAL_DOCUMENTS,
    CONVERSATION_ID,
    WORKFLOW_NAME,
    AGENT_NAME,
    AGENT_ID,
    AGENT_DESCRIPTION,
    TOOL_NAME,
    TOOL_CALL_ID,
    TOOL_TYPE,
    TOOL_DESCRIPTION,
    INPUT_MESSAGES,
    OUTPUT_MESSAGES,
    SYSTEM_INSTRUCTIONS,
    TOOL_DEFINITIONS,
    TOOL_CALL_ARGUMENTS,
    TOOL_CALL_RESULT,
    ERROR_TYPE,
];

/// Names renamed in semantic conventions 1.37 that some backends still read.
///
/// Emitted only by the profiles that need them, alongside the current name (dual emission),
/// never instead of it.
pub mod deprecated {
    /// Old name of [`super::PROVIDER_NAME`]; LangSmith still maps providers from it.
    pub const SYSTEM: &str = "gen_ai.system";
    /// Old name of [`super::USAGE_INPUT_TOKENS`].
    pub const USAGE_PROMPT_TOKENS: &str = "gen_ai.usage.prompt_tokens";
    /// Old name of [`super::USAGE_OUTPUT_TOKENS`].
    pub const USAGE_COMPLETION_TOKENS: &str = "gen_ai.usage.completion_tokens";

    /// Every deprecated key a profile may dual-emit.
    pub const ALL: &[&str] = &[SYSTEM, USAGE_PROMPT_TOKENS, USAGE_COMPLETION_TOKENS];
}

/// Whether `key` is a GenAI key scaletest emits under its current name.
pub fn is_current(key: &str) -> bool {
    CURRENT.contains(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names as conventions.md lists them (semantic conventions 1.37 and later), and those
    /// of `open-telemetry/semantic-conventions-genai`'s `model/gen-ai/registry.yaml` for
    /// streaming, reasoning, embeddings and retrieval.
    const DOCUMENTED: &[&str] = &[
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.response.id",
        "gen_ai.response.finish_reasons",
        "gen_ai.request.temperature",
        "gen_ai.request.max_tokens",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.request.stream",
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.embeddings.dimension.count",
        "gen_ai.request.encoding_formats",
        "gen_ai.data_source.id",
        "gen_ai.request.top_k",
        "gen_ai.retrieval.query.text",
        "gen_ai.retrieval.documents",
        "gen_ai.conversation.id",
        "gen_ai.workflow.name",
        "gen_ai.agent.name",
        "gen_ai.agent.id",
        "gen_ai.agent.description",
        "gen_ai.tool.name",
        "gen_ai.tool.call.id",
        "gen_ai.tool.type",
        "gen_ai.tool.description",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "error.type",
    ];

    #[test]
    fn current_keys_are_the_documented_ones() {
        let mut ours: Vec<&str> = CURRENT.to_vec();
        let mut documented: Vec<&str> = DOCUMENTED.to_vec();
        ours.sort_unstable();
        documented.sort_unstable();
        assert_eq!(ours, documented);
    }

    #[test]
    fn deprecated_keys_are_not_current() {
        for key in deprecated::ALL {
            assert!(!is_current(key), "{key} is deprecated but listed as current");
            assert!(key.starts_with("gen_ai."));
        }
    }
}
