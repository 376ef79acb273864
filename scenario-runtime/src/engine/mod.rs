//! Load generation: scheduling, OTLP export, the embedded sink, metrics and report data.
//! Built only with the `engine` feature.

pub mod export;
pub mod metrics;
pub mod report;
pub mod schedule;
pub mod sdk;
pub mod sink;
pub mod verify;
