//! Every attribute that carries JSON text is valid JSON, whatever the scenario's names are.
//!
//! Agent, model and provider names may be string literals holding quotes and backslashes, and
//! step and sub-agent names may be non-ASCII identifiers; they end up inside messages, tool
//! calls, tool definitions and system instructions. The scenario below uses such names
//! everywhere the `scenario!` macro allows them and is run under every platform profile.

use scenario_runtime::genai;
use scenario_runtime::platform::{PlatformId, PlatformSettings, Profile};
use scenario_runtime::span::{SpanRecord, Value};
use scenario_runtime::{Emitter, record_trace};

const AGENT: &str = "assistant \"Zoë\" at C:\\agents\\";
const MODEL: &str = "gpt-\"4o\"\\mini-ü";
const STEP_MODEL: &str = "claude \"sonnet\" \\ 4.5 — ß";

scenario_runtime::scenario! {
    name: awkward_names,
    description: "Names with \"quotes\", back\\slashes and non-ASCII letters",
    agent: "assistant \"Zoë\" at C:\\agents\\",
    model: "gpt-\"4o\"\\mini-ü",
    provider: "acme \"labs\" \\ é",

    llm(planifier_le_séjour, input: 1500, output: 120, latency: 100..200ms, fail: 20%);
    tool(réserver_hôtel, 6kb, latency: 50..100ms, fail: 20%);
    delegate spécialiste_des_hôtels {
        llm(vérifier, input: 1200, output: 200, latency: 100..200ms, model: "claude \"sonnet\" \\ 4.5 — ß");
        parallel {
            tool(chercher_chambres, 30kb, latency: 50..100ms);
            tool(prix_à_la_nuit, 2kb, latency: 50..100ms, fail: 20%);
        }
        llm(résumer, input: 3000, output: 300, latency: 100..200ms);
    }
    route {
        50% => { tool(payer_ø, 1kb, latency: 10..20ms); }
        50% => { tool(annuler_ñ, 1kb, latency: 10..20ms); }
    }
    // A system prompt of 16 bytes: "You are xà" cut inside the fifth `à`.
    delegate xàààààà {
        llm(court, input: 16, output: 10, latency: 10..20ms);
    }
    // Steps reaching out: an MCP server, an embedding model with an awkward name, a store.
    mcp(sérveur_ß, outil_ñ, 2kb, latency: 10..20ms, fail: 20%);
    embed(intégrer, input: 30, model: "text-\"embed\"\\ü", latency: 10..20ms);
    retrieve(magasin_é, 4kb, top_k: 3, latency: 10..20ms, fail: 20%);
    // A budget smaller than the history: messages are cut.
    llm(répondre, input: 2500, output: 400, latency: 100..200ms);
}

const SEEDS: u64 = 30;

fn profile(id: PlatformId) -> Profile {
    let settings = PlatformSettings {
        api_key: Some("test-key".into()),
        secret_key: Some("test-secret".into()),
        experiment_id: Some("1".into()),
        workspace: Some("workspace".into()),
        entity: Some("entity".into()),
        ..PlatformSettings::default()
    };
    id.profile(&settings).unwrap_or_else(|error| panic!("{id}: {error}"))
}

/// Keys whose value is JSON text when present, on any profile.
const JSON_KEYS: &[&str] = &[
    genai::SYSTEM_INSTRUCTIONS,
    genai::INPUT_MESSAGES,
    genai::OUTPUT_MESSAGES,
    genai::TOOL_DEFINITIONS,
    genai::TOOL_CALL_ARGUMENTS,
    genai::TOOL_CALL_RESULT,
    genai::RETRIEVAL_DOCUMENTS,
    "llm.invocation_parameters",
    "embedding.invocation_parameters",
    "tool.parameters",
    "braintrust.span_attributes",
];

/// Whether the attribute `key` of `span` is documented as JSON: a fixed key, an OpenInference
/// function call's arguments, or a value whose mime type says so.
fn is_json(span: &SpanRecord, key: &str) -> bool {
    if JSON_KEYS.contains(&key) || key.ends_with(".function.arguments") {
        return true;
    }
    let mime =
        |k: &str| matches!(span.attribute(k), Some(Value::Str(m)) if m == "application/json");
    (key == "input.value" && mime("input.mime_type"))
        || (key == "output.value" && mime("output.mime_type"))
}

fn parse(what: &str, text: &str) -> serde_json::Value {
    serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("{what}: invalid JSON ({error}): {text}"))
}

#[test]
fn json_attributes_parse_whatever_the_names() {
    let mut checked = 0;
    for id in PlatformId::ALL {
        let emitter = Emitter::new(&profile(id), Vec::new());
        for seed in 0..SEEDS {
            let (_, spans) = record_trace(&awkward_names::SCENARIO, &emitter, seed);
            for span in &spans {
                for attribute in &span.attributes {
                    let Value::Str(text) = &attribute.value else { continue };
                    let key: &str = &attribute.key;
                    // Anything that looks like a JSON object or array must be one.
                    if is_json(span, key) || text.starts_with('{') || text.starts_with('[') {
                        parse(&format!("{id} seed {seed} `{}` {key}", span.name), text);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} JSON values checked");
}

/// The names come back intact once the JSON is parsed.
#[test]
fn names_survive_the_json_round_trip() {
    let emitter = Emitter::default();
    let mut seen_definition = false;
    let mut seen_call = false;
    for seed in 0..SEEDS {
        let (_, spans) = record_trace(&awkward_names::SCENARIO, &emitter, seed);
        let root = spans.iter().find(|s| s.parent_span_id.is_none());
        let root = root.unwrap_or_else(|| panic!("seed {seed}: no root span"));
        assert_eq!(root.name, format!("invoke_agent {AGENT}"));
        for span in spans.iter().filter(|s| s.name.starts_with("chat ")) {
            assert!(
                span.name == format!("chat {MODEL}") || span.name == format!("chat {STEP_MODEL}")
            );
            if let Some(Value::Str(text)) = span.attribute(genai::SYSTEM_INSTRUCTIONS) {
                let instructions = parse("instructions", text);
                let content = instructions[0]["content"].as_str().unwrap_or_default();
                assert!(content.starts_with("You are "), "{content}");
            }
            if let Some(Value::Str(text)) = span.attribute(genai::TOOL_DEFINITIONS) {
                let definitions = parse("definitions", text);
                let names: Vec<&str> = definitions
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["name"].as_str())
                    .collect();
                seen_definition |= names.contains(&"réserver_hôtel");
            }
            if let Some(Value::Str(text)) = span.attribute(genai::OUTPUT_MESSAGES) {
                let output = parse("output", text);
                let parts = output[0]["parts"].as_array().cloned().unwrap_or_default();
                seen_call |= parts.iter().any(|p| p["name"] == "prix_à_la_nuit");
            }
        }
        // The root agent's system prompt names it, unescaped once parsed.
        let first_chat = spans
            .iter()
            .find(|s| s.parent_span_id == Some(root.span_id) && s.name.starts_with("chat "));
        if let Some(Value::Str(text)) =
            first_chat.and_then(|s| s.attribute(genai::SYSTEM_INSTRUCTIONS))
        {
            let instructions = parse("instructions", text);
            let content = instructions[0]["content"].as_str().unwrap_or_default();
            assert!(content.starts_with(&format!("You are {AGENT}")), "{content}");
        }
    }
    assert!(seen_definition, "no tool definition named réserver_hôtel");
    assert!(seen_call, "no tool call named prix_à_la_nuit");
}
