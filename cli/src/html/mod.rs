//! The HTML rendering of a report: one self-contained page (inline CSS and SVG, no script, no
//! font or file fetched) that opens offline in any browser and can be mailed or attached to a
//! ticket as is.
//!
//! Order of the page: the verdict of every threshold, the key figures, the configuration, charts
//! over time from the report's series (throughput, latency, errors, in flight and exporter
//! queue, the generator's own cost; stages and the drain marked), the per-scenario table, the
//! errors, and the notes in the words of the text report ([`crate::render::note_text`]).
//! `scaletest compare --html` reuses the charts with two runs overlaid.

pub mod chart;

use std::fmt::Write;

use scenario_runtime::engine::report::{Percentiles, Report, RunStatus};
use scenario_runtime::engine::series::Row;

use crate::format::{decimal_bytes, ms, thousands};
use chart::{Chart, Line, Mark, PALETTE};

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix time in milliseconds.
pub fn utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A value of a row at its time: `(row, seconds the row covers)`.
type RowValue = Box<dyn Fn(&Row, f64) -> Option<f64>>;

/// A chart before it meets a report: its lines as functions of a row.
pub struct ChartDef {
    pub id: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub lines: Vec<(String, RowValue)>,
}

fn rate(count: u64, secs: f64) -> Option<f64> {
    (secs > 0.0).then(|| count as f64 / secs)
}

fn micros(v: u32) -> Option<f64> {
    (v > 0).then(|| f64::from(v) / 1000.0)
}

