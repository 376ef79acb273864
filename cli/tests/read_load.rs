//! `--query-rate` against the embedded sink, as a user runs it: every operation answered, every
//! field documented, the series and the thresholds reading the same measurements, and bad
//! settings refused with exit code 2.

mod common;

use common::{run, run_json, text};
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
        if line.starts_with("### ") {
            inside = false;
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

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn n(v: &Value) -> u64 {
    if v.is_null() {
        return 0;
    }
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn every_operation_is_answered_by_the_embedded_sink() {
    let html = common::temp_dir().join("report.html");
    let html_arg = html.to_string_lossy().into_owned();
    let (output, report) = run_json(&[
        "--html",
        &html_arg,
        "--duration",
        "3s",
        "--rate",
        "20",
        "--query-rate",
        "20",
        "--threshold",
        "query_p99_ms[list]<60000",
        "--threshold",
        "query_error_rate<0.5",
        "--threshold",
        "query_max_ms[count]<0",
    ]);
    // The last rule cannot hold: exit code 3, the report written.
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let q = &report["queries"];
    assert_eq!(keys(q), sorted(documented("queries")), "{q:#}");
    assert_eq!(q["target_rate_per_s"], 20.0);
    assert_eq!(q["mix"], "list=4,get=3,search=2,count=1");
    assert_eq!(q["unsupported"], serde_json::json!([]));
    let ops = q["operations"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = ops.iter().filter_map(|o| o["op"].as_str()).collect();
    assert_eq!(names, vec!["list", "get", "search", "count"]);
    let mut started = 0;
    for op in &ops {
        let name = op["op"].as_str().unwrap_or_default();
        assert_eq!(keys(op), sorted(documented("query operations")), "{op:#}");
        assert_eq!(keys(&op["latency"]), sorted(documented("percentiles")));
        // Every query started was answered, with rows, by the sink: 2xx, except a `get` of a
        // trace the sink has forgotten (complete and idle for 30 s: 404).
        assert!(n(&op["started"]) > 0 && n(&op["ok"]) > 0, "{op:#}");
        let not_held = if name == "get" { n(&op["by_status"]["404"].clone()) } else { 0 };
        assert_eq!(n(&op["ok"]) + not_held, n(&op["started"]), "{name}: {op:#}");
        assert_eq!(n(&op["http_4xx"]), not_held, "{name}: {op:#}");
        assert_eq!(n(&op["latency"]["count"]), n(&op["started"]), "{name}");
        assert!(n(&op["rows"]) > 0 && n(&op["bytes"]) > 0, "{name}: {op:#}");
        assert_eq!(op["unanswered"], 0, "{name}");
        started += n(&op["started"]) + n(&op["skipped_no_trace"]);
    }
    // 20/s while the run sent (drain and export shutdown included), give or take the ends.
    let duration = q["duration_s"].as_f64().unwrap_or(0.0);
    assert!(duration >= report["duration_s"].as_f64().unwrap_or(0.0), "{duration}");
    let expected = 20.0 * duration;
    assert!(
        (started as f64 - expected).abs() <= 0.15 * expected + 3.0,
        "{started} vs {expected}: {ops:#?}"
    );
    // The count answers carry the sink's trace count.
    let count = ops.iter().find(|o| o["op"] == "count").cloned().unwrap_or_default();
    assert!(
        n(&count["max_count"]) > 0 && n(&count["max_count"]) <= n(&report["traces"]["started"])
    );
    // The measurements carry the histograms a merge needs, and the series adds up to them.
    let measured = report["measurements"]["queries"].as_array().cloned().unwrap_or_default();
    assert_eq!(measured.len(), 4);
    let rows = report["measurements"]["series"]["rows"].as_array().cloned().unwrap_or_default();
    for m in &measured {
        let op = m["op"].as_str().unwrap_or_default();
        let in_rows: u64 =
            rows.iter().map(|r| r["queries"][op]["started"].as_u64().unwrap_or(0)).sum();
        assert_eq!(in_rows, n(&m["started"]), "{op}: the series adds up to the total");
    }
    // Thresholds read the same figures.
    let thresholds = report["thresholds"].as_array().cloned().unwrap_or_default();
    let passed: Vec<bool> = thresholds.iter().map(|t| t["passed"] == true).collect();
    assert_eq!(passed, vec![true, true, false], "{thresholds:#?}");
    assert_eq!(thresholds[0]["metric"], "query_p99_ms[list]");
    // The page has the table and the latency chart.
    let page = std::fs::read_to_string(&html).unwrap_or_default();
    assert!(page.contains("<h2>Read load</h2>") && page.contains("Read latency"), "no read load");
    for op in ["list", "get", "search", "count"] {
        assert!(page.contains(&format!("{op} p99")), "no `{op}` line in the chart");
    }
    // The text report has a row per operation.
    let out = text(&output);
    for op in ["list", "get", "search", "count"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(op)), "no `{op}` row:\n{out}");
    }
}

#[test]
fn without_query_rate_there_is_no_read_load() {
    let (output, report) = run_json(&["--count", "3", "--rate", "50", "--clock", "synthetic"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(report["queries"].is_null());
    assert_eq!(report["measurements"]["queries"], serde_json::json!([]));
}

#[test]
fn bad_read_load_settings_are_refused() {
    for (args, expect) in [
        (vec!["run", "--query-rate", "0"], "`0`"),
        (vec!["run", "--query-rate", "fast"], "`fast`"),
        (vec!["run", "--query-rate", "5", "--query-mix", "list=2,fetch=1"], "`fetch`"),
        (vec!["run", "--query-mix", "list=1"], "needs --query-rate"),
        (vec!["run", "--threshold", "query_p99_ms[lst]<5"], "`lst`"),
    ] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(expect), "{args:?}: {}", text(&output));
    }
}
