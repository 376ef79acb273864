//! Runs the real `scaletest` binary in a clean environment and an empty working directory (so a
//! developer's own `.env` or `OTEL_*` variables never leak into a test).

#![allow(dead_code)] // each test file uses its own subset

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_scaletest");

/// A fresh empty directory under the system temp dir.
pub fn temp_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "scaletest-e2e-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// `scaletest` with `args`, no inherited environment but `PATH`, in `dir`.
pub fn command(dir: &PathBuf, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

/// Runs to completion.
pub fn run(args: &[&str]) -> Output {
    let dir = temp_dir();
    command(&dir, args).output().expect("run scaletest")
}

/// Runs with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = temp_dir();
    let mut cmd = command(&dir, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run scaletest")
}

/// Runs `scaletest run ARGS --json FILE` and returns the output and the parsed report.
pub fn run_json(args: &[&str]) -> (Output, serde_json::Value) {
    let dir = temp_dir();
    let json = dir.join("report.json");
    let mut all: Vec<&str> = vec!["run"];
    all.extend_from_slice(args);
    let json_arg = json.to_string_lossy().into_owned();
    all.extend_from_slice(&["--json", &json_arg]);
    let output = command(&dir, &all).output().expect("run scaletest");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let report = serde_json::from_str(&text).expect("report is JSON");
    (output, report)
}

/// Spawns with piped output.
pub fn spawn(dir: &PathBuf, args: &[&str]) -> Child {
    command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scaletest")
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A u64 at a JSON pointer.
pub fn u(report: &serde_json::Value, pointer: &str) -> u64 {
    report
        .pointer(pointer)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} is not an unsigned integer in {report:#}"))
}

/// An f64 at a JSON pointer.
pub fn f(report: &serde_json::Value, pointer: &str) -> f64 {
    report
        .pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} is not a number in {report:#}"))
}

/// A `scaletest sink` child listening on a free loopback port, killed on drop.
pub struct Sink {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub listen: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Sink {
    /// The process, no longer killed on drop (to signal it and read its output).
    #[allow(dead_code)]
    pub fn into_child(mut self) -> Child {
        self.child.take().expect("the child is there until taken")
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `scaletest sink ARGS` on a free loopback port and waits until it accepts connections.
#[allow(dead_code)] // not every test file starts a sink
pub fn start_sink(args: &[&str]) -> Sink {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let listen = format!("127.0.0.1:{port}");
    let mut all = vec!["sink", "--listen", &listen, "--report-every", "0s"];
    all.extend_from_slice(args);
    let child = spawn(&temp_dir(), &all);
    let began = std::time::Instant::now();
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(began.elapsed() < std::time::Duration::from_secs(10), "sink did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let url = format!("http://{listen}");
    Sink { child: Some(child), listen, url }
}

/// The body of `GET /metrics` from `addr` (`--metrics-listen`), when it answers.
pub fn scrape(addr: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

/// The value of an unlabelled sample in an exposition.
pub fn value(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok())
}
