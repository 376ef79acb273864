//! `scaletest bench` runs its phases and prints figures with their units.

mod common;

use common::{run, text};

#[test]
fn bench_prints_throughput_and_rate_accuracy() {
    let output = run(&["bench", "--seconds", "1", "--only", "flat"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains("spans/s") && out.contains("MB/s raw") && out.contains("% dropped"),
        "{out}"
    );
    assert!(out.contains("Peak RSS"), "{out}");

    let output = run(&["bench", "--only", "rate"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    for target in ["100 traces/s", "1000 traces/s", "5000 traces/s"] {
        let line = out.lines().find(|l| l.contains("achieved") && l.contains(target));
        assert!(line.is_some(), "no line for {target}:\n{out}");
    }
    assert!(out.contains("start lag p99"), "{out}");
}
