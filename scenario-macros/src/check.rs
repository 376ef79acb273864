//! The rules that span more than one token, one function each. Every violation is recorded in
//! the [`Ctxt`] on the narrowest tokens that show it.

use proc_macro2::Span;
use syn::{Ident, LitStr};

use crate::ast::{
    Amount, Block, Expectation, Header, HeaderValue, Metric, NameLit, ParallelAst, RouteAst,
    ScenarioAst, Step, StepOption,
};
use crate::ctxt::Ctxt;
use crate::shape::{Range, Shape};
use crate::units;

/// How far route weights may be from summing to 1 (float literals like `0.1` are inexact).
pub const WEIGHT_TOLERANCE: f64 = 1e-6;

/// The header entries, each taken from its first occurrence.
#[derive(Default)]
pub struct HeaderRefs<'a> {
    pub name: Option<&'a Ident>,
    pub description: Option<&'a LitStr>,
    pub agent: Option<&'a NameLit>,
    pub model: Option<&'a LitStr>,
    pub provider: Option<&'a NameLit>,
    pub expect: Option<&'a [Expectation]>,
    pub workflow: Option<&'a NameLit>,
    /// `session:`'s turns, with the key (where mistakes about the session go).
    pub session: Option<(&'a Ident, &'a Amount)>,
    pub think: Option<(&'a Ident, &'a Amount)>,
}

/// Each header key at most once; `name` and `description` present.
pub fn header<'a>(ast: &'a ScenarioAst, cx: &Ctxt) -> HeaderRefs<'a> {
    let mut refs = HeaderRefs::default();
    for Header { key, value } in &ast.header {
        let first = match value {
            HeaderValue::Name(v) => keep_first(&mut refs.name, v),
            HeaderValue::Description(v) => keep_first(&mut refs.description, v),
            HeaderValue::Agent(v) => keep_first(&mut refs.agent, v),
            HeaderValue::Model(v) => keep_first(&mut refs.model, v),
            HeaderValue::Provider(v) => keep_first(&mut refs.provider, v),
            HeaderValue::Expect(v) => keep_first(&mut refs.expect, v.as_slice()),
            HeaderValue::Workflow(v) => keep_first(&mut refs.workflow, v),
            HeaderValue::Session(v) => keep_first_pair(&mut refs.session, key, v),
            HeaderValue::Think(v) => keep_first_pair(&mut refs.think, key, v),
        };
        if !first {
            cx.error(key.span(), format!("duplicate header key `{key}`: give it once"));
        }
    }
    if refs.name.is_none() {
        cx.error(
            ast.first_span,
            "missing `name`: a scenario starts with `name: some_name,` (it becomes a module)",
        );
    } else if let Some(name) = refs.name
        && name.to_string().starts_with("r#")
    {
        cx.error(name.span(), "a scenario's name cannot be a raw identifier");
    }
    if refs.description.is_none() {
        cx.error(
            ast.first_span,
            "missing `description`: add `description: \"what this scenario does\",`",
        );
    }
    refs
}

/// Fills `slot` unless it is already set; says whether it was empty.
fn keep_first<'a, T: ?Sized>(slot: &mut Option<&'a T>, value: &'a T) -> bool {
    if slot.is_some() {
        false
    } else {
        *slot = Some(value);
        true
    }
}

/// [`keep_first`] for entries kept with their key.
fn keep_first_pair<'a, T>(
    slot: &mut Option<(&'a Ident, &'a T)>,
    key: &'a Ident,
    value: &'a T,
) -> bool {
    if slot.is_some() {
        false
    } else {
        *slot = Some((key, value));
        true
    }
}

/// A latency as `(min, max)` microseconds.
type Micros = (u64, u64);

