//! `scaletest run` end to end against the embedded sink: the books balance, rates are accurate,
//! Ctrl-C leaves a partial report, the console platform prints a trace.

mod common;

use std::time::{Duration, Instant};

use common::{f, run, run_json, scrape, spawn, temp_dir, text, u, value};

/// Every count in the report adds up.
fn assert_books(report: &serde_json::Value) {
    let created = u(report, "/spans/created");
    let exported = u(report, "/spans/exported");
    let dropped = u(report, "/spans/dropped");
    let unknown = u(report, "/spans/unknown");
    assert!(created > 0, "no spans created");
    assert_eq!(
        created,
        exported + dropped + unknown,
        "spans created != exported + dropped + unknown"
    );
    assert_eq!(u(report, "/spans/pending"), 0);
    assert_eq!(
        dropped,
        u(report, "/spans/queue_full")
            + u(report, "/spans/rejected")
            + u(report, "/spans/failed")
            + u(report, "/spans/unfinished")
    );
    assert_eq!(
        u(report, "/traces/started"),
        u(report, "/traces/completed")
            + u(report, "/traces/failed")
            + u(report, "/traces/unfinished")
    );
    // Every trace started is delivered whole, lost, of unknown outcome or cut.
    assert_eq!(
        u(report, "/traces/started"),
        u(report, "/traces/delivered")
            + u(report, "/traces/lost")
            + u(report, "/traces/outcome_unknown")
            + u(report, "/traces/cut")
    );
    // Delivery: what the exporter saw acknowledged is what the sink received.
    assert_eq!(u(report, "/delivery/spans_sent"), exported);
    assert_eq!(u(report, "/delivery/spans_received"), exported);
    assert_eq!(u(report, "/delivery/orphan_spans"), 0);
    assert_eq!(report.pointer("/delivery/verified"), Some(&serde_json::Value::Bool(true)));
    let per_scenario: u64 = report["scenarios"]
        .as_array()
        .map(|a| a.iter().map(|s| u(s, "/started")).sum())
        .unwrap_or(0);
    assert_eq!(per_scenario, u(report, "/traces/started"));
}

