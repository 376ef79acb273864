//! `--threshold`: exit code 3 when one fails, 0 when all pass; `--abort-on-fail` stops early.

mod common;

use std::time::{Duration, Instant};

use common::{run_json, text, u};

const RUN: [&str; 8] =
    ["--duration", "1s", "--rate", "20", "--clock", "synthetic", "--scenario", "simple_query"];

#[test]
fn passing_thresholds_exit_0() {
    let mut args = RUN.to_vec();
    args.extend(["--threshold", "error_rate<0.01", "--threshold", "traces_started>=10"]);
    let (output, report) = run_json(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let results = report["thresholds"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|t| t["passed"] == true), "{results:?}");
}

#[test]
fn a_failing_threshold_exits_3_and_is_listed() {
    let mut args = RUN.to_vec();
    args.extend(["--threshold", "error_rate<0.01", "--threshold", "traces_started>100000"]);
    let (output, report) = run_json(&args);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let failed: Vec<_> = report["thresholds"]
        .as_array()
        .map(|a| a.iter().filter(|t| t["passed"] == false).cloned().collect())
        .unwrap_or_default();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["expression"], "traces_started>100000");
    assert!(String::from_utf8_lossy(&output.stdout).contains("FAIL  traces_started>100000"));
}

#[test]
fn abort_on_fail_stops_the_run_early() {
    let began = Instant::now();
    let (output, report) = run_json(&[
        "--duration",
        "30s",
        "--rate",
        "20",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
        "--threshold",
        "traces_started<5",
        "--abort-on-fail",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(began.elapsed() < Duration::from_secs(15), "did not stop early");
    assert_eq!(report["status"], "aborted");
    assert!(u(&report, "/traces/started") < 200);
}

#[test]
fn abort_on_fail_cancels_traces_in_flight_at_once() {
    // Real clock: without cancelling, the traces in flight would take up to about 40 s.
    let began = Instant::now();
    let (output, report) =
        run_json(&["--duration", "20s", "--threshold", "traces_started<10", "--abort-on-fail"]);
    assert!(began.elapsed() < Duration::from_secs(15), "did not stop promptly: {}", text(&output));
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert_eq!(report["status"], "aborted");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("threshold failed: traces_started<10"), "{stderr}");
    assert!(u(&report, "/traces/unfinished") > 0, "traces in flight were cancelled");
    // Cancelled traces still end their agent spans: nothing arrives without its parent.
    assert_eq!(u(&report, "/delivery/orphan_spans"), 0);
    assert_eq!(
        u(&report, "/spans/created"),
        u(&report, "/spans/exported") + u(&report, "/spans/dropped")
    );
}
