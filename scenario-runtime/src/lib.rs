//! Runs scaletest scenarios.
//!
//! Write scenarios with [`scenario!`] (the language is described in [`language`]); it checks
//! them at build time and expands to a typed step tree ([`step`]) with its [`Shape`] as
//! constants. Executing a tree ([`exec`]) emits OpenTelemetry spans ([`span`]) that follow the
//! GenAI conventions ([`genai`]), carry realistic content ([`content`]) and the attributes of a
//! platform profile ([`platform`]), built by an [`Emitter`].
//!
//! Without features the crate stays light, so scenario crates and their compile tests build
//! quickly. The `engine` feature adds what drives load ([`engine`](crate#features)): the
//! scheduler, the OTLP exporters, the embedded sink, metrics and report data.
//!
//! # Features
//! - `engine`: tokio, OTLP export (direct and SDK paths), the embedded sink, HDR metrics.

pub mod alloc;
pub mod console;
pub mod content;
pub mod describe;
pub mod emit;
#[cfg(feature = "engine")]
pub mod engine;
pub mod exec;
pub mod genai;
pub mod language;
pub mod latency;
pub mod platform;
pub mod recorder;
pub mod scenario;
pub mod shape;
pub mod span;
pub mod step;
pub mod units;

pub use describe::{StepInfo, StepKind};
pub use emit::Emitter;
pub use exec::{Clock, Done, RunSettings, TraceRun};
pub use latency::{Latency, LatencyScale};
pub use recorder::{Recorder, record_trace};
pub use scenario::{AnyScenario, Meta, Scenario, Session};
pub use shape::{Range, Shape};
pub use span::{SpanRecord, SpanSink};
pub use step::Step;

/// Defines a scenario. See [`language`] for the language.
///
/// This forwards to the procedural macro with the path of this crate, so the expansion works
/// whatever name the crate is imported under and with no imports at all.
#[macro_export]
macro_rules! scenario {
    ($($tokens:tt)*) => {
        $crate::__private::scenario_impl! { $crate; $($tokens)* }
    };
}

/// What expansions of [`scenario!`] refer to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::latency::Latency;
    pub use crate::scenario::{AnyScenario, Meta, Scenario, Session};
    pub use crate::shape::{Range, Shape};
    pub use crate::step::{
        Branch, CreateAgent, Delegate, Embed, Join, Llm, LlmDetails, LlmWith, Mcp, Parallel,
        Repeat, Retrieve, Route, Seq, Tool, ToolRef,
    };
    pub use scenario_macros::scenario_impl;
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
