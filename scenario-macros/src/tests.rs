//! Unit tests of the macro's stages on `proc_macro2` tokens: parsing and lowering into the model,
//! unit conversions, shape arithmetic, and the pretty-printed expansion (insta snapshots).

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::model::{self, Scenario, StepKind};
use crate::shape::Range;

/// The model of a scenario written as source text, or every error message.
fn lower(source: &str) -> Result<Scenario, Vec<String>> {
    let tokens: TokenStream = source.parse().map_err(|e| vec![format!("lex error: {e}")])?;
    let cx = Ctxt::new();
    let model = crate::ast::parse(tokens, &cx).and_then(|ast| model::lower(&ast, &cx));
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => Ok(model),
        (Err(errors), _) => Err(errors.into_iter().map(|e| e.to_string()).collect()),
        (Ok(()), None) => Err(vec!["no model and no error".to_owned()]),
    }
}

/// `source` wrapped with a name and description.
fn steps(source: &str) -> String {
    format!("name: t, description: \"test\", {source}")
}

fn lower_steps(source: &str) -> Result<Scenario, Vec<String>> {
    lower(&steps(source))
}

fn errors(source: &str) -> Vec<String> {
    match lower_steps(source) {
        Ok(model) => panic!("expected errors, got a model: {model:?}"),
        Err(errors) => errors,
    }
}

/// The expansion of `source` pretty-printed as Rust.
fn pretty(source: &str) -> String {
    let input: TokenStream =
        format!("::scenario_runtime; {source}").parse().expect("test input lexes");
    let expanded = crate::expand(input);
    let file: syn::File = syn::parse2(expanded).expect("the expansion parses as Rust items");
    prettyplease::unparse(&file)
}

const BOOKING: &str = r#"
    name: delegated_booking,
    description: "Book a hotel through a specialist agent",
    agent: primary_assistant,
    model: "gpt-4o",
    provider: openai,
    expect: { spans: 13, depth: 3 },

    llm(primary_plan, input: 1200, output: 150, latency: 400ms);
    delegate hotel {
        llm(hotel_plan, input: 2000, output: 100, latency: 200..800ms, model: "claude-sonnet-4-5", provider: anthropic);
        tool(search_hotels, 40kb, latency: 250ms, fail: 2%);
        parallel {
            tool(fetch_reviews, 20kb);
            tool(check_availability, 4kb);
        }
        route {
            0.9 => { tool(book_hotel, 10kb); }
            0.1 => { llm(ask_user_dates, input: 2600, output: 80); }
        }
        repeat 2 { llm(refine, input: 2400, output: 120); tool(price_check, 3kb); }
    }
    llm(primary_confirm, input: 3000, output: 100, fail: 1%);
"#;

#[test]
fn model_of_the_reference_example() {
    let model = lower(BOOKING).expect("the reference example is valid");
    insta::assert_debug_snapshot!("model_delegated_booking", model);
}

#[test]
fn expansion_of_the_reference_example() {
    insta::assert_snapshot!("expansion_delegated_booking", pretty(BOOKING));
}

const ROUTE_AND_BLOCK: &str = "llm(a, input: 10, output: 10); tool(b, 1kb); tool(c, 2kb); tool(d, 3b);
    route { 50% => { llm(x, input: 1, output: 1); } 30% => { tool(y, 1b); } 20% => { tool(z, 1b); tool(w, 1b); } }";

#[test]
fn model_of_a_three_way_route_and_a_long_block() {
    let model = lower_steps(ROUTE_AND_BLOCK).expect("valid");
    insta::assert_debug_snapshot!("model_route_and_block", model);
}

#[test]
fn expansion_of_a_three_way_route_and_a_long_block() {
    insta::assert_snapshot!("expansion_route_and_block", pretty(&steps(ROUTE_AND_BLOCK)));
}

#[test]
fn expansion_is_deterministic() {
    assert_eq!(pretty(BOOKING), pretty(BOOKING));
}

#[test]
fn errors_expand_to_compile_errors_only() {
    let expanded = pretty(&steps("llm(a, input: 0, output: 10); tool(b, 4);"));
    assert_eq!(expanded.matches("compile_error!").count(), 2, "{expanded}");
    assert!(!expanded.contains("mod "), "no module is emitted next to errors: {expanded}");
}

fn tool_bytes(size: &str) -> Result<u32, Vec<String>> {
    let model = lower_steps(&format!("tool(t, {size});"))?;
    match &model.steps[0].kind {
        StepKind::Tool(tool) => Ok(tool.result_bytes),
        other => panic!("expected a tool, got {other:?}"),
    }
}

