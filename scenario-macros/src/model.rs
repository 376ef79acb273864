//! The validated model: what a scenario means, with every value resolved (units converted,
//! defaults applied, ids assigned) and its shape computed. Codegen reads only this.
//!
//! [`lower`] builds it from the syntax tree, recording every mistake in the [`Ctxt`] and going on
//! with the rest, so that one compile reports all of them.

use crate::ast::{self, Amount, OptionKind, OptionValue, ScenarioAst};
use crate::check;
use crate::ctxt::Ctxt;
use crate::shape::{self, Shape};
use crate::units;

/// Root agent when the header names none.
pub const DEFAULT_AGENT: &str = "assistant";
/// Model of `llm` steps when neither the step nor the header names one.
pub const DEFAULT_MODEL: &str = "gpt-4o";
/// Provider of `llm` steps when neither the step nor the header names one.
pub const DEFAULT_PROVIDER: &str = "openai";
/// Latency of an `llm` step without `latency:`: a fixed part plus a part per output token, the
/// way model calls behave (time to first token, then generation).
pub const DEFAULT_LLM_BASE_MICROS: u64 = 200_000;
pub const DEFAULT_LLM_PER_OUTPUT_TOKEN_MICROS: u64 = 2_000;
/// Latency of a `tool` step without `latency:`.
pub const DEFAULT_TOOL_MICROS: u64 = 100_000;

#[derive(Debug, PartialEq)]
pub struct Scenario {
    /// The module the expansion defines.
    pub name: String,
    pub description: String,
    pub agent: String,
    pub model: String,
    pub provider: String,
    pub steps: Vec<Step>,
    pub shape: Shape,
}

/// A step with its id: its pre-order index in the scenario.
#[derive(Debug, PartialEq)]
pub struct Step {
    pub id: u32,
    pub kind: StepKind,
}

#[derive(Debug, PartialEq)]
pub enum StepKind {
    Llm(Llm),
    Tool(Tool),
    Delegate {
        agent: String,
        body: Vec<Step>,
    },
    Parallel {
        body: Vec<Step>,
    },
    /// `nested_ids` are the ids of the binary routes a route of more than two branches expands
    /// to (its own id is the first one's). They are numbered after every step of the scenario,
    /// so step ids stay pre-order indices and each binary decision draws its own random number.
    Route {
        branches: Vec<Branch>,
        nested_ids: Vec<u32>,
    },
    Repeat {
        times: u32,
        body: Vec<Step>,
    },
}

#[derive(Debug, PartialEq)]
pub struct Branch {
    pub weight: f64,
    pub body: Vec<Step>,
}

#[derive(Debug, PartialEq)]
pub struct Llm {
    pub name: String,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub latency: Latency,
    pub model: String,
    pub provider: String,
    pub fail: f64,
    /// The tool steps this call's answer asks for (see [`tool_calls_after`]).
    pub tool_calls: Vec<ToolRef>,
}

#[derive(Debug, PartialEq)]
pub struct ToolRef {
    pub step_id: u32,
    pub name: String,
}

#[derive(Debug, PartialEq)]
pub struct Tool {
    pub name: String,
    pub result_bytes: u32,
    pub latency: Latency,
    pub fail: f64,
}

/// Microseconds, fixed when `min == max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    pub min_micros: u64,
    pub max_micros: u64,
}

/// The model of `ast`, or `None` if a mistake prevents building one (all mistakes are in `cx`;
/// a model is returned only when `cx` has none).
pub fn lower(ast: &ScenarioAst, cx: &Ctxt) -> Option<Scenario> {
    let header = check::header(ast, cx);
    let model = header.model.map_or_else(|| DEFAULT_MODEL.to_owned(), |lit| lit.value());
    let provider = header.provider.map_or_else(|| DEFAULT_PROVIDER.to_owned(), |n| n.value.clone());
    let agent = header.agent.map_or_else(|| DEFAULT_AGENT.to_owned(), |n| n.value.clone());
    check::not_blank(header.model.map(|l| (l.value(), l.span())), "model", cx);
    check::not_blank(header.provider.map(|n| (n.value.clone(), n.span)), "provider", cx);
    check::not_blank(header.agent.map(|n| (n.value.clone(), n.span)), "agent", cx);

    let mut lowerer = Lowerer { cx, next_id: 0, model: model.clone(), provider: provider.clone() };
    if ast.steps.is_empty() {
        cx.error(ast.first_span, "this scenario has no steps: add at least one, like `llm(answer, input: 500, output: 200);`");
    }
    let mut steps = lowerer.block(&ast.steps);
    let mut next_id = lowerer.next_id;
    assign_nested_route_ids(&mut steps, &mut next_id);

    let shape = shape::of(&steps);
    let expectations = check::expectation_values(header.expect.unwrap_or(&[]), cx);
    if !cx.has_errors() {
        // Only a complete model has a meaningful shape to hold expectations against.
        check::expectations(&expectations, &shape, cx);
    }
    let (name, description) = (header.name?, header.description?);
    if cx.has_errors() {
        return None;
    }
    Some(Scenario {
        name: name.to_string(),
        description: description.value(),
        agent,
        model,
        provider,
        steps,
        shape,
    })
}

