//! Writes a finished report where the user asked: the text to standard output (standard error
//! when the JSON goes to standard output, `--json -`), the JSON to a file or standard output,
//! the HTML page to a file. Shared by `run` and `merge`.

use std::io::Write;
use std::path::Path;

use scenario_runtime::engine::report::Report;

use crate::config::STDOUT;

/// Prints `text` and writes the JSON and HTML renderings of `report`; the error names the file
/// that could not be written.
pub fn write(
    report: &Report,
    text: &str,
    json: Option<&Path>,
    html: Option<&Path>,
) -> Result<(), String> {
    let json_to_stdout = json.is_some_and(|p| p.as_os_str() == STDOUT);
    if json_to_stdout {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    if let Some(path) = json {
        let written =
            serde_json::to_vec_pretty(report).map_err(|e| e.to_string()).and_then(|json| {
                if json_to_stdout {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&json)
                        .and_then(|()| out.write_all(b"\n"))
                        .map_err(|e| e.to_string())
                } else {
                    std::fs::write(path, json).map_err(|e| e.to_string())
                }
            });
        written
            .map_err(|e| format!("cannot write the JSON report to `{}`: {e}", path.display()))?;
    }
    if let Some(path) = html {
        std::fs::write(path, crate::html::report_page(report))
            .map_err(|e| format!("cannot write the HTML report to `{}`: {e}", path.display()))?;
    }
    Ok(())
}
