//! The scenario language: how to write a scenario with [`scenario!`](macro@crate::scenario).
//!
//! This module holds no code; it is the reference of the language. Every example below is
//! compiled and run as a test.
//!
//! # A complete scenario
//!
//! ```
//! scenario_runtime::scenario! {
//!     name: delegated_booking,
//!     description: "Book a hotel through a specialist agent",
//!     agent: primary_assistant,
//!     model: "gpt-4o",
//!     provider: openai,
//!     expect: { spans: 13, depth: 3, llm_calls: 5..6, tool_calls: 5..6 },
//!
//!     llm(primary_plan, input: 1200, output: 150, latency: 400ms);
//!     delegate hotel {
//!         llm(hotel_plan, input: 2000, output: 100, latency: 200..800ms,
//!             model: "claude-sonnet-4-5", provider: anthropic);
//!         tool(search_hotels, 40kb, latency: 250ms, fail: 2%);
//!         parallel {
//!             tool(fetch_reviews, 20kb);
//!             tool(check_availability, 4kb);
//!         }
//!         route {
//!             0.9 => { tool(book_hotel, 10kb); }
//!             0.1 => { llm(ask_user_dates, input: 2600, output: 80); }
//!         }
//!         repeat 2 { llm(refine, input: 2400, output: 120); tool(price_check, 3kb); }
//!     }
//!     llm(primary_confirm, input: 3000, output: 100, fail: 1%);
//! }
//!
//! // The shape is known at build time.
//! assert_eq!(delegated_booking::SPANS, 13);
//! assert_eq!(delegated_booking::DEPTH, 3);
//! assert_eq!(delegated_booking::LLM_CALLS_MIN, 5);
//! assert_eq!(delegated_booking::LLM_CALLS_MAX, 6);
//! // And running it emits exactly that many spans.
//! let (_, spans) = scenario_runtime::record_trace(
//!     delegated_booking::scenario(),
//!     &scenario_runtime::Emitter::default(),
//!     42,
//! );
//! assert_eq!(spans.len() as u64, delegated_booking::SPANS);
//! ```
//!
//! A scenario is a header of `key: value,` entries followed by steps. The header's entries come
//! in any order; the comma after the last one is optional. `llm(..)` and `tool(..)` steps end
//! with `;`; block steps (`delegate`, `parallel`, `route`, `repeat`) end with their braces.
//!
//! # Header
//!
//! | key | value | default |
//! |---|---|---|
//! | `name` | an identifier; becomes the module holding the scenario | required |
//! | `description` | a string; shown by `scaletest list` | required |
//! | `agent` | the root agent's name (identifier or string): the root span is `invoke_agent <agent>` | `assistant` |
//! | `model` | the default model of `llm` steps, a string | `"gpt-4o"` |
//! | `provider` | the default provider of `llm` steps (identifier or string) | `openai` |
//! | `workflow` | a workflow name (identifier or string): the root agent runs inside an `invoke_workflow <workflow>` span (INTERNAL, the trace's root; one span and one level more), as frameworks with a notion of a crew or workflow report | none |
//! | `session` | `N turns` or `A..B turns` (1 to 1000): each run is one turn of a multi-turn conversation, see [Sessions](#sessions) | none |
//! | `think` | the user's time between two turns, a latency (only with `session`) | `5..30s` |
//! | `expect` | assertions on the shape, see [Expectations](#expectations) | none |
//!
//! # Sessions
//!
//! With `session: 3..8 turns`, a load run makes the scenario's traces the turns of
//! conversations: each conversation draws its number of turns from the range; its turns share
//! `gen_ai.conversation.id` (and the platform's session key: OpenInference `session.id`,
//! Langfuse `langfuse.session.id`, LangSmith `langsmith.metadata.session_id`) and their MCP
//! sessions; each turn resends the earlier turns as history before the user's new message; a
//! turn starts only after the previous one ended and a `think` time passed. The rate still
//! counts traces: a start given to the scenario continues the conversation that has waited
//! longest, or starts a new one when none is ready. The report counts conversations started
//! and finished. A session does not change the shape: each turn is one trace of the declared
//! spans and tokens.
//!
//! ```
//! scenario_runtime::scenario! {
//!     name: chat,
//!     description: "A support chat of three to eight turns",
//!     session: 3..8 turns,
//!     think: 10..60s,
//!     llm(answer, input: 4000, output: 300);
//! }
//! let session = chat::SCENARIO.meta.session.expect("a session");
//! assert_eq!((session.min_turns, session.max_turns), (3, 8));
//! ```
//!
//! # Steps
//!
//! - **`llm(name, input: N, output: N, [latency: L], [model: "m"], [provider: p], [fail: P]);`**
//!   One model call, emitted as a `chat <model>` span. `input` and `output` are token counts
//!   (required, 1 to 2,000,000). `model` and `provider` override the header's. Without
//!   `latency`, the call takes 200ms plus 2ms per output token (time to first token, then
//!   generation).
//! - **`tool(name, SIZE, [latency: L], [fail: P]);`** One tool execution, emitted as an
//!   `execute_tool <name>` span whose JSON result is `SIZE` bytes. Without `latency`, 100ms.
//!   The tools that follow an `llm` step in its block (up to the next `llm` or `delegate`,
//!   including those directly inside a following `parallel`) are the tool calls that step's
//!   answer requests; the emitted ids match.
//! - **`llm(.., reasoning: N, cached: N, stream: true, ttft: T)`** More of a model call:
//!   `reasoning` output tokens spent thinking (part of `output`,
//!   `gen_ai.usage.reasoning.output_tokens`), `cached` input tokens read from the provider's
//!   prompt cache (part of `input`; without it the run estimates them from the unchanged prefix
//!   of the prompt), and streaming: `ttft: 300ms` (or a range) is the time to first token,
//!   recorded as `gen_ai.request.stream` and `gen_ai.response.time_to_first_chunk` and waited
//!   for by the real clock before the rest of the answer; `stream: true` alone takes 200ms (at
//!   most half the call). The time to first token must be shorter than the call's latency.
//! - **`mcp(server, tool, SIZE, [latency: L], [fail: P]);`** A tool reached through an MCP
//!   server: an `execute_tool <tool>` span as for `tool`, with the MCP client span
//!   `tools/call <tool>` (kind CLIENT) below it. Counts as a tool call the preceding `llm`
//!   step asks for, like `tool`. Without `latency`, 150ms. With `server_span: true` the MCP
//!   server is instrumented too: its span `tools/call <tool>` (kind SERVER) is the client
//!   span's child, with the same session and request id and the client's address, one span and
//!   one level more.
//! - **`embed(name, input: N, [model: "m"], [provider: p], [dimensions: N], [latency: L],
//!   [fail: P]);`** An embeddings request: an `embeddings <model>` CLIENT span. Model
//!   `text-embedding-3-small` and 1536 dimensions unless given. Without `latency`, 60ms.
//! - **`retrieve(store, SIZE, [top_k: N], [latency: L], [fail: P]);`** A query to a vector store
//!   or search index: a `retrieval <store>` CLIENT span returning `top_k` documents (default
//!   5, at most 1000) of `SIZE` bytes in all, with ids and scores; they join the agent's
//!   history as context for its next model call. Without `latency`, 120ms.
//! - **`create_agent(agent, [model: "m"], [provider: p], [latency: L], [fail: P]);`** The
//!   agent service creates `agent` before it runs, as hosted-agent SDKs (Azure AI Foundry
//!   Agents, OpenAI Assistants) do: a `create_agent <agent>` CLIENT span with
//!   `gen_ai.agent.name`, the `gen_ai.agent.id` the agent's own `invoke_agent` spans carry
//!   (left out when the creation fails), `gen_ai.agent.description`, `gen_ai.provider.name`,
//!   `gen_ai.request.model` (the scenario's model and provider unless given) and, as content,
//!   the `gen_ai.system_instructions` it is created with. A later step of the same block must
//!   run the agent: a `delegate agent { .. }`, directly or inside a later `parallel`, `route`
//!   or `repeat` (create once, run many times). It is neither a model nor a tool call.
//!   Without `latency`, 150ms.
//! - **`delegate agent { .. }`** A sub-agent: an `invoke_agent <agent>` span whose children are
//!   the block's steps, one level deeper. Delegates nest to any depth.
//! - **`parallel { .. }`** Its steps (at least 2) start together; the block ends with the last.
//! - **`route { w => { .. } w => { .. } .. }`** One branch per run, branch *i* with probability
//!   *w<sub>i</sub>*. At least 2 branches; weights are numbers (`0.9`) or percentages (`90%`),
//!   each above 0, summing to 1 (within 1e-6).
//! - **`repeat N { .. }`** The block N times in a row (1 to 10,000), as agent loops do; each
//!   iteration gets its own content.
//!
//! Blocks are never empty. Sibling steps of one block have distinct names (an `llm`/`tool`
//! name or a delegate's agent; a `create_agent` shares its agent's name); the same name in
//! different blocks is fine.
//!
//! ```
//! scenario_runtime::scenario! {
//!     name: hosted_writer,
//!     description: "Create a writer agent once, then run it for each section",
//!     llm(outline, input: 900, output: 200);
//!     create_agent(writer, model: "gpt-4.1", latency: 200..600ms);
//!     repeat 3 {
//!         delegate writer { llm(write_section, input: 2000, output: 600, model: "gpt-4.1"); }
//!     }
//! }
//!
//! // Root, outline, create_agent, and 3 x (invoke_agent writer, chat).
//! assert_eq!(hosted_writer::SPANS, 1 + 1 + 1 + 3 * 2);
//! assert_eq!(hosted_writer::LLM_CALLS_MAX, 4);
//! let (_, spans) = scenario_runtime::record_trace(
//!     hosted_writer::scenario(),
//!     &scenario_runtime::Emitter::default(),
//!     1,
//! );
//! let created = spans.iter().find(|s| s.name == "create_agent writer").unwrap();
//! let runs = spans.iter().filter(|s| s.name == "invoke_agent writer");
//! let id = scenario_runtime::genai::AGENT_ID;
//! assert!(runs.map(|run| run.attribute(id)).all(|run_id| run_id == created.attribute(id)));
//! ```
//!
//! A `create_agent(x)` that no later step of its block runs is an error at `x`.
//!
//! # Values
//!
//! - **Sizes**: `512b`, `40kb`, `2mb`, `1.5kb`. Units are binary: `1kb` = 1024 bytes,
//!   `1mb` = 1024kb. More than 0, at most `64mb`.
//! - **Latencies**: `400ms`, `2s`, `1.5s`, or a range drawn uniformly per run: `200..800ms`
//!   (the unit at the end applies to both ends), `200ms..2s`. `0ms` is allowed (a step that
//!   takes no time); the most is one hour; a range must not end before it starts.
//! - **Probabilities** (`fail:`): `2%` or `0.02`, more than 0 and at most 1. A failed step
//!   emits an error span (`error.type`, status Error) and marks its parents failed.
//! - **Token counts** and **repeat counts**: plain whole numbers, no unit.
//!
//! ```
//! scenario_runtime::scenario! {
//!     name: values,
//!     description: "Every way to write a value",
//!     llm(plan, input: 800, output: 40, latency: 1.5s, fail: 0.5%);
//!     tool(small, 512b, latency: 0ms);
//!     tool(fraction, 1.5kb, latency: 200ms..2s, fail: 0.02);
//!     tool(large, 2mb, latency: 1..3s);
//!     route {
//!         75% => { llm(answer, input: 900, output: 300); }
//!         25% => { llm(ask_back, input: 900, output: 30, latency: 100..300ms); }
//!     }
//! }
//!
//! assert_eq!(values::BYTES_MIN, (800 + 40 + 900 + 30) * 4 + 512 + 1536 + 2 * 1024 * 1024);
//! assert_eq!(values::TOKENS_MAX, 800 + 40 + 900 + 300);
//! ```
//!
//! # Shape
//!
//! The macro computes what one run produces and the module exposes it as constants:
//!
//! | constant | meaning |
//! |---|---|
//! | `SHAPE` | all of the below, as a [`Shape`](crate::Shape) (also in the scenario's [`Meta`](crate::Meta)) |
//! | `SPANS_MIN`, `SPANS_MAX` | spans per trace, the root included |
//! | `SPANS` | the same, defined only when every run emits the same number |
//! | `DEPTH` | the deepest span; the root is depth 1 |
//! | `BYTES_MIN`, `BYTES_MAX` | declared content: (input + output) x 4 bytes per `llm`, the size of each `tool` result |
//! | `LLM_CALLS_MIN/MAX`, `TOOL_CALLS_MIN/MAX` | steps executed |
//! | `TOKENS_MIN/MAX` | input plus output tokens |
//!
//! Counting rules: `llm`, `tool`, `embed`, `retrieve` and `create_agent` are one span each, `mcp` two (three
//! with `server_span: true`); `delegate` is one span plus its block;
//! `parallel` adds its steps; `repeat N` multiplies its block by N; `route` ranges from its
//! smallest branch to its largest (so do min and max of every metric); the root adds one span,
//! and a `workflow` one more (and one level).
//! A step directly under an agent whose span is at depth d is at depth d + 1; `parallel`,
//! `route` and `repeat` emit no span and add no depth.
//!
//! The module also defines `Tree` (the step tree's type), `SCENARIO` (a static
//! [`Scenario<Tree>`](crate::Scenario)) and `scenario()`, which returns it as
//! `&'static dyn` [`AnyScenario`](crate::AnyScenario) for registries. The constants are usable
//! in const contexts:
//!
//! ```
//! scenario_runtime::scenario! {
//!     name: lookup,
//!     description: "One lookup",
//!     llm(plan, input: 300, output: 20);
//!     repeat 3 { tool(search, 4kb); }
//! }
//! const _: () = assert!(lookup::SPANS == 5);
//! const _: () = assert!(lookup::SHAPE.tool_calls.max == 3);
//! ```
//!
//! # Expectations
//!
//! `expect: { metric: value, .. }` asserts the shape, so that a change of shape is a compile
//! error on the expectation. Metrics: `spans`, `depth`, `bytes` (a size: `400kb`),
//! `llm_calls`, `tool_calls`, `tokens`. A value `25` means every run produces exactly 25; a
//! range `20..30` (both ends included) means every run produces between 20 and 30. With a
//! `route` whose branches differ, expect a range.
//!
//! ```
//! scenario_runtime::scenario! {
//!     name: guarded,
//!     description: "A shape that is checked at build time",
//!     expect: { spans: 4..5, depth: 2, bytes: 7kb..10kb, llm_calls: 2, tool_calls: 1..2, tokens: 1000 },
//!     llm(plan, input: 400, output: 100);
//!     route {
//!         0.5 => { tool(search, 4kb); }
//!         0.5 => { tool(search, 4kb); tool(fetch, 2kb); }
//!     }
//!     llm(answer, input: 400, output: 100);
//! }
//! assert_eq!((guarded::SPANS_MIN, guarded::SPANS_MAX), (4, 5));
//! ```
//!
//! An expectation that does not hold fails the build, saying what the scenario does:
//!
//! ```compile_fail
//! scenario_runtime::scenario! {
//!     name: guarded,
//!     description: "One step was removed, the expectation catches it",
//!     expect: { spans: 4 },
//!     llm(plan, input: 400, output: 100);
//!     llm(answer, input: 400, output: 100);
//! }
//! // error: expected 4 spans, this scenario emits 3
//! ```
//!
//! # Mistakes
//!
//! Every mistake of a scenario is reported in one compile, each on its own tokens: unknown
//! steps, options, header keys and metrics (listing the valid ones), missing `name`,
//! `description` or required options, options given twice, missing or unknown units, zero or
//! absurd sizes and token counts, probabilities outside (0, 1], route weights not positive or
//! not summing to 1, routes with one branch, `parallel` blocks with one step, empty blocks,
//! duplicate step names (reported at both places), `repeat 0`, inverted ranges, a `session`
//! without `turns` or out of 1..1000, `think` without `session`, an empty `workflow` name, a
//! `server_span` that is not `true` or `false`, and failing expectations. A mistaken scenario expands to those errors only.
//!
//! ```compile_fail
//! scenario_runtime::scenario! {
//!     name: mistaken,
//!     description: "A size without its unit",
//!     tool(search, 40);   // error: missing unit on size `40`: write `40b`, `40kb` or `40mb`
//! }
//! ```
//!
//! # Hygiene
//!
//! The expansion refers to everything by absolute path through the runtime crate, so it needs
//! no imports, works under `#![no_implicit_prelude]` and `#![deny(warnings)]`, and with the
//! runtime renamed (`extern crate scenario_runtime as rt; rt::scenario! { .. }`).
//!
//! # Execution
//!
//! Each step has an id, its pre-order index in the scenario; it seeds the step's content and
//! random draws, so a seed reproduces a run. A route of more than two branches runs as nested
//! two-way choices, each taking its branch with that branch's share of the weight left, so every
//! branch is taken with its declared weight.