struct Lowerer<'a> {
    cx: &'a Ctxt,
    next_id: u32,
    model: String,
    provider: String,
}

impl Lowerer<'_> {
    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn block(&mut self, steps: &[ast::Step]) -> Vec<Step> {
        check::unique_names(steps, self.cx);
        let mut lowered: Vec<Step> = steps.iter().filter_map(|step| self.step(step)).collect();
        let calls: Vec<Option<Vec<ToolRef>>> = (0..lowered.len())
            .map(|i| {
                matches!(lowered[i].kind, StepKind::Llm(_))
                    .then(|| tool_calls_after(&lowered[i + 1..]))
            })
            .collect();
        for (step, calls) in lowered.iter_mut().zip(calls) {
            if let (StepKind::Llm(llm), Some(calls)) = (&mut step.kind, calls) {
                llm.tool_calls = calls;
            }
        }
        lowered
    }

    fn body(&mut self, block: &ast::Block, what: &str) -> Vec<Step> {
        check::not_empty(block, what, self.cx);
        self.block(&block.steps)
    }

    fn step(&mut self, step: &ast::Step) -> Option<Step> {
        let id = self.id();
        let kind = match step {
            ast::Step::Llm(llm) => StepKind::Llm(self.llm(llm)?),
            ast::Step::Tool(tool) => StepKind::Tool(self.tool(tool)?),
            ast::Step::Delegate(delegate) => StepKind::Delegate {
                agent: delegate.agent.to_string(),
                body: self.body(&delegate.body, "a `delegate` block"),
            },
            ast::Step::Parallel(parallel) => {
                check::parallel_width(parallel, self.cx);
                StepKind::Parallel { body: self.body(&parallel.body, "a `parallel` block") }
            }
            ast::Step::Route(route) => {
                let weights: Vec<Option<f64>> = route
                    .branches
                    .iter()
                    .map(|b| units::weight(&b.weight).map_err(|e| self.cx.push(e)).ok())
                    .collect();
                check::route_branches(route, &weights, self.cx);
                let branches = route
                    .branches
                    .iter()
                    .zip(&weights)
                    .map(|(branch, weight)| Branch {
                        weight: weight.unwrap_or(0.0),
                        body: self.body(&branch.body, "a `route` branch"),
                    })
                    .collect();
                StepKind::Route { branches, nested_ids: Vec::new() }
            }
            ast::Step::Repeat(repeat) => {
                let times = units::repeat_count(&repeat.times).map_err(|e| self.cx.push(e)).ok();
                let body = self.body(&repeat.body, "a `repeat` block");
                StepKind::Repeat { times: times?, body }
            }
        };
        Some(Step { id, kind })
    }

    fn llm(&mut self, llm: &ast::LlmAst) -> Option<Llm> {
        let options = check::unique_options(&llm.options, self.cx);
        let mut input = None;
        let mut output = None;
        let mut latency = None;
        let mut model = self.model.clone();
        let mut provider = self.provider.clone();
        let mut fail = 0.0;
        let mut broken = false;
        for option in options {
            match (option.kind, &option.value) {
                (OptionKind::Input, OptionValue::Amount(Amount::One(n))) => {
                    input = self.ok(units::tokens(n), &mut broken);
                }
                (OptionKind::Output, OptionValue::Amount(Amount::One(n))) => {
                    output = self.ok(units::tokens(n), &mut broken);
                }
                (OptionKind::Latency, OptionValue::Amount(amount)) => {
                    latency = self.ok(units::latency(amount), &mut broken);
                }
                (OptionKind::Fail, OptionValue::Amount(Amount::One(n))) => {
                    fail = self.ok(units::probability(n), &mut broken).unwrap_or(0.0);
                }
                (OptionKind::Model, OptionValue::Str(lit)) => {
                    check::not_blank(Some((lit.value(), lit.span())), "model", self.cx);
                    model = lit.value();
                }
                (OptionKind::Provider, OptionValue::Name(name)) => {
                    check::not_blank(Some((name.value.clone(), name.span)), "provider", self.cx);
                    provider = name.value.clone();
                }
                _ => broken = true,
            }
        }
        let name = &llm.name;
        if input.is_none() && !broken {
            self.cx.error(name.span(), format!("`llm({name}, ..)` is missing its input tokens: add `input: <tokens>`, like `input: 1200`"));
        }
        if output.is_none() && !broken {
            self.cx.error(name.span(), format!("`llm({name}, ..)` is missing its output tokens: add `output: <tokens>`, like `output: 150`"));
        }
        let (input, output) = (input?, output?);
        let (min_micros, max_micros) = latency.unwrap_or_else(|| {
            let micros =
                DEFAULT_LLM_BASE_MICROS + DEFAULT_LLM_PER_OUTPUT_TOKEN_MICROS * u64::from(output);
            (micros, micros)
        });
        Some(Llm {
            name: name.to_string(),
            input_tokens: input,
            output_tokens: output,
            latency: Latency { min_micros, max_micros },
            model,
            provider,
            fail,
            tool_calls: Vec::new(),
        })
    }

    fn tool(&mut self, tool: &ast::ToolAst) -> Option<Tool> {
        let options = check::unique_options(&tool.options, self.cx);
        let mut broken = false;
        let mut latency = None;
        let mut fail = 0.0;
        for option in options {
            match (option.kind, &option.value) {
                (OptionKind::Latency, OptionValue::Amount(amount)) => {
                    latency = self.ok(units::latency(amount), &mut broken);
                }
                (OptionKind::Fail, OptionValue::Amount(Amount::One(n))) => {
                    fail = self.ok(units::probability(n), &mut broken).unwrap_or(0.0);
                }
                _ => broken = true,
            }
        }
        let name = &tool.name;
        let Some(size) = &tool.size else {
            self.cx.error(name.span(), format!("`tool({name}, ..)` is missing the size of its result: write it after the name, like `tool({name}, 40kb)`"));
            return None;
        };
        let result_bytes = self.ok(units::size(size, units::MAX_SIZE), &mut broken)?;
        let (min_micros, max_micros) =
            latency.unwrap_or((DEFAULT_TOOL_MICROS, DEFAULT_TOOL_MICROS));
        Some(Tool {
            name: name.to_string(),
            result_bytes: u32::try_from(result_bytes).unwrap_or(u32::MAX),
            latency: Latency { min_micros, max_micros },
            fail,
        })
    }

    /// The value, or `None` with the error recorded and the step marked broken.
    fn ok<T>(&self, result: syn::Result<T>, broken: &mut bool) -> Option<T> {
        result
            .map_err(|error| {
                *broken = true;
                self.cx.push(error);
            })
            .ok()
    }
}

