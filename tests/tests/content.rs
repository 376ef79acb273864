//! The content of emitted spans: realistic compressibility, determinism per seed, exact tool
//! result sizes, tool calls that match the spans executing them, a history that grows.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;

use scenario_runtime::content::{self, ToolKind};
use scenario_runtime::exec::{Clock, RunSettings, TraceRun};
use scenario_runtime::genai;
use scenario_runtime::platform::{PlatformId, PlatformSettings};
use scenario_runtime::span::{SpanRecord, Value};
use scenario_runtime::{AnyScenario, Emitter, Recorder, StepKind, record_trace};

/// The band real chat and API traffic falls in with gzip; padding gives 40x and more.
/// Checked from 16 KB on: below that gzip has too little context to find the vocabulary's
/// repetitions, for real text as for ours (8 KB of English prose gzips about 2.4x). The top
/// allows a search about one trip: its every record repeats the route and the dates, as a
/// real airline or hotel API's answer does (a 280 KB flight search gzips 6.6x).
const MIN_RATIO: f64 = 2.5;
const MAX_RATIO: f64 = 7.0;

fn gzip_ratio(bytes: &[u8]) -> f64 {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap_or_else(|e| panic!("gzip: {e}"));
    let compressed = encoder.finish().unwrap_or_else(|e| panic!("gzip: {e}"));
    bytes.len() as f64 / compressed.len() as f64
}

fn assert_realistic(what: &str, bytes: &[u8]) {
    let ratio = gzip_ratio(bytes);
    assert!(
        (MIN_RATIO..=MAX_RATIO).contains(&ratio),
        "{what}: gzip ratio {ratio:.2} outside {MIN_RATIO}..{MAX_RATIO} ({} bytes)",
        bytes.len()
    );
}

fn string<'a>(span: &'a SpanRecord, key: &str) -> Option<&'a str> {
    match span.attribute(key) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text:.200}"))
}

#[test]
fn generated_text_and_tool_results_compress_like_real_traffic() {
    for seed in 0..4 {
        let mut rng = content::rng(seed);
        for len in [16 << 10, 64 << 10, 512 << 10] {
            let text = content::text(&mut rng, len);
            assert_realistic(&format!("text of {len} bytes"), text.as_bytes());
        }
        for kind in ToolKind::ALL {
            for size in [16 << 10, 64 << 10, 512 << 10] {
                let result = content::tool_result(kind, &mut rng, size);
                assert_realistic(&format!("{kind:?} result of {size} bytes"), result.as_bytes());
            }
        }
    }
}

#[test]
fn emitted_messages_compress_like_real_traffic() {
    let emitter = Emitter::default();
    for scenario in scenarios::all() {
        let (_, spans) = record_trace(*scenario, &emitter, 11);
        for span in &spans {
            for key in [genai::INPUT_MESSAGES, genai::OUTPUT_MESSAGES, genai::TOOL_CALL_RESULT] {
                if let Some(text) = string(span, key).filter(|t| t.len() >= 16 << 10) {
                    let what = format!("{} {} {key}", scenario.meta().name, span.name);
                    assert_realistic(&what, text.as_bytes());
                }
            }
        }
    }
}

/// Everything about the spans except ids.
fn content_of(spans: &[SpanRecord]) -> Vec<(String, String)> {
    spans
        .iter()
        .flat_map(|span| {
            span.attributes
                .iter()
                .map(move |a| (format!("{} {}", span.name, a.key), format!("{:?}", a.value)))
        })
        .collect()
}

#[test]
fn the_same_seed_gives_byte_identical_content_and_another_seed_differs() {
    for id in [PlatformId::Otlp, PlatformId::Phoenix, PlatformId::Langsmith] {
        let profile = id.profile(&PlatformSettings {
            api_key: Some("k".into()),
            ..PlatformSettings::default()
        });
        let emitter = Emitter::new(&profile.unwrap_or_else(|e| panic!("{e}")), Vec::new());
        for scenario in scenarios::all() {
            let name = scenario.meta().name;
            let (_, first) = record_trace(*scenario, &emitter, 5);
            let (_, again) = record_trace(*scenario, &emitter, 5);
            assert_eq!(first, again, "{name} under {id}: same seed, different spans");
            let (_, other) = record_trace(*scenario, &emitter, 6);
            assert_ne!(content_of(&first), content_of(&other), "{name}: seeds 5 and 6 agree");
        }
    }
}

