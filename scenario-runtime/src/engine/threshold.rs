//! `--threshold 'export_p99_ms<500'`: pass/fail rules on report metrics.
//!
//! A rule is `METRIC OP NUMBER` with `OP` one of `<`, `<=`, `>`, `>=`, `==`. Metrics are flat
//! names for values of the report ([`METRICS`], documented in `docs/report-schema.md`). Rules are
//! evaluated on the final report (and, with `--abort-on-fail`, every second during the run);
//! any failing rule makes `scaletest run` exit with code 3.

use crate::engine::measure::QueryMeasurements;
use crate::engine::query::QueryOp;
use crate::engine::report::{Report, ScenarioReport, ThresholdResult};

/// A metric: its name (its meaning is documented in `docs/report-schema.md`) and how to read it off a report (`None`: not measured in
/// this run, e.g. delivery figures against an external endpoint).
pub struct Metric {
    pub name: &'static str,
    pub read: fn(&Report) -> Option<f64>,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

fn status_class(r: &Report, class: u16) -> f64 {
    r.requests
        .by_status
        .iter()
        .filter(|(code, _)| code.parse::<u16>().is_ok_and(|c| c / 100 == class))
        .map(|(_, n)| *n as f64)
        .sum()
}

/// Stored over accepted, in the unit the read-back counted (spans where it can count them);
/// `None` when storage was not verified or never counted.
fn stored_rate(r: &Report) -> Option<f64> {
    let v = r.verification.as_ref()?;
    if v.outcome == crate::engine::verify::Outcome::OtherTraffic {
        return None;
    }
    let seen = v.visible_at_end.as_ref()?;
    match (seen.spans, seen.traces) {
        (Some(spans), _) if v.spans_accepted > 0 => Some(spans as f64 / v.spans_accepted as f64),
        (_, Some(traces)) if v.traces_accepted > 0 => {
            Some(traces as f64 / v.traces_accepted as f64)
        }
        _ => None,
    }
}

/// Ingestion lag in seconds at one level (`p50`, `p99`, `p100`).
fn lag_s(r: &Report, pick: fn(&crate::engine::verify::Lag) -> Option<u64>) -> Option<f64> {
    let lag = r.verification.as_ref()?.lag.as_ref()?;
    pick(lag).map(|ms| ms as f64 / 1000.0)
}

/// Every metric a threshold may name.
pub const METRICS: &[Metric] = &[
    Metric { name: "duration_s", read: |r| Some(r.duration_s) },
    Metric { name: "traces_started", read: |r| Some(r.traces.started as f64) },
    Metric { name: "traces_completed", read: |r| Some(r.traces.completed as f64) },
    Metric { name: "traces_failed", read: |r| Some(r.traces.failed as f64) },
    Metric { name: "traces_late", read: |r| Some(r.traces.late as f64) },
    Metric { name: "traces_missed", read: |r| Some(r.traces.missed as f64) },
    Metric { name: "traces_held", read: |r| Some(r.traces.held as f64) },
    Metric { name: "success_rate", read: |r| Some(r.traces.success_rate) },
    Metric {
        name: "late_rate",
        read: |r| Some(ratio(r.traces.late + r.traces.missed, r.traces.started + r.traces.missed)),
    },
    Metric { name: "traces_per_s", read: |r| Some(r.throughput.traces_per_s) },
    Metric { name: "spans_per_s", read: |r| Some(r.throughput.spans_per_s) },
    Metric { name: "accepted_spans_per_s", read: |r| Some(r.throughput.accepted_spans_per_s) },
    Metric { name: "wire_mb_per_s", read: |r| Some(r.throughput.wire_mb_per_s) },
    Metric { name: "scenario_p50_ms", read: |r| Some(r.scenario_latency.p50_ms) },
    Metric { name: "scenario_p95_ms", read: |r| Some(r.scenario_latency.p95_ms) },
    Metric { name: "scenario_p99_ms", read: |r| Some(r.scenario_latency.p99_ms) },
    Metric { name: "scenario_max_ms", read: |r| Some(r.scenario_latency.max_ms) },
    Metric { name: "export_p50_ms", read: |r| Some(r.export_latency.p50_ms) },
    Metric { name: "export_p95_ms", read: |r| Some(r.export_latency.p95_ms) },
    Metric { name: "export_p99_ms", read: |r| Some(r.export_latency.p99_ms) },
    Metric { name: "export_max_ms", read: |r| Some(r.export_latency.max_ms) },
    Metric { name: "start_lag_p99_ms", read: |r| Some(r.start_lag.p99_ms) },
    Metric { name: "spans_created", read: |r| Some(r.spans.created as f64) },
    Metric { name: "spans_exported", read: |r| Some(r.spans.exported as f64) },
    Metric { name: "spans_dropped", read: |r| Some(r.spans.dropped as f64) },
    Metric { name: "drop_rate", read: |r| Some(ratio(r.spans.dropped, r.spans.created)) },
    Metric {
        name: "span_loss_rate",
        read: |r| Some(ratio(r.spans.created.saturating_sub(r.spans.exported), r.spans.created)),
    },
    Metric { name: "spans_unknown", read: |r| Some(r.spans.unknown as f64) },
    Metric { name: "traces_delivered", read: |r| Some(r.traces.delivered as f64) },
    Metric {
        name: "trace_loss_rate",
        read: |r| {
            Some(ratio(r.traces.started.saturating_sub(r.traces.delivered), r.traces.started))
        },
    },
    Metric { name: "dropped_starts", read: |r| Some(r.traces.dropped_starts as f64) },
    Metric { name: "stored_rate", read: stored_rate },
    Metric {
        name: "spans_not_visible",
        read: |r| r.verification.as_ref()?.spans_not_visible.map(|n| n as f64),
    },
    Metric { name: "ingest_lag_p50_s", read: |r| lag_s(r, |l| l.p50_ms) },
    Metric { name: "ingest_lag_p99_s", read: |r| lag_s(r, |l| l.p99_ms) },
    Metric { name: "ingest_lag_max_s", read: |r| lag_s(r, |l| l.p100_ms) },
    Metric { name: "requests_total", read: |r| Some(r.requests.total as f64) },
    Metric { name: "requests_failed", read: |r| Some(r.requests.failed as f64) },
    Metric { name: "error_rate", read: |r| Some(r.requests.error_rate) },
    Metric { name: "requests_4xx", read: |r| Some(status_class(r, 4)) },
    Metric { name: "requests_5xx", read: |r| Some(status_class(r, 5)) },
    Metric { name: "requests_timeout", read: |r| Some(r.requests.timeout as f64) },
    Metric { name: "bytes_wire", read: |r| Some(r.bytes.wire as f64) },
    Metric {
        name: "delivery_missing_spans",
        read: |r| r.delivery.as_ref().map(|d| d.spans_sent.saturating_sub(d.spans_received) as f64),
    },
    Metric { name: "orphan_spans", read: |r| r.delivery.as_ref().map(|d| d.orphan_spans as f64) },
    Metric { name: "cpu_percent", read: |r| Some(r.generator.cpu_percent) },
    Metric { name: "peak_rss_mb", read: |r| Some(r.generator.peak_rss_bytes as f64 / 1e6) },
];

/// Reads a metric off one scenario's entry.
pub type ScenarioRead = fn(&ScenarioReport) -> f64;

/// Metrics a rule may scope to one scenario of the mix, as in
/// `scenario_p99_ms[simple_query]<3000`.
pub const SCENARIO_METRICS: &[(&str, ScenarioRead)] = &[
    ("scenario_p50_ms", |s| s.latency.p50_ms),
    ("scenario_p95_ms", |s| s.latency.p95_ms),
    ("scenario_p99_ms", |s| s.latency.p99_ms),
    ("scenario_max_ms", |s| s.latency.max_ms),
    ("traces_started", |s| s.started as f64),
    ("traces_completed", |s| s.completed as f64),
    ("traces_failed", |s| s.failed as f64),
    ("success_rate", |s| ratio(s.completed, s.completed + s.failed)),
];

/// Reads a metric off one read operation's measurements (`--query-rate`).
pub type QueryRead = fn(&QueryMeasurements) -> f64;

/// Metrics of the read load. Scoped to one operation (`query_p99_ms[list]<2000`) or, unscoped,
/// of all operations together (histograms and counters merged).
pub const QUERY_METRICS: &[(&str, QueryRead)] = &[
    ("query_p50_ms", |q| q.latency.quantile_ms(0.50).unwrap_or(0.0)),
    ("query_p95_ms", |q| q.latency.quantile_ms(0.95).unwrap_or(0.0)),
    ("query_p99_ms", |q| q.latency.quantile_ms(0.99).unwrap_or(0.0)),
    ("query_max_ms", |q| q.latency.quantile_ms(1.0).unwrap_or(0.0)),
    ("query_error_rate", |q| ratio(q.started.saturating_sub(q.ok), q.started)),
    ("queries_started", |q| q.started as f64),
    ("queries_ok", |q| q.ok as f64),
    ("query_rows", |q| q.rows as f64),
];

/// The measurements a query rule looks at: one operation's, or all merged; `None` when the run
/// had no read load (or not this operation).
fn query_measurements(report: &Report, op: Option<&str>) -> Option<QueryMeasurements> {
    let all = &report.measurements.queries;
    match op {
        Some(op) => all.iter().find(|q| q.op == op).cloned(),
        None if all.is_empty() => None,
        None => Some(all.iter().fold(QueryMeasurements::new("all"), |mut sum, q| {
            sum.merge(q);
            sum
        })),
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Op {
    fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::Lt => value < limit,
            Op::Le => value <= limit,
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
            Op::Eq => (value - limit).abs() <= f64::EPSILON * limit.abs().max(1.0),
        }
    }
}

/// One parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub expression: String,
    pub metric: &'static str,
    /// The scenario a per-scenario rule looks at.
    pub scenario: Option<String>,
    /// A read-load rule: the operation it looks at (`all`: every operation together).
    pub query_op: Option<&'static str>,
    pub op: Op,
    pub limit: f64,
}