/// The tool calls an `llm` step's answer requests: the `tool` steps that follow it in its block
/// up to the next `llm`, including those directly inside a following `parallel` block. Steps
/// inside `delegate`, `route` and `repeat` blocks are not looked into (a sub-agent's tools are
/// its own; which branch or how many iterations run is not known when the model answers), but
/// the scan goes on after them, so every tool of the block is requested by some answer.
pub fn tool_calls_after(rest: &[Step]) -> Vec<ToolRef> {
    let mut calls = Vec::new();
    for step in rest {
        match &step.kind {
            StepKind::Llm(_) => break,
            // Handing work to a sub-agent is itself one of the calls the answer asked for; the
            // tools after it belong to the same answer.
            StepKind::Delegate { .. } => {}
            StepKind::Tool(tool) => {
                calls.push(ToolRef { step_id: step.id, name: tool.name.clone() })
            }
            StepKind::Parallel { body } => collect_parallel_tools(body, &mut calls),
            StepKind::Route { .. } | StepKind::Repeat { .. } => {}
        }
    }
    calls
}

fn collect_parallel_tools(body: &[Step], calls: &mut Vec<ToolRef>) {
    for step in body {
        match &step.kind {
            StepKind::Tool(tool) => {
                calls.push(ToolRef { step_id: step.id, name: tool.name.clone() })
            }
            StepKind::Parallel { body } => collect_parallel_tools(body, calls),
            _ => {}
        }
    }
}

/// Gives each route of `n > 2` branches the `n - 2` extra ids of its nested binary routes,
/// numbered after all steps, in pre-order.
fn assign_nested_route_ids(steps: &mut [Step], next_id: &mut u32) {
    for step in steps {
        match &mut step.kind {
            StepKind::Llm(_) | StepKind::Tool(_) => {}
            StepKind::Delegate { body, .. }
            | StepKind::Parallel { body }
            | StepKind::Repeat { body, .. } => assign_nested_route_ids(body, next_id),
            StepKind::Route { branches, nested_ids } => {
                for _ in 2..branches.len() {
                    nested_ids.push(*next_id);
                    *next_id += 1;
                }
                for branch in branches {
                    assign_nested_route_ids(&mut branch.body, next_id);
                }
            }
        }
    }
}