/// `session: A..B turns` and `think:`: whole turn counts from 1 to [`units::MAX_TURNS`], in order;
/// a think time only with a session. Returns `(min, max)` turns and the think time, if given.
pub fn session(
    session: Option<(&Ident, &Amount)>,
    think: Option<(&Ident, &Amount)>,
    cx: &Ctxt,
) -> (Option<(u32, u32)>, Option<Micros>) {
    let think = think.and_then(|(key, amount)| {
        if session.is_none() {
            cx.error(
                key.span(),
                "`think:` without `session:`: a think time spaces the turns of a session; add `session: 3..8 turns` or remove `think:`",
            );
            return None;
        }
        units::latency(amount).map_err(|e| cx.push(e)).ok()
    });
    let Some((_, amount)) = session else {
        return (None, think);
    };
    let turns = |n: &crate::ast::Number| units::turns(n).map_err(|e| cx.push(e)).ok();
    let range = match amount {
        Amount::One(n) => turns(n).map(|t| (t, t)),
        Amount::Range(a, b) => match (turns(a), turns(b)) {
            (Some(min), Some(max)) if min > max => {
                cx.push(amount.error(format!(
                    "inverted range `{}..{}`: it starts after it ends; write the smaller number of turns first",
                    units::written(a),
                    units::written(b)
                )));
                None
            }
            (Some(min), Some(max)) => Some((min, max)),
            _ => None,
        },
    };
    (range, think)
}

/// Names of models, providers and agents are not empty.
pub fn not_blank(value: Option<(String, Span)>, what: &str, cx: &Ctxt) {
    if let Some((value, span)) = value
        && value.trim().is_empty()
    {
        cx.error(span, format!("the {what} name is empty"));
    }
}

/// The name a step is known by among its siblings: an `llm`/`tool` name or a delegate's agent.
fn step_name(step: &Step) -> Option<&Ident> {
    match step {
        Step::Llm(llm) => Some(&llm.name),
        Step::Tool(tool) => Some(&tool.name),
        Step::Delegate(delegate) => Some(&delegate.agent),
        Step::Mcp(mcp) => Some(&mcp.tool),
        Step::Embed(embed) => Some(&embed.name),
        Step::Retrieve(retrieve) => Some(&retrieve.store),
        // Creating an agent shares its name with the `delegate` that invokes it.
        Step::CreateAgent(_) => None,
        Step::Parallel(_) | Step::Route(_) | Step::Repeat(_) => None,
    }
}

/// No two sibling steps share a name; a clash is reported at both places.
pub fn unique_names(steps: &[Step], cx: &Ctxt) {
    let names: Vec<&Ident> = steps.iter().filter_map(step_name).collect();
    let mut reported_first = vec![false; names.len()];
    for (later, name) in names.iter().enumerate() {
        if let Some(first) = names[..later].iter().position(|other| other == name) {
            if !reported_first[first] {
                reported_first[first] = true;
                cx.error(
                    names[first].span(),
                    format!("step name `{name}` is used more than once in this block (first here)"),
                );
            }
            cx.error(
                name.span(),
                format!("duplicate step name `{name}` in this block: give each step its own name"),
            );
        }
    }
}

/// Each `create_agent(x)` is followed by a `delegate x { .. }` that runs the agent it creates:
/// later in the same block, or inside a later `parallel`, `route` or `repeat` of it (create
/// once, run many times), but not inside another agent's `delegate`. Frameworks create an
/// agent to run it; the created agent's span names the agent the trace then shows at work.
pub fn created_agents_delegated(steps: &[Step], cx: &Ctxt) {
    for (i, step) in steps.iter().enumerate() {
        let Step::CreateAgent(create) = step else { continue };
        let agent = &create.agent;
        if !runs_agent(&steps[i + 1..], agent) {
            cx.error(
                agent.span(),
                format!("`create_agent({agent})` creates an agent that no later step of its block runs: add `delegate {agent} {{ .. }}` after it"),
            );
        }
    }
}

/// Whether `steps` delegate to `agent`, directly or through their `parallel`, `route` and
/// `repeat` blocks.
fn runs_agent(steps: &[Step], agent: &Ident) -> bool {
    steps.iter().any(|step| match step {
        Step::Delegate(delegate) => delegate.agent == *agent,
        Step::Parallel(parallel) => runs_agent(&parallel.body.steps, agent),
        Step::Repeat(repeat) => runs_agent(&repeat.body.steps, agent),
        Step::Route(route) => route.branches.iter().any(|b| runs_agent(&b.body.steps, agent)),
        _ => false,
    })
}

