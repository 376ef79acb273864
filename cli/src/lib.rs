//! `scaletest`: load-tests AI-observability backends with realistic agent traces. The binary
//! (`main.rs`) only chooses the allocator and calls [`main`]; the commands live here, in a
//! library, so that they compile while the runtime's code is still being generated.
//!
//! Exit codes: 0 success, 1 the run failed (e.g. the target could not be reached at all),
//! 2 bad input (flags, environment, `.env`; reports `compare` refuses), 3 thresholds failed (or
//! a `compare --fail-on` regression).

mod bench;
mod capacity;
mod catalog;
mod compare;
mod config;
mod experiment;
mod format;
mod html;
mod merge;
mod output;
mod progress;
mod prom;
mod render;
mod report_cmd;
mod run;
mod sink_cmd;
mod suite;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Load-test an AI-observability backend with realistic OpenTelemetry traces of AI agents.
#[derive(Debug, Parser)]
#[command(name = "scaletest", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the compiled scenarios with their shapes.
    List(catalog::ListArgs),
    /// Show one scenario's step tree.
    Describe(catalog::DescribeArgs),
    /// Run a load test (against the embedded sink unless an endpoint is configured).
    Run(Box<run::RunArgs>),
    /// Run the embedded OTLP sink on its own.
    Sink(sink_cmd::SinkArgs),
    /// Measure what this machine can generate (throughput, rate accuracy, memory).
    Bench(bench::BenchArgs),
    /// Render a saved JSON report again: as text, or as the HTML page (`--html`).
    Report(report_cmd::ReportArgs),
    /// Compare two runs' JSON reports: the change of each key figure, beyond noise or not.
    Compare(compare::CompareArgs),
    /// Merge the JSON reports of a sharded run's shards into one report (exact totals and
    /// percentiles).
    Merge(merge::MergeArgs),
    /// Run a suite file: ordered runs and the components (backends) they need, started,
    /// watched and stopped by scaletest; the runs compared side by side.
    Suite(suite::SuiteArgs),
    /// Find the highest rate a backend sustains within criteria: rate stepped up, then
    /// bisected; every step's figures and a chart of rate against lag and latency.
    Capacity(Box<capacity::CapacityArgs>),
}

/// Parses the command line and runs the command; the process's exit code.
pub fn main() -> ExitCode {
    // `.env` goes into the environment first, so flags read it as environment (never
    // overriding variables already set).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = config::load_env_file(&args) {
        eprintln!("error: {e}");
        return ExitCode::from(run::EXIT_BAD_INPUT);
    }
    let cli = Cli::parse_from(args);
    match cli.command {
        Command::List(args) => catalog::list(&args),
        Command::Describe(args) => catalog::describe(&args),
        Command::Run(args) => run::main(*args),
        Command::Sink(args) => sink_cmd::main(args),
        Command::Bench(args) => bench::main(args),
        Command::Report(args) => report_cmd::main(args),
        Command::Compare(args) => compare::main(args),
        Command::Merge(args) => merge::main(args),
        Command::Suite(args) => suite::main(args),
        Command::Capacity(args) => capacity::main(*args),
    }
}
