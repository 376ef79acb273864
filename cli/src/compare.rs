//! `scaletest compare BASE.json NEW.json`: the key figures of two runs side by side, the change
//! of each, and whether the change is real or within noise.
//!
//! **How noise is decided.** Every figure with a per-interval counterpart in the reports'
//! series (rates, latency percentiles, error rate, bytes per span, drops, CPU, memory) is
//! judged on the per-interval values of both runs with a two-sided **Mann-Whitney U test**
//! (normal approximation with tie correction and continuity correction; exact arithmetic, so
//! the verdict is deterministic without any seed). Only rows wholly inside the start window
//! count: the first and last (partial) intervals and the drain are left out. A change is
//! `better` or `worse` only when the test rejects "same distribution" at
//! [`ALPHA`] (1%) **and** the change of the run's figure is at least [`MIN_EFFECT`] (3%) of the
//! base; otherwise it is `within noise`. With fewer than [`MIN_SAMPLES`] intervals per run, no
//! test can be significant and such figures are `within noise` unless they differ by more than
//! [`NO_SAMPLES_TOLERANCE`]. Figures with no series counterpart (optional fields such as
//! stored spans or ingestion lag, once reports carry them) use that tolerance too.
//!
//! Reports are refused (exit 2) when their schema versions differ (never overridable), or when
//! their workloads differ (scenario mix, rate or stages, load model, platform, clock, latency
//! scale, protocol, compression, exporter): `--force` compares anyway and says what differs.
//!
//! `--fail-on 'export_p99_ms>+10%'` (repeatable) exits 3 when that figure changed beyond noise
//! in that direction and by more than the margin (`%` of the base, or an absolute amount).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use scenario_runtime::engine::report::Report;
use scenario_runtime::engine::series::Row;
use serde_json::Value;

use crate::html::{self, chart};
use crate::run::{EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_THRESHOLDS};

/// Significance level of the test.
pub const ALPHA: f64 = 0.01;
/// Smallest relative change called better or worse, however significant.
pub const MIN_EFFECT: f64 = 0.03;
/// Fewest per-interval samples per run for a test.
pub const MIN_SAMPLES: usize = 5;
/// Relative change within which a figure without samples counts as unchanged.
pub const NO_SAMPLES_TOLERANCE: f64 = 0.05;

/// Flags of `scaletest compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The reference run's JSON report.
    #[arg(value_name = "BASE.json")]
    pub base: PathBuf,
    /// The run to judge against it.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Exit with code 3 when a figure regressed beyond noise and beyond this margin, e.g.
    /// `export_p99_ms>+10%`, `traces_per_s<-5%`, `error_rate>+0.01`; repeatable.
    #[arg(long = "fail-on", value_name = "RULE")]
    pub fail_on: Vec<String>,
    /// Compare even when the workloads differ (never when the schema versions do).
    #[arg(long)]
    pub force: bool,
    /// Write the comparison as an HTML page with both runs' series overlaid.
    #[arg(long, value_name = "FILE")]
    pub html: Option<OsString>,
}

/// Which way is good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// The judgement of one figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    WithinNoise,
    /// One of the runs does not have the figure.
    Missing,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::WithinNoise => "within noise",
            Verdict::Missing => "–",
        }
    }
}

/// One compared figure.
#[derive(Clone, Debug)]
pub struct Figure {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub base: Option<f64>,
    pub new: Option<f64>,
    /// Two-sided p-value of the test, when there were enough samples.
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

impl Figure {
    /// `new - base`.
    pub fn change(&self) -> Option<f64> {
        Some(self.new? - self.base?)
    }

