//! `scaletest report FILE`: renders a saved JSON report again, as text (the default) or as the
//! HTML page `scaletest run --html` writes (`--html OUT`).
//!
//! Exit codes: 0 done, 1 the output could not be written, 2 the input is not a report of this
//! schema version.

use serde::Deserialize as _;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use scenario_runtime::engine::report::{Report, SCHEMA_VERSION};

use crate::run::{EXIT_BAD_INPUT, EXIT_RUN_FAILED};

/// Flags of `scaletest report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A JSON report written by `scaletest run --json`.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Write the HTML page here instead of printing the text report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<OsString>,
}

/// Reads a JSON report; the error names the file and what is wrong with it. The schema version
/// is checked first, so a report of another version is refused with that reason and not with
/// a field it happens to lack.
pub fn load(path: &Path) -> Result<(Report, serde_json::Value), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))?;
    check_version(path, value.get("schema_version").and_then(serde_json::Value::as_u64))?;
    let report = Report::deserialize(&value)
        .map_err(|e| format!("`{}` is not a valid report: {e}", path.display()))?;
    Ok((report, value))
}

/// Reads a JSON report straight into its data (no generic JSON tree), as [`load`] checks it.
pub fn load_report(path: &Path) -> Result<Report, String> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: Option<u64>,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let version: Version = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))?;
    check_version(path, version.schema_version)?;
    serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not a valid report: {e}", path.display()))
}

/// The schema version first: a report of another version is refused with that reason, not
/// with a field it happens to lack.
fn check_version(path: &Path, version: Option<u64>) -> Result<(), String> {
    match version {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "`{}` has report schema version {v}; this scaletest reads version \
                 {SCHEMA_VERSION}: re-run it with this version",
                path.display()
            ));
        }
        None => {
            return Err(format!(
                "`{}` is not a scaletest report (no `schema_version`)",
                path.display()
            ));
        }
    }
    Ok(())
}

pub fn main(args: ReportArgs) -> ExitCode {
    let report = match load(&args.report) {
        Ok((report, _)) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match &args.html {
        Some(out) => {
            let out = PathBuf::from(out);
            if let Err(e) = std::fs::write(&out, crate::html::report_page(&report)) {
                eprintln!("error: cannot write the HTML report to `{}`: {e}", out.display());
                return ExitCode::from(EXIT_RUN_FAILED);
            }
        }
        None => print!("{}", crate::render::summary(&report)),
    }
    ExitCode::SUCCESS
}