/// A block has at least one step.
pub fn not_empty(block: &Block, what: &str, cx: &Ctxt) {
    if block.steps.is_empty() {
        cx.error(block.span, format!("empty block: {what} needs at least one step"));
    }
}

/// A `parallel` block runs at least two steps (one would just be a step).
pub fn parallel_width(parallel: &ParallelAst, cx: &Ctxt) {
    if parallel.body.steps.len() == 1 {
        cx.error(
            parallel.keyword,
            "a `parallel` block needs at least 2 steps: with one, write the step directly",
        );
    }
}

/// A route has at least two branches whose weights (already checked positive; `None` where
/// invalid) sum to 1.
pub fn route_branches(route: &RouteAst, weights: &[Option<f64>], cx: &Ctxt) {
    match route.branches.len() {
        0 => cx.error(
            route.keyword,
            "a `route` needs at least 2 branches, like `0.9 => { .. } 0.1 => { .. }`",
        ),
        1 => cx.error(
            route.keyword,
            "a `route` needs at least 2 branches: with one, write its steps directly",
        ),
        _ => {
            let Some(weights) = weights.iter().copied().collect::<Option<Vec<f64>>>() else {
                return;
            };
            let sum: f64 = weights.iter().sum();
            if (sum - 1.0).abs() > WEIGHT_TOLERANCE {
                let terms: Vec<String> =
                    route.branches.iter().map(|b| units::written(&b.weight)).collect();
                cx.error(
                    route.keyword,
                    format!(
                        "route weights must sum to 1, these sum to {} ({})",
                        round(sum),
                        terms.join(" + ")
                    ),
                );
            }
        }
    }
}

fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// Each option of a step at most once; returns the options to use (first occurrences).
pub fn unique_options<'a>(options: &'a [StepOption], cx: &Ctxt) -> Vec<&'a StepOption> {
    let mut kept: Vec<&StepOption> = Vec::new();
    for option in options {
        if kept.iter().any(|k| k.kind == option.kind) {
            cx.error(option.key.span(), format!("duplicate option `{}`: give it once", option.key));
        } else {
            kept.push(option);
        }
    }
    kept
}

/// One `expect:` entry with its value resolved.
pub struct ExpectedValue<'a> {
    pub entry: &'a Expectation,
    pub range: Range,
    pub exact: bool,
}

/// Resolves `expect:` values (units, ranges) and rejects metrics given twice.
pub fn expectation_values<'a>(entries: &'a [Expectation], cx: &Ctxt) -> Vec<ExpectedValue<'a>> {
    let mut values = Vec::new();
    let mut seen: Vec<Metric> = Vec::new();
    for entry in entries {
        if seen.contains(&entry.metric) {
            cx.error(
                entry.key.span(),
                format!("duplicate expectation `{}`: give it once", entry.key),
            );
            continue;
        }
        seen.push(entry.metric);
        let convert = |n| match entry.metric {
            Metric::Bytes => units::expected_bytes(n),
            _ => units::count(n),
        };
        let resolved = match &entry.value {
            Amount::One(n) => convert(n).map(|v| (Range::exact(v), true)),
            Amount::Range(a, b) => convert(a).and_then(|min| {
                let max = convert(b)?;
                if min > max {
                    return Err(entry.value.error(format!(
                            "inverted range `{}..{}`: it starts after it ends; write the smaller bound first",
                            units::written(a),
                            units::written(b)
                        )));
                }
                Ok((Range { min, max }, false))
            }),
        };
        match resolved {
            Ok((range, exact)) => values.push(ExpectedValue { entry, range, exact }),
            Err(error) => cx.push(error),
        }
    }
    values
}

