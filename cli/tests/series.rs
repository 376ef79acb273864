//! The report's time series: documented, aligned, and adding up to the run's totals.

mod common;

use common::{run, run_json, text, u};
use serde_json::Value;

const SCHEMA: &str = include_str!("../../docs/report-schema.md");

/// Fields the schema documents under `## title`.
fn documented(title: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut inside = false;
    for line in SCHEMA.lines() {
        if let Some(t) = line.strip_prefix("## ") {
            inside = t.trim() == title;
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if inside && cells.len() >= 5 && cells[1].starts_with('`') {
            fields.extend(cells[1].split(',').map(|f| f.trim().trim_matches('`').to_owned()));
        }
    }
    fields
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

#[test]
fn series_add_up_to_the_totals() {
    let (output, report) = run_json(&[
        "--duration",
        "2s",
        "--rate",
        "60",
        "--clock",
        "synthetic",
        "--interval",
        "250ms",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let series = &report["measurements"]["series"];
    assert_eq!(u(series, "/interval_ms"), 250);
    let rows = series["rows"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= 8, "{} rows", rows.len());
    let sum = |field: &str| rows.iter().map(|r| u(r, &format!("/{field}"))).sum::<u64>();
    assert_eq!(sum("traces_started"), u(&report, "/traces/started"));
    assert_eq!(
        sum("traces_finished"),
        u(&report, "/traces/completed") + u(&report, "/traces/failed")
    );
    assert_eq!(sum("traces_failed"), u(&report, "/traces/failed"));
    assert_eq!(sum("spans_created"), u(&report, "/spans/created"));
    assert_eq!(sum("spans_exported"), u(&report, "/spans/exported"));
    assert_eq!(sum("spans_queue_full"), u(&report, "/spans/queue_full"));
    let failed: u64 = rows
        .iter()
        .flat_map(|r| r["requests_failed"].as_object().cloned().unwrap_or_default())
        .map(|(_, n)| n.as_u64().unwrap_or(0))
        .sum();
    assert_eq!(sum("requests_ok") + failed, u(&report, "/requests/total"));
    assert_eq!(sum("wire_bytes"), u(&report, "/bytes/wire"));
    assert_eq!(sum("raw_bytes"), u(&report, "/bytes/raw"));
    assert_eq!(sum("late_starts"), u(&report, "/traces/late"));
    // Absolute, aligned, in order; the last row ends no earlier than the run.
    let began = u(&report, "/measurements/window/began_unix_ms");
    for pair in rows.windows(2) {
        assert!(u(&pair[0], "/start_unix_ms") < u(&pair[1], "/start_unix_ms"));
    }
    assert!(rows.iter().all(|r| u(r, "/start_unix_ms").is_multiple_of(250)));
    assert!(u(&rows[0], "/start_unix_ms") <= began);
    // Per-interval percentiles come with their histograms.
    assert!(rows.iter().any(|r| r["export_p99_ms"].as_f64().is_some_and(|v| v > 0.0)));
    assert!(rows.iter().any(|r| !r["export_latency"].as_str().unwrap_or("").is_empty()));
    // Every field documented, nothing undocumented written.
    let mut series_doc = documented("measurements.series");
    series_doc.sort();
    assert_eq!(keys(series), series_doc);
    let mut row_doc = documented("series rows");
    row_doc.sort();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(keys(row), row_doc, "rows[{i}]");
    }
}

#[test]
fn interval_is_checked() {
    let output = run(&["run", "--interval", "10ms", "--duration", "1s"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--interval `10ms`"), "{}", text(&output));
    let output = common::run_env(&["run", "--duration", "1s"], &[("SCALE_TEST_INTERVAL", "soon")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("SCALE_TEST_INTERVAL"), "{}", text(&output));
}
