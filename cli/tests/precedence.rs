//! Precedence is flags > environment > `.env` > defaults, also across related settings: a flag
//! beats a variable of another setting it conflicts with (`--endpoint` and
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `--rate` and `SCALE_TEST_STAGES`, `--scenario` and
//! `SCALE_TEST_MIX`, `--concurrency` and `SCALE_TEST_RATE_LIMIT`). Variables set to nothing count
//! as not set.

mod common;

use std::path::Path;

use common::text;
use serde_json::Value;

/// Runs `scaletest run ARGS --json FILE` in `dir` with `env`; returns the exit code, the output
/// and the report's `config`.
fn config_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, Value) {
    let json = dir.join("report.json");
    let json_arg = json.to_string_lossy().into_owned();
    let mut all = vec!["run", "--clock", "synthetic", "--timeout-ms", "300"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", &json_arg]);
    let mut cmd = common::command(&dir.to_path_buf(), &all);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run scaletest");
    let out = text(&output);
    let report = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .unwrap_or_else(|| panic!("no JSON report; exit {:?}\n{out}", output.status.code()));
    (output.status.code(), out, report["config"].clone())
}

fn config(args: &[&str], env: &[(&str, &str)]) -> Value {
    config_in(&common::temp_dir(), args, env).2
}

/// Runs `scaletest run ARGS` with `env`, expecting bad input; returns the output.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["run", "--clock", "synthetic"];
    all.extend_from_slice(args);
    let output = common::run_env(&all, env);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    out
}

fn scenarios(config: &Value) -> Vec<String> {
    config["mix"]
        .as_array()
        .map(|mix| {
            mix.iter().map(|m| m["scenario"].as_str().unwrap_or_default().to_owned()).collect()
        })
        .unwrap_or_default()
}

const FROM_ENV: &str = "http://127.0.0.1:1/from-env";

#[test]
fn an_endpoint_flag_beats_a_traces_endpoint_variable() {
    let c = config(
        &["--endpoint", "http://127.0.0.1:2", "--count", "1", "--scenario", "simple_query"],
        &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", FROM_ENV)],
    );
    assert_eq!(c["endpoint"], "http://127.0.0.1:2/v1/traces", "{c:#}");
}

#[test]
fn an_endpoint_flag_beats_a_traces_endpoint_in_the_env_file() {
    let dir = common::temp_dir();
    std::fs::write(dir.join(".env"), format!("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={FROM_ENV}\n"))
        .expect("write .env");
    let (_, _, c) = config_in(
        &dir,
        &["--endpoint", "http://127.0.0.1:2", "--count", "1", "--scenario", "simple_query"],
        &[],
    );
    assert_eq!(c["endpoint"], "http://127.0.0.1:2/v1/traces", "{c:#}");
    // Without the flag, the file's value is used as is.
    let (_, _, c) = config_in(&dir, &["--count", "1", "--scenario", "simple_query"], &[]);
    assert_eq!(c["endpoint"], FROM_ENV, "{c:#}");
}

#[test]
fn the_traces_endpoint_wins_at_the_same_level() {
    let c = config(
        &[
            "--endpoint",
            "http://127.0.0.1:2",
            "--traces-endpoint",
            "http://127.0.0.1:3/custom",
            "--count",
            "1",
            "--scenario",
            "simple_query",
        ],
        &[],
    );
    assert_eq!(c["endpoint"], "http://127.0.0.1:3/custom", "{c:#}");
    let c = config(
        &["--count", "1", "--scenario", "simple_query"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:2"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", FROM_ENV),
        ],
    );
    assert_eq!(c["endpoint"], FROM_ENV, "{c:#}");
}

#[test]
fn traces_path_goes_before_the_query_string() {
    let c = config(
        &[
            "--endpoint",
            "http://127.0.0.1:2/otel?key=X",
            "--count",
            "1",
            "--scenario",
            "simple_query",
        ],
        &[],
    );
    // The report shows the URL without its query (it may hold a key).
    assert_eq!(c["endpoint"], "http://127.0.0.1:2/otel/v1/traces", "{c:#}");
}

