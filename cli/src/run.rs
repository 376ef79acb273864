//! `scaletest run`.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub fn main(_args: RunArgs) -> ExitCode {
    ExitCode::from(1)
}
