//! Span-shape snapshots and structural checks of every built-in scenario under the main
//! platform profiles.
//!
//! The snapshot of a scenario under a profile lists its spans as a tree (name, kind, parent,
//! status) with each attribute's key, value type and size; ids and timestamps are left out, and
//! content is deterministic per seed, so a snapshot changes only when the trace's shape does.
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always` then `git diff`).

use std::collections::{HashMap, HashSet};

use scenario_runtime::genai;
use scenario_runtime::platform::{PlatformId, PlatformSettings, Profile};
use scenario_runtime::span::{SpanKind, SpanRecord, Status, Value};
use scenario_runtime::{AnyScenario, Emitter, record_trace};

const PROFILES: [PlatformId; 5] = [
    PlatformId::Otlp,
    PlatformId::Braintrust,
    PlatformId::Langsmith,
    PlatformId::Langfuse,
    PlatformId::Phoenix,
];

/// Seeds each structural check runs over.
const SEEDS: u64 = 40;

fn profile(id: PlatformId) -> Profile {
    let settings = PlatformSettings {
        api_key: Some("test-key".into()),
        secret_key: Some("test-secret".into()),
        experiment_id: Some("1".into()),
        workspace: Some("workspace".into()),
        entity: Some("entity".into()),
        ..PlatformSettings::default()
    };
    match id.profile(&settings) {
        Ok(profile) => profile,
        Err(error) => panic!("{id}: {error}"),
    }
}

/// Deprecated GenAI keys a profile is documented to dual-emit.
fn allowed_deprecated(id: PlatformId) -> &'static [&'static str] {
    match id {
        PlatformId::Langsmith => &[genai::deprecated::SYSTEM],
        _ => &[],
    }
}

/// Span indices in tree order (pre-order, children by start time then emission order), with
/// each span's depth and its parent's position in that order.
fn tree_order(spans: &[SpanRecord]) -> Vec<(usize, usize, Option<usize>)> {
    let mut children: HashMap<Option<[u8; 8]>, Vec<usize>> = HashMap::new();
    for (i, span) in spans.iter().enumerate() {
        children.entry(span.parent_span_id).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| (spans[i].start_unix_nanos, i));
    }
    let mut order = Vec::new();
    let mut stack: Vec<(usize, usize, Option<usize>)> =
        children.get(&None).into_iter().flatten().rev().map(|&i| (i, 0, None)).collect();
    while let Some((index, depth, parent)) = stack.pop() {
        let position = order.len();
        order.push((index, depth, parent));
        if let Some(kids) = children.get(&Some(spans[index].span_id)) {
            for &kid in kids.iter().rev() {
                stack.push((kid, depth + 1, Some(position)));
            }
        }
    }
    order
}

fn value_shape(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("string({})", s.len()),
        Value::StrArray(items) => format!("string[{}]", items.len()),
        other => other.type_name().to_owned(),
    }
}

fn shape_text(scenario: &dyn AnyScenario, emitter: &Emitter, seed: u64) -> String {
    let (_, spans) = record_trace(scenario, emitter, seed);
    let mut out = String::new();
    out.push_str("resource:\n");
    for attribute in emitter.resource() {
        let value = match &attribute.value {
            _ if attribute.key.ends_with(".version") => "<version>".to_owned(),
            Value::Str(s) => s.clone(),
            other => value_shape(other),
        };
        out.push_str(&format!("  {}: {value}\n", attribute.key));
    }
    let order = tree_order(&spans);
    let total: usize = spans.iter().flat_map(|s| &s.attributes).map(|a| a.value.byte_len()).sum();
    out.push_str(&format!("spans: {}  attribute bytes: {total}\n", spans.len()));
    for (position, &(index, depth, parent)) in order.iter().enumerate() {
        let span = &spans[index];
        let kind = match span.kind {
            SpanKind::Internal => "INTERNAL",
            SpanKind::Client => "CLIENT",
            SpanKind::Server => "SERVER",
        };
        let status = match &span.status {
            Status::Unset => "unset".to_owned(),
            Status::Error(description) => format!("error({description})"),
        };
        let parent = parent.map_or("-".to_owned(), |p| p.to_string());
        let indent = "  ".repeat(depth);
        out.push_str(&format!(
            "{indent}[{position}] {} {kind} parent={parent} status={status}\n",
            span.name
        ));
        for attribute in &span.attributes {
            out.push_str(&format!(
                "{indent}    {}: {}\n",
                attribute.key,
                value_shape(&attribute.value)
            ));
        }
    }
    out
}

#[test]
fn span_shapes_of_every_scenario_under_the_main_profiles() {
    for scenario in scenarios::all() {
        for id in PROFILES {
            let emitter = Emitter::new(&profile(id), Vec::new());
            let text = shape_text(*scenario, &emitter, 1);
            let name = format!("{}__{}", scenario.meta().name, id.name());
            insta::assert_snapshot!(name, text);
        }
    }
}

/// The index of each span's parent in `spans`.
fn ancestors(spans: &[SpanRecord], index: usize) -> Vec<usize> {
    let by_id: HashMap<[u8; 8], usize> =
        spans.iter().enumerate().map(|(i, s)| (s.span_id, i)).collect();
    let mut out = Vec::new();
    let mut current = spans[index].parent_span_id;
    while let Some(parent) = current {
        let Some(&p) = by_id.get(&parent) else { break };
        out.push(p);
        current = spans[p].parent_span_id;
    }
    out
}

fn check_trace(name: &str, id: PlatformId, seed: u64, spans: &[SpanRecord]) {
    let context = format!("{name} under {id}, seed {seed}");
    let ids: HashSet<_> = spans.iter().map(|s| s.span_id).collect();
    assert_eq!(ids.len(), spans.len(), "{context}: span ids are not unique");
    let roots = spans.iter().filter(|s| s.parent_span_id.is_none()).count();
    assert_eq!(roots, 1, "{context}: expected one root");
    let trace_ids: HashSet<_> = spans.iter().map(|s| s.trace_id).collect();
    assert_eq!(trace_ids.len(), 1, "{context}: spans of several traces");
    let by_id: HashMap<_, _> = spans.iter().map(|s| (s.span_id, s)).collect();
    for (index, span) in spans.iter().enumerate() {
        let what = format!("{context}: span `{}`", span.name);
        assert!(span.start_unix_nanos <= span.end_unix_nanos, "{what} ends before it starts");
        if let Some(parent) = span.parent_span_id {
            let Some(parent) = by_id.get(&parent) else { panic!("{what} is an orphan") };
            assert!(
                parent.start_unix_nanos <= span.start_unix_nanos
                    && span.end_unix_nanos <= parent.end_unix_nanos,
                "{what} is not inside its parent `{}`",
                parent.name
            );
        }
        let mut keys = HashSet::new();
        for attribute in &span.attributes {
            let key = attribute.key.as_ref();
            assert!(keys.insert(key), "{what} has `{key}` twice");
            if key.starts_with("gen_ai.") || key == genai::ERROR_TYPE {
                assert!(
                    genai::is_current(key) || allowed_deprecated(id).contains(&key),
                    "{what} has `{key}`, neither current nor documented for {id}"
                );
            }
        }
        let operation = match span.attribute(genai::OPERATION_NAME) {
            Some(Value::Str(operation)) => operation.as_str(),
            _ => panic!("{what} has no {}", genai::OPERATION_NAME),
        };
        let required: &[&str] = match operation {
            _ if span.attribute(genai::mcp::METHOD_NAME).is_some()
                && span.kind == SpanKind::Client =>
            {
                // The MCP client span below an `execute_tool` span.
                assert!(span.name.starts_with("tools/call "), "{what}");
                let parent = span.parent_span_id.and_then(|p| by_id.get(&p));
                assert!(
                    parent.is_some_and(|p| p.name.starts_with("execute_tool ")),
                    "{what}: not below its execute_tool span"
                );
                &[
                    genai::TOOL_NAME,
                    genai::mcp::SESSION_ID,
                    genai::mcp::JSONRPC_REQUEST_ID,
                    genai::mcp::NETWORK_TRANSPORT,
                ]
            }
            _ if span.kind == SpanKind::Server => {
                // The MCP server's span below the client's.
                assert!(span.name.starts_with("tools/call "), "{what}");
                let parent = span.parent_span_id.and_then(|p| by_id.get(&p));
                assert!(
                    parent.is_some_and(|p| p.kind == SpanKind::Client && p.name == span.name),
                    "{what}: not below its MCP client span"
                );
                &[genai::mcp::METHOD_NAME, genai::TOOL_NAME, genai::mcp::JSONRPC_REQUEST_ID]
            }
            "invoke_workflow" => {
                assert_eq!(span.kind, SpanKind::Internal, "{what}");
                assert!(span.parent_span_id.is_none(), "{what}: a workflow is the root");
                &[genai::WORKFLOW_NAME]
            }
            "create_agent" => {
                assert_eq!(span.kind, SpanKind::Client, "{what}");
                assert!(span.name.starts_with("create_agent "), "{what}");
                // The agent created is the one a sibling `invoke_agent` span then runs.
                let Some(Value::Str(agent)) = span.attribute(genai::AGENT_NAME) else {
                    panic!("{what} names no agent")
                };
                let invoked = format!("invoke_agent {agent}");
                assert!(
                    spans.iter().any(|s| s.name == invoked
                        && s.parent_span_id == span.parent_span_id
                        && s.start_unix_nanos >= span.end_unix_nanos),
                    "{what}: no `{invoked}` after it"
                );
                &[genai::AGENT_NAME, genai::PROVIDER_NAME, genai::REQUEST_MODEL]
            }
            "embeddings" => {
                assert_eq!(span.kind, SpanKind::Client, "{what}");
                assert!(span.name.starts_with("embeddings "), "{what}");
                &[genai::PROVIDER_NAME, genai::REQUEST_MODEL, genai::USAGE_INPUT_TOKENS]
            }
            "retrieval" => {
                assert_eq!(span.kind, SpanKind::Client, "{what}");
                assert!(span.name.starts_with("retrieval "), "{what}");
                &[genai::DATA_SOURCE_ID, genai::REQUEST_TOP_K]
            }
            "chat" => {
                assert_eq!(span.kind, SpanKind::Client, "{what}");
                assert!(span.name.starts_with("chat "), "{what}");
                &[genai::PROVIDER_NAME, genai::REQUEST_MODEL, genai::USAGE_INPUT_TOKENS]
            }
            "execute_tool" => {
                assert_eq!(span.kind, SpanKind::Internal, "{what}");
                &[genai::TOOL_NAME, genai::TOOL_CALL_ID]
            }
            "invoke_agent" => {
                assert_eq!(span.kind, SpanKind::Internal, "{what}");
                &[genai::AGENT_NAME, genai::CONVERSATION_ID]
            }
            other => panic!("{what}: unexpected operation `{other}`"),
        };
        for key in required {
            assert!(span.attribute(key).is_some(), "{what} lacks `{key}`");
        }
        if let Status::Error(_) = span.status {
            assert!(
                span.attribute(genai::ERROR_TYPE).is_some(),
                "{what} failed without error.type"
            );
            for ancestor in ancestors(spans, index) {
                assert!(
                    matches!(spans[ancestor].status, Status::Error(_)),
                    "{context}: `{}` failed but its ancestor `{}` did not",
                    span.name,
                    spans[ancestor].name
                );
            }
        }
    }
}

#[test]
fn every_scenario_and_profile_emits_well_formed_traces() {
    for scenario in scenarios::all() {
        let meta = scenario.meta();
        for id in PROFILES.into_iter().chain([PlatformId::Mlflow, PlatformId::Datadog]) {
            let emitter = Emitter::new(&profile(id), Vec::new());
            for seed in 0..SEEDS {
                let (_, spans) = record_trace(*scenario, &emitter, seed);
                assert!(
                    meta.shape.spans.contains(spans.len() as u64),
                    "{}: {} spans, the shape says {}",
                    meta.name,
                    spans.len(),
                    meta.shape.spans
                );
                check_trace(meta.name, id, seed, &spans);
            }
        }
    }
}

#[test]
fn failures_are_injected_somewhere_and_marked() {
    // Scenarios declare failure rates of a few percent: over enough seeds some fire.
    let emitter = Emitter::default();
    let mut failed = 0;
    for scenario in scenarios::all() {
        for seed in 0..200 {
            let (done, spans) = record_trace(*scenario, &emitter, seed);
            let root = spans.iter().find(|s| s.parent_span_id.is_none());
            let root_failed = root.is_some_and(|r| matches!(r.status, Status::Error(_)));
            assert_eq!(done.failed, root_failed, "{} seed {seed}", scenario.meta().name);
            failed += usize::from(done.failed);
        }
    }
    assert!(failed > 0, "no injected failure fired");
}

#[test]
fn profiles_add_the_attributes_their_platform_reads() {
    let scenario = scenarios::find("simple_query").unwrap_or_else(|| panic!("simple_query"));
    let spans_under =
        |id: PlatformId| record_trace(scenario, &Emitter::new(&profile(id), Vec::new()), 2).1;
    let chat_of = |spans: &[SpanRecord]| -> SpanRecord {
        spans
            .iter()
            .find(|s| s.name.starts_with("chat "))
            .cloned()
            .unwrap_or_else(|| panic!("no chat span"))
    };
    let root_of = |spans: &[SpanRecord]| -> SpanRecord {
        spans
            .iter()
            .find(|s| s.parent_span_id.is_none())
            .cloned()
            .unwrap_or_else(|| panic!("no root"))
    };
    let has = |span: &SpanRecord, key: &str| span.attribute(key).is_some();

    let generic = spans_under(PlatformId::Otlp);
    let chat = chat_of(&generic);
    assert!(!has(&chat, genai::deprecated::SYSTEM), "generic spans carry old names");
    assert!(has(&chat, genai::INPUT_MESSAGES) && has(&chat, genai::OUTPUT_MESSAGES));

    let langsmith = spans_under(PlatformId::Langsmith);
    let chat = chat_of(&langsmith);
    assert_eq!(chat.attribute(genai::deprecated::SYSTEM), chat.attribute(genai::PROVIDER_NAME));
    assert_eq!(chat.attribute("langsmith.span.kind"), Some(&"llm".into()));

    let braintrust = spans_under(PlatformId::Braintrust);
    let kind = match chat_of(&braintrust).attribute("braintrust.span_attributes") {
        Some(Value::Str(json)) => serde_json::from_str::<serde_json::Value>(json).ok(),
        _ => None,
    };
    assert_eq!(kind.map(|k| k["type"].clone()), Some("llm".into()));

    let langfuse = spans_under(PlatformId::Langfuse);
    assert_eq!(
        chat_of(&langfuse).attribute("langfuse.observation.type"),
        Some(&"generation".into())
    );
    let root = root_of(&langfuse);
    assert_eq!(root.attribute("langfuse.trace.name"), Some(&"travel_assistant".into()));
    assert_eq!(root.attribute("langfuse.session.id"), root.attribute(genai::CONVERSATION_ID));

    let phoenix = spans_under(PlatformId::Phoenix);
    let chat = chat_of(&phoenix);
    assert_eq!(chat.attribute("openinference.span.kind"), Some(&"LLM".into()));
    assert_eq!(chat.attribute("llm.input_messages.0.message.role"), Some(&"system".into()));
    assert!(has(&chat, "llm.input_messages.1.message.content"));
    assert!(has(&chat, "llm.output_messages.0.message.tool_calls.0.tool_call.function.name"));
    assert!(!has(&chat, genai::INPUT_MESSAGES), "content goes to OpenInference keys only");
    let tool = phoenix.iter().find(|s| s.name.starts_with("execute_tool ")).cloned();
    let tool = tool.unwrap_or_else(|| panic!("no tool span"));
    assert_eq!(tool.attribute("openinference.span.kind"), Some(&"TOOL".into()));
    assert!(has(&tool, "output.value") && !has(&tool, genai::TOOL_CALL_RESULT));
}

scenario_runtime::scenario! {
    name: timing_probe,
    description: "Sequential steps, a parallel block and a sub-agent, to check timestamps",
    agent: probe,

    llm(plan, input: 400, output: 40, latency: 100ms);
    parallel {
        tool(search_flights, 2kb, latency: 300ms);
        tool(search_hotels, 2kb, latency: 200ms);
    }
    delegate helper {
        llm(think, input: 300, output: 30, latency: 50..150ms);
        tool(get_weather, 1kb, latency: 20ms);
    }
    llm(answer, input: 800, output: 80, latency: 100ms);
}

#[test]
fn parallel_steps_overlap_and_sequential_steps_do_not() {
    let (_, spans) = record_trace(&timing_probe::SCENARIO, &Emitter::default(), 4);
    let span = |name: &str| {
        spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span `{name}`"))
    };
    let chats: Vec<&SpanRecord> = spans.iter().filter(|s| s.name.starts_with("chat ")).collect();
    let (flights, hotels) =
        (span("execute_tool search_flights"), span("execute_tool search_hotels"));
    let (helper, root) = (span("invoke_agent helper"), span("invoke_agent probe"));
    let first =
        chats.iter().min_by_key(|s| s.start_unix_nanos).unwrap_or_else(|| panic!("no chat"));
    let last = chats.iter().max_by_key(|s| s.start_unix_nanos).unwrap_or_else(|| panic!("no chat"));
    const MS: u64 = 1_000_000;

    assert_eq!(first.start_unix_nanos, root.start_unix_nanos);
    assert_eq!(first.end_unix_nanos - first.start_unix_nanos, 100 * MS);
    // The parallel branches start together when the plan ends, and overlap.
    assert_eq!(flights.start_unix_nanos, first.end_unix_nanos);
    assert_eq!(hotels.start_unix_nanos, first.end_unix_nanos);
    assert_eq!(flights.end_unix_nanos - flights.start_unix_nanos, 300 * MS);
    assert_eq!(hotels.end_unix_nanos - hotels.start_unix_nanos, 200 * MS);
    // The sub-agent starts when the slower branch ends and contains its steps.
    assert_eq!(helper.start_unix_nanos, flights.end_unix_nanos);
    for child in spans.iter().filter(|s| s.parent_span_id == Some(helper.span_id)) {
        assert!(child.start_unix_nanos >= helper.start_unix_nanos);
        assert!(child.end_unix_nanos <= helper.end_unix_nanos);
    }
    // Steps of one block never overlap: each starts when the one before ended.
    let mut helper_steps: Vec<&SpanRecord> =
        spans.iter().filter(|s| s.parent_span_id == Some(helper.span_id)).collect();
    helper_steps.sort_by_key(|s| s.start_unix_nanos);
    assert_eq!(helper_steps.len(), 2);
    assert_eq!(helper_steps[1].start_unix_nanos, helper_steps[0].end_unix_nanos);
    assert_eq!(last.start_unix_nanos, helper.end_unix_nanos);
    assert_eq!(root.end_unix_nanos, last.end_unix_nanos);
}

#[test]
fn new_steps_carry_their_conventions() {
    let emitter = Emitter::default();
    let find = |name: &str| scenarios::find(name).unwrap_or_else(|| panic!("{name}"));
    let (_, spans) = record_trace(find("research_report"), &emitter, 3);
    let report =
        spans.iter().find(|s| s.name == "chat o3" && s.attribute(genai::REQUEST_STREAM).is_some());
    let report = report.unwrap_or_else(|| panic!("no streamed chat span"));
    assert_eq!(report.attribute(genai::REQUEST_STREAM), Some(&Value::Bool(true)));
    let Some(Value::F64(ttft)) = report.attribute(genai::RESPONSE_TIME_TO_FIRST_CHUNK) else {
        panic!("no time to first chunk")
    };
    assert!((1.5..=4.0).contains(ttft), "ttft {ttft}s");
    let length = (report.end_unix_nanos - report.start_unix_nanos) as f64 / 1e9;
    assert!(*ttft < length);
    assert_eq!(report.attribute(genai::USAGE_REASONING_OUTPUT_TOKENS), Some(&Value::Int(1200)));
    assert_eq!(report.attribute(genai::USAGE_CACHE_READ_INPUT_TOKENS), Some(&Value::Int(16384)));

    let client = spans.iter().find(|s| s.name == "tools/call web_search");
    let client = client.unwrap_or_else(|| panic!("no MCP client span"));
    assert_eq!(client.kind, SpanKind::Client);
    assert_eq!(client.attribute(genai::mcp::METHOD_NAME), Some(&"tools/call".into()));
    assert_eq!(client.attribute(genai::OPERATION_NAME), Some(&"execute_tool".into()));
    let tool = spans.iter().find(|s| Some(s.span_id) == client.parent_span_id);
    let tool = tool.unwrap_or_else(|| panic!("MCP client span without parent"));
    assert_eq!(tool.name, "execute_tool web_search");
    assert!(tool.start_unix_nanos < client.start_unix_nanos);
    assert!(client.end_unix_nanos < tool.end_unix_nanos);
    let sessions: HashSet<_> = spans
        .iter()
        .filter_map(|s| s.attribute(genai::mcp::SESSION_ID))
        .map(|v| format!("{v:?}"))
        .collect();
    assert_eq!(sessions.len(), 1, "one MCP session per server and conversation");
    let request_ids: HashSet<_> = spans
        .iter()
        .filter_map(|s| s.attribute(genai::mcp::JSONRPC_REQUEST_ID))
        .map(|v| format!("{v:?}"))
        .collect();
    assert_eq!(request_ids.len(), 6, "one JSON-RPC request per call");

    let created = spans.iter().find(|s| s.name == "create_agent report_writer");
    let created = created.unwrap_or_else(|| panic!("no create_agent span"));
    let writer = spans.iter().find(|s| s.name == "invoke_agent report_writer");
    let writer = writer.unwrap_or_else(|| panic!("no invoke_agent report_writer span"));
    assert_eq!(created.kind, SpanKind::Client);
    assert_eq!(created.attribute(genai::OPERATION_NAME), Some(&"create_agent".into()));
    assert_eq!(created.parent_span_id, writer.parent_span_id, "created by the agent that runs it");
    assert!(created.end_unix_nanos <= writer.start_unix_nanos, "created before it runs");
    assert_eq!(created.attribute(genai::AGENT_ID), writer.attribute(genai::AGENT_ID));
    assert_eq!(created.attribute(genai::REQUEST_MODEL), Some(&"o3".into()));
    let Some(Value::Str(instructions)) = created.attribute(genai::SYSTEM_INSTRUCTIONS) else {
        panic!("no system instructions")
    };
    let instructions: serde_json::Value =
        serde_json::from_str(instructions).unwrap_or_else(|e| panic!("{e}: {instructions}"));
    assert!(instructions[0]["content"].as_str().is_some_and(|t| t.contains("report_writer")));
    for (platform, key) in
        [(PlatformId::Phoenix, "openinference.span.kind"), (PlatformId::Mlflow, "mlflow.spanType")]
    {
        let typed = Emitter::new(&profile(platform), Vec::new());
        let (_, spans) = record_trace(find("research_report"), &typed, 3);
        let created = spans.iter().find(|s| s.name == "create_agent report_writer");
        let kind = created.and_then(|s| s.attribute(key));
        assert_eq!(kind, Some(&"CHAIN".into()), "{platform}");
    }

    let phoenix = Emitter::new(&profile(PlatformId::Phoenix), Vec::new());
    let (_, spans) = record_trace(find("rag_answer"), &phoenix, 3);
    let retrieval = spans.iter().find(|s| s.name == "retrieval product_docs");
    let retrieval = retrieval.unwrap_or_else(|| panic!("no retrieval span"));
    assert_eq!(retrieval.attribute("openinference.span.kind"), Some(&"RETRIEVER".into()));
    assert_eq!(retrieval.attribute(genai::REQUEST_TOP_K), Some(&Value::F64(8.0)));
    for i in 0..8 {
        let key = format!("retrieval.documents.{i}.document.score");
        assert!(matches!(retrieval.attribute(&key), Some(Value::F64(_))), "{key}");
    }
    assert!(retrieval.attribute("retrieval.documents.8.document.id").is_none());
    let embedding = spans.iter().find(|s| s.name == "embeddings text-embedding-3-small");
    let embedding = embedding.unwrap_or_else(|| panic!("no embeddings span"));
    assert_eq!(embedding.attribute("openinference.span.kind"), Some(&"EMBEDDING".into()));
    assert_eq!(embedding.attribute(genai::EMBEDDINGS_DIMENSION_COUNT), Some(&Value::Int(1536)));
    let Some(Value::Str(text)) = embedding.attribute("embedding.embeddings.0.embedding.text")
    else {
        panic!("no embedded text")
    };
    assert_eq!(text.len(), 40 * 4);

    let (_, spans) = record_trace(find("rag_answer"), &emitter, 3);
    let retrieval = spans.iter().find(|s| s.name == "retrieval wiki");
    let Some(Value::Str(documents)) =
        retrieval.and_then(|s| s.attribute(genai::RETRIEVAL_DOCUMENTS))
    else {
        panic!("no documents")
    };
    let documents: serde_json::Value =
        serde_json::from_str(documents).unwrap_or_else(|e| panic!("{e}: {documents}"));
    let documents = documents.as_array().cloned().unwrap_or_default();
    assert_eq!(documents.len(), 8);
    let scores: Vec<f64> = documents.iter().filter_map(|d| d["score"].as_f64()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
    assert!(documents.iter().all(|d| d["id"].as_str().is_some_and(|id| id.starts_with("doc_"))));
}