    /// `(new - base) / base`; `None` when the base is 0.
    pub fn relative(&self) -> Option<f64> {
        let (base, new) = (self.base?, self.new?);
        (base != 0.0).then(|| (new - base) / base.abs())
    }
}

/// A row's value of a figure and the seconds it covers.
type RowFn = fn(&Row, f64) -> Option<f64>;

fn per_s(n: u64, s: f64) -> Option<f64> {
    (s > 0.0).then(|| n as f64 / s)
}

fn micros(v: u32) -> Option<f64> {
    (v > 0).then(|| f64::from(v) / 1000.0)
}

/// A figure from the report, and its per-interval counterpart.
struct Def {
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    better: Better,
    total: fn(&Report) -> Option<f64>,
    row: Option<RowFn>,
}

/// The read load's p99 of one operation, when the run had it.
fn query_p99(r: &Report, op: &str) -> Option<f64> {
    let q = r.queries.as_ref()?.operations.iter().find(|o| o.op == op)?;
    (q.latency.count > 0).then_some(q.latency.p99_ms)
}

/// An interval's p99 of one read operation.
fn query_row_p99(row: &Row, op: &str) -> Option<f64> {
    row.queries.get(op).and_then(|q| micros(q.p99_ms))
}

fn defs() -> Vec<Def> {
    vec![
        Def {
            key: "traces_per_s",
            label: "traces started",
            unit: "/s",
            better: Better::Higher,
            total: |r| Some(r.throughput.traces_per_s),
            row: Some(|row, s| per_s(row.traces_started, s)),
        },
        Def {
            key: "spans_per_s",
            label: "spans created",
            unit: "/s",
            better: Better::Higher,
            total: |r| Some(r.throughput.spans_per_s),
            row: Some(|row, s| per_s(row.spans_created, s)),
        },
        Def {
            key: "spans_exported_per_s",
            label: "spans exported",
            unit: "/s",
            better: Better::Higher,
            total: |r| Some(r.spans.exported as f64 / r.duration_s.max(1e-9)),
            row: Some(|row, s| per_s(row.spans_exported, s)),
        },
        Def {
            key: "export_p50_ms",
            label: "export latency p50",
            unit: "ms",
            better: Better::Lower,
            total: |r| (r.export_latency.count > 0).then_some(r.export_latency.p50_ms),
            row: Some(|row, _| micros(row.export_p50_ms)),
        },
        Def {
            key: "export_p95_ms",
            label: "export latency p95",
            unit: "ms",
            better: Better::Lower,
            total: |r| (r.export_latency.count > 0).then_some(r.export_latency.p95_ms),
            row: Some(|row, _| micros(row.export_p95_ms)),
        },
        Def {
            key: "export_p99_ms",
            label: "export latency p99",
            unit: "ms",
            better: Better::Lower,
            total: |r| (r.export_latency.count > 0).then_some(r.export_latency.p99_ms),
            row: Some(|row, _| micros(row.export_p99_ms)),
        },
        Def {
            key: "scenario_p99_ms",
            label: "scenario latency p99",
            unit: "ms",
            better: Better::Lower,
            total: |r| (r.scenario_latency.count > 0).then_some(r.scenario_latency.p99_ms),
            row: Some(|row, _| micros(row.scenario_p99_ms)),
        },
        Def {
            key: "start_lag_p99_ms",
            label: "start lag p99",
            unit: "ms",
            better: Better::Lower,
            total: |r| (r.start_lag.count > 0).then_some(r.start_lag.p99_ms),
            row: Some(|row, _| micros(row.start_lag_p99_ms)),
        },
        Def {
            key: "error_rate",
            label: "request error rate",
            unit: "",
            better: Better::Lower,
            total: |r| Some(r.requests.error_rate),
            row: Some(|row, _| {
                let failed = row.requests_failed_total();
                let total = failed + row.requests_ok;
                (total > 0).then(|| failed as f64 / total as f64)
            }),
        },
        Def {
            key: "spans_dropped",
            label: "spans dropped",
            unit: "",
            better: Better::Lower,
            total: |r| Some(r.spans.dropped as f64),
            row: None,
        },
        Def {
            key: "wire_mb_per_s",
            label: "wire",
            unit: "MB/s",
            better: Better::Higher,
            total: |r| Some(r.throughput.wire_mb_per_s),
            row: Some(|row, s| per_s(row.wire_bytes, s).map(|b| b / 1e6)),
        },
        Def {
            key: "wire_bytes_per_span",
            label: "wire bytes per span",
            unit: "B",
            better: Better::Lower,
            total: |r| {
                (r.spans.exported > 0).then(|| r.bytes.wire as f64 / r.spans.exported as f64)
            },
            row: Some(|row, _| {
                (row.spans_exported > 0).then(|| row.wire_bytes as f64 / row.spans_exported as f64)
            }),
        },
        Def {
            key: "generator_cpu_percent",
            label: "generator CPU",
            unit: "%",
            better: Better::Lower,
            total: |r| Some(r.generator.cpu_percent),
            row: Some(|row, s| per_s(row.cpu_ms, s).map(|v| v / 10.0)),
        },
        Def {
            key: "generator_peak_rss_mb",
            label: "generator peak memory",
            unit: "MB",
            better: Better::Lower,
            total: |r| Some(r.generator.peak_rss_bytes as f64 / 1e6),
            row: Some(|row, _| Some(row.rss_bytes as f64 / 1e6)),
        },
        Def {
            key: "query_p99_ms[list]",
            label: "read list p99",
            unit: "ms",
            better: Better::Lower,
            total: |r| query_p99(r, "list"),
            row: Some(|row, _| query_row_p99(row, "list")),
        },
        Def {
            key: "query_p99_ms[get]",
            label: "read get p99",
            unit: "ms",
            better: Better::Lower,
            total: |r| query_p99(r, "get"),
            row: Some(|row, _| query_row_p99(row, "get")),
        },
        Def {
            key: "query_p99_ms[search]",
            label: "read search p99",
            unit: "ms",
            better: Better::Lower,
            total: |r| query_p99(r, "search"),
            row: Some(|row, _| query_row_p99(row, "search")),
        },
        Def {
            key: "query_p99_ms[count]",
            label: "read count p99",
            unit: "ms",
            better: Better::Lower,
            total: |r| query_p99(r, "count"),
            row: Some(|row, _| query_row_p99(row, "count")),
        },
    ]
}

/// Figures later report versions may carry (verification against the backend's read API,
/// ingestion lag): compared when both reports have them, by JSON pointer.
const OPTIONAL: [(&str, &str, &str, &str, Better); 6] = [
    ("spans_stored", "spans stored", "/verification/visible_at_end/spans", "", Better::Higher),
    ("traces_stored", "traces stored", "/verification/visible_at_end/traces", "", Better::Higher),
    (
        "spans_not_visible",
        "spans accepted, not visible",
        "/verification/spans_not_visible",
        "",
        Better::Lower,
    ),
    ("lag_p50_ms", "ingestion lag p50", "/verification/lag/p50_ms", "ms", Better::Lower),
    ("lag_p99_ms", "ingestion lag p99", "/verification/lag/p99_ms", "ms", Better::Lower),
    ("lag_max_ms", "ingestion lag, all visible", "/verification/lag/p100_ms", "ms", Better::Lower),
];

/// The per-interval values of a run that count: rows wholly inside the start window.
fn samples(report: &Report, f: RowFn) -> Vec<f64> {
    let timeline = html::timeline(report);
    let interval_s = report.measurements.series.interval_ms as f64 / 1000.0;
    let window = report.measurements.window.start_window_s;
    let n = timeline.len();
    timeline
        .into_iter()
        .enumerate()
        .filter(|(i, (end, _, secs))| {
            *i > 0
                && *i + 1 < n
                && (*secs - interval_s).abs() < 0.05 * interval_s
                && *end <= window + 1e-3
        })
        .filter_map(|(_, (_, row, secs))| f(row, secs))
        .filter(|v| v.is_finite())
        .collect()
}

/// Two-sided p-value of the Mann-Whitney U test of `a` against `b` (normal approximation with
/// tie and continuity corrections). 1 when either sample is empty or all values are equal.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let mut all: Vec<(f64, usize)> =
        a.iter().map(|v| (*v, 0)).chain(b.iter().map(|v| (*v, 1))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Mid-ranks for ties, and the tie correction term.
    let mut rank_a = 0.0;
    let mut ties = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_a += all[i..=j].iter().filter(|x| x.1 == 0).count() as f64 * rank;
        i = j + 1;
    }
    let u = rank_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * normal_upper_tail(z)).min(1.0)
}