#[test]
fn content_depends_on_the_seed_not_on_the_trace_id() {
    let emitter = Emitter::default();
    let scenario = scenarios::find("delegated_booking").unwrap_or_else(|| panic!("missing"));
    let run_with = |trace_id: [u8; 16]| {
        let recorder = Recorder::new();
        let settings = RunSettings {
            sink: &recorder,
            clock: Clock::Synthetic,
            latency_scale: Default::default(),
            emitter: &emitter,
        };
        let run = TraceRun::new(settings, trace_id, 42);
        futures_executor_block_on(scenario, &run);
        recorder.take()
    };
    let a = run_with(*b"trace-id-one-001");
    let b = run_with(*b"trace-id-two-002");
    assert_ne!(a[0].span_id, b[0].span_id, "span ids should come from the trace id");
    assert_eq!(without_ids(content_of(&a)), without_ids(content_of(&b)));
    // Conversation ids are fresh per run: the same seed in two runs never merges them.
    let conversation = |spans: &[SpanRecord]| spans[0].attribute(genai::CONVERSATION_ID).cloned();
    assert!(conversation(&a).is_some());
    assert_ne!(conversation(&a), conversation(&b));
}

#[test]
fn a_latency_scale_stretches_every_span_and_changes_no_content() {
    let emitter = Emitter::default();
    let factor = 2.5;
    let scale = scenario_runtime::LatencyScale::new(factor).unwrap_or_else(|| panic!("2.5"));
    let trace_start = 1_767_225_600_000_000_000u64;
    let mut first_chunks = 0;
    for scenario in scenarios::all() {
        let name = scenario.meta().name;
        let run_with = |latency_scale| {
            let recorder = Recorder::new();
            let settings = RunSettings {
                sink: &recorder,
                clock: Clock::Synthetic,
                latency_scale,
                emitter: &emitter,
            };
            let run = TraceRun::new(settings, *b"one-trace-id-001", 11);
            futures_executor_block_on(*scenario, &run);
            recorder.take()
        };
        let declared = run_with(scenario_runtime::LatencyScale::ONE);
        let slower = run_with(scale);
        assert_eq!(declared.len(), slower.len(), "{name}: span counts differ");
        let timing = |key: &str| key.ends_with(genai::RESPONSE_TIME_TO_FIRST_CHUNK);
        let content = |spans: &[SpanRecord]| -> Vec<(String, String)> {
            content_of(spans).into_iter().filter(|(key, _)| !timing(key)).collect()
        };
        assert_eq!(content(&declared), content(&slower), "{name}: the content changed");
        // Start offsets and durations stretch by the factor: each latency is scaled once, so
        // rounding adds at most a nanosecond per step before the span.
        let stretched = |a: u64, b: u64, what: &str, span: &str| {
            let expected = a as f64 * factor;
            assert!(
                (b as f64 - expected).abs() <= 1_000.0,
                "{name} `{span}` {what}: {b} ns, expected {expected} ns"
            );
        };
        let mut waits = 0;
        for (d, s) in declared.iter().zip(&slower) {
            assert_eq!(d.name, s.name);
            stretched(
                d.start_unix_nanos - trace_start,
                s.start_unix_nanos - trace_start,
                "start",
                &d.name,
            );
            stretched(
                d.end_unix_nanos - d.start_unix_nanos,
                s.end_unix_nanos - s.start_unix_nanos,
                "duration",
                &d.name,
            );
            waits += usize::from(d.end_unix_nanos > d.start_unix_nanos);
            if let (Some(Value::F64(a)), Some(Value::F64(b))) = (
                d.attribute(genai::RESPONSE_TIME_TO_FIRST_CHUNK),
                s.attribute(genai::RESPONSE_TIME_TO_FIRST_CHUNK),
            ) {
                assert!(
                    (b - a * factor).abs() < 1e-6,
                    "{name} `{}`: first chunk {a} s then {b} s",
                    d.name
                );
                first_chunks += 1;
            }
        }
        assert!(waits > 0, "{name}: no span lasted any time");
    }
    assert!(first_chunks > 0, "no streamed call: the time to first token went unchecked");
}