#[test]
fn sizes_use_binary_units() {
    assert_eq!(tool_bytes("1b"), Ok(1));
    assert_eq!(tool_bytes("40kb"), Ok(40 * 1024));
    assert_eq!(tool_bytes("2mb"), Ok(2 * 1024 * 1024));
    assert_eq!(tool_bytes("1.5kb"), Ok(1536));
    assert_eq!(tool_bytes("64mb"), Ok(64 * 1024 * 1024));
}

#[test]
fn bad_sizes_are_rejected_with_the_literal_named() {
    let first = |size: &str| tool_bytes(size).expect_err("invalid size")[0].clone();
    assert!(first("40").contains("missing unit on size `40`"), "{}", first("40"));
    assert!(first("40kib").contains("unknown size unit `kib`"));
    assert!(first("0kb").contains("not positive"));
    assert!(first("65mb").contains("too large: at most 64mb"));
    assert!(first("10%").contains("missing unit"));
}

fn llm_latency(latency: &str) -> Result<(u64, u64), Vec<String>> {
    let model = lower_steps(&format!("llm(t, input: 10, output: 10, latency: {latency});"))?;
    match &model.steps[0].kind {
        StepKind::Llm(llm) => Ok((llm.latency.min_micros, llm.latency.max_micros)),
        other => panic!("expected an llm, got {other:?}"),
    }
}

#[test]
fn latencies_and_ranges() {
    assert_eq!(llm_latency("400ms"), Ok((400_000, 400_000)));
    assert_eq!(llm_latency("2s"), Ok((2_000_000, 2_000_000)));
    assert_eq!(llm_latency("1.5s"), Ok((1_500_000, 1_500_000)));
    assert_eq!(llm_latency("0ms"), Ok((0, 0)));
    assert_eq!(llm_latency("200..800ms"), Ok((200_000, 800_000)));
    assert_eq!(llm_latency("200ms..2s"), Ok((200_000, 2_000_000)));
    assert_eq!(llm_latency("1..2s"), Ok((1_000_000, 2_000_000)));
    assert_eq!(llm_latency("300..300ms"), Ok((300_000, 300_000)));
}

#[test]
fn bad_latencies_are_rejected() {
    let first = |latency: &str| llm_latency(latency).expect_err("invalid latency")[0].clone();
    assert!(first("800..200ms").contains("inverted range `800..200ms`"));
    assert!(first("2s..500ms").contains("inverted range"));
    assert!(first("400").contains("missing unit on latency `400`"));
    assert!(first("200ms..800").contains("missing unit on latency `800`"));
    assert!(first("4min").contains("unknown latency unit `min`"));
    assert!(first("2h").contains("unknown latency unit `h`"));
    assert!(first("3601s").contains("too long"));
}

#[test]
fn default_latencies_are_resolved_in_the_model() {
    let model = lower_steps("llm(a, input: 10, output: 100); tool(b, 1kb);").expect("valid");
    let StepKind::Llm(llm) = &model.steps[0].kind else { panic!("llm first") };
    assert_eq!(llm.latency.min_micros, 200_000 + 2_000 * 100);
    let StepKind::Tool(tool) = &model.steps[1].kind else { panic!("tool second") };
    assert_eq!(tool.latency.max_micros, 100_000);
}

fn tool_fail(fail: &str) -> Result<f64, Vec<String>> {
    let model = lower_steps(&format!("tool(t, 1kb, fail: {fail});"))?;
    match &model.steps[0].kind {
        StepKind::Tool(tool) => Ok(tool.fail),
        other => panic!("expected a tool, got {other:?}"),
    }
}

#[test]
fn failure_probabilities() {
    assert_eq!(tool_fail("2%"), Ok(0.02));
    assert_eq!(tool_fail("0.02"), Ok(0.02));
    assert_eq!(tool_fail("100%"), Ok(1.0));
    assert_eq!(tool_fail("1"), Ok(1.0));
    for bad in ["0", "0%", "101%", "1.5", "-0.1", "2ms"] {
        assert!(tool_fail(bad).is_err(), "fail: {bad} should be rejected");
    }
}

fn route_weights(weights: &[&str]) -> Result<Vec<f64>, Vec<String>> {
    let branches: String =
        weights.iter().enumerate().map(|(i, w)| format!("{w} => {{ tool(t{i}, 1kb); }}")).collect();
    let model = lower_steps(&format!("route {{ {branches} }}"))?;
    match &model.steps[0].kind {
        StepKind::Route { branches, .. } => Ok(branches.iter().map(|b| b.weight).collect()),
        other => panic!("expected a route, got {other:?}"),
    }
}