impl Threshold {
    /// Parses `METRIC OP NUMBER`; the error names the bad part and lists what is expected.
    /// `scenarios`: the names a per-scenario rule may scope to.
    pub fn parse(text: &str, scenarios: &[&str]) -> Result<Threshold, String> {
        let expression = text.trim().to_owned();
        // The first comparison character starts the operator; a following `=` extends it.
        let found = expression.find(['<', '>', '=']).and_then(|at| {
            let rest = &expression[at..];
            let op = match (rest.as_bytes()[0], rest.as_bytes().get(1)) {
                (b'<', Some(b'=')) => (Op::Le, 2),
                (b'>', Some(b'=')) => (Op::Ge, 2),
                (b'=', Some(b'=')) => (Op::Eq, 2),
                (b'<', _) => (Op::Lt, 1),
                (b'>', _) => (Op::Gt, 1),
                _ => return None,
            };
            Some((at, op.1, op.0))
        });
        let Some((at, len, op_kind)) = found else {
            return Err(format!(
                "invalid threshold `{expression}`: expected METRIC OP NUMBER with OP one of \
                 < <= > >= == (e.g. `export_p99_ms<500`)"
            ));
        };
        let name = expression[..at].trim();
        let limit_text = expression[at + len..].trim();
        let (name, scenario) = match name.strip_suffix(']').and_then(|n| n.split_once('[')) {
            Some((base, scope)) => (base.trim(), Some(scope.trim().to_owned())),
            None => (name, None),
        };
        let canonical = canonical_name(name);
        if let Some((metric, _)) = QUERY_METRICS.iter().find(|(m, _)| *m == canonical) {
            let op = match &scenario {
                Some(scope) => Some(
                    QueryOp::parse(scope)
                        .map_err(|e| format!("{e} (in threshold `{expression}`)"))?,
                ),
                None => None,
            };
            let limit = match limit_text.parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    return Err(format!(
                        "invalid threshold limit `{limit_text}` in `{expression}`: expected a number"
                    ));
                }
            };
            return Ok(Threshold {
                expression,
                metric,
                scenario: None,
                query_op: Some(op.map_or("all", QueryOp::name)),
                op: op_kind,
                limit,
            });
        }
        let metric = match &scenario {
            None => METRICS.iter().find(|m| m.name == canonical).map(|m| m.name),
            Some(scope) => {
                if !scenarios.contains(&scope.as_str()) {
                    return Err(format!(
                        "unknown scenario `{scope}` in threshold `{expression}`: expected one of {}",
                        scenarios.join(", ")
                    ));
                }
                let Some((metric, _)) = SCENARIO_METRICS.iter().find(|(m, _)| *m == canonical)
                else {
                    return Err(format!(
                        "threshold metric `{name}` in `{expression}` cannot be scoped to a \
                         scenario: expected one of {}",
                        SCENARIO_METRICS.iter().map(|(m, _)| *m).collect::<Vec<_>>().join(", ")
                    ));
                };
                Some(*metric)
            }
        };
        let Some(metric) = metric else {
            return Err(format!(
                "unknown threshold metric `{name}` in `{expression}`: expected one of {}",
                METRICS
                    .iter()
                    .map(|m| m.name)
                    .chain(QUERY_METRICS.iter().map(|(m, _)| *m))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let limit = match limit_text.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                return Err(format!(
                    "invalid threshold limit `{limit_text}` in `{expression}`: expected a number"
                ));
            }
        };
        Ok(Threshold { expression, metric, scenario, query_op: None, op: op_kind, limit })
    }

    /// Evaluates the rule on `report`. A metric not measured in this run fails the rule.
    pub fn evaluate(&self, report: &Report) -> ThresholdResult {
        let value = match (&self.scenario, self.query_op) {
            (_, Some(op)) => {
                let read = QUERY_METRICS.iter().find(|(m, _)| *m == self.metric).map(|(_, r)| r);
                let scope = (op != "all").then_some(op);
                read.zip(query_measurements(report, scope)).map(|(read, q)| read(&q))
            }
            (None, None) => {
                METRICS.iter().find(|m| m.name == self.metric).and_then(|m| (m.read)(report))
            }
            (Some(scope), None) => {
                let read = SCENARIO_METRICS.iter().find(|(m, _)| *m == self.metric).map(|(_, r)| r);
                let scenario = report.scenarios.iter().find(|s| s.name == *scope);
                read.zip(scenario).map(|(read, scenario)| read(scenario))
            }
        };
        ThresholdResult {
            expression: self.expression.clone(),
            metric: match (&self.scenario, self.query_op) {
                (_, Some("all")) => self.metric.to_owned(),
                (_, Some(op)) => format!("{}[{op}]", self.metric),
                (Some(scope), None) => format!("{}[{scope}]", self.metric),
                (None, None) => self.metric.to_owned(),
            },
            value,
            passed: value.is_some_and(|v| self.op.holds(v, self.limit)),
        }
    }
}

