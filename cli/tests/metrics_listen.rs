//! `--metrics-listen`: Prometheus scrapes the live counters during a run.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{scrape, spawn, temp_dir, text, value};

#[test]
fn counters_are_scraped_during_the_run() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let addr = format!("127.0.0.1:{port}");
    let child = spawn(
        &temp_dir(),
        &[
            "run",
            "--duration",
            "4s",
            "--rate",
            "50",
            "--clock",
            "synthetic",
            "--metrics-listen",
            &addr,
        ],
    );
    let began = Instant::now();
    let mut seen = Vec::new();
    while began.elapsed() < Duration::from_secs(20) && seen.len() < 2 {
        if let Some(body) = scrape(&addr)
            && let Some(started) = value(&body, "scaletest_traces_started_total")
            && started > 0.0
            && seen.last().is_none_or(|(last, _)| started > *last)
        {
            seen.push((started, body));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(seen.len() >= 2, "the counters did not grow during the run: {seen:?}");
    let body = &seen[1].1;
    for name in [
        "# TYPE scaletest_export_latency_seconds histogram",
        "scaletest_export_latency_seconds_bucket{le=\"+Inf\"}",
        "scaletest_spans_total{outcome=\"exported\"}",
        "scaletest_requests_total{class=\"ok\"}",
        "scaletest_traces_in_flight",
        "scaletest_spans_pending",
        "scaletest_bytes_total{kind=\"wire\"}",
    ] {
        assert!(body.contains(name), "no {name} in\n{body}");
    }
}

#[test]
fn a_bad_address_is_refused() {
    let output = common::run(&["run", "--metrics-listen", "nowhere", "--duration", "1s"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--metrics-listen `nowhere`"), "{}", text(&output));
}
