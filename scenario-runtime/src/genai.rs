//! OpenTelemetry GenAI semantic-convention keys used by scaletest.
//!
//! The conventions moved to their own repository and the `opentelemetry-semantic-conventions`
//! crate only has them behind an experimental feature, all marked deprecated. Spans are the
//! product here, so we keep our own constants, checked by a test against the names we document.
//!
//! Only the *current* names are emitted by default. The deprecated names in [`deprecated`] are
//! sent only by the platform profiles that still read them (see [`crate::platform`]).

/// Which operation a span describes: `chat`, `execute_tool`, `invoke_agent`.
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
/// Groups the spans of one conversation (one trace here).
pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
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
    CONVERSATION_ID,
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

    /// The names as conventions.md lists them (semantic conventions 1.37 and later).
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
        "gen_ai.conversation.id",
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
