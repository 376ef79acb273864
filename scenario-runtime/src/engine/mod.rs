//! Load generation: the typed run plan, scheduling, OTLP export, the embedded sink, measurements
//! and the report. Built only with the `engine` feature.
//!
//! One way through: [`plan::RunPlan`] -> [`run()`] (sink, exporter, scheduler, drain, shutdown)
//! -> [`measure::Measurements`] -> [`report::build`] -> a [`report::Report`] for the renderings.

pub mod export;
pub mod ledger;
pub mod measure;
pub mod metrics;
pub mod plan;
pub mod query;
pub mod report;
mod run;
pub mod schedule;
pub mod sdk;
pub mod series;
pub mod shard;
pub mod sink;
pub mod threshold;
pub mod verify;

pub use run::{EngineError, NoProgress, Progress, run};
