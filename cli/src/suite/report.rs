//! The suite report: the runs side by side (one column per run), as text, JSON and HTML.
//! Every figure is read off the run's report by the threshold metric of the same name, so the
//! suite and `--threshold` never disagree.

use std::fmt::Write;

use scenario_runtime::engine::report::{Report, RunStatus, ThresholdResult};
use scenario_runtime::engine::threshold::METRICS;
use serde::Serialize;

use super::file::Suite;
use crate::html::{close_page, escape, open_page};

/// The suite's outcome and every run's key figures.
#[derive(Debug, Serialize)]
pub struct SuiteReport {
    pub suite: String,
    pub file: String,
    /// `passed`, `thresholds_failed`, `component_failed` or `interrupted`.
    pub status: &'static str,
    /// Why the suite stopped early (a component's failure), if it did.
    pub failure: Option<String>,
    /// The runs that went, in order (runs after a failure are missing).
    pub runs: Vec<RunRow>,
    /// Runs in the file.
    pub runs_planned: usize,
}

/// One run's column.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub name: String,
    /// Its full JSON report.
    pub report_file: Option<String>,
    pub status: RunStatus,
    pub platform: String,
    /// Target arrival rate (traces/s; `null` for stages or the closed model).
    pub target_rate_per_s: Option<f64>,
    pub traces_per_s: Option<f64>,
    pub traces_delivered: Option<f64>,
    pub accepted_spans_per_s: Option<f64>,
    pub span_loss_rate: Option<f64>,
    pub stored_rate: Option<f64>,
    pub ingest_lag_p99_s: Option<f64>,
    pub export_p99_ms: Option<f64>,
    pub error_rate: Option<f64>,
    pub components: Vec<ComponentFigures>,
    pub thresholds_passed: bool,
    pub thresholds: Vec<ThresholdResult>,
}

/// A component's CPU and memory during one run.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentFigures {
    pub name: String,
    pub cpu_cores_mean: f64,
    pub cpu_cores_max: f64,
    pub rss_bytes_mean: f64,
    pub rss_bytes_max: f64,
    pub samples: usize,
}

/// A threshold metric's value on `report`.
pub fn metric(report: &Report, name: &str) -> Option<f64> {
    METRICS.iter().find(|m| m.name == name).and_then(|m| (m.read)(report))
}

