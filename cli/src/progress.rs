//! The live view of a run: a progress line on a terminal, refreshed every second.
//!
//! The line (elapsed, achieved start rate or `draining` once no trace starts any more, traces
//! done, errors, scenario p99, MB/s on the wire) goes to stderr and only when stderr is a
//! terminal, so logs and CI output stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use scenario_runtime::engine::Progress;
use scenario_runtime::engine::report::Report;

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

/// The live view the engine reports to: a spinner line on a terminal (nothing otherwise), and
/// the message when `--abort-on-fail` stops the run. The line is cleared when dropped.
pub struct Live {
    bar: Option<ProgressBar>,
}

impl Live {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        Self { bar }
    }
}

impl Progress for Live {
    fn update(&mut self, live: &Report, draining: bool) {
        if let Some(bar) = &self.bar {
            bar.set_message(line(live, draining));
            bar.tick();
        }
    }

    fn verifying(&mut self, sent: &scenario_runtime::engine::verify::Ledger) {
        self.say(&format!(
            "reading back what the backend stored: {} spans in {} traces accepted",
            crate::format::thousands(sent.spans_accepted()),
            crate::format::thousands(sent.traces_accepted())
        ));
    }

    fn stopping(&mut self, failed: &[String]) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        eprintln!(
            "threshold failed: {}; stopping now: cancelling traces in flight",
            failed.join(", ")
        );
    }
}

impl Live {
    fn say(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
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
