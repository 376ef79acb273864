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

#[test]
fn soak_reads_memory_every_second_and_states_the_growth() {
    let output = run(&["bench", "--soak", "--soak-duration", "4s", "--soak-rate", "20"]);
    let out = text(&output);
    // 0: within the limit; 3: grew by 10% or more (a few seconds of warm-up may well do so).
    assert!(matches!(output.status.code(), Some(0 | 3)), "{out}");
    assert!(out.contains("RSS growth from"), "{out}");
    assert!(out.contains("the 10% limit"), "{out}");
    assert!(out.contains("traces in flight"), "{out}");
}

#[test]
fn bench_refuses_bad_rates_and_durations() {
    for args in [
        ["bench", "--soak-rate", "0"],
        ["bench", "--capacity-rate", "fast"],
        ["bench", "--soak-duration", "0s"],
    ] {
        let output = run(&args);
        let out = text(&output);
        assert_eq!(output.status.code(), Some(2), "{out}");
        assert!(out.contains(args[2]), "{out}");
    }
}