/// Attributes that identify the conversation (and so come from the run, not the seed).
const CONVERSATION_KEYS: &[&str] =
    &[genai::CONVERSATION_ID, "session.id", "langfuse.session.id", genai::mcp::SESSION_ID];

fn without_ids(content: Vec<(String, String)>) -> Vec<(String, String)> {
    content
        .into_iter()
        .filter(|(key, _)| !CONVERSATION_KEYS.iter().any(|k| key.ends_with(&format!(" {k}"))))
        .collect()
}

#[test]
fn turns_given_one_conversation_share_its_id() {
    let emitter = Emitter::default();
    let scenario = scenarios::find("support_conversation").unwrap_or_else(|| panic!("missing"));
    let turn = |trace_id: [u8; 16], seed: u64| {
        let recorder = Recorder::new();
        let settings = RunSettings {
            sink: &recorder,
            clock: Clock::Synthetic,
            latency_scale: Default::default(),
            emitter: &emitter,
        };
        let run = TraceRun::new(settings, trace_id, seed).in_conversation(0xFEED);
        futures_executor_block_on(scenario, &run);
        recorder.take()
    };
    let first = turn(*b"turn-one-trace-1", 1);
    let second = turn(*b"turn-two-trace-2", 2);
    let ids = |spans: &[SpanRecord]| -> HashSet<String> {
        spans
            .iter()
            .filter_map(|s| s.attribute(genai::CONVERSATION_ID))
            .map(|v| format!("{v:?}"))
            .collect()
    };
    assert_eq!(ids(&first).len(), 1);
    assert_eq!(ids(&first), ids(&second));
}

fn futures_executor_block_on(scenario: &dyn AnyScenario, run: &TraceRun<'_>) {
    let future = scenario.run(run, 1_767_225_600_000_000_000);
    // A synthetic-clock run never waits, so polling to completion needs no executor.
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut future = future;
    for _ in 0..1_000_000 {
        if future.as_mut().poll(&mut context).is_ready() {
            return;
        }
    }
    panic!("synthetic run did not finish");
}

/// Declared result size of each tool step, by name.
fn declared_tool_sizes(scenario: &dyn AnyScenario) -> HashMap<String, u64> {
    scenario
        .describe()
        .into_iter()
        .filter_map(|line| {
            // An MCP step is described as `server/tool`.
            let name = match line.kind {
                StepKind::Tool => line.name.clone(),
                StepKind::Mcp => line.name.rsplit('/').next().unwrap_or_default().to_owned(),
                _ => return None,
            };
            line.bytes.map(|bytes| (name, bytes))
        })
        .collect()
}

#[test]
fn tool_results_are_valid_json_of_the_declared_size() {
    let emitter = Emitter::default();
    for scenario in scenarios::all() {
        let sizes = declared_tool_sizes(*scenario);
        for seed in 0..10 {
            let (_, spans) = record_trace(*scenario, &emitter, seed);
            for span in spans.iter().filter(|s| s.name.starts_with("execute_tool ")) {
                let result = string(span, genai::TOOL_CALL_RESULT)
                    .unwrap_or_else(|| panic!("{} has no result", span.name));
                json(result);
                json(string(span, genai::TOOL_CALL_ARGUMENTS).unwrap_or("null"));
                if span.attribute(genai::ERROR_TYPE).is_some() {
                    continue;
                }
                let tool = span.name.trim_start_matches("execute_tool ");
                if let Some(&size) = sizes.get(tool) {
                    assert_eq!(result.len() as u64, size, "{tool} in {}", scenario.meta().name);
                }
            }
        }
    }
}

