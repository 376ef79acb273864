//! A Kubernetes Indexed Job simulated on loopback: one `scaletest sink` process, three
//! `scaletest run` shards (`JOB_COMPLETION_INDEX`, `SCALE_TEST_SHARDS`) starting together at a
//! shared `--start-at`, and `scaletest merge` of their reports. The merge must equal what the
//! sink received and what the plan asked for, and its percentiles those of the pooled samples.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{text, u};
use scenario_runtime::engine::measure::Hist;
use serde_json::Value;

const SHARDS: u32 = 3;

/// A `scaletest sink` child on a free loopback port, killed on drop unless stopped.
struct Sink {
    child: Option<Child>,
    url: String,
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Sink {
    fn start() -> Sink {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let listen = format!("127.0.0.1:{port}");
        let child = common::spawn(
            &common::temp_dir(),
            &["sink", "--listen", &listen, "--report-every", "0s", "--json"],
        );
        let began = Instant::now();
        while TcpStream::connect(&listen).is_err() {
            assert!(began.elapsed() < Duration::from_secs(10), "sink did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Sink { child: Some(child), url: format!("http://{listen}") }
    }

    /// SIGTERM, then the summary it prints as JSON.
    fn stop(mut self) -> Value {
        let child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let status = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        assert!(status.expect("kill").success());
        let output = child.wait_with_output().expect("sink output");
        let out = String::from_utf8_lossy(&output.stdout);
        let json = &out[out.find('{').unwrap_or_else(|| panic!("no summary: {}", text(&output)))..];
        serde_json::from_str(json).expect("sink summary is JSON")
    }
}

/// Runs the three shards of `args` together against `sink`; their reports, by index.
fn run_shards(sink: &Sink, args: &[&str]) -> (PathBuf, Vec<Value>) {
    let dir = common::temp_dir();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    // Far enough ahead for three debug builds on two busy cores to build their content pools
    // (seconds here; a fraction of a second in a release build) before the shared start.
    let start_at = (now + 10).to_string();
    let children: Vec<Child> = (0..SHARDS)
        .map(|i| {
            let json = dir.join(format!("shard-{i}.json")).to_string_lossy().into_owned();
            let mut all = vec![
                "run",
                "--endpoint",
                &sink.url,
                "--start-at",
                &start_at,
                "--clock",
                "synthetic",
                "--verify",
                "off",
                "--json",
                &json,
            ];
            all.extend_from_slice(args);
            let mut cmd = common::command(&dir, &all);
            cmd.env("JOB_COMPLETION_INDEX", i.to_string())
                .env("SCALE_TEST_SHARDS", SHARDS.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn shard")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("shard");
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    }
    let reports = (0..SHARDS)
        .map(|i| {
            let path = dir.join(format!("shard-{i}.json"));
            serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("JSON")
        })
        .collect();
    (dir, reports)
}

fn merge(dir: &Path) -> Value {
    let files: Vec<String> = (0..SHARDS)
        .map(|i| dir.join(format!("shard-{i}.json")).to_string_lossy().into_owned())
        .collect();
    let merged = dir.join("merged.json").to_string_lossy().into_owned();
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    args.extend_from_slice(&["--json", &merged]);
    let output = common::run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Shards (3 merged"));
    serde_json::from_str(&std::fs::read_to_string(&merged).expect("merged")).expect("JSON")
}

fn hist(report: &Value, pointer: &str) -> Hist {
    Hist::from_base64(report.pointer(pointer).and_then(Value::as_str).expect(pointer))
        .expect("histogram")
}

/// The merged report's percentiles are those of every shard's samples pooled.
fn assert_pooled_percentiles(shards: &[Value], merged: &Value) {
    for (name, pointer) in [
        ("export_latency", "/measurements/export_latency"),
        ("start_lag", "/measurements/start_lag"),
        ("scenario_latency", "/measurements/scenario_latency"),
    ] {
        let mut pooled = Hist::default();
        for s in shards {
            pooled.merge(&hist(s, pointer));
        }
        let p = pooled.percentiles();
        let m = &merged[name];
        assert_eq!(m["count"].as_u64(), Some(p.count), "{name}");
        for (field, value) in
            [("p50_ms", p.p50_ms), ("p95_ms", p.p95_ms), ("p99_ms", p.p99_ms), ("max_ms", p.max_ms)]
        {
            assert_eq!(m[field].as_f64(), Some(value), "{name}.{field}");
        }
    }
}

fn assert_started_together(shards: &[Value]) {
    let at = shards[0]["start_at"]["at_unix_ms"].as_u64().expect("start_at");
    for (i, s) in shards.iter().enumerate() {
        assert_eq!(s["shard"]["index"], i);
        assert_eq!(s["shard"]["count"], SHARDS);
        assert_eq!(s["plan_id"], shards[0]["plan_id"]);
        assert_eq!(s["start_at"]["late"], false, "shard {i}: {}", s["start_at"]);
        let began = u(s, "/measurements/window/began_unix_ms");
        assert!(began >= at && began < at + 1000, "shard {i} began at {began}, start at {at}");
    }
}

#[test]
fn three_shards_of_a_count_add_up_to_the_plan_and_the_sink() {
    let sink = Sink::start();
    let (dir, shards) = run_shards(&sink, &["--count", "100", "--rate", "60"]);
    let received = sink.stop();
    assert_started_together(&shards);
    let started: Vec<u64> = shards.iter().map(|s| u(s, "/traces/started")).collect();
    assert_eq!(started, [34, 33, 33]);
    let merged = merge(&dir);
    assert_eq!(u(&merged, "/traces/started"), 100);
    assert_eq!(u(&merged, "/config/count"), 100);
    assert_eq!(u(&merged, "/spans/exported"), received["spans"].as_u64().expect("sink spans"));
    assert_eq!(
        u(&merged, "/spans/exported"),
        shards.iter().map(|s| u(s, "/spans/exported")).sum::<u64>()
    );
    assert_eq!(merged["shards"].as_array().map(Vec::len), Some(3));
    assert!(merged["shard"].is_null() && merged["verification"].is_null());
    assert_pooled_percentiles(&shards, &merged);
}

#[test]
fn three_shards_of_a_rate_hold_the_whole_rate() {
    let sink = Sink::start();
    let (dir, shards) = run_shards(&sink, &["--rate", "90", "--duration", "3s"]);
    let received = sink.stop();
    assert_started_together(&shards);
    let merged = merge(&dir);
    let planned = 90.0 * 3.0;
    let started = u(&merged, "/traces/started") as f64;
    assert!((started - planned).abs() <= planned * 0.01, "started {started} of {planned}");
    assert!((merged["config"]["target_rate_per_s"].as_f64().unwrap_or(0.0) - 90.0).abs() < 1e-9);
    assert_eq!(u(&merged, "/spans/exported"), received["spans"].as_u64().expect("sink spans"));
    assert_pooled_percentiles(&shards, &merged);
}
