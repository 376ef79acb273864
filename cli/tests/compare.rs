//! `scaletest compare`: an injected regression (a sink answering 200 ms late, in another
//! process) is found and fails `--fail-on`; two runs of the same workload are within noise;
//! unfair comparisons are refused.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{command, temp_dir, text};

/// `scaletest sink` with `args` on a free port; returns it and its URL.
fn sink(args: &[&str]) -> (common::Sink, String) {
    let sink = common::start_sink(args);
    let url = sink.url.clone();
    (sink, url)
}

/// The workload every run here uses: 3 s at 100 traces/s, synthetic clock, 200 ms intervals.
const WORKLOAD: [&str; 10] = [
    "--duration",
    "3s",
    "--rate",
    "100",
    "--clock",
    "synthetic",
    "--interval",
    "200ms",
    "--scenario",
    "simple_query",
];

fn run_to(dir: &PathBuf, name: &str, extra: &[&str]) -> String {
    let path = dir.join(name).to_string_lossy().into_owned();
    let mut args = vec!["run"];
    args.extend_from_slice(&WORKLOAD);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--json", &path]);
    let output = command(dir, &args).output().expect("run scaletest");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    path
}

fn compare(dir: &PathBuf, args: &[&str]) -> Output {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    command(dir, &all).output().expect("run scaletest")
}

fn verdict(output: &Output, key: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no {key} in\n{stdout}"));
    ["within noise", "better", "worse"]
        .into_iter()
        .find(|v| line.contains(v))
        .unwrap_or("?")
        .to_owned()
}

#[test]
fn finds_an_injected_regression_and_calls_a_rerun_noise() {
    let dir = temp_dir();
    let base = run_to(&dir, "base.json", &[]);
    let again = run_to(&dir, "again.json", &[]);
    let (_slow, url) = sink(&["--latency", "200ms"]);
    let slow = run_to(&dir, "slow.json", &["--endpoint", &url]);

    // The median moves by the injected 200 ms, beyond what a busy machine adds; the tail of the base
    // (the sink in the same process, on a busy debug build) can reach beyond it, so the p99
    // is only required not to look better.
    let output = compare(&dir, &[&base, &slow, "--fail-on", "export_p50_ms>+10%"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert_eq!(verdict(&output, "export_p50_ms"), "worse", "{}", text(&output));
    assert_ne!(verdict(&output, "export_p99_ms"), "better", "{}", text(&output));
    assert!(text(&output).contains("regression: export_p50_ms>+10%"));

    let html = dir.join("compare.html").to_string_lossy().into_owned();
    let output =
        compare(&dir, &[&base, &again, "--fail-on", "export_p99_ms>+10%", "--html", &html]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // The same workload twice: the arrival rate and the spans are the same, beyond doubt.
    for key in ["traces_per_s", "spans_per_s", "spans_dropped"] {
        assert_eq!(verdict(&output, key), "within noise", "{}", text(&output));
    }
    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(page.contains("(base)") && page.contains("(new)"));
}

#[test]
fn refuses_unfair_comparisons() {
    let dir = temp_dir();
    let base = run_to(&dir, "base.json", &[]);
    let path = dir.join("faster.json").to_string_lossy().into_owned();
    let output = command(
        &dir,
        &[
            "run",
            "--duration",
            "1s",
            "--rate",
            "150",
            "--clock",
            "synthetic",
            "--scenario",
            "simple_query",
            "--compression",
            "zstd",
            "--json",
            &path,
        ],
    )
    .output()
    .expect("run scaletest");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    let output = compare(&dir, &[&base, &path]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let said = text(&output);
    assert!(said.contains("rate/stages") && said.contains("compression: gzip vs zstd"), "{said}");
    let output = compare(&dir, &[&base, &path, "--force"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("workloads differ (--force)"));

    // A schema version of its own: refused, --force or not.
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).expect("read")).expect("json");
    old["schema_version"] = 1.into();
    let old_path = dir.join("old.json");
    std::fs::write(&old_path, old.to_string()).expect("write");
    let old_arg = old_path.to_string_lossy().into_owned();
    let output = compare(&dir, &[&old_arg, &base, "--force"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("schema version 1"), "{}", text(&output));
    let output = compare(&dir, &[&base, &base, "--fail-on", "p99>1%"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}