#[test]
fn tool_calls_in_answers_match_the_spans_that_execute_them() {
    let emitter = Emitter::default();
    let mut matched = 0;
    for scenario in scenarios::all() {
        for seed in 0..10 {
            let (_, spans) = record_trace(*scenario, &emitter, seed);
            let tools: HashMap<&str, &SpanRecord> = spans
                .iter()
                .filter_map(|s| string(s, genai::TOOL_CALL_ID).map(|id| (id, s)))
                .collect();
            for chat in spans.iter().filter(|s| s.name.starts_with("chat ")) {
                let Some(output) = string(chat, genai::OUTPUT_MESSAGES) else { continue };
                let output = json(output);
                let parts = output[0]["parts"].as_array().cloned().unwrap_or_default();
                for part in parts.iter().filter(|p| p["type"] == "tool_call") {
                    let id = part["id"].as_str().unwrap_or_default();
                    let Some(tool) = tools.get(id) else {
                        panic!("{}: call {id} of `{}` never runs", scenario.meta().name, chat.name)
                    };
                    assert_eq!(
                        string(tool, genai::TOOL_NAME),
                        part["name"].as_str(),
                        "{}: call {id}",
                        scenario.meta().name
                    );
                    assert_eq!(tool.parent_span_id, chat.parent_span_id, "same agent");
                    assert!(tool.start_unix_nanos >= chat.end_unix_nanos, "call after answer");
                    assert_eq!(
                        string(tool, genai::TOOL_CALL_ARGUMENTS).map(json),
                        Some(part["arguments"].clone()),
                        "arguments agree"
                    );
                    matched += 1;
                }
            }
        }
    }
    assert!(matched > 100, "only {matched} tool calls matched");
}

#[test]
fn prompts_follow_token_counts_and_the_history_grows() {
    let emitter = Emitter::default();
    for scenario in scenarios::all() {
        let name = scenario.meta().name;
        let (_, spans) = record_trace(*scenario, &emitter, 3);
        let mut per_agent: HashMap<[u8; 8], Vec<&SpanRecord>> = HashMap::new();
        for chat in spans.iter().filter(|s| s.name.starts_with("chat ")) {
            let prompt = string(chat, genai::INPUT_MESSAGES).unwrap_or("[]").len()
                + string(chat, genai::SYSTEM_INSTRUCTIONS).map_or(0, str::len);
            let budget = match chat.attribute(genai::USAGE_INPUT_TOKENS) {
                Some(Value::Int(tokens)) => *tokens as usize * 4,
                _ => panic!("{name}: no input tokens"),
            };
            let slack = (budget / 20).max(300);
            assert!(
                prompt <= budget + slack && prompt + slack >= budget,
                "{name} {}: prompt of {prompt} bytes for {budget}",
                chat.name,
            );
            if let Some(parent) = chat.parent_span_id {
                per_agent.entry(parent).or_default().push(chat);
            }
        }
        for chats in per_agent.values_mut().filter(|chats| chats.len() >= 2) {
            chats.sort_by_key(|s| s.start_unix_nanos);
            let counts: Vec<usize> = chats
                .iter()
                .map(|chat| {
                    json(string(chat, genai::INPUT_MESSAGES).unwrap_or("[]"))
                        .as_array()
                        .map_or(0, Vec::len)
                })
                .collect();
            assert!(counts[1..].iter().all(|&c| c > counts[0]), "{name}: {counts:?}");
            let last = json(string(chats[chats.len() - 1], genai::INPUT_MESSAGES).unwrap_or("[]"));
            let roles: Vec<&str> =
                last.as_array().into_iter().flatten().filter_map(|m| m["role"].as_str()).collect();
            assert_eq!(roles.first(), Some(&"user"), "{name}: {roles:?}");
            assert!(
                roles.iter().any(|r| *r == "assistant" || *r == "tool"),
                "{name}: the last prompt carries no history: {roles:?}"
            );
        }
    }
}