#[test]
fn rate_and_duration_flags_beat_stages_from_the_environment() {
    let c = config(
        &["--rate", "40", "--duration", "2s", "--count", "1", "--scenario", "simple_query"],
        &[("SCALE_TEST_STAGES", "1s:10")],
    );
    assert_eq!(c["target_rate_per_s"], 40.0, "{c:#}");
    assert_eq!(c["stages"], serde_json::json!([]), "{c:#}");
    assert_eq!(c["planned_duration_s"], 2.0, "{c:#}");
}

#[test]
fn a_stages_flag_beats_rate_and_duration_from_the_environment() {
    let c = config(
        &["--stages", "1s:10", "--count", "1", "--scenario", "simple_query"],
        &[("SCALE_TEST_RATE_LIMIT", "40"), ("SCALE_TEST_DURATION", "5s")],
    );
    assert_eq!(c["stages"].as_array().map(Vec::len), Some(1), "{c:#}");
    assert_eq!(c["planned_duration_s"], 1.0, "{c:#}");
}

#[test]
fn stages_and_rate_flags_together_are_refused() {
    let out = refused(&["--stages", "1s:10", "--rate", "40"], &[]);
    assert!(out.contains("--stages") && out.contains("--rate"), "{out}");
    let out = refused(&["--stages", "1s:10", "--duration", "5s"], &[]);
    assert!(out.contains("--stages") && out.contains("--duration"), "{out}");
}

#[test]
fn a_scenario_flag_beats_a_mix_from_the_environment() {
    let c = config(
        &["--scenario", "simple_query", "--count", "1"],
        &[("SCALE_TEST_MIX", "rag_answer=1")],
    );
    assert_eq!(scenarios(&c), ["simple_query"], "{c:#}");
}

#[test]
fn a_mix_flag_beats_scenarios_and_weights_from_the_environment() {
    let c = config(
        &["--mix", "rag_answer=1", "--count", "1"],
        &[("SCALE_TEST_SCENARIOS", "simple_query"), ("SCALE_TEST_MIX_SIMPLE", "1")],
    );
    assert_eq!(scenarios(&c), ["rag_answer"], "{c:#}");
}

#[test]
fn scenario_and_mix_flags_together_are_refused() {
    let out = refused(&["--scenario", "simple_query", "--mix", "rag_answer=1"], &[]);
    assert!(out.contains("--scenario") && out.contains("--mix"), "{out}");
}

#[test]
fn a_concurrency_flag_alone_is_the_closed_model_even_with_a_rate_variable() {
    let c = config(
        &["--concurrency", "2", "--count", "2", "--scenario", "simple_query"],
        &[("SCALE_TEST_RATE_LIMIT", "40")],
    );
    assert_eq!(c["model"], "closed", "{c:#}");
    assert_eq!(c["concurrency"], 2, "{c:#}");
    // With the rate at the same level, --concurrency caps the open model.
    let c = config(
        &["--concurrency", "2", "--rate", "40", "--count", "2", "--scenario", "simple_query"],
        &[],
    );
    assert_eq!(c["model"], "open", "{c:#}");
    assert_eq!(c["max_in_flight"], 2, "{c:#}");
}

#[test]
fn max_in_flight_with_the_closed_model_is_refused() {
    let out = refused(&["--concurrency", "2", "--max-in-flight", "3"], &[]);
    assert!(out.contains("--concurrency") && out.contains("--max-in-flight"), "{out}");
}