/// P(Z > z) for a standard normal Z (Abramowitz and Stegun 7.1.26 through erfc; error below
/// 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-x * x).exp()
}

fn judge(better: Better, base: Option<f64>, new: Option<f64>, test: Option<(f64, f64)>) -> Verdict {
    let (Some(b), Some(n)) = (base, new) else { return Verdict::Missing };
    let relative =
        if b == 0.0 { if n == 0.0 { 0.0 } else { f64::INFINITY } } else { (n - b) / b.abs() };
    let real = match test {
        // (p-value, median shift sign agreement)
        Some((p, agrees)) => p < ALPHA && relative.abs() >= MIN_EFFECT && agrees > 0.0,
        None => relative.abs() > NO_SAMPLES_TOLERANCE,
    };
    if !real {
        return Verdict::WithinNoise;
    }
    let up = n > b;
    match (better, up) {
        (Better::Higher, true) | (Better::Lower, false) => Verdict::Better,
        _ => Verdict::Worse,
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    if !v.len().is_multiple_of(2) { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
}

/// Every figure of the two runs, judged.
pub fn figures(base: &Report, new: &Report, base_json: &Value, new_json: &Value) -> Vec<Figure> {
    let mut out = Vec::new();
    for d in defs() {
        let (b, n) = ((d.total)(base), (d.total)(new));
        // Read-load figures only when a run had a read load.
        if d.key.starts_with("query_") && b.is_none() && n.is_none() {
            continue;
        }
        let test = d.row.and_then(|f| {
            let (sb, sn) = (samples(base, f), samples(new, f));
            if sb.len() < MIN_SAMPLES || sn.len() < MIN_SAMPLES {
                return None;
            }
            let p = mann_whitney(&sb, &sn);
            // The samples must move the same way as the run's figure.
            let shift = median(&sn) - median(&sb);
            let agrees = match (b, n) {
                (Some(b), Some(n)) => shift * (n - b),
                _ => 0.0,
            };
            Some((p, agrees))
        });
        let few_samples = d.row.is_some() && test.is_none();
        let verdict = if few_samples && b.is_some() && n.is_some() {
            // Too few intervals to tell noise from change: never a verdict on the figure alone.
            Verdict::WithinNoise
        } else {
            judge(d.better, b, n, test)
        };
        out.push(Figure {
            key: d.key,
            label: d.label,
            unit: d.unit,
            base: b,
            new: n,
            p_value: test.map(|t| t.0),
            verdict,
        });
    }
    for (key, label, pointer, unit, better) in OPTIONAL {
        let (b, n) = (
            base_json.pointer(pointer).and_then(Value::as_f64),
            new_json.pointer(pointer).and_then(Value::as_f64),
        );
        if b.is_none() && n.is_none() {
            continue;
        }
        out.push(Figure {
            key,
            label,
            unit,
            base: b,
            new: n,
            p_value: None,
            verdict: judge(better, b, n, None),
        });
    }
    out
}

/// What makes two runs' workloads differ, in words; empty when they match.
pub fn workload_differences(base: &Report, new: &Report) -> Vec<String> {
    let (a, b) = (&base.config, &new.config);
    let mut out = Vec::new();
    let mix = |c: &scenario_runtime::engine::report::RunConfig| {
        c.mix
            .iter()
            .map(|m| format!("{} {:.3}", m.scenario, m.weight))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if mix(a) != mix(b) {
        out.push(format!("scenario mix: {} vs {}", mix(a), mix(b)));
    }
    let load = |c: &scenario_runtime::engine::report::RunConfig| {
        format!(
            "{} model, rate {:?}, stages {:?}, workers {:?}, max in flight {:?}",
            c.model, c.target_rate_per_s, c.stages, c.concurrency, c.max_in_flight
        )
    };
    if load(a) != load(b) {
        out.push(format!("rate/stages: {} vs {}", load(a), load(b)));
    }
    for (what, x, y) in [
        ("platform", &a.platform, &b.platform),
        ("clock", &a.clock, &b.clock),
        (
            "latency scale",
            &a.latency_scale.factor().to_string(),
            &b.latency_scale.factor().to_string(),
        ),
        ("protocol", &a.protocol, &b.protocol),
        ("compression", &a.compression, &b.compression),
        ("exporter", &a.exporter, &b.exporter),
    ] {
        if x != y {
            out.push(format!("{what}: {x} vs {y}"));
        }
    }
    out
}

/// A `--fail-on` rule: `METRIC>+10%`, `METRIC<-5%`, `METRIC>+20` (absolute).
#[derive(Clone, Debug, PartialEq)]
pub struct FailOn {
    pub text: String,
    pub key: String,
    /// `true`: fails on an increase; `false`: on a decrease.
    pub increase: bool,
    pub margin: f64,
    pub percent: bool,
}

impl FailOn {
    pub fn parse(text: &str) -> Result<FailOn, String> {
        let keys: Vec<&str> =
            defs().iter().map(|d| d.key).chain(OPTIONAL.iter().map(|o| o.0)).collect();
        let t = text.trim();
        let at = t.find(['>', '<']).ok_or_else(|| {
            format!("invalid --fail-on `{t}`: expected METRIC>+N% or METRIC<-N% such as export_p99_ms>+10%")
        })?;
        let key = t[..at].trim().to_owned();
        if !keys.contains(&key.as_str()) {
            return Err(format!(
                "invalid --fail-on `{t}`: unknown figure `{key}`; expected one of {}",
                keys.join(", ")
            ));
        }
        let increase = t[at..].starts_with('>');
        let rest = t[at + 1..].trim();
        let (number, percent) = match rest.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (rest, false),
        };
        let margin: f64 = number.parse().map_err(|_| {
            format!("invalid --fail-on `{t}`: `{rest}` is not a change such as +10% or -5%")
        })?;
        if !margin.is_finite() {
            return Err(format!("invalid --fail-on `{t}`: expected a finite change"));
        }
        Ok(FailOn { text: t.to_owned(), key, increase, margin: margin.abs(), percent })
    }

    /// Whether `figure` breaks the rule: a change beyond noise, in the rule's direction, larger
    /// than the margin.
    pub fn broken_by(&self, figure: &Figure) -> bool {
        if figure.key != self.key || !matches!(figure.verdict, Verdict::Better | Verdict::Worse) {
            return false;
        }
        let Some(change) = figure.change() else { return false };
        let amount = if self.percent {
            match figure.relative() {
                Some(r) => r * 100.0,
                None => f64::INFINITY.copysign(change),
            }
        } else {
            change
        };
        if self.increase { amount > self.margin } else { -amount > self.margin }
    }
}

fn number(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "–".to_owned(),
        Some(v) if unit.is_empty() && v.abs() < 1.0 && v != 0.0 => format!("{v:.4}"),
        Some(v) => {
            let s = chart::value_label(v);
            if unit.is_empty() { s } else { format!("{s} {unit}") }
        }
    }
}

fn change_text(f: &Figure) -> String {
    match (f.change(), f.relative()) {
        (None, _) => "–".to_owned(),
        (Some(c), Some(r)) => {
            format!("{:+.1}%", r * 100.0).replace("+-", "-")
                + &format!(" ({}{})", if c >= 0.0 { "+" } else { "" }, chart::value_label(c))
        }
        (Some(c), None) => format!("{}{}", if c >= 0.0 { "+" } else { "" }, chart::value_label(c)),
    }
}

/// The comparison as text.
pub fn text(figures: &[Figure], forced: &[String]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\nComparison (new vs base): Mann-Whitney U on per-interval values, p < {ALPHA} and at least {}% change to count",
        MIN_EFFECT * 100.0
    );
    for d in forced {
        let _ = writeln!(o, "warning: workloads differ (--force): {d}");
    }
    let _ = writeln!(o, "{:<24} {:>14} {:>14} {:>22}  verdict", "figure", "base", "new", "change");
    for f in figures {
        let p = f.p_value.map_or(String::new(), |p| format!(" (p={p:.3})"));
        let _ = writeln!(
            o,
            "{:<24} {:>14} {:>14} {:>22}  {}{p}",
            f.key,
            number(f.base, f.unit),
            number(f.new, f.unit),
            change_text(f),
            f.verdict.word()
        );
    }
    o
}

