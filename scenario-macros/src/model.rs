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
/// Latency of an `mcp` step without `latency:`: a tool call plus the round trip to the server.
pub const DEFAULT_MCP_MICROS: u64 = 150_000;
/// Latency of an `embed` step without `latency:`.
pub const DEFAULT_EMBED_MICROS: u64 = 60_000;
/// Latency of a `retrieve` step without `latency:`.
pub const DEFAULT_RETRIEVE_MICROS: u64 = 120_000;
/// Latency of a `create_agent` step without `latency:`: one request to the agent service.
pub const DEFAULT_CREATE_AGENT_MICROS: u64 = 150_000;
/// Time to first token of a streaming `llm` step without `ttft:`: the fixed part of the
/// default latency, at most half the call's shortest latency.
pub const DEFAULT_TTFT_MICROS: u64 = DEFAULT_LLM_BASE_MICROS;
/// Embedding model of `embed` steps without `model:`.
pub const DEFAULT_EMBED_MODEL: &str = "text-embedding-3-small";
/// Dimensions of `embed` steps without `dimensions:` (those of the default model).
pub const DEFAULT_DIMENSIONS: u32 = 1536;
/// Documents a `retrieve` step returns without `top_k:`.
pub const DEFAULT_TOP_K: u32 = 5;
/// Think time between the turns of a session without `think:`: reading an answer and typing
/// the next question.
pub const DEFAULT_THINK_MICROS: (u64, u64) = (5_000_000, 30_000_000);

#[derive(Debug, PartialEq)]
pub struct Scenario {
    /// The module the expansion defines.
    pub name: String,
    pub description: String,
    pub agent: String,
    pub model: String,
    pub provider: String,
    /// `workflow:`: the name of the `invoke_workflow` span above the root agent.
    pub workflow: Option<String>,
    pub session: Option<Session>,
    pub steps: Vec<Step>,
    pub shape: Shape,
}

/// `session: A..B turns, think: T`: each run is one turn of a conversation of A to B turns.
#[derive(Debug, PartialEq)]
pub struct Session {
    pub min_turns: u32,
    pub max_turns: u32,
    pub think: Latency,
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
    Mcp(Mcp),
    Embed(Embed),
    Retrieve(Retrieve),
    CreateAgent(CreateAgent),
}

#[derive(Debug, PartialEq)]
pub struct Mcp {
    pub server: String,
    pub tool: String,
    pub result_bytes: u32,
    pub latency: Latency,
    pub fail: f64,
    /// Whether the MCP server's own span (`tools/call <tool>`, SERVER) is in the trace.
    pub server_span: bool,
}

#[derive(Debug, PartialEq)]
pub struct Embed {
    pub name: String,
    pub model: String,
    pub provider: String,
    pub input_tokens: u32,
    pub dimensions: u32,
    pub latency: Latency,
    pub fail: f64,
}

#[derive(Debug, PartialEq)]
pub struct Retrieve {
    pub store: String,
    pub top_k: u32,
    pub result_bytes: u32,
    pub latency: Latency,
    pub fail: f64,
}

/// `create_agent(agent, ..)`: the agent a later `delegate agent` invokes, created first.
#[derive(Debug, PartialEq)]
pub struct CreateAgent {
    pub agent: String,
    pub model: String,
    pub provider: String,
    pub latency: Latency,
    pub fail: f64,
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
    /// Output tokens spent reasoning (part of `output_tokens`); 0 when not declared.
    pub reasoning_tokens: u32,
    /// Input tokens read from the provider's cache (part of `input_tokens`), when declared.
    pub cached_tokens: Option<u32>,
    /// Time to first token of a streaming call; `None` when the call does not stream.
    pub ttft: Option<Latency>,
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
    check::not_blank(header.workflow.map(|n| (n.value.clone(), n.span)), "workflow", cx);
    let workflow = header.workflow.map(|n| n.value.clone());
    let (turns, think) = check::session(header.session, header.think, cx);
    let session = turns.map(|(min_turns, max_turns)| {
        let (min_micros, max_micros) = think.unwrap_or(DEFAULT_THINK_MICROS);
        Session { min_turns, max_turns, think: Latency { min_micros, max_micros } }
    });

    let mut lowerer = Lowerer { cx, next_id: 0, model: model.clone(), provider: provider.clone() };
    // A scenario whose only steps were too broken to read has its errors already.
    if ast.steps.is_empty() && !cx.has_errors() {
        cx.error(ast.first_span, "this scenario has no steps: add at least one, like `llm(answer, input: 500, output: 200);`");
    }
    let mut steps = lowerer.block(&ast.steps);
    let mut next_id = lowerer.next_id;
    assign_nested_route_ids(&mut steps, &mut next_id);

    let shape = shape::of(&steps, workflow.is_some());
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
        workflow,
        session,
        steps,
        shape,
    })
}

