//! The shape of a scenario, computed by `scenario!` at build time.
//!
//! The types and the arithmetic live in the `scenario-shape` crate, which the macro uses too:
//! what the macro computes and what the runtime reads are one definition. See [`Part`] for the
//! rules.

pub use scenario_shape::{BYTES_PER_TOKEN, Part, Range, Shape};