#[test]
fn default_mix_books_balance_with_the_synthetic_clock() {
    let (output, report) =
        run_json(&["--duration", "2s", "--rate", "40", "--clock", "synthetic", "--seed", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_books(&report);
    assert_eq!(u(&report, "/traces/started") + u(&report, "/traces/missed"), 80);
    let scenarios = report["scenarios"].as_array().map_or(0, Vec::len);
    assert_eq!(scenarios, 4, "the default mix has the four reference scenarios");
    // Not a terminal: no progress line, nothing on stderr.
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    let out = String::from_utf8_lossy(&output.stdout);
    for needle in ["Success rate", "Throughput", "P50", "Avg per trace", "Delivery", "verified"] {
        assert!(out.contains(needle), "summary lacks {needle}:\n{out}");
    }
}

#[test]
fn real_clock_and_compressions_balance() {
    for compression in ["zstd", "none"] {
        let (output, report) = run_json(&[
            "--duration",
            "1s",
            "--rate",
            "20",
            "--scenario",
            "simple_query",
            "--compression",
            compression,
            "--drain-timeout",
            "20s",
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert_books(&report);
        assert!(f(&report, "/scenario_latency/p50_ms") > 1.0);
    }
}

#[test]
fn rate_is_accurate() {
    // 200 traces/s for 3 s: 600 intended starts, every one started or counted as missed. The
    // exact counts are the scheduler's own tests (paused time); here, in real time on a shared
    // machine, the achieved rate must be within 5% of the target.
    let (output, report) = run_json(&[
        "--duration",
        "3s",
        "--rate",
        "200",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
        "--compression",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let started = u(&report, "/traces/started");
    assert_eq!(started + u(&report, "/traces/missed"), 600);
    assert!(started as f64 / 600.0 >= 0.95, "started {started} of 600");
    let rate = f(&report, "/throughput/traces_per_s");
    assert!((rate / 200.0 - 1.0).abs() <= 0.05, "achieved {rate} traces/s of 200");
}

#[test]
fn closed_model_with_count() {
    let (output, report) = run_json(&[
        "--concurrency",
        "3",
        "--count",
        "30",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(report.pointer("/config/model").and_then(|v| v.as_str()), Some("closed"));
    assert_eq!(u(&report, "/traces/started"), 30);
    assert_books(&report);
}

#[test]
fn ctrl_c_writes_a_partial_report() {
    let dir = temp_dir();
    let json = dir.join("partial.json");
    let json_arg = json.to_string_lossy().into_owned();
    let addr = metrics_addr();
    let child = spawn(
        &dir,
        &[
            "run",
            "--duration",
            "60s",
            "--rate",
            "20",
            "--clock",
            "synthetic",
            "--scenario",
            "simple_query",
            "--metrics-listen",
            &addr,
            "--json",
            &json_arg,
        ],
    );
    wait_for_started(&child, &addr, 10.0);
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let began = Instant::now();
    let output = child.wait_with_output().expect("wait");
    assert!(began.elapsed() < Duration::from_secs(15), "did not stop promptly");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("partial report written"))
            .expect("JSON");
    assert_eq!(report["status"], "interrupted");
    let started = u(&report, "/traces/started");
    assert!(started > 5 && started < 200, "started {started}");
    assert_books(&report);
    assert!(String::from_utf8_lossy(&output.stdout).contains("partial report"));
}

#[test]
fn console_platform_prints_a_trace_without_network() {
    let output = run(&[
        "run",
        "--platform",
        "console",
        "--scenario",
        "simple_query",
        "--count",
        "1",
        "--seed",
        "3",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("invoke_agent"), "{out}");
    assert!(out.contains("chat"), "{out}");
}

#[test]
fn sdk_exporter_reports_what_an_application_sees() {
    let (output, report) = run_json(&[
        "--exporter",
        "sdk",
        "--duration",
        "1s",
        "--rate",
        "10",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
        "--compression",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(report["config"]["exporter"], "sdk");
    assert_books(&report);
    assert_eq!(u(&report, "/sdk/spans_ended"), u(&report, "/spans/created"));
    assert!(f(&report, "/sdk/tracer_ns_per_span") > 0.0);
    // The SDK allocates to hold each span (SpanData, attribute vectors): at least the span's
    // own record, well under the span's content (moved in, not copied).
    let alloc = f(&report, "/sdk/tracer_alloc_bytes_per_span");
    assert!((100.0..20_000.0).contains(&alloc), "{alloc} bytes per span");
}

#[test]
fn every_protocol_reaches_the_embedded_sink() {
    for protocol in ["http/json", "grpc"] {
        let (output, report) = run_json(&[
            "--protocol",
            protocol,
            "--duration",
            "1s",
            "--rate",
            "10",
            "--clock",
            "synthetic",
            "--scenario",
            "simple_query",
            "--compression",
            "gzip",
        ]);
        assert_eq!(output.status.code(), Some(0), "{protocol}: {}", text(&output));
        assert_eq!(report["config"]["protocol"], protocol);
        assert_books(&report);
    }
}

#[test]
fn a_dead_endpoint_fails_the_run_on_time_with_every_span_accounted() {
    let began = Instant::now();
    let (output, report) = run_json(&[
        "--endpoint",
        "http://127.0.0.1:9",
        "--duration",
        "1s",
        "--rate",
        "5",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
        "--drain-timeout",
        "2s",
        "--timeout-ms",
        "300",
    ]);
    assert!(began.elapsed() < Duration::from_secs(20), "took {:?}", began.elapsed());
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("no span could be exported"));
    assert_eq!(u(&report, "/spans/exported"), 0);
    assert_eq!(u(&report, "/spans/created"), u(&report, "/spans/dropped"));
    assert!(u(&report, "/requests/connect") > 0, "{report:#}");
    assert!(report["delivery"].is_null());
}

#[test]
fn stages_and_ramp_up_start_the_integral_of_the_rate() {
    // 0 -> 100 traces/s over 1 s, then back to 0 over 1 s: 50 + 50 intended starts.
    let (output, report) = run_json(&[
        "--stages",
        "1s:100,1s:0",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
        "--compression",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(u(&report, "/traces/started") + u(&report, "/traces/missed"), 100);
    assert_eq!(f(&report, "/config/planned_duration_s"), 2.0);
    assert_books(&report);
    // Ramp from 0 to 60 traces/s over 1 s, then 60 traces/s for 1 s: 30 + 60.
    let (output, report) = run_json(&[
        "--rate",
        "60",
        "--ramp-up",
        "1s",
        "--duration",
        "2s",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
        "--compression",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(u(&report, "/traces/started") + u(&report, "/traces/missed"), 90);
}

#[test]
fn a_full_in_flight_cap_shows_as_late_and_missed_starts() {
    // One slot, traces of about 2 s with the real clock, 20 traces/s intended for 1 s.
    let (output, report) = run_json(&[
        "--rate",
        "20",
        "--max-in-flight",
        "1",
        "--duration",
        "1s",
        "--scenario",
        "simple_query",
        "--compression",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let (started, missed) = (u(&report, "/traces/started"), u(&report, "/traces/missed"));
    assert_eq!(started + missed, 20);
    assert!(started <= 2 && missed >= 18, "started {started}, missed {missed}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("missed starts"));
    assert_books(&report);
}

#[test]
fn traces_cut_by_the_drain_timeout_arrive_without_orphans() {
    // simple_query takes about 2 s with the real clock; a 0.5 s drain cancels the last ones.
    let (output, report) = run_json(&[
        "--rate",
        "10",
        "--duration",
        "1s",
        "--drain-timeout",
        "500ms",
        "--scenario",
        "simple_query",
        "--compression",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(u(&report, "/traces/unfinished") > 0, "{report:#}");
    assert_books(&report);
    assert_eq!(u(&report, "/delivery/traces_without_root"), 0);
}

#[test]
fn sdk_text_report_shows_the_sdk_pipeline_and_no_invented_raw_bytes() {
    let (output, report) = run_json(&[
        "--exporter",
        "sdk",
        "--duration",
        "1s",
        "--rate",
        "10",
        "--clock",
        "synthetic",
        "--scenario",
        "simple_query",
        "--compression",
        "gzip",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_books(&report);
    assert!(u(&report, "/sdk/peak_rss_bytes") > 0);
    let out = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "SDK pipeline",
        "ended,",
        "exported,",
        "dropped by the SDK's batch processor (0.0%)",
        "ns per span on the calling thread",
        "peak RSS",
        "B allocated per span by the tracer",
        "raw not measured",
        "before compression not measured",
    ] {
        assert!(out.contains(needle), "summary lacks {needle}:\n{out}");
    }
    for wrong in ["0.0x compression", "0.0 MB/s raw", "0 B encoded"] {
        assert!(!out.contains(wrong), "summary shows {wrong}:\n{out}");
    }
}

#[test]
fn a_closed_model_waits_for_the_exporter_instead_of_dropping() {
    // A backend that takes 300 ms per request, and a worker that creates spans as fast as the
    // synthetic clock allows: without backpressure the exporter's queue overflows at once.
    let sink = common::start_sink(&["--latency", "300ms"]);
    let endpoint = format!("{}/v1/traces", sink.url);
    let (output, report) = run_json(&[
        "--endpoint",
        &endpoint,
        "--concurrency",
        "1",
        "--duration",
        "2s",
        "--clock",
        "synthetic",
    ]);
    drop(sink);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // No span waited for room in the queue and lost; (on a loaded machine a slow request may
    // still time out, which is counted elsewhere).
    assert_eq!(u(&report, "/spans/queue_full"), 0, "{}", text(&output));
    assert_eq!(
        u(&report, "/spans/created"),
        u(&report, "/spans/exported") + u(&report, "/spans/dropped")
    );
    assert!(u(&report, "/traces/started") > 10, "the worker did run");
}

#[test]
fn throughput_names_its_time_bases_and_the_mix_its_span_counts() {
    let (output, report) =
        run_json(&["--duration", "2s", "--rate", "20", "--clock", "synthetic", "--seed", "4"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let window = f(&report, "/throughput/start_window_s");
    assert!((1.9..2.5).contains(&window), "start window {window}");
    let out = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "Throughput: started ",
        " traces/s over the ",
        " s start window (",
        "% of starts late, 0 missed); ",
        "spans/s created, ",
        "s run",
        "spans measured avg, 5 declared",
    ] {
        assert!(out.contains(needle), "summary lacks {needle}:\n{out}");
    }
}

#[test]
fn a_run_where_nothing_finished_says_so_instead_of_showing_zeros() {
    // Traces of about 36 s, stopped after a second by a failed threshold: none finishes.
    let (output, report) = run_json(&[
        "--rate",
        "5",
        "--duration",
        "10s",
        "--scenario",
        "multi_service_complex",
        "--threshold",
        "traces_started<2",
        "--abort-on-fail",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert_eq!(u(&report, "/traces/completed") + u(&report, "/traces/failed"), 0);
    let out = String::from_utf8_lossy(&output.stdout);
    // Success is delivery: traces started and none arrived whole is 0%, not undefined.
    for needle in [
        "Success rate: 0.0% (traces delivered whole)",
        "no completed traces",
        "no trace finished, so there is no scenario latency",
        "Avg per trace: n/a",
    ] {
        assert!(out.contains(needle), "summary lacks {needle}:\n{out}");
    }
    assert!(!out.contains("P50=0.00 ms"), "summary shows a latency of no trace:\n{out}");
}

#[test]
fn cpu_is_counted_from_the_start_of_the_run() {
    let (output, report) =
        run_json(&["--count", "1", "--scenario", "simple_query", "--clock", "synthetic"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let duration = f(&report, "/duration_s");
    let cpu = f(&report, "/generator/cpu_s");
    // Start-up (runtime, sink, content pools) is not counted against a run of milliseconds: at
    // most a couple of 10 ms ticks plus the run itself on two cores.
    assert!(cpu <= 2.0 * duration + 0.05, "cpu {cpu} s over a {duration} s run");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("run too short for a CPU share"), "{out}");
}

#[test]
fn sink_prints_its_summary_on_sigterm() {
    let child = common::start_sink(&[]).into_child();
    let began = Instant::now();
    while !catches(child.id(), 15) {
        assert!(began.elapsed() < Duration::from_secs(30), "SIGTERM never handled");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("SIGTERM") && out.lines().count() > 6, "no summary:\n{out}");
}

#[test]
fn sdk_drops_are_blamed_on_the_sdk_batch_processor() {
    // A backend that takes 300 ms per request: the SDK exports one batch at a time, so its
    // queue overflows under this load.
    let sink = common::start_sink(&["--latency", "300ms"]);
    let endpoint = format!("{}/v1/traces", sink.url);
    let (output, report) = run_json(&[
        "--endpoint",
        &endpoint,
        "--exporter",
        "sdk",
        "--compression",
        "none",
        "--duration",
        "2s",
        "--rate",
        "300",
        "--clock",
        "synthetic",
    ]);
    drop(sink);
    assert!(u(&report, "/sdk/spans_dropped_by_sdk") > 0, "{}", text(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("dropped by the SDK's batch span processor"), "{out}");
    assert!(!out.contains("the exporter's queue was full"), "{out}");
    assert!(!out.contains("(0.0%)"), "the SDK line shows the drop share:\n{out}");
}

#[test]
fn a_second_ctrl_c_cancels_the_traces_in_flight() {
    let dir = temp_dir();
    let json = dir.join("partial.json");
    let json_arg = json.to_string_lossy().into_owned();
    // Real clock, traces of about 36 s: the first Ctrl-C alone would wait for them.
    let addr = metrics_addr();
    let child = spawn(
        &dir,
        &[
            "run",
            "--duration",
            "60s",
            "--rate",
            "5",
            "--scenario",
            "multi_service_complex",
            "--metrics-listen",
            &addr,
            "--json",
            &json_arg,
        ],
    );
    wait_for_started(&child, &addr, 2.0);
    let interrupt = |child: &std::process::Child| {
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill")
            .success()
    };
    let mut child = child;
    assert!(interrupt(&child));
    // Two signals that arrive before the process has handled the first count as one (signals
    // coalesce), so Ctrl-C is pressed again until it stops, as a user would.
    let began = Instant::now();
    while child.try_wait().expect("try_wait").is_none() && began.elapsed() < Duration::from_secs(15)
    {
        std::thread::sleep(Duration::from_millis(500));
        interrupt(&child);
    }
    let output = child.wait_with_output().expect("wait");
    assert!(began.elapsed() < Duration::from_secs(15), "did not stop promptly");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("finishing traces in flight"), "{stderr}");
    assert!(stderr.contains("stopping now: cancelling traces in flight"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("report written"))
            .expect("JSON");
    assert_eq!(report["status"], "interrupted");
    assert!(u(&report, "/traces/unfinished") > 0);
    assert_books(&report);
}

/// Whether process `pid` has a handler for SIGINT (`SigCgt` in `/proc/PID/status`); `true` where
/// that cannot be read, so the caller only waits where it can tell.
/// A free loopback address for `--metrics-listen`.
fn metrics_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    format!("127.0.0.1:{port}")
}

/// Waits until the run handles SIGINT and has started more than `traces` traces (read from its
/// `--metrics-listen` address), however long a loaded machine takes to get there.
fn wait_for_started(child: &std::process::Child, addr: &str, traces: f64) {
    let began = Instant::now();
    loop {
        assert!(began.elapsed() < Duration::from_secs(60), "no trace started within 60 s");
        let started = scrape(addr).and_then(|body| value(&body, "scaletest_traces_started_total"));
        if catches_sigint(child.id()) && started.is_some_and(|n| n > traces) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn catches_sigint(pid: u32) -> bool {
    catches(pid, 2)
}

/// Whether process `pid` has a handler for signal number `signal` (see [`catches_sigint`]).
fn catches(pid: u32, signal: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return true;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_none_or(|mask| mask & (1 << (signal - 1)) != 0)
}
