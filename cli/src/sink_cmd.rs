//! `scaletest sink`.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SinkArgs {}

pub fn main(_args: SinkArgs) -> ExitCode {
    ExitCode::from(1)
}
