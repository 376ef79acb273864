//! The typed step tree that `scenario!` expands to.
//!
//! Each DSL construct is a type; a scenario is one value built from them, so the compiler checks
//! the tree and the runtime executes it without interpreting anything. Sequences and parallel
//! blocks are cons lists ([`Seq`], [`Join`]) and multi-way routes nest binary [`Route`]s.

use std::future::Future;

use crate::describe::{StepInfo, StepKind};
use crate::exec::{At, Done, TraceRun};
use crate::latency::Latency;

/// One node of a step tree.
pub trait Step: Send + Sync + 'static {
    /// Runs the step (and its children) under `at`, emitting their spans, and says when it ended.
    fn run<'a>(
        &'a self,
        run: &'a TraceRun<'a>,
        at: At<'a>,
    ) -> impl Future<Output = Done> + Send + 'a;

    /// Appends this step's description (and its children's, one level deeper) to `out`.
    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>);
}

/// A tool call an `llm` step's answer requests, executed by the `tool` step with the same id.
#[derive(Clone, Copy, Debug)]
pub struct ToolRef {
    pub step_id: u32,
    pub name: &'static str,
}

/// `llm(name, ..)`: one model call, emitted as a `chat <model>` CLIENT span.
#[derive(Debug)]
pub struct Llm {
    /// Pre-order index of the step in its scenario; seeds its content.
    pub id: u32,
    pub name: &'static str,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub latency: Latency,
    pub model: &'static str,
    pub provider: &'static str,
    /// Probability in `0.0..=1.0` that the call fails.
    pub fail: f64,
    /// Tools the answer asks for: the `tool` steps that follow it in its scope.
    pub tool_calls: &'static [ToolRef],
}

/// What an `llm` step may declare beyond its token counts: reasoning and cached tokens, and
/// streaming. A step that declares any of them is an [`LlmWith`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LlmDetails {
    /// Output tokens spent reasoning, part of `output_tokens` (0: none declared).
    pub reasoning_tokens: u32,
    /// Input tokens served from the provider's prompt cache, part of `input_tokens`; `None`
    /// lets the run estimate them from the unchanged prefix of the prompt.
    pub cached_tokens: Option<u32>,
    /// Time to first token when the call streams its answer; `None` when it does not.
    pub ttft: Option<Latency>,
}

impl LlmDetails {
    /// Nothing declared: a plain, non-streaming call.
    pub const NONE: LlmDetails =
        LlmDetails { reasoning_tokens: 0, cached_tokens: None, ttft: None };
}

/// `llm(name, .., reasoning: N, cached: N, stream: true, ttft: T)`: a model call with details.
#[derive(Debug)]
pub struct LlmWith {
    pub call: Llm,
    pub details: LlmDetails,
}

/// `tool(name, size, ..)`: one tool execution, emitted as an `execute_tool <name>` INTERNAL span.
#[derive(Debug)]
pub struct Tool {
    pub id: u32,
    pub name: &'static str,
    /// Size of the tool's JSON result in bytes.
    pub result_bytes: u32,
    pub latency: Latency,
    pub fail: f64,
}

/// `mcp(server, tool, size, ..)`: a tool reached through an MCP server, emitted as an
/// `execute_tool <tool>` INTERNAL span with the MCP client span `tools/call <tool>` below it.
#[derive(Debug)]
pub struct Mcp {
    pub id: u32,
    /// The MCP server's name.
    pub server: &'static str,
    /// The tool's name on that server.
    pub name: &'static str,
    /// Size of the tool's JSON result in bytes.
    pub result_bytes: u32,
    pub latency: Latency,
    pub fail: f64,
    /// Whether the MCP server's span `tools/call <tool>` (SERVER) is emitted below the
    /// client's, as when the server is instrumented too.
    pub server_span: bool,
}

/// `embed(name, input: N, ..)`: an embeddings request, emitted as an `embeddings <model>`
/// CLIENT span.
#[derive(Debug)]
pub struct Embed {
    pub id: u32,
    pub name: &'static str,
    pub model: &'static str,
    pub provider: &'static str,
    pub input_tokens: u32,
    pub dimensions: u32,
    pub latency: Latency,
    pub fail: f64,
}

/// `retrieve(store, size, top_k: N, ..)`: a query to a vector store or search index, emitted as
/// a `retrieval <store>` CLIENT span returning `top_k` documents of `result_bytes` in all.
#[derive(Debug)]
pub struct Retrieve {
    pub id: u32,
    /// The data source queried (`gen_ai.data_source.id`).
    pub store: &'static str,
    pub top_k: u32,
    pub result_bytes: u32,
    pub latency: Latency,
    pub fail: f64,
}

/// `create_agent(agent, ..)`: the agent a later `delegate agent` invokes, created first through
/// the agent service, emitted as a `create_agent <agent>` CLIENT span.
#[derive(Debug)]
pub struct CreateAgent {
    pub id: u32,
    /// The agent created (`gen_ai.agent.name`), the one the following `delegate` invokes.
    pub agent: &'static str,
    pub model: &'static str,
    pub provider: &'static str,
    pub latency: Latency,
    pub fail: f64,
}

/// `delegate agent { .. }`: a sub-agent, emitted as a nested `invoke_agent <agent>` span.
#[derive(Debug)]
pub struct Delegate<B> {
    pub id: u32,
    pub agent: &'static str,
    pub body: B,
}