/// Accepts the percentile first, as in `p99_export_ms`, for `export_p99_ms`.
fn canonical_name(name: &str) -> String {
    for p in ["p50", "p95", "p99"] {
        if let Some(middle) = name
            .strip_prefix(p)
            .and_then(|r| r.strip_prefix('_'))
            .and_then(|r| r.strip_suffix("_ms"))
        {
            return format!("{middle}_{p}_ms");
        }
    }
    name.to_owned()
}

/// Evaluates every rule.
pub fn evaluate_all(thresholds: &[Threshold], report: &Report) -> Vec<ThresholdResult> {
    thresholds.iter().map(|t| t.evaluate(report)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["simple_query", "delegated_booking"];

    #[test]
    fn parses_and_evaluates() {
        let mut report = Report::default();
        report.export_latency.p99_ms = 120.0;
        report.requests.error_rate = 0.02;
        let t =
            Threshold::parse("export_p99_ms < 500", KNOWN).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(t.evaluate(&report).passed);
        let t = Threshold::parse("error_rate<=0.01", KNOWN).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(t.op, Op::Le);
        let result = t.evaluate(&report);
        assert!(!result.passed && result.value.is_some_and(|v| (v - 0.02).abs() < 1e-12));
        let t =
            Threshold::parse("p99_export_ms<500", KNOWN).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(t.metric, "export_p99_ms");
        let t =
            Threshold::parse("traces_started>=0", KNOWN).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(t.op, Op::Ge);
        // Delivery is not measured against an external endpoint: the rule fails.
        let t = Threshold::parse("orphan_spans==0", KNOWN).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!t.evaluate(&report).passed);
    }

    #[test]
    fn rules_scoped_to_one_scenario() {
        let mut report = Report::default();
        report.scenarios.push(ScenarioReport {
            name: "simple_query".into(),
            completed: 9,
            failed: 1,
            latency: crate::engine::report::Percentiles { p99_ms: 2500.0, ..Default::default() },
            ..Default::default()
        });
        let t = Threshold::parse("scenario_p99_ms[simple_query]<3000", KNOWN)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let result = t.evaluate(&report);
        assert!(result.passed && result.metric == "scenario_p99_ms[simple_query]", "{result:?}");
        let t = Threshold::parse("success_rate[simple_query]>=0.95", KNOWN)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!t.evaluate(&report).passed);
        // A scenario not in the mix has no value: the rule fails.
        let t = Threshold::parse("traces_started[delegated_booking]>=0", KNOWN)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!t.evaluate(&report).passed);
        let err = Threshold::parse("scenario_p99_ms[nope]<1", KNOWN).unwrap_err();
        assert!(err.contains("`nope`") && err.contains("simple_query"), "{err}");
        let err = Threshold::parse("error_rate[simple_query]<1", KNOWN).unwrap_err();
        assert!(err.contains("cannot be scoped"), "{err}");
    }

    #[test]
    fn rules_on_the_read_load() {
        let mut report = Report::default();
        let t = Threshold::parse("query_p99_ms[list]<2000", KNOWN)
            .unwrap_or_else(|e| unreachable!("{e}"));
        // No read load: not measured, the rule fails.
        assert!(!t.evaluate(&report).passed);
        let mut list = QueryMeasurements::new("list");
        let mut get = QueryMeasurements::new("get");
        for ms in [10, 20, 3000] {
            list.latency.record(std::time::Duration::from_millis(ms));
        }
        list.started = 4;
        list.ok = 3;
        get.started = 6;
        get.ok = 6;
        get.latency.record(std::time::Duration::from_millis(5));
        report.measurements.queries = vec![list, get];
        let result = t.evaluate(&report);
        assert!(!result.passed && result.metric == "query_p99_ms[list]", "{result:?}");
        let t = Threshold::parse("query_p50_ms[get]<=5.1", KNOWN)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(t.evaluate(&report).passed);
        let t = Threshold::parse("query_error_rate<0.11", KNOWN)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let result = t.evaluate(&report);
        assert!(result.passed && result.value == Some(0.1), "{result:?}");
        let t = Threshold::parse("query_error_rate[search]<1", KNOWN)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!t.evaluate(&report).passed, "an operation not run fails its rules");
        let err = Threshold::parse("query_p99_ms[lists]<1", KNOWN).unwrap_err();
        assert!(err.contains("`lists`") && err.contains("list, get, search, count"), "{err}");
    }

    #[test]
    fn names_what_is_wrong() {
        let err = Threshold::parse("p99<5", KNOWN).unwrap_err();
        assert!(err.contains("`p99`") && err.contains("export_p99_ms"), "{err}");
        assert!(Threshold::parse("error_rate<abc", KNOWN).unwrap_err().contains("`abc`"));
        assert!(Threshold::parse("error_rate", KNOWN).unwrap_err().contains("OP"));
    }
}
