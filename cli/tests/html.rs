//! `--html FILE` and `scaletest report FILE --html OUT`: one self-contained page, the same
//! whether written by the run or rendered again from its JSON report; `--json -` on stdout.

mod common;

use common::{command, temp_dir, text};

#[test]
fn the_run_and_its_json_render_the_same_page() {
    let dir = temp_dir();
    let html = dir.join("run.html");
    let html_arg = html.to_string_lossy().into_owned();
    let output = command(
        &dir,
        &[
            "run",
            "--duration",
            "2s",
            "--rate",
            "40",
            "--clock",
            "synthetic",
            "--threshold",
            "export_p99_ms<60000",
            "--html",
            &html_arg,
            "--json",
            "-",
        ],
    )
    .output()
    .expect("run scaletest");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // `--json -`: the JSON alone on stdout, the text report on stderr.
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is the JSON report");
    assert_eq!(report["schema_version"], 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("Scale test results"));

    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Ten charts of the series, and accepted against stored from the read-back.
    assert_eq!(page.matches("<figure class=\"chart\"").count(), 11, "charts");
    assert!(page.contains("Accepted and stored"), "the read-back is charted");
    assert!(page.contains("All 1 thresholds passed"));
    for attr in ["src=", "href=", "<script", "@import", "url("] {
        assert!(!page.contains(attr), "the page must not load anything: found {attr}");
    }
    // Stored JSON -> the same page.
    let json = dir.join("run.json");
    std::fs::write(&json, &output.stdout).expect("write json");
    let again = dir.join("again.html");
    let json_arg = json.to_string_lossy().into_owned();
    let again_arg = again.to_string_lossy().into_owned();
    let output = command(&dir, &["report", &json_arg, "--html", &again_arg])
        .output()
        .expect("run scaletest");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(std::fs::read_to_string(&again).expect("html written"), page);
    // Without --html: the text report.
    let output = command(&dir, &["report", &json_arg]).output().expect("run scaletest");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Scale test results"));
}

#[test]
fn report_refuses_what_is_not_a_report() {
    let dir = temp_dir();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 1}").expect("write");
    let bad_arg = bad.to_string_lossy().into_owned();
    let output = command(&dir, &["report", &bad_arg]).output().expect("run scaletest");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("schema version 1"), "{}", text(&output));
}
