//! `scaletest suite` and `scaletest capacity` end to end: suite files validated before anything
//! starts (file:line, exit 2), `${VAR}` expansion and secrets kept out of every output,
//! components that fail to start, never become healthy or die (exit 1, named, with their log),
//! every component stopped on exit and on Ctrl-C, resources sampled into the report, and a short
//! capacity search against the embedded sink. Components are small shell commands on loopback.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{command, temp_dir, text};

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write suite file");
    path
}

fn suite(dir: &PathBuf, file: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = command(dir, &["suite", file, "--json", "suite.json"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run scaletest suite")
}

/// A run against the embedded sink, short and with the synthetic clock.
const RUN: &str =
    "[[runs]]\nname = \"short\"\nclock = \"synthetic\"\nduration = \"1s\"\nrate = 5\n";

fn alive(pid: u32) -> bool {
    // A zombie has exited: only a live process counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

/// The pid a component wrote to its log as `pid N`.
fn logged_pid(log: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().find_map(|l| l.strip_prefix("pid ")?.trim().parse().ok())
}

#[test]
fn bad_files_are_refused_with_file_and_line_before_anything_starts() {
    let component = "[[components]]\nname = \"marker\"\ncommand = [\"sh\", \"-c\", \"touch started; sleep 5\"]\n\n";
    // The component takes lines 1-4; each run's table starts on line 5.
    let cases: [(&str, &str, &str); 6] = [
        ("[[runs]]\nname = \"a\"\nrate = \"fast\"\n", ":7:", "--rate `fast`"),
        ("[[runs]]\nname = \"a\"\n\nrat = 5\n", ":8:", "unknown key `rat`"),
        ("[[runs]]\nname = \"a\"\ncomponents = [\"db\"]\n", ":7:", "unknown component `db`"),
        (
            "[[runs]]\nname = \"a\"\nthreshold = [\"nope<1\"]\n",
            ":7:",
            "unknown threshold metric `nope`",
        ),
        ("[[runs]\nname = \"a\"\n", ":5:", ""),
        ("[[runs]]\nname = \"a\"\nno_verify = \"yes\"\n", ":7:", "is a switch"),
    ];
    for (runs, line, message) in cases {
        let dir = temp_dir();
        write(&dir, "bad.toml", &format!("{component}{runs}"));
        let output = suite(&dir, "bad.toml", &[]);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{runs}: {all}");
        assert!(all.contains(&format!("bad.toml{line}")), "{runs}: file and line {line} in {all}");
        assert!(all.contains(message), "{runs}: expected `{message}` in {all}");
        assert!(!dir.join("started").exists(), "nothing may start before the file is valid");
    }
    // A report file that cannot be written: refused before anything starts.
    let dir = temp_dir();
    write(&dir, "ok.toml", &format!("{component}{RUN}"));
    let output = command(&dir, &["suite", "ok.toml", "--json", "no/such/dir/suite.json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("invalid --json `no/such/dir/suite.json`"), "{}", text(&output));
    assert!(!dir.join("started").exists());
}

#[test]
fn a_missing_variable_is_named_and_a_secret_never_shown() {
    let dir = temp_dir();
    write(
        &dir,
        "missing.toml",
        &format!("[[components]]\nname = \"c\"\ncommand = [\"${{NOT_SET_ANYWHERE}}\"]\n\n{RUN}"),
    );
    let output = suite(&dir, "missing.toml", &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("missing.toml:3:") && all.contains("NOT_SET_ANYWHERE"), "{all}");

    // A bad value from a variable: the message shows `${VAR}`, not the value.
    let secret = "s3cr3t-value-0123456789";
    write(&dir, "bad-secret.toml", &format!("{RUN}max_requests = \"${{API_TOKEN}}\"\n"));
    let output = suite(&dir, "bad-secret.toml", &[("API_TOKEN", secret)]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("${API_TOKEN}") && !all.contains(secret), "{all}");

    // A good run with the secret in a header, a resource attribute and a component's
    // environment: nowhere in the output or the files written.
    let body = format!(
        "[[components]]\nname = \"c\"\ncommand = [\"sh\", \"-c\", \"sleep 30\"]\nenv = {{ TOKEN = \"${{API_TOKEN}}\" }}\n\n{RUN}\
         header = [\"authorization=Bearer ${{API_TOKEN}}\"]\nresource_attributes = \"deployment=${{API_TOKEN}}\"\n\
         project = \"${{API_TOKEN}}\"\n"
    );
    write(&dir, "good.toml", &body);
    let output = suite(&dir, "good.toml", &[("API_TOKEN", secret)]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(!all.contains(secret), "{all}");
    let mut files = vec![dir.join("suite.json")];
    for entry in std::fs::read_dir(dir.join("suite-out")).expect("suite-out").flatten() {
        files.push(entry.path());
    }
    for file in files.iter().filter(|f| f.is_file()) {
        let content = std::fs::read_to_string(file).expect("read output");
        assert!(!content.contains(secret), "secret in {}", file.display());
    }
    // The report names the project: as the variable, not its value.
    let report = std::fs::read_to_string(dir.join("suite-out/01-short.json")).expect("run report");
    assert!(report.contains("\"project\": \"${API_TOKEN}\""), "{report}");
}

#[test]
fn a_component_that_cannot_start_or_is_never_healthy_stops_the_suite() {
    let dir = temp_dir();
    write(
        &dir,
        "nostart.toml",
        &format!("[[components]]\nname = \"ghost\"\ncommand = [\"/nonexistent/backend\"]\n\n{RUN}"),
    );
    let output = suite(&dir, "nostart.toml", &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("component `ghost`") && all.contains("could not start"), "{all}");

    // Never healthy: a port nothing listens on; its process is gone after the exit.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    write(
        &dir,
        "unhealthy.toml",
        &format!(
            "[[components]]\nname = \"slow\"\ncommand = [\"sh\", \"-c\", \"echo pid $$; echo warming up; exec sleep 30\"]\n\
             health_url = \"http://127.0.0.1:{port}/health\"\nready_timeout = \"1s\"\nstop_grace = \"1s\"\n\n{RUN}"
        ),
    );
    let output = suite(&dir, "unhealthy.toml", &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("component `slow`") && all.contains("was not healthy"), "{all}");
    assert!(all.contains("warming up"), "the end of its log: {all}");
    let pid = logged_pid(&dir.join("suite-out/components/slow.log")).expect("pid in the log");
    assert!(!alive(pid), "component {pid} still runs");
}

#[test]
fn a_component_that_dies_during_a_run_is_named_with_its_log() {
    let dir = temp_dir();
    write(
        &dir,
        "dies.toml",
        "[[components]]\nname = \"fragile\"\ncommand = [\"sh\", \"-c\", \"echo up; sleep 2; echo out of memory; exit 7\"]\n\n\
         [[runs]]\nname = \"long\"\nduration = \"30s\"\nrate = 2\n",
    );
    let began = Instant::now();
    let output = suite(&dir, "dies.toml", &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("component `fragile` died during the run (exit code 7)"), "{all}");
    assert!(all.contains("out of memory"), "{all}");
    assert!(began.elapsed() < Duration::from_secs(25), "the run stops when its component dies");
}

#[test]
fn resources_are_sampled_and_the_suite_report_compares_runs() {
    let dir = temp_dir();
    // A busy component: its tree (a shell and a busy child) shows CPU.
    write(
        &dir,
        "ok.toml",
        "[[components]]\nname = \"busy\"\ncommand = [\"sh\", \"-c\", \"sh -c 'while :; do :; done' & wait\"]\nstop_grace = \"1s\"\n\n\
         [defaults]\nclock = \"synthetic\"\nduration = \"3s\"\n\n\
         [[runs]]\nname = \"five\"\nrate = 5\n\n[[runs]]\nname = \"ten\"\nrate = 10\nthreshold = [\"error_rate<0.5\"]\n",
    );
    let output = suite(&dir, "ok.toml", &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("suite.json")).expect("suite.json"))
            .expect("JSON");
    assert_eq!(report["status"], "passed");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["target_rate_per_s"], 5.0);
    assert_eq!(runs[1]["target_rate_per_s"], 10.0);
    for run in runs {
        let busy = &run["components"][0];
        assert_eq!(busy["name"], "busy");
        assert!(busy["samples"].as_u64().is_some_and(|n| n >= 1), "{busy}");
        assert!(busy["cpu_cores_max"].as_f64().is_some_and(|c| c > 0.05), "{busy}");
        assert!(busy["rss_bytes_max"].as_f64().is_some_and(|r| r > 0.0), "{busy}");
    }
    // The run's own report carries the samples.
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("suite-out/01-five.json")).expect("run report"),
    )
    .expect("JSON");
    let samples = run["resources"]["components"][0]["samples"].as_array().expect("samples");
    assert!(
        !samples.is_empty() && samples[0]["processes"].as_u64().is_some_and(|n| n >= 2),
        "{samples:?}"
    );
    assert!(all.contains("busy CPU cores mean/max"), "{all}");
    assert!(all.contains("Components (process trees sampled every 1000 ms)"), "{all}");
    let page = std::fs::read_to_string(dir.join("suite-out/01-five.html")).expect("run page");
    assert!(page.contains("<h2>Components</h2>") && page.contains("Components: CPU"));
}

#[test]
fn ctrl_c_stops_the_suite_and_every_component() {
    let dir = temp_dir();
    write(
        &dir,
        "long.toml",
        "[[components]]\nname = \"server\"\ncommand = [\"sh\", \"-c\", \"echo pid $$; exec sleep 120\"]\nstop_grace = \"2s\"\n\n\
         [[runs]]\nname = \"long\"\nduration = \"120s\"\nrate = 2\ndrain_timeout = \"1s\"\n",
    );
    let mut child = command(&dir, &["suite", "long.toml"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let log = dir.join("suite-out/components/server.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = logged_pid(&log) {
            break pid;
        }
        assert!(Instant::now() < deadline, "the component never started");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Let the run begin, then Ctrl-C.
    std::thread::sleep(Duration::from_secs(2));
    let status =
        Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("scaletest did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(code, Some(130));
    assert!(!alive(pid), "component {pid} outlived the suite");
}

#[test]
fn capacity_finds_the_knee_of_a_criterion_against_the_embedded_sink() {
    let dir = temp_dir();
    // The criterion is on the start rate the generator achieved, so the knee lies between 8
    // and 16 traces/s (where depends on how exactly this machine keeps the rate).
    let output = command(
        &dir,
        &[
            "capacity",
            "--criterion",
            "traces_per_s<13",
            "--criterion",
            "stored_rate>=0.99",
            "--start-rate",
            "4",
            "--growth",
            "2",
            "--resolution",
            "3",
            "--step-duration",
            "1s",
            "--warmup",
            "0s",
            "--cooldown",
            "0s",
            "--settle",
            "10s",
            "--json",
            "cap.json",
            "--html",
            "cap.html",
            "--",
            "--clock",
            "synthetic",
            "--seed",
            "1",
        ],
    )
    .output()
    .expect("run capacity");
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cap.json")).expect("cap.json"))
            .expect("JSON");
    let steps = report["steps"].as_array().expect("steps");
    let rates: Vec<f64> = steps.iter().map(|s| s["rate_per_s"].as_f64().unwrap_or(-1.0)).collect();
    assert_eq!(rates[..2], [4.0, 8.0], "{rates:?}");
    for s in steps {
        let expected = s["traces_per_s"].as_f64().is_some_and(|v| v < 13.0)
            && s["stored_rate"].as_f64().is_some_and(|v| v >= 0.99);
        assert_eq!(
            s["passed"].as_bool(),
            Some(expected),
            "a step's verdict follows its figures: {s}"
        );
    }
    let knee = report["knee_rate_per_s"].as_f64().expect("a knee");
    let failing = report["first_failing_rate_per_s"].as_f64().expect("a failing rate");
    assert!((8.0..16.0).contains(&knee) && failing > knee && failing - knee <= 3.0, "{report}");
    assert!(all.contains("knee:"), "{all}");
    let page = std::fs::read_to_string(dir.join("cap.html")).expect("cap.html");
    assert!(page.contains("Ingestion lag p99 against the rate") && page.contains("traces/s"));

    // A bad criterion: exit 2, nothing run.
    let output = command(&dir, &["capacity", "--criterion", "lag<1", "--", "--clock", "synthetic"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("unknown threshold metric `lag`"));
    let output = command(&dir, &["capacity", "--criterion", "error_rate<1", "--", "--rate", "5"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--rate in the run settings"));
    let output =
        command(&dir, &["capacity", "--criterion", "stored_rate>=0.99", "--", "--no-verify"])
            .output()
            .expect("run");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("needs the read-back"), "{}", text(&output));
}

/// The shipped suites and the README's example stay valid (`--check` starts nothing).
#[test]
fn the_shipped_suites_are_valid() {
    let dir = temp_dir();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let example = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a TOML example in the README");
    let example_file = write(&dir, "readme.toml", example);
    let mut files: Vec<PathBuf> =
        ["phoenix", "mlflow", "ci"].iter().map(|n| root.join(format!("suites/{n}.toml"))).collect();
    files.push(example_file);
    for file in files {
        let output = command(&dir, &["suite", &file.to_string_lossy(), "--check"])
            .env("SCALETEST_VENV", "/opt/venv")
            .env("SUITE_WORK", &dir)
            .env("SUITE_PHOENIX_PORT", "6006")
            .env("SUITE_PHOENIX_GRPC_PORT", "4317")
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(0), "{}: {}", file.display(), text(&output));
        assert!(text(&output).contains("valid:"), "{}", text(&output));
    }
    assert!(!dir.join("suite-out").exists(), "--check starts nothing and writes nothing");
}