/// The comparison page: the table, then both runs' series overlaid.
pub fn page(
    base: &Report,
    new: &Report,
    figures: &[Figure],
    failed: &[String],
    forced: &[String],
) -> String {
    let mut o = html::open_page("scaletest comparison");
    let worse = figures.iter().filter(|f| f.verdict == Verdict::Worse).count();
    let better = figures.iter().filter(|f| f.verdict == Verdict::Better).count();
    let _ = write!(
        o,
        "<header><h1>Run comparison</h1><span class=\"pill {}\">{} worse · {} better</span></header>\
         <p class=\"sub\">base {} · {} &nbsp;→&nbsp; new {} · {}</p>",
        if worse > 0 { "bad" } else { "ok" },
        worse,
        better,
        html::escape(&base.config.endpoint),
        html::utc(base.measurements.window.began_unix_ms),
        html::escape(&new.config.endpoint),
        html::utc(new.measurements.window.began_unix_ms),
    );
    if !failed.is_empty() || !forced.is_empty() {
        o.push_str("<div class=\"verdict bad\"><ul>");
        for f in failed {
            let _ = write!(
                o,
                "<li><b style=\"color:var(--bad)\">✗</b><code>{}</code> regressed</li>",
                html::escape(f)
            );
        }
        for d in forced {
            let _ =
                write!(o, "<li>workloads differ (compared with --force): {}</li>", html::escape(d));
        }
        o.push_str("</ul></div>");
    }
    let _ = write!(
        o,
        "<h2>Key figures</h2><p class=\"muted\">A change counts when a Mann-Whitney U test on the per-interval values rejects \
         &ldquo;same distribution&rdquo; at p &lt; {ALPHA} and the figure moved at least {}%.</p>\
         <table><thead><tr><th>figure</th><th>base</th><th>new</th><th>change</th><th>p</th><th>verdict</th></tr></thead><tbody>",
        MIN_EFFECT * 100.0
    );
    for f in figures {
        let color = match f.verdict {
            Verdict::Better => "var(--ok)",
            Verdict::Worse => "var(--bad)",
            _ => "var(--muted)",
        };
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style=\"color:{color};font-weight:600\">{}</td></tr>",
            html::escape(f.label),
            html::escape(&number(f.base, f.unit)),
            html::escape(&number(f.new, f.unit)),
            html::escape(&change_text(f)),
            f.p_value.map_or("–".to_owned(), |p| format!("{p:.3}")),
            f.verdict.word()
        );
    }
    o.push_str("</tbody></table><h2>Over time</h2><p class=\"muted\">Dashed: base; solid: new. Time since each run's start.</p><div class=\"charts\">");
    let x_max = html::x_end(base).max(html::x_end(new));
    let (marks, shade) = html::marks(new);
    for def in html::chart_defs(&[base, new]) {
        let mut lines = Vec::new();
        for (i, (name, f)) in def.lines.iter().enumerate() {
            let color = chart::PALETTE[i % chart::PALETTE.len()];
            lines.push(chart::Line {
                name: format!("{name} (base)"),
                color,
                dashed: true,
                points: html::points(base, f),
            });
            lines.push(chart::Line {
                name: format!("{name} (new)"),
                color,
                dashed: false,
                points: html::points(new, f),
            });
        }
        o.push_str(&chart::render(&chart::Chart {
            id: def.id.to_owned(),
            title: def.title.to_owned(),
            unit: def.unit.to_owned(),
            lines,
            marks: marks.clone(),
            shade: shade.clone(),
            x_max,
            x_unit: None,
        }));
    }
    o.push_str("</div>");
    o.push_str(&html::close_page());
    o
}