/// The charts of the page; the error classes are those any of `reports` saw.
pub fn chart_defs(reports: &[&Report]) -> Vec<ChartDef> {
    let mut classes: Vec<String> = reports
        .iter()
        .flat_map(|r| r.measurements.series.rows.iter())
        .flat_map(|row| row.requests_failed.keys().cloned())
        .collect();
    classes.sort();
    classes.dedup();
    let mut errors: Vec<(String, RowValue)> = classes
        .into_iter()
        .map(|class| {
            let name = match class.as_str() {
                "timeout" | "connect" | "io" => class.clone(),
                c if c.starts_with("grpc_") => format!("gRPC {}", &c[5..]),
                c => format!("HTTP {c}"),
            };
            let f: RowValue = Box::new(move |r: &Row, s: f64| {
                rate(r.requests_failed.get(&class).copied().unwrap_or(0), s)
            });
            (name, f)
        })
        .collect();
    if errors.is_empty() {
        errors.push((
            "failed requests".to_owned(),
            Box::new(|r: &Row, s: f64| rate(r.requests_failed_total(), s)),
        ));
    }
    errors.push((
        "spans dropped (queue full) ÷ 100".to_owned(),
        Box::new(|r: &Row, s: f64| rate(r.spans_queue_full, s).map(|v| v / 100.0)),
    ));
    let raw_measured = reports.iter().any(|r| r.bytes.raw > 0);
    let mut bandwidth: Vec<(String, RowValue)> = vec![(
        "wire (compressed)".to_owned(),
        Box::new(|r: &Row, s: f64| rate(r.wire_bytes, s).map(|b| b / 1e6)),
    )];
    if raw_measured {
        bandwidth.push((
            "raw (before compression)".to_owned(),
            Box::new(|r: &Row, s: f64| rate(r.raw_bytes, s).map(|b| b / 1e6)),
        ));
    }
    let mut ops: Vec<String> = reports
        .iter()
        .flat_map(|r| r.measurements.series.rows.iter())
        .flat_map(|row| row.queries.keys().cloned())
        .collect();
    ops.sort_by_key(|op| ["list", "get", "search", "count"].iter().position(|o| o == op));
    ops.dedup();
    let query_latency: Vec<(String, RowValue)> = ops
        .into_iter()
        .map(|op| {
            let label = format!("{op} p99");
            let f: RowValue =
                Box::new(move |r: &Row, _| r.queries.get(&op).and_then(|q| micros(q.p99_ms)));
            (label, f)
        })
        .collect();
    let mut defs = vec![
        ChartDef {
            id: "traces",
            title: "Traces",
            unit: "traces/s",
            lines: vec![
                ("started".to_owned(), Box::new(|r: &Row, s: f64| rate(r.traces_started, s))),
                ("finished".to_owned(), Box::new(|r: &Row, s: f64| rate(r.traces_finished, s))),
                ("failed".to_owned(), Box::new(|r: &Row, s: f64| rate(r.traces_failed, s))),
            ],
        },
        ChartDef {
            id: "spans",
            title: "Spans",
            unit: "spans/s",
            lines: vec![
                ("created".to_owned(), Box::new(|r: &Row, s: f64| rate(r.spans_created, s))),
                ("exported".to_owned(), Box::new(|r: &Row, s: f64| rate(r.spans_exported, s))),
            ],
        },
        ChartDef { id: "bandwidth", title: "Bandwidth", unit: "MB/s", lines: bandwidth },
        ChartDef {
            id: "export-latency",
            title: "Export latency",
            unit: "ms",
            lines: vec![
                ("p50".to_owned(), Box::new(|r: &Row, _| micros(r.export_p50_ms))),
                ("p95".to_owned(), Box::new(|r: &Row, _| micros(r.export_p95_ms))),
                ("p99".to_owned(), Box::new(|r: &Row, _| micros(r.export_p99_ms))),
            ],
        },
        ChartDef {
            id: "scenario-latency",
            title: "Scenario latency and start lag",
            unit: "ms",
            lines: vec![
                ("scenario p99".to_owned(), Box::new(|r: &Row, _| micros(r.scenario_p99_ms))),
                ("start lag p99".to_owned(), Box::new(|r: &Row, _| micros(r.start_lag_p99_ms))),
            ],
        },
        ChartDef { id: "errors", title: "Errors", unit: "per s", lines: errors },
        ChartDef {
            id: "in-flight",
            title: "Traces in flight",
            unit: "traces",
            lines: vec![(
                "in flight".to_owned(),
                Box::new(|r: &Row, _| Some(r.traces_in_flight as f64)),
            )],
        },
        ChartDef {
            id: "queue",
            title: "Exporter queue",
            unit: "spans",
            lines: vec![(
                "pending in the exporter".to_owned(),
                Box::new(|r: &Row, _| Some(r.queue_spans as f64)),
            )],
        },
        ChartDef {
            id: "cpu",
            title: "Generator CPU",
            unit: "%",
            lines: vec![(
                "CPU (100 = one core)".to_owned(),
                Box::new(|r: &Row, s: f64| rate(r.cpu_ms, s).map(|v| v / 10.0)),
            )],
        },
        ChartDef {
            id: "memory",
            title: "Generator memory",
            unit: "MB",
            lines: vec![(
                "resident".to_owned(),
                Box::new(|r: &Row, _| Some(r.rss_bytes as f64 / 1e6)),
            )],
        },
    ];
    if !query_latency.is_empty() {
        defs.push(ChartDef {
            id: "query-latency",
            title: "Read latency (--query-rate)",
            unit: "ms",
            lines: query_latency,
        });
    }
    defs
}

/// CPU and memory of the components a suite started, over the run's time axis.
fn resource_charts(report: &Report) -> Vec<Chart> {
    let Some(res) = &report.resources else { return Vec::new() };
    if res.components.iter().all(|c| c.samples.is_empty()) {
        return Vec::new();
    }
    let began = report.measurements.window.began_unix_ms;
    let x = |unix_ms: u64| unix_ms.saturating_sub(began) as f64 / 1000.0;
    let x_max = res
        .components
        .iter()
        .flat_map(|c| c.samples.iter().map(|s| x(s.unix_ms)))
        .fold(x_end(report), f64::max);
    let lines = |value: &dyn Fn(&scenario_runtime::engine::report::ResourceSample) -> f64| {
        res.components
            .iter()
            .enumerate()
            .map(|(i, c)| Line {
                name: c.name.clone(),
                color: chart::PALETTE[i % chart::PALETTE.len()],
                dashed: false,
                points: c.samples.iter().map(|s| (x(s.unix_ms), Some(value(s)))).collect(),
            })
            .collect::<Vec<_>>()
    };
    vec![
        Chart {
            id: "components-cpu".to_owned(),
            title: "Components: CPU (process trees)".to_owned(),
            unit: "cores".to_owned(),
            lines: lines(&|s| s.cpu_cores),
            x_max,
            ..Chart::default()
        },
        Chart {
            id: "components-rss".to_owned(),
            title: "Components: resident memory".to_owned(),
            unit: "MB".to_owned(),
            lines: lines(&|s| s.rss_bytes as f64 / 1e6),
            x_max,
            ..Chart::default()
        },
    ]
}

