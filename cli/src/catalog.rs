//! `scaletest list` and `scaletest describe`.
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ListArgs {}

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// Scenario name.
    pub name: String,
}

pub fn list(_args: &ListArgs) -> ExitCode {
    ExitCode::SUCCESS
}

pub fn describe(_args: &DescribeArgs) -> ExitCode {
    ExitCode::SUCCESS
}
