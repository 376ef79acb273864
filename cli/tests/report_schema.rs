//! The JSON report matches its documented contract, docs/report-schema.md: every documented
//! field is present with the documented type, and nothing undocumented is written.

mod common;

use std::collections::BTreeMap;

use common::{run_json, text};
use serde_json::Value;

const SCHEMA: &str = include_str!("../../docs/report-schema.md");

/// Documented fields per section: `section -> [(field, type text)]`.
fn documented() -> BTreeMap<String, Vec<(String, String)>> {
    let mut sections = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in SCHEMA.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            current = match title.trim() {
                "Exit codes of `scaletest run`" => None,
                other => Some(other.to_lowercase()),
            };
            continue;
        }
        if line.starts_with("### ") {
            current = None;
        }
        let Some(section) = &current else { continue };
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | field | type | meaning |  ->  ["", field, type, meaning, ""]
        if cells.len() < 5 || !cells[1].starts_with('`') {
            continue;
        }
        for field in cells[1].split(',') {
            let name = field.trim().trim_matches('`').to_owned();
            sections
                .entry(section.clone())
                .or_insert_with(Vec::new)
                .push((name, cells[2].to_owned()));
        }
    }
    sections
}

fn type_ok(value: &Value, documented: &str) -> bool {
    let nullable = documented.contains("null");
    match value {
        Value::Null => nullable,
        Value::Bool(_) => documented.starts_with("boolean"),
        Value::Number(n) => {
            if documented.starts_with("integer") {
                n.is_u64()
            } else {
                documented.starts_with("number")
            }
        }
        Value::String(_) => documented.starts_with("string"),
        Value::Array(_) => documented.starts_with("array"),
        Value::Object(_) => documented.starts_with("object"),
    }
}

fn check(object: &Value, fields: &[(String, String)], at: &str, problems: &mut Vec<String>) {
    let Some(map) = object.as_object() else {
        problems.push(format!("{at} is not an object"));
        return;
    };
    for (name, ty) in fields {
        match map.get(name) {
            None => problems.push(format!("{at}.{name} is documented but missing")),
            Some(v) if !type_ok(v, ty) => problems.push(format!("{at}.{name} = {v} is not {ty}")),
            Some(_) => {}
        }
    }
    for key in map.keys() {
        if !fields.iter().any(|(name, _)| name == key) {
            problems.push(format!("{at}.{key} is written but not documented"));
        }
    }
}

#[test]
fn json_report_matches_the_documented_schema() {
    let (output, report) = run_json(&[
        "--duration",
        "1s",
        "--rate",
        "10",
        "--clock",
        "synthetic",
        "--threshold",
        "error_rate<1",
        "--threshold",
        "export_p99_ms<60000",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let docs = documented();
    let section =
        |name: &str| docs.get(name).cloned().unwrap_or_else(|| panic!("no section {name}"));
    let mut problems = Vec::new();
    check(&report, &section("top level"), "report", &mut problems);
    for name in [
        "config",
        "traces",
        "throughput",
        "spans",
        "requests",
        "bytes",
        "delivery",
        "generator",
        "measurements",
        "verification",
    ] {
        check(&report[name], &section(name), name, &mut problems);
    }
    for name in ["scenario_latency", "start_lag", "export_latency"] {
        check(&report[name], &section("percentiles"), name, &mut problems);
    }
    let scenarios = report["scenarios"].as_array().cloned().unwrap_or_default();
    assert!(!scenarios.is_empty());
    for (i, s) in scenarios.iter().enumerate() {
        check(s, &section("scenarios"), &format!("scenarios[{i}]"), &mut problems);
        check(
            &s["latency"],
            &section("percentiles"),
            &format!("scenarios[{i}].latency"),
            &mut problems,
        );
    }
    let thresholds = report["thresholds"].as_array().cloned().unwrap_or_default();
    assert_eq!(thresholds.len(), 2);
    for (i, t) in thresholds.iter().enumerate() {
        check(t, &section("thresholds"), &format!("thresholds[{i}]"), &mut problems);
    }
    assert!(
        problems.is_empty(),
        "report does not match docs/report-schema.md:\n{}",
        problems.join("\n")
    );
    for (i, note) in report["notes"].as_array().cloned().unwrap_or_default().iter().enumerate() {
        let code = note["code"].as_str().unwrap_or_default();
        assert!(SCHEMA.contains(&format!("| `{code}` |")), "notes[{i}] code `{code}` undocumented");
    }
    // The embedded sink is read back like any backend, through the same fields.
    assert_eq!(report["verification"]["outcome"], "all_visible", "{:#}", report["verification"]);
    assert_eq!(report["verification"]["spans_accepted"], report["spans"]["exported"]);
    assert_eq!(report["verification"]["visible_at_end"]["spans"], report["spans"]["exported"]);
    assert_eq!(report["schema_version"], 2);
}

#[test]
fn every_threshold_metric_is_documented() {
    // The metric names the binary accepts are the ones the document lists: the error for an
    // unknown metric prints them all.
    let output = common::run(&["run", "--threshold", "nope<1"]);
    let out = text(&output);
    let listed = out.split("expected one of ").nth(1).unwrap_or("").trim();
    let names: Vec<&str> = listed.split(", ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert!(names.len() > 20, "{out}");
    let metrics_table = SCHEMA.split("### Threshold metrics").nth(1).unwrap_or("");
    for name in names {
        assert!(metrics_table.contains(&format!("`{name}`")), "metric {name} is not documented");
    }
}