/// `(x seconds since the run's start, row, seconds covered)` of every row.
pub fn timeline(report: &Report) -> Vec<(f64, &Row, f64)> {
    let began = report.measurements.window.began_unix_ms;
    let series = &report.measurements.series;
    let rows = &series.rows;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let covered = if i + 1 == rows.len() {
                row.duration_ms.min(series.interval_ms.max(1))
            } else {
                series.interval_ms
            };
            let end = row.start_unix_ms + covered;
            let x = end.saturating_sub(began) as f64 / 1000.0;
            (x, row, row.duration_ms as f64 / 1000.0)
        })
        .collect()
}

/// Points of one line of `report`.
pub fn points(report: &Report, f: &RowValue) -> Vec<(f64, Option<f64>)> {
    timeline(report).into_iter().map(|(x, row, secs)| (x, f(row, secs))).collect()
}

/// Stage boundaries and the drain, as the charts mark them.
pub fn marks(report: &Report) -> (Vec<Mark>, Option<(f64, f64, String)>) {
    let mut marks = Vec::new();
    let mut t = 0.0;
    let stages = &report.config.stages;
    for (i, (duration, target)) in stages.iter().enumerate() {
        if i > 0 {
            marks.push(Mark {
                x: t,
                label: format!("stage {} → {}/s", i + 1, chart::trim(*target)),
            });
        }
        t += duration;
    }
    let w = &report.measurements.window;
    let drain = (w.duration_s > w.start_window_s)
        .then(|| (w.start_window_s, w.duration_s, "drain".to_owned()));
    (marks, drain)
}

/// End of the time axis.
pub fn x_end(report: &Report) -> f64 {
    let last = timeline(report).last().map_or(0.0, |p| p.0);
    last.max(report.duration_s).max(1.0)
}

/// The planned arrival rate over time, when the report states it.
fn target_line(report: &Report) -> Option<Line> {
    let c = &report.config;
    let mut points = Vec::new();
    if !c.stages.is_empty() {
        let (mut t, mut rate) = (0.0, 0.0);
        points.push((t, Some(rate)));
        for (duration, target) in &c.stages {
            t += duration;
            rate = *target;
            points.push((t, Some(rate)));
        }
    } else if let Some(rate) = c.target_rate_per_s {
        let end = report.throughput.start_window_s.max(1e-3);
        points = vec![(0.0, Some(rate)), (end, Some(rate))];
    } else {
        return None;
    }
    Some(Line { name: "target".to_owned(), color: "#94a3b8", dashed: true, points })
}

/// Accepted against stored over time: the exporter's acknowledgements (cumulative, from the
/// series) and the read-back's counts, which go on after the run until everything is visible.
fn storage_chart(
    report: &Report,
    marks: &[Mark],
    shade: &Option<(f64, f64, String)>,
) -> Option<Chart> {
    let v = report.verification.as_ref()?;
    let began = report.measurements.window.began_unix_ms;
    let spans = v.countable.is_some_and(|c| c.spans);
    let seen: Vec<(f64, Option<f64>)> = v
        .samples
        .iter()
        .filter_map(|s| {
            let n = if spans { s.spans } else { s.traces }?;
            Some((s.at_ms.saturating_sub(began) as f64 / 1000.0, Some(n as f64)))
        })
        .collect();
    if seen.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    if spans {
        let mut total = 0u64;
        let accepted = timeline(report)
            .into_iter()
            .map(|(x, row, _)| {
                total += row.spans_exported;
                (x, Some(total as f64))
            })
            .collect();
        lines.push(Line {
            name: "accepted".to_owned(),
            color: PALETTE[0],
            dashed: true,
            points: accepted,
        });
    }
    let x_max = seen.iter().map(|p| p.0).fold(x_end(report), f64::max);
    lines.push(Line {
        name: "visible (read back)".to_owned(),
        color: PALETTE[1],
        dashed: false,
        points: seen,
    });
    Some(Chart {
        id: "stored".to_owned(),
        title: "Accepted and stored".to_owned(),
        unit: if spans { "spans" } else { "traces" }.to_owned(),
        lines,
        marks: marks.to_vec(),
        shade: shade.clone(),
        x_max,
        x_unit: None,
    })
}