#[test]
fn route_weights_are_checked() {
    assert_eq!(route_weights(&["0.9", "0.1"]), Ok(vec![0.9, 0.1]));
    assert_eq!(route_weights(&["90%", "10%"]), Ok(vec![0.9, 0.1]));
    // 0.1 + 0.2 + 0.7 is not exactly 1.0 in floating point; the tolerance accepts it.
    assert!(route_weights(&["0.1", "0.2", "0.7"]).is_ok());
    let sum = route_weights(&["0.5", "0.3"]).expect_err("sums to 0.8");
    assert_eq!(sum, ["route weights must sum to 1, these sum to 0.8 (0.5 + 0.3)"]);
    assert!(route_weights(&["1.0"]).expect_err("one branch")[0].contains("at least 2 branches"));
    let zero = route_weights(&["1.0", "0"]).expect_err("zero weight");
    assert!(zero[0].contains("route weight `0` is not positive"), "{zero:?}");
    assert!(route_weights(&["1.2", "-0.2"]).is_err());
}

#[test]
fn shape_of_routes_repeats_and_delegates() {
    let model = lower_steps(
        "llm(a, input: 100, output: 50);
         delegate sub {
             repeat 3 { tool(b, 1kb); llm(c, input: 10, output: 10); }
             route {
                 0.5 => { tool(d, 2kb); }
                 0.5 => { delegate deeper { tool(e, 1b); } tool(f, 1b); }
             }
         }",
    )
    .expect("valid");
    let shape = model.shape;
    // root + a + sub + 3 x (b + c) + (d | deeper + e + f)
    assert_eq!(shape.spans, Range { min: 1 + 1 + 1 + 6 + 1, max: 1 + 1 + 1 + 6 + 3 });
    // root 1, sub 2, deeper 3, e 4
    assert_eq!(shape.depth, 4);
    assert_eq!(shape.llm_calls, Range::exact(4));
    assert_eq!(shape.tool_calls, Range { min: 4, max: 5 });
    assert_eq!(shape.tokens, Range::exact(150 + 3 * 20));
    let llm_bytes = (150 + 3 * 20) * 4;
    // The cheaper branch (e + f: 2 bytes) and the dearer one (d: 2kb).
    assert_eq!(
        shape.payload_bytes,
        Range { min: llm_bytes + 3 * 1024 + 2, max: llm_bytes + 3 * 1024 + 2048 }
    );
}

#[test]
fn parallel_route_and_repeat_add_no_depth() {
    let model = lower_steps(
        "parallel { tool(a, 1b); repeat 2 { route { 0.5 => { tool(b, 1b); } 0.5 => { tool(c, 1b); } } } }",
    )
    .expect("valid");
    assert_eq!(model.shape.depth, 2);
    assert_eq!(model.shape.spans, Range::exact(4));
}

#[test]
fn ids_are_pre_order_and_nested_routes_get_later_ids() {
    let model = lower_steps(
        "llm(a, input: 1, output: 1);
         route { 0.5 => { tool(b, 1b); } 0.25 => { tool(c, 1b); } 0.25 => { tool(d, 1b); } }
         tool(e, 1b);",
    )
    .expect("valid");
    let ids: Vec<u32> = model.steps.iter().map(|s| s.id).collect();
    assert_eq!(ids, [0, 1, 5]);
    let StepKind::Route { branches, nested_ids } = &model.steps[1].kind else { panic!() };
    assert_eq!(branches.iter().map(|b| b.body[0].id).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(nested_ids, &[6], "after every step's id");
}

#[test]
fn tool_calls_are_the_tools_that_follow_an_llm() {
    let model = lower_steps(
        "llm(plan, input: 1, output: 1);
         tool(a, 1b);
         parallel { tool(b, 1b); tool(c, 1b); }
         repeat 2 { tool(hidden, 1b); }
         tool(d, 1b);
         llm(next, input: 1, output: 1);
         tool(e, 1b);
         delegate sub { tool(f, 1b); }
         tool(g, 1b);",
    )
    .expect("valid");
    let calls = |index: usize| match &model.steps[index].kind {
        StepKind::Llm(llm) => llm.tool_calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        other => panic!("expected an llm, got {other:?}"),
    };
    assert_eq!(calls(0), ["a", "b", "c", "d"]);
    // The sub-agent's own tool is not the parent's to call; the tool after it is.
    assert_eq!(calls(5), ["e", "g"]);
}

#[test]
fn duplicate_names_are_reported_at_both_places_per_block() {
    let errors = errors("llm(a, input: 1, output: 1); tool(a, 1b); delegate a { tool(x, 1b); }");
    assert_eq!(errors.len(), 3, "{errors:?}");
    // The same name in different blocks is fine.
    assert!(lower_steps("tool(a, 1b); delegate sub { tool(a, 1b); }").is_ok());
}

#[test]
fn all_errors_are_collected() {
    let errors = errors(
        "lm(x); llm(a, input: 0, output: 1, colour: 2); tool(b, 3); parallel {} repeat 0 { tool(c, 1b); }",
    );
    assert_eq!(errors.len(), 6, "{errors:?}");
}

#[test]
fn header_rules() {
    let missing = lower("llm(a, input: 1, output: 1);").expect_err("no header");
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[0].starts_with("missing `name`"));
    assert!(missing[1].starts_with("missing `description`"));
    let unknown =
        lower(&steps("colour: blue, llm(a, input: 1, output: 1);")).expect_err("unknown key");
    assert!(unknown[0].starts_with("unknown header key `colour`"), "{unknown:?}");
    let ok = lower(
        "description: \"d\", provider: \"azure\", name: any_order llm(a, input: 1, output: 1);",
    )
    .expect("keys in any order, no comma before the first step");
    assert_eq!(
        (ok.provider.as_str(), ok.agent.as_str(), ok.model.as_str()),
        ("azure", "assistant", "gpt-4o")
    );
}