#[test]
#[ignore = "a measurement, not a check: run with --release -- --ignored --nocapture"]
fn measure_generation_speed() {
    // Warm the pools first: they are built once per process.
    let mut rng = content::rng(1);
    for kind in ToolKind::ALL {
        content::tool_result(kind, &mut rng, 100_000);
    }
    let start = std::time::Instant::now();
    let mut bytes = 0usize;
    while start.elapsed().as_secs_f64() < 1.0 {
        for kind in ToolKind::ALL {
            bytes += content::tool_result(kind, &mut rng, 50_000).len();
        }
        bytes += content::text(&mut rng, 20_000).len();
    }
    let content_rate = bytes as f64 / start.elapsed().as_secs_f64() / 1e6;

    let emitter = Emitter::default();
    let start = std::time::Instant::now();
    let mut span_bytes = 0usize;
    let mut traces = 0u64;
    while start.elapsed().as_secs_f64() < 2.0 {
        for scenario in scenarios::all() {
            let (_, spans) = record_trace(*scenario, &emitter, traces);
            traces += 1;
            span_bytes +=
                spans.iter().flat_map(|s| &s.attributes).map(|a| a.value.byte_len()).sum::<usize>();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("content generation: {content_rate:.0} MB/s on one core");
    println!(
        "traces with spans: {:.0} traces/s, {:.0} MB/s of attribute bytes on one core",
        traces as f64 / seconds,
        span_bytes as f64 / seconds / 1e6
    );
}

/// A real clock whose waits end at once, so the test does not take the scenario's latency.
struct NoWait;

impl scenario_runtime::exec::Sleeper for NoWait {
    fn sleep(
        &self,
        _: std::time::Duration,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(std::future::ready(()))
    }
}

#[test]
fn content_does_not_depend_on_the_clock() {
    let emitter = Emitter::default();
    for scenario in scenarios::all() {
        let (_, synthetic) = record_trace(*scenario, &emitter, 8);
        let recorder = Recorder::new();
        let settings = RunSettings {
            sink: &recorder,
            clock: Clock::Real(&NoWait),
            latency_scale: Default::default(),
            emitter: &emitter,
        };
        let run = TraceRun::new(settings, synthetic[0].trace_id, 8);
        futures_executor_block_on(*scenario, &run);
        let real = recorder.take();
        // A streamed call's time to first chunk is a measured time, like the timestamps.
        let timeless = |content: Vec<(String, String)>| -> Vec<(String, String)> {
            let ttft = format!(" {}", genai::RESPONSE_TIME_TO_FIRST_CHUNK);
            content.into_iter().filter(|(key, _)| !key.ends_with(&ttft)).collect()
        };
        assert_eq!(
            timeless(content_of(&synthetic)),
            timeless(content_of(&real)),
            "{}",
            scenario.meta().name
        );
        assert!(real.iter().all(|s| s.start_unix_nanos > 1_767_225_600_000_000_000));
    }
}

/// The `city` of every object in `value`, recursively.
fn cities(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("city", serde_json::Value::String(city)) => out.push(city.clone()),
                    _ => cities(item, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| cities(item, out)),
        _ => {}
    }
}

#[test]
fn one_trace_is_about_one_trip() {
    // A booking searches, checks, reviews and books hotels in one city, for one stay, and its
    // answers say so.
    let emitter = Emitter::default();
    let scenario = scenarios::find("delegated_booking").unwrap_or_else(|| panic!("no scenario"));
    for seed in 0..20 {
        let (_, spans) = record_trace(scenario, &emitter, seed);
        let mut seen = Vec::new();
        let mut hotel_ids = Vec::new();
        for span in spans.iter().filter(|s| s.name.starts_with("execute_tool ")) {
            for key in [genai::TOOL_CALL_ARGUMENTS, genai::TOOL_CALL_RESULT] {
                let value: serde_json::Value = json(string(span, key).unwrap_or("null"));
                cities(&value, &mut seen);
                if key == genai::TOOL_CALL_ARGUMENTS
                    && let Some(id) = value["hotel_id"].as_str()
                {
                    hotel_ids.push(id.to_owned());
                }
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 1, "seed {seed}: one trace about several cities: {seen:?}");
        // The tools acting on the hotel name the one the search returned first.
        let search = spans.iter().find(|s| s.name == "execute_tool search_hotels");
        let results: serde_json::Value =
            json(search.and_then(|s| string(s, genai::TOOL_CALL_RESULT)).unwrap_or("null"));
        let first = results["results"][0]["hotel_id"].as_str().unwrap_or("none");
        assert!(!hotel_ids.is_empty(), "seed {seed}: no tool acted on a hotel");
        assert!(hotel_ids.iter().all(|id| id == first), "seed {seed}: {hotel_ids:?} vs {first}");
        // The specialist's conclusion quotes the hotel and the city.
        let city = &seen[0];
        let concluded = spans.iter().any(|s| {
            string(s, genai::OUTPUT_MESSAGES)
                .is_some_and(|out| out.contains(city.as_str()) && out.contains("per night"))
        });
        assert!(concluded, "seed {seed}: no answer quotes the hotel in {city}");
    }
}

/// The text parts of the messages in `value` (tool calls and their results left out).
fn message_texts<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some("text")
                && let Some(text) = map.get("content").and_then(|c| c.as_str())
            {
                out.push(text);
            }
            map.values().for_each(|item| message_texts(item, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| message_texts(item, out)),
        _ => {}
    }
}

/// Whether `word` occurs in `text` as a whole word.
fn names(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[test]
fn every_sentence_of_a_message_names_only_the_traces_people_and_places() {
    use scenario_runtime::content::vocab::{AIRLINES, AIRPORTS, FIRST_NAMES, LAST_NAMES};
    let emitter = Emitter::default();
    for name in ["delegated_booking", "support_conversation"] {
        let scenario = scenarios::find(name).unwrap_or_else(|| panic!("no scenario {name}"));
        for seed in 0..20 {
            let facts = content::Facts::from_seed(seed);
            let (first, last) = facts.person();
            let ((_, origin), (_, city)) = (facts.origin(), facts.destination());
            let (_, spans) = record_trace(scenario, &emitter, seed);
            let mut texts = Vec::new();
            let values: Vec<serde_json::Value> = spans
                .iter()
                .flat_map(|span| {
                    [genai::INPUT_MESSAGES, genai::OUTPUT_MESSAGES]
                        .into_iter()
                        .filter_map(|key| string(span, key).map(json))
                })
                .collect();
            values.iter().for_each(|value| message_texts(value, &mut texts));
            assert!(texts.len() > 4, "{name} seed {seed}: {} texts", texts.len());
            let foreign_cities =
                AIRPORTS.iter().map(|&(_, c)| c).filter(|&c| c != city && c != origin);
            let foreign_first = FIRST_NAMES.iter().copied().filter(|&n| n != first);
            let foreign_last = LAST_NAMES.iter().copied().filter(|&n| n != last);
            let foreign: Vec<&str> =
                foreign_cities.chain(foreign_first).chain(foreign_last).collect();
            for text in &texts {
                // An airline named after a city ("Singapore Airlines") is not a place.
                let text = AIRLINES.iter().fold(text.to_string(), |t, (_, a)| t.replace(a, "_"));
                if let Some(other) = foreign.iter().find(|&&word| names(&text, word)) {
                    panic!("{name} seed {seed}: a message names {other}, not of its trace: {text}");
                }
            }
            let named = texts.iter().filter(|t| names(t, city) || names(t, first)).count();
            assert!(named > texts.len() / 2, "{name} seed {seed}: few texts name the trip");
        }
    }
}