/// The charts of one report.
pub fn charts(report: &Report) -> Vec<Chart> {
    let (marks, shade) = marks(report);
    let x_max = x_end(report);
    let stored = storage_chart(report, &marks, &shade);
    let mut charts: Vec<Chart> = chart_defs(&[report])
        .into_iter()
        .map(|def| {
            let mut lines: Vec<Line> = def
                .lines
                .iter()
                .enumerate()
                .map(|(i, (name, f))| Line {
                    name: name.clone(),
                    color: PALETTE[i % PALETTE.len()],
                    dashed: false,
                    points: points(report, f),
                })
                .collect();
            if def.id == "traces"
                && let Some(target) = target_line(report)
            {
                lines.push(target);
            }
            Chart {
                id: def.id.to_owned(),
                title: def.title.to_owned(),
                unit: def.unit.to_owned(),
                lines,
                marks: marks.clone(),
                shade: shade.clone(),
                x_max,
                x_unit: None,
            }
        })
        .collect();
    charts.extend(stored);
    charts
}

/// The page's stylesheet.
pub const STYLE: &str = r#"
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--ok:#15803d;--okbg:#dcfce7;--bad:#b91c1c;--badbg:#fee2e2;--warn:#a16207;--warnbg:#fef9c3}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
main{max-width:1200px;margin:0 auto;padding:28px 24px 48px}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:12px;margin-bottom:6px}
h1{font-size:24px;margin:0;font-weight:650;letter-spacing:-.01em}
h2{font-size:16px;margin:32px 0 12px;font-weight:650;letter-spacing:.01em;color:#1e293b}
.sub{color:var(--muted);margin:0 0 20px}
.pill{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600;letter-spacing:.02em}
.pill.ok{background:var(--okbg);color:var(--ok)}.pill.bad{background:var(--badbg);color:var(--bad)}.pill.warn{background:var(--warnbg);color:var(--warn)}
.verdict{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px}
.verdict.ok{border-left:5px solid var(--ok)}.verdict.bad{border-left:5px solid var(--bad)}.verdict.none{border-left:5px solid #cbd5e1}
.verdict strong{font-size:15px}
.verdict ul{list-style:none;margin:8px 0 0;padding:0;display:grid;gap:4px}
.verdict li{font-variant-numeric:tabular-nums}
.verdict li b{display:inline-block;width:1.3em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;margin-top:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;margin-top:2px}
.card .d{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;font-variant-numeric:tabular-nums}
th,td{padding:7px 12px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{background:#f1f5f9;font-weight:600;font-size:12px;color:#334155;text-transform:uppercase;letter-spacing:.04em}
tr:last-child td{border-bottom:none}
td:first-child,th:first-child{text-align:left}
.config{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:0;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:6px 0;margin:0}
.config div{display:flex;justify-content:space-between;gap:12px;padding:5px 16px;border-bottom:1px dashed var(--line)}
.config dt{color:var(--muted)}.config dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;word-break:break-all}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 12px 8px}
.chart figcaption{font-weight:600;font-size:13px}.chart .unit{color:var(--muted);font-weight:400}
.chart svg{width:100%;height:auto;display:block}
.chart .grid{stroke:#eef2f7}.chart .axis{stroke:#94a3b8}
.chart .tick{font-size:10.5px;fill:#64748b}.chart .axis-label{font-size:10.5px;fill:#94a3b8}
.chart .line{fill:none;stroke-width:1.7;stroke-linejoin:round;stroke-linecap:round}
.chart .line.dashed{stroke-dasharray:5 4;stroke-width:1.4}
.chart .shade{fill:#f1f5f9}.chart .shade-label{font-size:10px;fill:#94a3b8;letter-spacing:.05em}
.chart .mark{stroke:#cbd5e1;stroke-dasharray:3 3}.chart .mark-label{font-size:10px;fill:#94a3b8}
.chart .hover{fill:transparent}.chart .hover:hover{fill:rgba(37,99,235,.07)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#334155;padding:2px 4px 0}
.swatch{display:inline-block;width:14px;height:0;border-top:2.5px solid var(--c);margin-right:6px;vertical-align:middle}
.swatch.dashed{border-top-style:dashed}
.notes{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 18px 10px 34px;margin:0}
.notes li{margin:4px 0}
.muted{color:var(--muted)}
footer{margin-top:36px;color:var(--muted);font-size:12px}
@media print{.charts{grid-template-columns:1fr}body{background:#fff}}
"#;

fn status_pill(report: &Report) -> String {
    let (class, text) = match report.status {
        RunStatus::Completed if report.thresholds_passed() => ("ok", "completed"),
        RunStatus::Completed => ("bad", "completed, thresholds failed"),
        RunStatus::Interrupted => ("warn", "interrupted: partial report"),
        RunStatus::Aborted => ("bad", "aborted: a threshold failed"),
    };
    format!("<span class=\"pill {class}\">{text}</span>")
}

/// The verdict of every threshold.
pub fn verdict(report: &Report) -> String {
    let t = &report.thresholds;
    if t.is_empty() {
        return "<div class=\"verdict none\"><strong>No thresholds set.</strong> \
                <span class=\"muted\">Add <code>--threshold export_p99_ms&lt;500</code> and the \
                like to make this run pass or fail.</span></div>"
            .to_owned();
    }
    let failed = t.iter().filter(|t| !t.passed).count();
    let (class, head) = if failed == 0 {
        ("ok", format!("All {} thresholds passed", t.len()))
    } else {
        ("bad", format!("{failed} of {} thresholds failed", t.len()))
    };
    let mut o = format!("<div class=\"verdict {class}\"><strong>{head}</strong><ul>");
    for t in t {
        let value = t.value.map_or("not measured".to_owned(), chart::value_label);
        let _ = write!(
            o,
            "<li><b style=\"color:var(--{c})\">{mark}</b><code>{expr}</code> <span class=\"muted\">measured {value}</span></li>",
            c = if t.passed { "ok" } else { "bad" },
            mark = if t.passed { "✓" } else { "✗" },
            expr = escape(&t.expression),
        );
    }
    o.push_str("</ul></div>");
    o
}

fn card(o: &mut String, key: &str, value: &str, detail: &str) {
    let _ = write!(
        o,
        "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"d\">{}</div></div>",
        escape(key),
        escape(value),
        escape(detail)
    );
}

fn percent(part: f64) -> String {
    format!("{}%", chart::trim(part * 100.0))
}

fn key_figures(r: &Report) -> String {
    let mut o = String::from("<div class=\"cards\">");
    card(
        &mut o,
        "Traces started",
        &thousands(r.traces.started),
        &format!("{} traces/s", chart::trim(r.throughput.traces_per_s)),
    );
    card(
        &mut o,
        "Success rate",
        &percent(r.traces.success_rate),
        &format!(
            "{} failed, {} unfinished",
            thousands(r.traces.failed),
            thousands(r.traces.unfinished)
        ),
    );
    card(
        &mut o,
        "Spans exported",
        &thousands(r.spans.exported),
        &format!("of {} created", thousands(r.spans.created)),
    );
    card(
        &mut o,
        "Spans dropped",
        &thousands(r.spans.dropped),
        &format!(
            "{} queue full, {} rejected",
            thousands(r.spans.queue_full),
            thousands(r.spans.rejected)
        ),
    );
    card(
        &mut o,
        "Export p99",
        &ms(r.export_latency.p99_ms),
        &format!("p50 {}", ms(r.export_latency.p50_ms)),
    );
    card(
        &mut o,
        "Scenario p99",
        &ms(r.scenario_latency.p99_ms),
        &format!("p50 {}", ms(r.scenario_latency.p50_ms)),
    );
    card(
        &mut o,
        "Request errors",
        &percent(r.requests.error_rate),
        &format!("{} of {} requests", thousands(r.requests.failed), thousands(r.requests.total)),
    );
    card(
        &mut o,
        "On the wire",
        &format!("{} MB/s", chart::trim(r.throughput.wire_mb_per_s)),
        &decimal_bytes(r.bytes.wire as f64),
    );
    let delivery = match &r.delivery {
        Some(d) if d.verified => {
            ("verified".to_owned(), format!("{} spans received", thousands(d.spans_received)))
        }
        Some(d) => (
            "not verified".to_owned(),
            format!(
                "{} of {} spans received",
                thousands(d.spans_received),
                thousands(d.spans_sent)
            ),
        ),
        None => ("external".to_owned(), "not checked by scaletest".to_owned()),
    };
    card(&mut o, "Delivery", &delivery.0, &delivery.1);
    card(
        &mut o,
        "Generator",
        &format!("{}% CPU", chart::trim(r.generator.cpu_percent)),
        &format!("peak {} resident", decimal_bytes(r.generator.peak_rss_bytes as f64)),
    );
    o.push_str("</div>");
    o
}

fn configuration(r: &Report) -> String {
    let c = &r.config;
    let mut rows: Vec<(&str, String)> = vec![
        ("platform", c.platform.clone()),
        ("endpoint", c.endpoint.clone()),
        ("protocol", c.protocol.clone()),
        ("compression", c.compression.clone()),
        ("exporter", c.exporter.clone()),
        ("clock", c.clock.clone()),
        ("latency scale", format!("x{}", chart::trim(c.latency_scale.factor()))),
        ("model", c.model.clone()),
    ];
    if let Some(rate) = c.target_rate_per_s {
        rows.push(("target rate", format!("{} traces/s", chart::trim(rate))));
    }
    if !c.stages.is_empty() {
        let stages: Vec<String> = c
            .stages
            .iter()
            .map(|(d, t)| format!("{}s→{}/s", chart::trim(*d), chart::trim(*t)))
            .collect();
        rows.push(("stages", stages.join(", ")));
    }
    if let Some(n) = c.concurrency {
        rows.push(("workers", n.to_string()));
    }
    if let Some(n) = c.max_in_flight {
        rows.push(("max in flight", n.to_string()));
    }
    if let Some(d) = c.planned_duration_s {
        rows.push(("planned duration", format!("{} s", chart::trim(d))));
    }
    if let Some(n) = c.count {
        rows.push(("count", thousands(n)));
    }
    rows.push(("duration", format!("{} s", chart::trim(r.duration_s))));
    let mix: Vec<String> = c
        .mix
        .iter()
        .map(|m| format!("{} {}%", m.scenario, chart::trim(m.weight * 100.0)))
        .collect();
    rows.push(("mix", mix.join(", ")));
    rows.push(("seed", c.seed.to_string()));
    if !c.header_names.is_empty() {
        rows.push(("headers", c.header_names.join(", ")));
    }
    let series = &r.measurements.series;
    rows.push(("interval", format!("{} ms", series.interval_ms)));
    rows.push(("processes", r.measurements.processes.to_string()));
    let mut o = String::from("<dl class=\"config\">");
    for (k, v) in rows {
        let _ = write!(o, "<div><dt>{}</dt><dd>{}</dd></div>", escape(k), escape(&v));
    }
    o.push_str("</dl>");
    o
}

fn pct_cells(p: &Percentiles) -> String {
    if p.count == 0 {
        return "<td>–</td><td>–</td><td>–</td>".to_owned();
    }
    format!("<td>{}</td><td>{}</td><td>{}</td>", ms(p.p50_ms), ms(p.p95_ms), ms(p.p99_ms))
}

fn scenarios(r: &Report) -> String {
    let mut o = String::from(
        "<table><thead><tr><th>scenario</th><th>weight</th><th>started</th><th>completed</th>\
         <th>failed</th><th>spans/trace</th><th>payload/trace</th><th>p50</th><th>p95</th>\
         <th>p99</th></tr></thead><tbody>",
    );
    for s in &r.scenarios {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            escape(&s.name),
            chart::trim(s.weight * 100.0),
            thousands(s.started),
            thousands(s.completed),
            thousands(s.failed),
            chart::trim(s.avg_spans),
            decimal_bytes(s.avg_payload_bytes),
            pct_cells(&s.latency),
        );
    }
    o.push_str("</tbody></table>");
    o
}

/// The read load: one row per operation, then the operations not run.
fn read_load(q: &scenario_runtime::engine::report::Queries) -> String {
    let mut o = format!(
        "<p class=\"muted\">{} queries/s asked ({}), each bounded to the last {} min and {} \
         rows; started over {} s.</p>",
        chart::trim(q.target_rate_per_s),
        escape(if q.mix.is_empty() { "no operation could run" } else { &q.mix }),
        chart::trim(q.window_s / 60.0),
        q.page_rows,
        chart::trim(q.duration_s)
    );
    o.push_str(
        "<table><thead><tr><th>operation</th><th>sent</th><th>per s</th><th>2xx</th>\
         <th>4xx</th><th>5xx</th><th>timeout</th><th>transport</th><th>unanswered</th>\
         <th>empty</th><th>rows/answer</th><th>p50</th><th>p95</th><th>p99</th><th>max</th>\
         </tr></thead><tbody>",
    );
    for op in &q.operations {
        let max = if op.latency.count == 0 { "–".to_owned() } else { ms(op.latency.max_ms) };
        let _ = write!(
            o,
            "<tr><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}<td>{}</td></tr>",
            escape(&op.request),
            escape(&op.op),
            thousands(op.started),
            chart::trim(op.achieved_per_s),
            thousands(op.ok),
            thousands(op.http_4xx),
            thousands(op.http_5xx),
            thousands(op.timeout),
            thousands(op.transport),
            thousands(op.unanswered),
            thousands(op.empty),
            chart::trim(op.rows_per_answer),
            pct_cells(&op.latency),
            max
        );
    }
    o.push_str("</tbody></table><ul class=\"notes\" style=\"margin-top:12px\">");
    for op in &q.operations {
        let _ = write!(o, "<li><b>{}</b>: {}</li>", escape(&op.op), escape(&op.request));
    }
    for u in &q.unsupported {
        let _ = write!(o, "<li><b>{}</b> not run: {}</li>", escape(&u.op), escape(&u.reason));
    }
    o.push_str("</ul>");
    o
}

fn errors(r: &Report) -> String {
    let q = &r.requests;
    let mut rows: Vec<(String, u64)> = Vec::new();
    for (code, n) in &q.by_status {
        rows.push((format!("HTTP {code}"), *n));
    }
    for (code, n) in &q.by_grpc_status {
        rows.push((format!("gRPC status {code}"), *n));
    }
    for (name, n) in [
        ("timeout", q.timeout),
        ("connection refused or reset", q.connect),
        ("other transport error", q.io),
    ] {
        if n > 0 {
            rows.push((name.to_owned(), n));
        }
    }
    let mut o = format!(
        "<table><thead><tr><th>export requests</th><th>count</th><th>share</th></tr></thead><tbody>\
         <tr><td>ok</td><td>{}</td><td>{}</td></tr>",
        thousands(q.ok),
        percent(if q.total == 0 { 0.0 } else { q.ok as f64 / q.total as f64 })
    );
    for (name, n) in rows {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&name),
            thousands(n),
            percent(n as f64 / q.total.max(1) as f64)
        );
    }
    let _ = write!(
        o,
        "<tr><td>retries (included above)</td><td>{}</td><td></td></tr></tbody></table>",
        thousands(q.retries)
    );
    let s = &r.spans;
    let _ = write!(
        o,
        "<table style=\"margin-top:12px\"><thead><tr><th>spans not accepted</th><th>count</th></tr></thead><tbody>\
         <tr><td>dropped: export queue full</td><td>{}</td></tr>\
         <tr><td>rejected by the backend</td><td>{}</td></tr>\
         <tr><td>failed: no connection</td><td>{}</td></tr>\
         <tr><td>cut at shutdown: never sent</td><td>{}</td></tr>\
         <tr><td>outcome unknown: sent, no answer</td><td>{}</td></tr></tbody></table>",
        thousands(s.queue_full),
        thousands(s.rejected),
        thousands(s.failed),
        thousands(s.unfinished),
        thousands(s.unknown)
    );
    for (class, message) in &q.messages {
        let _ = write!(o, "<p class=\"muted\">{} said: {}</p>", escape(class), escape(message));
    }
    o
}

/// The page's `<head>` and opening of `<main>`.
pub fn open_page(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    )
}

/// The page's end.
pub fn close_page() -> String {
    format!(
        "<footer>Generated by scaletest {} · report schema {} · all times since the first \
         scheduled start; hover a chart for its values.</footer></main></body></html>\n",
        env!("CARGO_PKG_VERSION"),
        scenario_runtime::engine::report::SCHEMA_VERSION
    )
}

/// The whole page of one report.
pub fn report_page(r: &Report) -> String {
    let began = r.measurements.window.began_unix_ms;
    let title = format!("scaletest · {} · {}", r.config.platform, utc(began));
    let mut o = open_page(&title);
    let _ = write!(
        o,
        "<header><h1>Scale test report</h1>{}</header><p class=\"sub\">{} · {} · {} s · {}</p>",
        status_pill(r),
        escape(&r.config.platform),
        escape(&r.config.endpoint),
        chart::trim(r.duration_s),
        utc(began)
    );
    o.push_str(&verdict(r));
    o.push_str(&key_figures(r));
    o.push_str("<h2>Configuration</h2>");
    o.push_str(&configuration(r));
    o.push_str("<h2>Over time</h2><div class=\"charts\">");
    if r.measurements.series.rows.is_empty() {
        o.push_str("<p class=\"muted\">This report has no time series.</p>");
    }
    for c in charts(r) {
        if !r.measurements.series.rows.is_empty() {
            o.push_str(&chart::render(&c));
        }
    }
    for c in resource_charts(r) {
        o.push_str(&chart::render(&c));
    }
    o.push_str("</div><h2>Scenarios</h2>");
    o.push_str(&scenarios(r));
    if let Some(q) = &r.queries {
        o.push_str("<h2>Read load</h2>");
        o.push_str(&read_load(q));
    }
    o.push_str("<h2>Errors</h2>");
    o.push_str(&errors(r));
    if let Some(res) = &r.resources {
        o.push_str(
            "<h2>Components</h2><table><thead><tr><th>component</th><th>pid</th>\
             <th>CPU cores min / mean / max</th><th>RSS min / mean / max</th><th>samples</th>\
             </tr></thead><tbody>",
        );
        for c in &res.components {
            let mb = |v: f64| format!("{:.0} MB", v / 1e6);
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{:.2} / {:.2} / {:.2}</td><td>{} / {} / {}</td><td>{}</td></tr>",
                escape(&c.name),
                c.pid,
                c.cpu_cores.min,
                c.cpu_cores.mean,
                c.cpu_cores.max,
                mb(c.rss_bytes.min),
                mb(c.rss_bytes.mean),
                mb(c.rss_bytes.max),
                c.samples.len()
            );
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("<h2>Notes</h2>");
    if r.notes.is_empty() {
        o.push_str("<p class=\"muted\">Nothing to note: no span lost, no late start.</p>");
    } else {
        o.push_str("<ul class=\"notes\">");
        for note in &r.notes {
            let _ = write!(o, "<li>{}</li>", escape(&crate::render::note_text(note)));
        }
        o.push_str("</ul>");
    }
    o.push_str(&close_page());
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_escaping() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_709_251_199_000), "2024-02-29 23:59:59 UTC");
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn an_empty_report_still_renders() {
        let page = report_page(&Report::default());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("No thresholds set"));
        assert!(!page.contains("http://") && !page.contains("https://"), "nothing to fetch");
    }
}
