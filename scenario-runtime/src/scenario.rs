//! A compiled scenario: its metadata, shape and step tree, and the object-safe view the
//! registry and the engine use.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::describe::StepInfo;
use crate::exec::{AgentScope, Done, TraceRun};
use crate::shape::Shape;
use crate::step::Step;

/// Everything about a scenario except its tree.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Meta {
    pub name: &'static str,
    pub description: &'static str,
    /// The root agent, whose `invoke_agent` span is the trace's root.
    pub agent: &'static str,
    /// Default model and provider of its `llm` steps.
    pub model: &'static str,
    pub provider: &'static str,
    /// `workflow:`: the root agent runs inside an `invoke_workflow <name>` span.
    pub workflow: Option<&'static str>,
    /// `session:`: each run is one turn of a multi-turn conversation.
    pub session: Option<Session>,
    pub shape: Shape,
}

/// A scenario's conversations: how many turns (runs) each has, and the user's think time
/// between the end of one turn and the start of the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    pub min_turns: u32,
    pub max_turns: u32,
    pub think: crate::latency::Latency,
}

/// What `scenario!` expands to: metadata plus a statically typed step tree.
#[derive(Debug)]
pub struct Scenario<T> {
    pub meta: Meta,
    pub tree: T,
}

/// A boxed future, so scenarios of different tree types can sit in one registry.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A scenario whatever its tree type.
pub trait AnyScenario: Send + Sync + 'static {
    fn meta(&self) -> &Meta;

    /// Runs one trace whose root starts at `start` (Unix nanoseconds).
    fn run<'a>(&'a self, run: &'a TraceRun<'a>, start: u64) -> BoxFuture<'a, Done>;

    /// The tree as indented lines.
    fn describe(&self) -> Vec<StepInfo>;
}

impl<T: Step> AnyScenario for Scenario<T> {
    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn run<'a>(&'a self, run: &'a TraceRun<'a>, start: u64) -> BoxFuture<'a, Done> {
        let root = AgentScope::new(self.meta.agent, self.meta.model, self.meta.provider);
        Box::pin(run.run_root(root, &self.tree, start, self.meta.workflow))
    }

    fn describe(&self) -> Vec<StepInfo> {
        let mut lines = Vec::new();
        self.tree.describe(0, &mut lines);
        lines
    }
}

impl std::fmt::Debug for dyn AnyScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario").field("meta", self.meta()).finish_non_exhaustive()
    }
}
