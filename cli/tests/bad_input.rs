//! Every invalid value gets one message naming it and what is expected, exit code 2, no panic,
//! and no secret in the output.

mod common;

use common::{run, run_env, text};

/// Runs `scaletest run ARGS` and checks the bad-input contract; returns the output text.
fn rejects(args: &[&str], env: &[(&str, &str)], names: &str) -> String {
    // A short synthetic run by default, through the environment so that flags still win.
    let mut all_env = vec![("SCALE_TEST_CLOCK", "synthetic"), ("SCALE_TEST_DURATION", "1s")];
    all_env.extend_from_slice(env);
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    let output = run_env(&all, &all_env);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "args {args:?} env {env:?}:\n{out}");
    assert!(out.contains(names), "message does not name `{names}`:\n{out}");
    assert!(!out.contains("panicked"), "{out}");
    assert!(out.lines().filter(|l| l.starts_with("error")).count() <= 1, "{out}");
    out
}

#[test]
fn zero_rate() {
    let out = rejects(&["--rate", "0"], &[], "`0`");
    assert!(out.contains("traces/s"), "{out}");
}

#[test]
fn negative_rate() {
    rejects(&["--rate", "-5"], &[], "`-5`");
}

#[test]
fn rate_from_the_environment() {
    rejects(&[], &[("SCALE_TEST_RATE_LIMIT", "fast")], "`fast`");
}

#[test]
fn unknown_scenario_lists_known_ones() {
    let out = rejects(&["--scenario", "no_such_thing"], &[], "`no_such_thing`");
    assert!(out.contains("simple_query") && out.contains("delegated_booking"), "{out}");
}

#[test]
fn unknown_platform() {
    let out = rejects(&["--platform", "splunkish"], &[], "`splunkish`");
    assert!(out.contains("langfuse"), "{out}");
}

#[test]
fn mix_that_does_not_parse() {
    rejects(&["--mix", "simple_query:0.5"], &[], "`simple_query:0.5`");
}

#[test]
fn mix_that_sums_to_zero() {
    let out = rejects(&["--mix", "simple_query=0,delegated_booking=0"], &[], "sum to 0");
    assert!(out.contains("simple_query=0"), "{out}");
}

#[test]
fn mix_with_a_bad_weight() {
    rejects(&["--mix", "simple_query=lots"], &[], "`lots`");
}

#[test]
fn bad_url() {
    rejects(&["--endpoint", "localhost:4318"], &[], "`localhost:4318`");
}

#[test]
fn bad_url_from_the_environment() {
    rejects(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "htp:/oops")], "`htp:/oops`");
}

#[test]
fn bad_header_syntax_does_not_echo_a_secret() {
    let out = rejects(&["--header", "Bearer sk-live-0123456789abcdef0123"], &[], "header");
    assert!(!out.contains("sk-live-0123456789abcdef0123"), "{out}");
}

#[test]
fn bad_header_name() {
    rejects(&["--header", "x api key=1"], &[], "`x api key`");
}