/// Each expectation holds: an exact value equals the scenario's (which must not vary), a range
/// `a..b` (inclusive) contains the scenario's whole min..max.
pub fn expectations(values: &[ExpectedValue<'_>], shape: &Shape, cx: &Ctxt) {
    for value in values {
        let metric = value.entry.metric;
        let actual = match metric {
            Metric::Spans => shape.spans,
            Metric::Depth => Range::exact(u64::from(shape.depth)),
            Metric::Bytes => shape.payload_bytes,
            Metric::LlmCalls => shape.llm_calls,
            Metric::ToolCalls => shape.tool_calls,
            Metric::Tokens => shape.tokens,
        };
        let holds = if value.exact {
            actual == value.range
        } else {
            value.range.min <= actual.min && actual.max <= value.range.max
        };
        if holds {
            continue;
        }
        let show = |range: Range| match metric {
            Metric::Bytes if range.min == range.max => {
                format!("{} ({} bytes)", units::show_bytes(range.min), range.min)
            }
            Metric::Bytes => format!(
                "{}..{} ({}..{} bytes)",
                units::show_bytes(range.min),
                units::show_bytes(range.max),
                range.min,
                range.max
            ),
            _ => range.to_string(),
        };
        let written = match &value.entry.value {
            Amount::One(n) => units::written(n),
            Amount::Range(a, b) => format!("{}..{}", units::written(a), units::written(b)),
        };
        let expected = match metric {
            Metric::Depth => format!("expected depth {written}"),
            _ => format!("expected {written} {}", metric.noun()),
        };
        let verb = match metric {
            Metric::Spans => "emits",
            Metric::Depth => "reaches depth",
            Metric::Bytes => "declares",
            Metric::LlmCalls | Metric::ToolCalls => "makes",
            Metric::Tokens => "uses",
        };
        let hint = if value.exact && actual.min != actual.max {
            " (a `route` makes it vary: expect a range)"
        } else {
            ""
        };
        cx.push(
            value
                .entry
                .value
                .error(format!("{expected}, this scenario {verb} {}{hint}", show(actual))),
        );
    }
}

/// A part of a token count (`reasoning` of `output`, `cached` of `input`) is not larger than
/// the whole.
pub fn part_of(
    part: Option<(u32, &crate::ast::Number)>,
    whole: u32,
    what: &str,
    of: &str,
    cx: &Ctxt,
) {
    if let Some((value, number)) = part
        && value > whole
    {
        cx.error(
            number.span(),
            format!(
                "`{what}: {value}` is more than the call's {of} tokens ({whole}): {what} tokens are part of the {of} tokens"
            ),
        );
    }
}

/// The time to first token of a streaming call: `ttft:` (which implies streaming) or the
/// default when `stream: true`; shorter than the call's shortest latency. `None` when the call
/// does not stream.
pub fn time_to_first_token(
    stream: Option<&syn::LitBool>,
    ttft: Option<((u64, u64), &Amount)>,
    min_latency_micros: u64,
    cx: &Ctxt,
) -> Option<crate::model::Latency> {
    if let (Some(stream), Some(_)) = (stream, ttft)
        && !stream.value
    {
        cx.error(
            stream.span(),
            "`stream: false` with `ttft:`: only a streaming call has a time to first token; remove one of them",
        );
        return None;
    }
    let (min_micros, max_micros) = match ttft {
        Some(((min, max), amount)) => {
            if max >= min_latency_micros {
                cx.push(amount.error(format!(
                    "time to first token `{}` is not shorter than the call's latency (at least {}ms): the first token comes before the last",
                    written_amount(amount),
                    min_latency_micros / 1000
                )));
                return None;
            }
            (min, max)
        }
        None if stream.is_some_and(|s| s.value) => {
            let micros = crate::model::DEFAULT_TTFT_MICROS.min(min_latency_micros / 2);
            (micros, micros)
        }
        None => return None,
    };
    Some(crate::model::Latency { min_micros, max_micros })
}

fn written_amount(amount: &Amount) -> String {
    match amount {
        Amount::One(n) => units::written(n),
        Amount::Range(a, b) => format!("{}..{}", units::written(a), units::written(b)),
    }
}