/// Two steps one after the other (a block is a right-nested chain of `Seq`).
#[derive(Debug)]
pub struct Seq<A, B>(pub A, pub B);

/// `parallel { .. }`: its branches start together; the block ends with the last one.
#[derive(Debug)]
pub struct Parallel<B> {
    pub id: u32,
    pub branches: B,
}

/// Two branches of a `parallel` block run concurrently (right-nested for more).
#[derive(Debug)]
pub struct Join<A, B>(pub A, pub B);

/// `route { w => { .. } .. }`: one branch per run. `first` is taken with probability
/// `first_probability`, otherwise `rest` (itself a `Route` when there are more branches).
#[derive(Debug)]
pub struct Route<A, B> {
    pub id: u32,
    pub first_probability: f64,
    /// The declared weight of `first`, for descriptions.
    pub first_weight: f64,
    pub first: A,
    pub rest: B,
}

/// The last branch of a route (declared weight kept for descriptions).
#[derive(Debug)]
pub struct Branch<B> {
    pub weight: f64,
    pub body: B,
}

/// `repeat N { .. }`: the body N times in sequence.
#[derive(Debug)]
pub struct Repeat<B> {
    pub id: u32,
    pub times: u32,
    pub body: B,
}

impl Step for Llm {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        run.run_llm(self, &LlmDetails::NONE, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::llm(self, depth));
    }
}

impl Step for LlmWith {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        run.run_llm(&self.call, &self.details, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::llm(&self.call, depth));
    }
}

impl Step for Tool {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        run.run_tool(self, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::tool(self, depth));
    }
}

impl Step for Mcp {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        run.run_mcp(self, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::mcp(self, depth));
    }
}

impl Step for Embed {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        run.run_embed(self, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::embed(self, depth));
    }
}

impl Step for Retrieve {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        run.run_retrieve(self, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::retrieve(self, depth));
    }
}

impl Step for CreateAgent {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        run.run_create_agent(self, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::create_agent(self, depth));
    }
}

impl<B: Step> Step for Delegate<B> {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        let span = run.begin_agent(self.agent, &at);
        // Boxed: the agent's steps take room only while it runs, not for the whole trace
        // in every future enclosing it.
        let done = Box::pin(self.body.run(run, span.child_at())).await;
        run.end_agent(span, done)
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::group(StepKind::Delegate, self.agent, depth));
        self.body.describe(depth + 1, out);
    }
}

impl<A: Step, B: Step> Step for Seq<A, B> {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        let first = self.0.run(run, at).await;
        let second = self.1.run(run, at.after(first.end)).await;
        Done { end: second.end, failed: first.failed || second.failed }
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        self.0.describe(depth, out);
        self.1.describe(depth, out);
    }
}

impl<B: Step> Step for Parallel<B> {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        self.branches.run(run, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::group(StepKind::Parallel, "parallel", depth));
        self.branches.describe(depth + 1, out);
    }
}

impl<A: Step, B: Step> Step for Join<A, B> {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        let (first, second) =
            futures_util::future::join(self.0.run(run, at), self.1.run(run, at)).await;
        Done { end: first.end.max(second.end), failed: first.failed || second.failed }
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        self.0.describe(depth, out);
        self.1.describe(depth, out);
    }
}

impl<A: Step, B: Step + RouteRest> Step for Route<A, B> {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        if run.chance(self.id, &at) < self.first_probability {
            self.first.run(run, at).await
        } else {
            self.rest.run(run, at).await
        }
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        // Only the outermost Route is described through `Step`; nested ones go through
        // `RouteRest` and add their branches under the same header.
        out.push(StepInfo::group(StepKind::Route, "route", depth));
        out.push(StepInfo::branch(self.first_weight, depth + 1));
        self.first.describe(depth + 2, out);
        self.rest.describe_rest(depth, out);
    }
}

impl<B: Step> Step for Branch<B> {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        self.body.run(run, at).await
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::branch(self.weight, depth));
        self.body.describe(depth + 1, out);
    }
}

/// How the remaining branches of a route describe themselves under the same header.
#[doc(hidden)]
pub trait RouteRest {
    fn describe_rest(&self, route_depth: u32, out: &mut Vec<StepInfo>);
}

impl<B: Step> RouteRest for Branch<B> {
    fn describe_rest(&self, route_depth: u32, out: &mut Vec<StepInfo>) {
        self.describe(route_depth + 1, out);
    }
}

impl<A: Step, B: Step + RouteRest> RouteRest for Route<A, B> {
    fn describe_rest(&self, route_depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::branch(self.first_weight, route_depth + 1));
        self.first.describe(route_depth + 2, out);
        self.rest.describe_rest(route_depth, out);
    }
}

impl<B: Step> Step for Repeat<B> {
    async fn run<'a>(&'a self, run: &'a TraceRun<'a>, at: At<'a>) -> Done {
        let mut current = at;
        let mut failed = false;
        for iteration in 0..self.times {
            let done = self.body.run(run, current.iteration(self.id, iteration)).await;
            failed |= done.failed;
            current = current.after(done.end);
        }
        Done { end: current.start, failed }
    }

    fn describe(&self, depth: u32, out: &mut Vec<StepInfo>) {
        out.push(StepInfo::repeat(self.times, depth));
        self.body.describe(depth + 1, out);
    }
}