#[test]
fn empty_variables_count_as_not_set() {
    let empty = [
        "OTEL_PLATFORM",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_RESOURCE_ATTRIBUTES",
        "SCALE_TEST_EXPORTER",
        "SCALE_TEST_MAX_REQUESTS",
        "SCALE_TEST_MIX",
        "SCALE_TEST_SCENARIOS",
        "SCALE_TEST_MIX_SIMPLE",
        "SCALE_TEST_RATE_LIMIT",
        "SCALE_TEST_CONCURRENCY",
        "SCALE_TEST_MAX_IN_FLIGHT",
        "SCALE_TEST_DURATION",
        "SCALE_TEST_RAMP_UP",
        "SCALE_TEST_STAGES",
        "SCALE_TEST_CLOCK",
        "SCALE_TEST_SEED",
        "SCALE_TEST_DRAIN_TIMEOUT",
        "SCALE_TEST_JSON",
        "SCALE_TEST_THRESHOLDS",
        "SCALE_TEST_ABORT_ON_FAIL",
        "SCALETEST_ENV_FILE",
    ];
    let mut env: Vec<(&str, &str)> = empty.iter().map(|var| (*var, "")).collect();
    env.push(("SCALE_TEST_COUNT", " "));
    let (code, out, c) = config_in(&common::temp_dir(), &["--count", "1"], &env);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(c["platform"], "otlp", "{c:#}");
    assert_eq!(c["protocol"], "http/protobuf", "{c:#}");
    assert_eq!(c["compression"], "gzip", "{c:#}");
    assert_eq!(c["model"], "open", "{c:#}");
    assert_eq!(c["target_rate_per_s"], 50.0, "{c:#}");
    assert_eq!(scenarios(&c).len(), 4, "the reference mix: {c:#}");
}

#[test]
fn a_bad_value_from_the_environment_or_the_env_file_names_its_variable() {
    let out = refused(&[], &[("SCALE_TEST_RATE_LIMIT", "fast")]);
    assert!(out.contains("invalid SCALE_TEST_RATE_LIMIT (--rate) `fast`: expected"), "{out}");
    let out = refused(&[], &[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")]);
    assert!(out.contains("invalid OTEL_EXPORTER_OTLP_PROTOCOL (--protocol) `thrift`"), "{out}");
    let out = refused(&["--protocol", "thrift"], &[]);
    assert!(out.contains("invalid --protocol `thrift`"), "{out}");
    let dir = common::temp_dir();
    std::fs::write(dir.join(".env"), "SCALE_TEST_SEED=abc\n").expect("write .env");
    let output = common::command(&dir, &["run"]).output().expect("run");
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(out.contains("SCALE_TEST_SEED (--seed, from .env) `abc`"), "{out}");
}

#[test]
fn a_bad_switch_from_the_environment_names_its_variable() {
    let out = refused(&[], &[("SCALE_TEST_ABORT_ON_FAIL", "maybe")]);
    assert!(out.contains("maybe") && out.contains("SCALE_TEST_ABORT_ON_FAIL"), "{out}");
    let c = config(
        &["--count", "1", "--scenario", "simple_query"],
        &[("SCALE_TEST_ABORT_ON_FAIL", "yes"), ("SCALE_TEST_THRESHOLDS", "error_rate<1")],
    );
    assert_eq!(c["platform"], "otlp", "{c:#}");
}

#[test]
fn the_latency_scale_is_reported_and_a_flag_beats_its_variable() {
    let dir = common::temp_dir();
    let args = ["--count", "2", "--scenario", "simple_query"];
    let (code, out, c) = config_in(&dir, &args, &[("SCALE_TEST_LATENCY_SCALE", "2")]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(c["latency_scale"], 2.0, "{c:#}");
    assert!(out.contains("synthetic clock, latencies x2)"), "{out}");
    let with_flag = [&args[..], &["--latency-scale", "0.5"]].concat();
    let (_, out, c) = config_in(&dir, &with_flag, &[("SCALE_TEST_LATENCY_SCALE", "2")]);
    assert_eq!(c["latency_scale"], 0.5, "{c:#}");
    assert!(out.contains("latencies x0.5)"), "{out}");
    // As declared, the text says nothing of it and the report says 1.
    let (_, out, c) = config_in(&dir, &args, &[]);
    assert_eq!(c["latency_scale"], 1.0, "{c:#}");
    assert!(out.contains("synthetic clock)"), "{out}");
}
