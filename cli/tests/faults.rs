//! `scaletest run` against a failing backend (`scaletest sink` with injected faults, started as
//! a separate process): errors appear by class, retries are counted, and the books balance.

mod common;

use common::{run_json, text, u};

fn sink(faults: &[&str]) -> common::Sink {
    common::start_sink(faults)
}

fn assert_books(report: &serde_json::Value) {
    let created = u(report, "/spans/created");
    assert!(created > 0);
    assert_eq!(created, u(report, "/spans/exported") + u(report, "/spans/dropped"));
    assert_eq!(
        u(report, "/spans/dropped"),
        u(report, "/spans/queue_full")
            + u(report, "/spans/rejected")
            + u(report, "/spans/failed")
            + u(report, "/spans/unfinished")
    );
    assert!(report["delivery"].is_null(), "an external endpoint has no delivery section");
}

const RUN: [&str; 9] = [
    "--duration",
    "1s",
    "--rate",
    "30",
    "--clock",
    "synthetic",
    "--scenario",
    "simple_query",
    "--compression",
];

#[test]
fn throttled_requests_are_retried_and_counted() {
    let sink =
        sink(&["--throttle-every", "2", "--throttle-status", "503", "--retry-after", "100ms"]);
    let mut args = RUN.to_vec();
    args.extend(["none", "--endpoint", &sink.url]);
    let (output, report) = run_json(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(u(&report, "/requests/by_status/503") > 0, "{report:#}");
    assert!(u(&report, "/requests/retries") > 0);
    assert_books(&report);
    // Every throttled batch was retried to success.
    assert_eq!(u(&report, "/spans/exported"), u(&report, "/spans/created"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("HTTP 503"));
}

#[test]
fn bad_requests_are_rejected_not_retried() {
    let sink = sink(&["--bad-request-fraction", "0.5", "--fault-seed", "7"]);
    let mut args = RUN.to_vec();
    args.extend(["gzip", "--endpoint", &sink.url, "--threshold", "error_rate<0.01"]);
    let (output, report) = run_json(&args);
    // Half the requests fail: the threshold fails the run.
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(u(&report, "/requests/by_status/400") > 0, "{report:#}");
    assert!(u(&report, "/spans/rejected") > 0);
    // What the backend said comes with the status, in the JSON and the text.
    let said = report["requests"]["messages"]["HTTP 400"].as_str().unwrap_or_default();
    assert!(!said.is_empty() && said.len() <= 300, "{report:#}");
    assert!(text(&output).contains(&format!("HTTP 400 said: {said}")), "{}", text(&output));
    assert_books(&report);
}

#[test]
fn oversized_bodies_are_split_until_they_fit_over_http_and_grpc() {
    for protocol in ["http/protobuf", "grpc"] {
        let sink = sink(&["--reject-above", "20kb"]);
        let mut args = RUN.to_vec();
        args.extend(["none", "--protocol", protocol, "--endpoint", &sink.url]);
        let (output, report) = run_json(&args);
        assert_eq!(output.status.code(), Some(0), "{protocol}: {}", text(&output));
        assert_books(&report);
        // Split, not retried: everything arrives.
        assert_eq!(u(&report, "/spans/exported"), u(&report, "/spans/created"), "{protocol}");
        assert_eq!(u(&report, "/requests/retries"), 0, "{protocol}: {report:#}");
    }
}