/// What one `latency:` or `fail:` option sets: a latency `(min, max)` or a failure probability.
type Timing = (Option<(u64, u64)>, Option<f64>);

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
        check::created_agents_delegated(steps, self.cx);
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
            ast::Step::Mcp(mcp) => StepKind::Mcp(self.mcp(mcp)?),
            ast::Step::Embed(embed) => StepKind::Embed(self.embed(embed)?),
            ast::Step::Retrieve(retrieve) => StepKind::Retrieve(self.retrieve(retrieve)?),
            ast::Step::CreateAgent(create) => StepKind::CreateAgent(self.create_agent(create)?),
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
        let mut reasoning = None;
        let mut cached = None;
        let mut stream = None;
        let mut ttft = None;
        for option in options {
            match (option.kind, &option.value) {
                (OptionKind::Input, OptionValue::Amount(Amount::One(n))) => {
                    input = self.ok(units::tokens(n), &mut broken);
                }
                (OptionKind::Reasoning, OptionValue::Amount(Amount::One(n))) => {
                    reasoning = self.ok(units::tokens(n), &mut broken).map(|v| (v, n));
                }
                (OptionKind::Cached, OptionValue::Amount(Amount::One(n))) => {
                    cached = self.ok(units::tokens(n), &mut broken).map(|v| (v, n));
                }
                (OptionKind::Stream, OptionValue::Bool(lit)) => stream = Some(lit),
                (OptionKind::Ttft, OptionValue::Amount(amount)) => {
                    ttft = self.ok(units::latency(amount), &mut broken).map(|v| (v, amount));
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
        check::part_of(reasoning, output, "reasoning", "output", self.cx);
        check::part_of(cached, input, "cached", "input", self.cx);
        let ttft = check::time_to_first_token(stream, ttft, min_micros, self.cx);
        Some(Llm {
            name: name.to_string(),
            input_tokens: input,
            output_tokens: output,
            latency: Latency { min_micros, max_micros },
            model,
            provider,
            fail,
            reasoning_tokens: reasoning.map_or(0, |(v, _)| v),
            cached_tokens: cached.map(|(v, _)| v),
            ttft,
            tool_calls: Vec::new(),
        })
    }

    /// `latency` and `fail`, the options every step that waits has; `None` latency if unset.
    fn timing(&self, option: &ast::StepOption, broken: &mut bool) -> Option<Timing> {
        match (option.kind, &option.value) {
            (OptionKind::Latency, OptionValue::Amount(amount)) => {
                Some((self.ok(units::latency(amount), broken), None))
            }
            (OptionKind::Fail, OptionValue::Amount(Amount::One(n))) => {
                Some((None, self.ok(units::probability(n), broken)))
            }
            _ => None,
        }
    }

    fn mcp(&mut self, mcp: &ast::McpAst) -> Option<Mcp> {
        let options = check::unique_options(&mcp.options, self.cx);
        let mut broken = false;
        let (mut latency, mut fail, mut server_span) = (None, 0.0, false);
        for option in options {
            if let (OptionKind::ServerSpan, OptionValue::Bool(lit)) = (option.kind, &option.value) {
                server_span = lit.value;
                continue;
            }
            match self.timing(option, &mut broken) {
                Some((l, f)) => {
                    latency = l.or(latency);
                    fail = f.unwrap_or(fail);
                }
                None => broken = true,
            }
        }
        let (server, tool) = (&mcp.server, &mcp.tool);
        let Some(size) = &mcp.size else {
            self.cx.error(tool.span(), format!("`mcp({server}, {tool}, ..)` is missing the size of its result: write it after the tool, like `mcp({server}, {tool}, 8kb)`"));
            return None;
        };
        let result_bytes = self.ok(units::size(size, units::MAX_SIZE), &mut broken)?;
        let (min_micros, max_micros) = latency.unwrap_or((DEFAULT_MCP_MICROS, DEFAULT_MCP_MICROS));
        Some(Mcp {
            server: server.to_string(),
            tool: tool.to_string(),
            result_bytes: u32::try_from(result_bytes).unwrap_or(u32::MAX),
            latency: Latency { min_micros, max_micros },
            fail,
            server_span,
        })
    }

    fn embed(&mut self, embed: &ast::EmbedAst) -> Option<Embed> {
        let options = check::unique_options(&embed.options, self.cx);
        let mut broken = false;
        let (mut latency, mut fail) = (None, 0.0);
        let (mut input, mut dimensions) = (None, None);
        let mut model = None;
        let mut provider = self.provider.clone();
        for option in options {
            match (option.kind, &option.value) {
                (OptionKind::Input, OptionValue::Amount(Amount::One(n))) => {
                    input = self.ok(units::tokens(n), &mut broken);
                }
                (OptionKind::Dimensions, OptionValue::Amount(Amount::One(n))) => {
                    dimensions = self.ok(units::dimensions(n), &mut broken);
                }
                (OptionKind::Model, OptionValue::Str(lit)) => {
                    check::not_blank(Some((lit.value(), lit.span())), "model", self.cx);
                    model = Some(lit.value());
                }
                (OptionKind::Provider, OptionValue::Name(name)) => {
                    check::not_blank(Some((name.value.clone(), name.span)), "provider", self.cx);
                    provider = name.value.clone();
                }
                _ => match self.timing(option, &mut broken) {
                    Some((l, f)) => {
                        latency = l.or(latency);
                        fail = f.unwrap_or(fail);
                    }
                    None => broken = true,
                },
            }
        }
        let name = &embed.name;
        if input.is_none() && !broken {
            self.cx.error(name.span(), format!("`embed({name}, ..)` is missing its input tokens: add `input: <tokens>`, like `input: 40`"));
        }
        let (min_micros, max_micros) =
            latency.unwrap_or((DEFAULT_EMBED_MICROS, DEFAULT_EMBED_MICROS));
        Some(Embed {
            name: name.to_string(),
            model: model.unwrap_or_else(|| DEFAULT_EMBED_MODEL.to_owned()),
            provider,
            input_tokens: input?,
            dimensions: dimensions.unwrap_or(DEFAULT_DIMENSIONS),
            latency: Latency { min_micros, max_micros },
            fail,
        })
    }

    fn retrieve(&mut self, retrieve: &ast::RetrieveAst) -> Option<Retrieve> {
        let options = check::unique_options(&retrieve.options, self.cx);
        let mut broken = false;
        let (mut latency, mut fail, mut top_k) = (None, 0.0, None);
        for option in options {
            match (option.kind, &option.value) {
                (OptionKind::TopK, OptionValue::Amount(Amount::One(n))) => {
                    top_k = self.ok(units::top_k(n), &mut broken);
                }
                _ => match self.timing(option, &mut broken) {
                    Some((l, f)) => {
                        latency = l.or(latency);
                        fail = f.unwrap_or(fail);
                    }
                    None => broken = true,
                },
            }
        }
        let store = &retrieve.store;
        let Some(size) = &retrieve.size else {
            self.cx.error(store.span(), format!("`retrieve({store}, ..)` is missing the size of the documents it returns: write it after the store, like `retrieve({store}, 24kb)`"));
            return None;
        };
        let result_bytes = self.ok(units::size(size, units::MAX_SIZE), &mut broken)?;
        let (min_micros, max_micros) =
            latency.unwrap_or((DEFAULT_RETRIEVE_MICROS, DEFAULT_RETRIEVE_MICROS));
        Some(Retrieve {
            store: store.to_string(),
            top_k: top_k.unwrap_or(DEFAULT_TOP_K),
            result_bytes: u32::try_from(result_bytes).unwrap_or(u32::MAX),
            latency: Latency { min_micros, max_micros },
            fail,
        })
    }

    fn create_agent(&mut self, create: &ast::CreateAgentAst) -> Option<CreateAgent> {
        let options = check::unique_options(&create.options, self.cx);
        let mut broken = false;
        let (mut latency, mut fail) = (None, 0.0);
        let mut model = self.model.clone();
        let mut provider = self.provider.clone();
        for option in options {
            match (option.kind, &option.value) {
                (OptionKind::Model, OptionValue::Str(lit)) => {
                    check::not_blank(Some((lit.value(), lit.span())), "model", self.cx);
                    model = lit.value();
                }
                (OptionKind::Provider, OptionValue::Name(name)) => {
                    check::not_blank(Some((name.value.clone(), name.span)), "provider", self.cx);
                    provider = name.value.clone();
                }
                _ => match self.timing(option, &mut broken) {
                    Some((l, f)) => {
                        latency = l.or(latency);
                        fail = f.unwrap_or(fail);
                    }
                    None => broken = true,
                },
            }
        }
        if broken {
            return None;
        }
        let (min_micros, max_micros) =
            latency.unwrap_or((DEFAULT_CREATE_AGENT_MICROS, DEFAULT_CREATE_AGENT_MICROS));
        Some(CreateAgent {
            agent: create.agent.to_string(),
            model,
            provider,
            latency: Latency { min_micros, max_micros },
            fail,
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
            StepKind::Mcp(mcp) => calls.push(ToolRef { step_id: step.id, name: mcp.tool.clone() }),
            StepKind::Parallel { body } => collect_parallel_tools(body, &mut calls),
            // The application embeds and retrieves on its own; the model does not ask for it.
            StepKind::Embed(_) | StepKind::Retrieve(_) => {}
            // Creating the agent is the application's call; the delegate after it is the one
            // the answer asks for.
            StepKind::CreateAgent(_) => {}
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
            StepKind::Mcp(mcp) => calls.push(ToolRef { step_id: step.id, name: mcp.tool.clone() }),
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
            StepKind::Llm(_)
            | StepKind::Tool(_)
            | StepKind::Mcp(_)
            | StepKind::Embed(_)
            | StepKind::Retrieve(_)
            | StepKind::CreateAgent(_) => {}
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