pub fn main(args: CompareArgs) -> ExitCode {
    let bad = |e: String| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_BAD_INPUT)
    };
    let rules = match args.fail_on.iter().map(|t| FailOn::parse(t)).collect::<Result<Vec<_>, _>>() {
        Ok(rules) => rules,
        Err(e) => return bad(e),
    };
    let (base, base_json) = match crate::report_cmd::load(&args.base) {
        Ok(r) => r,
        Err(e) => return bad(format!("cannot compare: {e}")),
    };
    let (new, new_json) = match crate::report_cmd::load(&args.new) {
        Ok(r) => r,
        Err(e) => return bad(format!("cannot compare: {e}")),
    };
    let differences = workload_differences(&base, &new);
    if !differences.is_empty() && !args.force {
        return bad(format!(
            "the workloads differ, so the comparison would be unfair:\n  {}\n(--force compares anyway)",
            differences.join("\n  ")
        ));
    }
    let figures = figures(&base, &new, &base_json, &new_json);
    let failed: Vec<String> = rules
        .iter()
        .filter(|rule| figures.iter().any(|f| rule.broken_by(f)))
        .map(|rule| rule.text.clone())
        .collect();
    print!("{}", text(&figures, &differences));
    for f in &failed {
        println!("regression: {f}");
    }
    if let Some(out) = &args.html {
        let out = PathBuf::from(out);
        if let Err(e) = std::fs::write(&out, page(&base, &new, &figures, &failed, &differences)) {
            eprintln!("error: cannot write the HTML comparison to `{}`: {e}", out.display());
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    }
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_THRESHOLDS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mann_whitney_separates_shifted_samples_only() {
        let a: Vec<f64> = (0..20).map(|i| 10.0 + (i % 5) as f64 * 0.1).collect();
        let same: Vec<f64> = (0..20).map(|i| 10.0 + ((i + 2) % 5) as f64 * 0.1).collect();
        let shifted: Vec<f64> = a.iter().map(|v| v + 5.0).collect();
        assert!(mann_whitney(&a, &same) > 0.5);
        assert!(mann_whitney(&a, &shifted) < 1e-6);
        assert_eq!(mann_whitney(&[], &a), 1.0);
        assert_eq!(mann_whitney(&[1.0; 5], &[1.0; 5]), 1.0);
        // The tail: P(|Z| > 1.96) = 0.05.
        assert!((2.0 * normal_upper_tail(1.959_964) - 0.05).abs() < 1e-6);
    }

    #[test]
    fn slower_agents_are_another_workload() {
        let base = Report::default();
        let mut slower = base.clone();
        slower.config.latency_scale = scenario_runtime::LatencyScale::new(2.0).unwrap_or_default();
        assert!(workload_differences(&base, &base).is_empty());
        assert_eq!(workload_differences(&base, &slower), ["latency scale: 1 vs 2"]);
    }

    #[test]
    fn verdicts_need_significance_and_size() {
        assert_eq!(
            judge(Better::Lower, Some(10.0), Some(10.1), Some((1e-9, 1.0))),
            Verdict::WithinNoise
        );
        assert_eq!(judge(Better::Lower, Some(10.0), Some(20.0), Some((1e-9, 1.0))), Verdict::Worse);
        assert_eq!(
            judge(Better::Lower, Some(10.0), Some(20.0), Some((0.2, 1.0))),
            Verdict::WithinNoise
        );
        assert_eq!(
            judge(Better::Higher, Some(10.0), Some(20.0), Some((1e-9, 1.0))),
            Verdict::Better
        );
        assert_eq!(judge(Better::Lower, None, Some(20.0), None), Verdict::Missing);
        assert_eq!(judge(Better::Lower, Some(0.0), Some(3.0), None), Verdict::Worse);
    }

    #[test]
    fn fail_on_rules() {
        let rule = FailOn::parse("export_p99_ms>+10%").unwrap();
        assert!(rule.increase && rule.percent && rule.margin == 10.0);
        let mut f = Figure {
            key: "export_p99_ms",
            label: "",
            unit: "ms",
            base: Some(10.0),
            new: Some(12.0),
            p_value: Some(0.0),
            verdict: Verdict::Worse,
        };
        assert!(rule.broken_by(&f));
        f.new = Some(10.5);
        assert!(!rule.broken_by(&f), "5% is within the margin");
        f.new = Some(12.0);
        f.verdict = Verdict::WithinNoise;
        assert!(!rule.broken_by(&f), "noise never fails");
        assert!(FailOn::parse("traces_per_s<-5%").is_ok_and(|r| !r.increase));
        assert!(FailOn::parse("nope>1%").unwrap_err().contains("unknown figure"));
        assert!(FailOn::parse("export_p99_ms").is_err());
    }
}
