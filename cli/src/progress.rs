//! The live view of a run: a progress line on a terminal, and the once-a-second check that
//! `--abort-on-fail` needs.
//!
//! The line (elapsed, achieved start rate or `draining` once no trace starts any more, traces
//! done, errors, scenario p99, MB/s on the wire) goes to stderr and only when stderr is a
//! terminal, so logs and CI output stay clean.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use scenario_runtime::engine::metrics::Metrics;
use scenario_runtime::engine::report::Report;

/// How often the line is refreshed and thresholds are checked.
pub const PERIOD: Duration = Duration::from_secs(1);

/// One progress line from a live snapshot; `draining`: the start window is over.
pub fn line(r: &Report, draining: bool) -> String {
    let done = r.traces.completed + r.traces.failed;
    let phase = if draining {
        "draining, no new starts".to_owned()
    } else {
        format!("started {:.1} traces/s", r.throughput.traces_per_s)
    };
    format!(
        "{:>5.0}s | {phase} | {} done, {} in flight | {} errors | {} dropped | scenario p99 {:.0} ms | {:.1} MB/s",
        r.duration_s,
        crate::format::thousands(done),
        crate::format::thousands(r.traces.unfinished),
        crate::format::thousands(r.requests.failed),
        crate::format::thousands(r.spans.dropped),
        r.scenario_latency.p99_ms,
        r.throughput.wire_mb_per_s,
    )
}

/// Runs until the returned handle is aborted: every [`PERIOD`] takes a snapshot, shows it (on a
/// terminal) and hands it to `check`, which returns a message to stop watching (e.g. a threshold
/// failed and the run is being stopped); the line is cleared and the message printed to stderr.
pub fn watch(
    metrics: Arc<Metrics>,
    mut check: impl FnMut(&Report) -> Option<String> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PERIOD);
        ticker.tick().await;
        let _clear = ClearOnDrop(bar.clone());
        loop {
            ticker.tick().await;
            let report = metrics.snapshot();
            if let Some(bar) = &bar {
                bar.set_message(line(&report, metrics.starts_ended()));
                bar.tick();
            }
            if let Some(message) = check(&report) {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                eprintln!("{message}");
                break;
            }
        }
    })
}

/// Removes the line when the watcher ends (or is aborted), before the summary prints.
struct ClearOnDrop(Option<ProgressBar>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_names_each_figure_with_its_unit() {
        let mut r = Report { duration_s: 12.0, ..Report::default() };
        r.throughput.traces_per_s = 49.5;
        r.traces.completed = 590;
        r.traces.unfinished = 7;
        r.requests.failed = 2;
        r.scenario_latency.p99_ms = 250.0;
        r.throughput.wire_mb_per_s = 21.3;
        let starting = line(&r, false);
        for part in [
            "12s",
            "started 49.5 traces/s",
            "590 done",
            "7 in flight",
            "2 errors",
            "scenario p99 250 ms",
            "21.3 MB/s",
        ] {
            assert!(starting.contains(part), "{part} missing from {starting}");
        }
        let draining = line(&r, true);
        assert!(draining.contains("draining") && !draining.contains("traces/s"), "{draining}");
    }
}