impl RunRow {
    pub fn of(name: &str, r: &Report, report_file: Option<String>) -> RunRow {
        RunRow {
            name: name.to_owned(),
            report_file,
            status: r.status,
            platform: r.config.platform.clone(),
            target_rate_per_s: r.config.target_rate_per_s,
            traces_per_s: metric(r, "traces_per_s"),
            traces_delivered: metric(r, "traces_delivered"),
            accepted_spans_per_s: metric(r, "accepted_spans_per_s"),
            span_loss_rate: metric(r, "span_loss_rate"),
            stored_rate: metric(r, "stored_rate"),
            ingest_lag_p99_s: metric(r, "ingest_lag_p99_s"),
            export_p99_ms: metric(r, "export_p99_ms"),
            error_rate: metric(r, "error_rate"),
            components: r
                .resources
                .as_ref()
                .map(|res| {
                    res.components
                        .iter()
                        .map(|c| ComponentFigures {
                            name: c.name.clone(),
                            cpu_cores_mean: c.cpu_cores.mean,
                            cpu_cores_max: c.cpu_cores.max,
                            rss_bytes_mean: c.rss_bytes.mean,
                            rss_bytes_max: c.rss_bytes.max,
                            samples: c.samples.len(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            thresholds_passed: r.thresholds_passed() && r.status != RunStatus::Aborted,
            thresholds: r.thresholds.clone(),
        }
    }
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.digits$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{:.2}%", v * 100.0))
}

fn mb(v: f64) -> String {
    format!("{:.0} MB", v / 1e6)
}

impl SuiteReport {
    pub fn new(
        suite: &Suite,
        runs: Vec<RunRow>,
        failure: Option<String>,
        interrupted: bool,
    ) -> SuiteReport {
        let status = if failure.is_some() {
            "component_failed"
        } else if interrupted {
            "interrupted"
        } else if runs.iter().any(|r| !r.thresholds_passed) {
            "thresholds_failed"
        } else {
            "passed"
        };
        SuiteReport {
            suite: suite.name.clone(),
            file: suite.path.display().to_string(),
            status,
            failure,
            runs,
            runs_planned: suite.runs.len(),
        }
    }

    /// The table's rows: a label and one cell per run.
    fn table(&self) -> Vec<(String, Vec<String>)> {
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        let mut row = |label: &str, f: &dyn Fn(&RunRow) -> String| {
            rows.push((label.to_owned(), self.runs.iter().map(f).collect()));
        };
        row("platform", &|r| r.platform.clone());
        row("status", &|r| format!("{:?}", r.status).to_lowercase());
        row("target rate (traces/s)", &|r| num(r.target_rate_per_s, 1));
        row("started (traces/s)", &|r| num(r.traces_per_s, 1));
        row("traces delivered", &|r| num(r.traces_delivered, 0));
        row("accepted spans/s", &|r| num(r.accepted_spans_per_s, 0));
        row("span loss", &|r| pct(r.span_loss_rate));
        row("stored rate", &|r| pct(r.stored_rate));
        row("ingest lag p99 (s)", &|r| num(r.ingest_lag_p99_s, 1));
        row("export p99 (ms)", &|r| num(r.export_p99_ms, 1));
        row("error rate", &|r| pct(r.error_rate));
        let mut names: Vec<String> = Vec::new();
        for r in &self.runs {
            for c in &r.components {
                if !names.contains(&c.name) {
                    names.push(c.name.clone());
                }
            }
        }
        for name in &names {
            let find = |r: &RunRow| r.components.iter().find(|c| &c.name == name).cloned();
            rows.push((
                format!("{name} CPU cores mean/max"),
                self.runs
                    .iter()
                    .map(|r| {
                        find(r).map_or("-".to_owned(), |c| {
                            format!("{:.2}/{:.2}", c.cpu_cores_mean, c.cpu_cores_max)
                        })
                    })
                    .collect(),
            ));
            rows.push((
                format!("{name} RSS mean/max"),
                self.runs
                    .iter()
                    .map(|r| {
                        find(r).map_or("-".to_owned(), |c| {
                            format!("{}/{}", mb(c.rss_bytes_mean), mb(c.rss_bytes_max))
                        })
                    })
                    .collect(),
            ));
        }
        rows.push((
            "thresholds".to_owned(),
            self.runs
                .iter()
                .map(|r| {
                    if r.thresholds.is_empty() {
                        "none".to_owned()
                    } else if r.thresholds_passed {
                        "pass".to_owned()
                    } else {
                        "FAIL".to_owned()
                    }
                })
                .collect(),
        ));
        rows
    }

    /// The text rendering: a table with one column per run, then each failed threshold.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "\nSuite `{}` ({}): {} — {} of {} runs",
            self.suite,
            self.file,
            self.status,
            self.runs.len(),
            self.runs_planned
        );
        let rows = self.table();
        let mut header = vec!["".to_owned()];
        header.extend(self.runs.iter().map(|r| r.name.clone()));
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for (label, cells) in &rows {
            widths[0] = widths[0].max(label.chars().count());
            for (i, c) in cells.iter().enumerate() {
                widths[i + 1] = widths[i + 1].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i == 0 {
                    let _ = write!(s, "  {c:<w$}", w = widths[0]);
                } else {
                    let _ = write!(s, "  {c:>w$}", w = widths[i]);
                }
            }
            s.trim_end().to_owned()
        };
        let _ = writeln!(o, "{}", line(&header));
        for (label, cells) in &rows {
            let mut all = vec![label.clone()];
            all.extend(cells.iter().cloned());
            let _ = writeln!(o, "{}", line(&all));
        }
        for r in &self.runs {
            for t in r.thresholds.iter().filter(|t| !t.passed) {
                let _ = writeln!(
                    o,
                    "  run `{}`: threshold `{}` failed (value {})",
                    r.name,
                    t.expression,
                    num(t.value, 4)
                );
            }
        }
        if let Some(f) = &self.failure {
            let _ = writeln!(o, "  stopped: {}", f.lines().next().unwrap_or_default());
        }
        o
    }

    /// One self-contained page: the table, links to each run's own report.
    pub fn html(&self) -> String {
        let mut o = open_page(&format!("scaletest suite · {}", self.suite));
        let _ = write!(
            o,
            "<header><h1>Suite {}</h1></header><p class=\"sub\">{} · {} · {} of {} runs</p>",
            escape(&self.suite),
            escape(&self.file),
            escape(self.status),
            self.runs.len(),
            self.runs_planned
        );
        if let Some(f) = &self.failure {
            let _ = write!(o, "<pre>{}</pre>", escape(f));
        }
        o.push_str("<table><thead><tr><th></th>");
        for r in &self.runs {
            let name = escape(&r.name);
            match &r.report_file {
                Some(file) => {
                    let html = std::path::Path::new(file).with_extension("html");
                    let link = html
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let _ = write!(o, "<th><a href=\"{}\">{name}</a></th>", escape(&link));
                }
                None => {
                    let _ = write!(o, "<th>{name}</th>");
                }
            }
        }
        o.push_str("</tr></thead><tbody>");
        for (label, cells) in self.table() {
            let _ = write!(o, "<tr><th>{}</th>", escape(&label));
            for c in cells {
                let _ = write!(o, "<td>{}</td>", escape(&c));
            }
            o.push_str("</tr>");
        }
        o.push_str("</tbody></table>");
        o.push_str(&close_page());
        o
    }
}