#[test]
fn expectations_are_checked_against_the_shape() {
    assert!(
        lower(&steps(
            "expect: { spans: 3, tokens: 10 }, llm(a, input: 5, output: 5); tool(b, 1b);"
        ))
        .is_ok()
    );
    assert!(
        lower(&steps("expect: { spans: 2..3, bytes: 1b..1kb }, tool(b, 1b); tool(c, 1b);")).is_ok()
    );
    let failing =
        lower(&steps("expect: { spans: 4, depth: 3 }, tool(b, 1b);")).expect_err("wrong spans");
    assert_eq!(
        failing,
        [
            "expected 4 spans, this scenario emits 2",
            "expected depth 3, this scenario reaches depth 2"
        ]
    );
    let inverted = lower(&steps("expect: { spans: 5..2 }, tool(b, 1b);")).expect_err("inverted");
    assert!(inverted[0].starts_with("inverted range `5..2`"), "{inverted:?}");
}

#[test]
fn huge_repeats_saturate_instead_of_overflowing() {
    let model = lower_steps(
        "repeat 10000 { repeat 10000 { repeat 10000 { repeat 10000 { repeat 10000 { tool(a, 64mb); } } } } }",
    )
    .expect("valid");
    assert_eq!(model.shape.payload_bytes, Range::exact(u64::MAX));
    assert_eq!(model.shape.spans.max, u64::MAX);
}

#[test]
fn created_agents_are_one_span_and_must_be_run_by_a_later_delegate() {
    let model = lower_steps(
        r#"create_agent(writer, model: "o3", latency: 300ms); delegate writer { llm(w, input: 10, output: 10); }"#,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let StepKind::CreateAgent(created) = &model.steps[0].kind else { panic!("{model:?}") };
    assert_eq!((created.agent.as_str(), created.model.as_str()), ("writer", "o3"));
    assert_eq!(created.provider, "openai", "the scenario's default provider");
    assert_eq!((created.latency.min_micros, created.latency.max_micros), (300_000, 300_000));
    // Root, create_agent, invoke_agent writer, chat: four spans, three levels; no call counted.
    assert_eq!((model.shape.spans, model.shape.depth), (Range::exact(4), 3));
    assert_eq!(model.shape.llm_calls, Range::exact(1));
    assert_eq!(model.shape.tool_calls, Range::ZERO);

    let never = errors("create_agent(writer); delegate editor { llm(e, input: 10, output: 10); }");
    assert_eq!(never.len(), 1, "{never:?}");
    assert!(never[0].contains("`create_agent(writer)` creates an agent that no later step"));
    // The delegate comes after the creation, in its block, not in another agent's.
    assert_eq!(errors("delegate w { llm(a, input: 1, output: 1); } create_agent(w);").len(), 1);
    let inside_other =
        "create_agent(w); delegate v { delegate w { llm(a, input: 1, output: 1); } }";
    assert_eq!(errors(inside_other).len(), 1);
    // Created once, run in every round of a repeat.
    let rounds =
        lower_steps("create_agent(w); repeat 3 { delegate w { llm(a, input: 1, output: 1); } }")
            .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rounds.shape.spans, Range::exact(1 + 1 + 3 * 2));
    let unknown = errors("create_agent(w, input: 10); delegate w { llm(a, input: 1, output: 1); }");
    assert!(unknown.iter().any(|e| e.contains("input")), "{unknown:?}");
}