#[test]
fn bad_otlp_headers_list() {
    let out = rejects(&[], &[("OTEL_EXPORTER_OTLP_HEADERS", "authorization")], "key=value");
    assert!(out.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{out}");
}

#[test]
fn missing_platform_credentials_name_the_variable() {
    let out = rejects(&["--platform", "langfuse"], &[], "LANGFUSE_");
    assert!(out.contains("langfuse"), "{out}");
}

#[test]
fn unparsable_duration() {
    let out = rejects(&["--duration", "ten minutes"], &[], "`ten minutes`");
    assert!(out.contains("10s"), "{out}");
}

#[test]
fn unparsable_duration_from_the_environment() {
    // The flag given by `rejects` wins over the environment, so run without it.
    let output = run_env(&["run"], &[("SCALE_TEST_DURATION", "5 parsecs")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("`5 parsecs`"));
}

#[test]
fn bad_stages() {
    rejects(&["--stages", "30s=100"], &[], "`30s=100`");
}

#[test]
fn bad_clock_protocol_compression() {
    rejects(&["--clock", "lunar"], &[], "`lunar`");
    rejects(&["--protocol", "thrift"], &[], "`thrift`");
    rejects(&["--compression", "brotli"], &[], "`brotli`");
}

#[test]
fn a_latency_scale_must_be_a_factor_above_zero() {
    for value in ["0", "-2", "slow", "NaN", "inf", "1001"] {
        let out = rejects(&["--latency-scale", value], &[], &format!("`{value}`"));
        assert!(out.contains("expected a number above 0 and at most 1000"), "{out}");
    }
}

#[test]
fn bad_count_and_concurrency() {
    rejects(&["--count", "0"], &[], "`0`");
    rejects(&["--concurrency", "-2"], &[], "`-2`");
}

#[test]
fn unknown_threshold_metric_lists_known_ones() {
    let out = rejects(&["--threshold", "p99<500"], &[], "`p99`");
    assert!(out.contains("export_p99_ms") && out.contains("error_rate"), "{out}");
}

#[test]
fn secrets_never_reach_the_output() {
    // A valid run with a key in the headers: the key must not be printed or reported.
    let dir = common::temp_dir();
    let json = dir.join("r.json");
    let json_arg = json.to_string_lossy().into_owned();
    let mut cmd = common::command(
        &dir,
        &[
            "run",
            "--clock",
            "synthetic",
            "--duration",
            "1s",
            "--rate",
            "5",
            "--scenario",
            "simple_query",
            "--header",
            "x-api-key: sk-topsecret-42",
            "--json",
            &json_arg,
        ],
    );
    cmd.env("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20sk-othersecret-7");
    let output = cmd.output().expect("run");
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    let report = std::fs::read_to_string(&json).unwrap_or_default();
    for secret in ["sk-topsecret-42", "sk-othersecret-7"] {
        assert!(!out.contains(secret) && !report.contains(secret), "{secret} leaked");
    }
    assert!(report.contains("x-api-key"), "header names are reported");
    let help =
        text(&run_env(&["run", "--help"], &[("OTEL_EXPORTER_OTLP_HEADERS", "a=sk-inhelp-1")]));
    assert!(!help.contains("sk-inhelp-1"), "--help shows a header value");
    assert!(help.contains("SCALE_TEST_RATE_LIMIT") && help.contains("OTEL_EXPORTER_OTLP_ENDPOINT"));
}

#[test]
fn env_file_is_read_and_loses_to_the_environment() {
    let dir = common::temp_dir();
    std::fs::write(dir.join(".env"), "SCALE_TEST_RATE_LIMIT=-1\n").expect("write .env");
    let output = common::command(&dir, &["run", "--duration", "1s"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2), "the .env value was not read");
    assert!(text(&output).contains("`-1`"));
    let output = common::command(
        &dir,
        &["run", "--duration", "1s", "--clock", "synthetic", "--scenario", "simple_query"],
    )
    .env("SCALE_TEST_RATE_LIMIT", "5")
    .output()
    .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "the environment must win over .env: {}",
        text(&output)
    );
    let missing = run(&["run", "--env-file", "/nonexistent/scaletest.env"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("/nonexistent/scaletest.env"));
}

#[test]
fn a_protocol_the_platform_refuses() {
    let out = rejects(&["--platform", "phoenix", "--protocol", "http/json"], &[], "http/json");
    assert!(out.contains("phoenix") && out.contains("http/protobuf"), "{out}");
}

#[test]
fn grpc_through_the_sdk_path() {
    rejects(&["--exporter", "sdk", "--protocol", "grpc"], &[], "`grpc`");
}

#[test]
fn unknown_exporter() {
    let out = rejects(&["--exporter", "agent"], &[], "`agent`");
    assert!(out.contains("direct or sdk"), "{out}");
}

#[test]
fn absurd_rates_and_concurrency_are_refused() {
    rejects(&["--rate", "1e12"], &[], "`1e12`");
    rejects(&["--max-in-flight", "18446744073709551615"], &[], "`18446744073709551615`");
    rejects(&["--concurrency", "99999999999"], &[], "`99999999999`");
    rejects(&["--max-requests", "0"], &[], "`0`");
    rejects(&["--stages", "10s:1e9"], &[], "`1e9`");
}

#[test]
fn a_header_list_entry_without_equals_never_shows_its_value() {
    let out = rejects(
        &[],
        &[("OTEL_EXPORTER_OTLP_HEADERS", "Authorization:Bearer%20sk-SECRET456")],
        "OTEL_EXPORTER_OTLP_HEADERS",
    );
    assert!(!out.contains("SECRET456"), "{out}");
}

#[test]
fn a_bad_url_never_shows_its_password_or_query() {
    let out = rejects(&["--endpoint", "ftp://user:SECRETPW@example.com/?key=SECRETQ"], &[], "ftp");
    assert!(!out.contains("SECRETPW") && !out.contains("SECRETQ"), "{out}");
}

#[test]
fn help_never_shows_secret_values_from_the_environment() {
    let output = run_env(
        &["run", "--help"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://u:SECRETPW@127.0.0.1:1"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://u:SECRETPW@127.0.0.1:1/v1/traces"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=SECRETH"),
            ("OTEL_RESOURCE_ATTRIBUTES", "api_key=SECRETR"),
        ],
    );
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{out}");
    assert!(!out.contains("SECRET"), "{out}");
}

#[test]
fn negative_numbers_get_our_message() {
    for (flag, value) in [
        ("--seed", "-1"),
        ("--timeout-ms", "-1"),
        ("--drain-timeout", "-1s"),
        ("--ramp-up", "-1s"),
        ("--mix-simple", "-1"),
        ("--max-requests", "-3"),
    ] {
        let out = rejects(&[flag, value], &[], &format!("invalid {flag} `{value}`"));
        assert!(!out.contains("unexpected argument"), "{out}");
    }
}

#[test]
fn an_absurd_timeout_is_refused() {
    rejects(&["--timeout-ms", "99999999999999999"], &[], "`99999999999999999`");
    rejects(&["--timeout-ms", "3600001"], &[], "`3600001`");
}

#[test]
fn a_drain_timeout_of_zero_is_accepted() {
    let output = run(&[
        "run",
        "--drain-timeout",
        "0s",
        "--clock",
        "synthetic",
        "--count",
        "1",
        "--scenario",
        "simple_query",
    ]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("1 started"), "{out}");
    // Running traces are cancelled at once, but what finished traces emitted is still sent.
    assert!(out.contains("Delivery (embedded sink): verified"), "{out}");
}

#[test]
fn duplicates_are_refused() {
    let out = rejects(&["--mix", "simple_query=1,simple_query=1"], &[], "`simple_query`");
    assert!(out.contains("twice"), "{out}");
    let out =
        rejects(&["--scenario", "rag_answer", "--scenario", "rag_answer"], &[], "`rag_answer`");
    assert!(out.contains("twice"), "{out}");
    rejects(&[], &[("SCALE_TEST_SCENARIOS", "rag_answer,rag_answer")], "SCALE_TEST_SCENARIOS");
}

#[test]
fn empty_items_are_refused() {
    let out = rejects(&["--stages", "1s:10,,1s:5"], &[], "`1s:10,,1s:5`");
    assert!(out.contains("empty"), "{out}");
    let out = rejects(&["--scenario", ""], &[], "--scenario");
    assert!(out.contains("empty"), "{out}");
    rejects(&["--threshold", ""], &[], "invalid --threshold ``");
    let out = rejects(&["--mix", "simple_query=1,,rag_answer=1"], &[], "--mix");
    assert!(out.contains("empty"), "{out}");
}

#[test]
fn a_json_path_that_cannot_be_written_fails_at_once() {
    let out =
        rejects(&["--json", "/nonexistent-dir/report.json"], &[], "/nonexistent-dir/report.json");
    assert!(out.contains("--json"), "{out}");
    assert!(!out.contains("Scale test results"), "the run must not start: {out}");
}

#[test]
fn a_bad_value_from_the_environment_names_its_variable() {
    for (var, flag, value) in [
        ("SCALE_TEST_RATE_LIMIT", "--rate", "fast"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "--compression", "brotli"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "--timeout-ms", "soon"),
        ("SCALE_TEST_CLOCK", "--clock", "lunar"),
        ("OTEL_PLATFORM", "--platform", "splunkish"),
        ("SCALE_TEST_MIX", "--mix", "simple_query"),
        ("SCALE_TEST_STAGES", "--stages", "10s"),
        ("SCALE_TEST_DRAIN_TIMEOUT", "--drain-timeout", "later"),
        ("SCALE_TEST_LATENCY_SCALE", "--latency-scale", "0"),
    ] {
        rejects(&[], &[(var, value)], &format!("{var} ({flag})"));
    }
}
