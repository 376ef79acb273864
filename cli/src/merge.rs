//! `scaletest merge`: combines the JSON reports of a sharded run's shards into one report.
//!
//! Exact: the shards' `measurements` are merged (counters add, histograms add bucket by bucket,
//! series rows add by their absolute start) and the report is built from them by the same
//! [`report::build`] as a run's, so totals, rates and percentiles are those one process that
//! had seen every sample would report. Each shard's own figures are listed in `shards`.
//!
//! Refused with exit code 2, naming the files: a report that is not a shard's, shards of
//! different plans (`plan_id`) or shard counts, a shard given twice, and a missing shard (unless
//! `--partial`, which merges what is there and says so in a note). A shard that started late is
//! merged with a note. Thresholds are evaluated on the merged report (exit code 3).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use scenario_runtime::engine::measure::Measurements;
use scenario_runtime::engine::report::{
    self, Context, Delivery, Note, Report, RunConfig, RunStatus, ShardSummary, StartAt,
};
use scenario_runtime::engine::threshold::{self, Threshold};

use crate::run::{EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_THRESHOLDS};

/// Flags of `scaletest merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON reports (`scaletest run --shard I/N --json ...`), one per shard.
    #[arg(value_name = "REPORT.json", required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    /// Write the merged report as JSON to this file (`-`: standard output; the text summary
    /// then goes to standard error).
    #[arg(long, value_name = "FILE")]
    pub json: Option<OsString>,
    /// Write the merged report as one self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<OsString>,
    /// Pass/fail rule on a metric of the merged report, e.g. `export_p99_ms<500`; repeatable.
    /// Failing rules exit with code 3.
    #[arg(long, value_delimiter = ',')]
    pub threshold: Vec<String>,
    /// Merge even when some shards are missing (the report says which).
    #[arg(long)]
    pub partial: bool,
}

/// One shard's report and where it came from.
pub struct ShardReport {
    pub file: String,
    pub report: Report,
}

fn worse(a: RunStatus, b: RunStatus) -> RunStatus {
    let rank = |s: RunStatus| match s {
        RunStatus::Completed => 0,
        RunStatus::Interrupted => 1,
        RunStatus::Aborted => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// A sum of shares of a rate, without the last bits float division leaves.
fn tidy(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// The merged report (thresholds not evaluated); the error says what makes the merge
/// meaningless, naming the files.
pub fn merge(mut shards: Vec<ShardReport>, partial: bool) -> Result<Report, String> {
    let Some(first) = shards.first() else { return Err("no report to merge".to_owned()) };
    for s in &shards {
        if s.report.shard.is_none() {
            return Err(format!(
                "`{}` is not a shard's report (its `shard` is null): expected reports of \
                 `scaletest run --shard I/N` or `--shards N`",
                s.file
            ));
        }
    }
    let count = first.report.shard.map_or(0, |s| s.count);
    let (plan_id, first_file) = (first.report.plan_id.clone(), first.file.clone());
    for s in &shards {
        let id = s
            .report
            .shard
            .unwrap_or(scenario_runtime::engine::shard::ShardId { index: 0, count: 0 });
        if id.count != count {
            return Err(format!(
                "`{}` is shard {id} but `{first_file}` is one of {count}: expected shards of \
                 one run, with the same number of shards",
                s.file
            ));
        }
        if s.report.plan_id != plan_id {
            return Err(format!(
                "`{}` (plan {}) and `{first_file}` (plan {plan_id}) are shards of different \
                 plans: expected the same settings and --start-at in every shard",
                s.file, s.report.plan_id
            ));
        }
    }
    shards.sort_by_key(|s| s.report.shard.map_or(0, |id| id.index));
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for s in &shards {
        let index = s.report.shard.map_or(0, |id| id.index);
        if let Some(other) = seen.insert(index, &s.file) {
            return Err(format!(
                "shard {index} is given twice, `{other}` and `{}`: expected each shard once",
                s.file
            ));
        }
    }
    let missing: Vec<u32> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    if !missing.is_empty() && !partial {
        let list: Vec<String> = missing.iter().map(u32::to_string).collect();
        return Err(format!(
            "shard{} {} of {count} missing: expected every index from 0 to {} once (--partial \
             merges what is there)",
            if missing.len() == 1 { "" } else { "s" },
            list.join(", "),
            count.saturating_sub(1)
        ));
    }

    let measured =
        Measurements::merge_all(&shards.iter().map(|s| &s.report.measurements).collect::<Vec<_>>());
    let reports: Vec<&Report> = shards.iter().map(|s| &s.report).collect();
    let context = Context {
        config: whole_config(&reports),
        status: reports.iter().fold(RunStatus::Completed, |a, r| worse(a, r.status)),
        declared: reports[0]
            .scenarios
            .iter()
            .map(|s| (s.name.clone(), s.declared_spans, s.declared_tokens))
            .collect(),
        sdk_path: reports[0].config.exporter == "sdk",
        deadline_hit: reports
            .iter()
            .any(|r| r.notes.iter().any(|n| matches!(n, Note::ShutdownDeadline { .. }))),
        delivery: reports.iter().map(|r| r.delivery.clone()).collect::<Option<Vec<_>>>().map(sum),
        verification: None,
        sdk: None,
        stopped_by: {
            let mut all: Vec<String> = Vec::new();
            for r in &reports {
                for n in &r.notes {
                    if let Note::StoppedEarly { thresholds } = n {
                        all.extend(
                            thresholds
                                .iter()
                                .filter(|t| !all.contains(t))
                                .cloned()
                                .collect::<Vec<_>>(),
                        );
                    }
                }
            }
            all
        },
        // The read load's setup as the shards reported it; the rate is the sum of theirs.
        queries: reports.iter().find_map(|r| r.queries.as_ref()).map(|q| report::QuerySetup {
            target_rate_per_s: reports
                .iter()
                .filter_map(|r| r.queries.as_ref())
                .map(|q| q.target_rate_per_s)
                .sum(),
            duration_s: reports
                .iter()
                .filter_map(|r| r.queries.as_ref())
                .map(|q| q.duration_s)
                .fold(0.0, f64::max),
            mix: q.mix.clone(),
            requests: q.operations.iter().map(|o| (o.op.clone(), o.request.clone())).collect(),
            unsupported: q.unsupported.clone(),
        }),
    };
    let mut merged = report::build(&measured, context);
    if reports.iter().any(|r| r.verification.is_some()) {
        for note in &mut merged.notes {
            if let Note::StorageNotVerified { reason } = note {
                *reason = "a merged report has no read-back of its own: each shard's is under \
                           `shards`"
                    .to_owned();
            }
        }
    }
    if !missing.is_empty() {
        merged.notes.push(Note::ShardsMissing { missing, count });
    }
    let late_by = |r: &Report| r.start_at.map_or(0.0, |s| s.late_by_ms);
    for r in &reports {
        if let Some(start) = r.start_at.filter(|s| s.late) {
            merged.notes.push(Note::StartedLate {
                shard: r.shard.map(|s| s.index),
                late_by_ms: start.late_by_ms,
            });
        }
    }
    merged.plan_id = plan_id;
    merged.start_at = reports[0].start_at.map(|s| StartAt {
        at_unix_ms: s.at_unix_ms,
        late_by_ms: reports.iter().map(|r| late_by(r)).fold(0.0, f64::max),
        late: reports.iter().any(|r| r.start_at.is_some_and(|s| s.late)),
    });
    merged.shards = reports
        .iter()
        .map(|r| ShardSummary {
            index: r.shard.map_or(0, |s| s.index),
            status: r.status,
            traces_started: r.traces.started,
            spans_accepted: r.spans.exported,
            export_p99_ms: r.export_latency.p99_ms,
            start_lag_p99_ms: r.start_lag.p99_ms,
            started_late: r.start_at.is_some_and(|s| s.late),
            late_by_ms: late_by(r),
            verification: r.verification.clone(),
        })
        .collect();
    Ok(merged)
}

/// The whole plan's settings: the first shard's, with the divided figures summed.
fn whole_config(reports: &[&Report]) -> RunConfig {
    let mut config = reports[0].config.clone();
    let sum_opt = |f: &dyn Fn(&RunConfig) -> Option<u64>| -> Option<u64> {
        reports.iter().map(|r| f(&r.config)).sum::<Option<u64>>()
    };
    config.count = sum_opt(&|c| c.count);
    config.concurrency = sum_opt(&|c| c.concurrency);
    config.max_in_flight = sum_opt(&|c| c.max_in_flight);
    config.target_rate_per_s =
        reports.iter().map(|r| r.config.target_rate_per_s).sum::<Option<f64>>().map(tidy);
    for (i, stage) in config.stages.iter_mut().enumerate() {
        stage.1 = tidy(reports.iter().filter_map(|r| r.config.stages.get(i)).map(|s| s.1).sum());
    }
    config
}

fn sum(deliveries: Vec<Delivery>) -> Delivery {
    let mut total = Delivery { verified: true, ..Delivery::default() };
    for d in deliveries {
        total.spans_sent += d.spans_sent;
        total.spans_received += d.spans_received;
        total.traces_received += d.traces_received;
        total.requests_received += d.requests_received;
        total.bytes_received += d.bytes_received;
        total.orphan_spans += d.orphan_spans;
        total.traces_without_root += d.traces_without_root;
        total.verified &= d.verified;
    }
    total
}

/// The shards' own figures, as a text table.
pub fn shards_table(r: &Report) -> String {
    let mut o = String::new();
    let count = r.measurements.processes;
    let _ = writeln!(o, "\n Shards ({} merged, plan {}):", count, r.plan_id);
    let _ = writeln!(
        o,
        "   {:>5}  {:<11} {:>10} {:>15} {:>14} {:>17}  late",
        "shard", "status", "traces", "spans accepted", "export p99 ms", "start lag p99 ms"
    );
    for s in &r.shards {
        let status = serde_json::to_value(s.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let late = if s.started_late {
            format!("yes, {:.1} s", s.late_by_ms / 1000.0)
        } else {
            "no".to_owned()
        };
        let _ = writeln!(
            o,
            "   {:>5}  {:<11} {:>10} {:>15} {:>14.2} {:>17.2}  {late}",
            s.index,
            status,
            s.traces_started,
            s.spans_accepted,
            s.export_p99_ms,
            s.start_lag_p99_ms
        );
    }
    o
}

pub fn main(args: MergeArgs) -> ExitCode {
    let bad = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(EXIT_BAD_INPUT)
    };
    let mut thresholds: Vec<Threshold> = Vec::new();
    for text in &args.threshold {
        match Threshold::parse(text, &scenarios::names()) {
            Ok(t) => thresholds.push(t),
            Err(e) => return bad(e),
        }
    }
    // Reading and decoding the reports is most of a merge's time: both cores do it.
    let loaded: Vec<Result<Report, String>> = std::thread::scope(|scope| {
        let half = args.reports.len().div_ceil(2);
        let (first, second) = args.reports.split_at(half);
        let other = scope
            .spawn(|| second.iter().map(|p| crate::report_cmd::load_report(p)).collect::<Vec<_>>());
        let mut all: Vec<_> = first.iter().map(|p| crate::report_cmd::load_report(p)).collect();
        all.extend(other.join().unwrap_or_default());
        all
    });
    if loaded.len() != args.reports.len() {
        return bad("a report could not be read (a reader thread failed)".to_owned());
    }
    let mut shards = Vec::new();
    for (path, report) in args.reports.iter().zip(loaded) {
        match report {
            Ok(report) => shards.push(ShardReport { file: path.display().to_string(), report }),
            Err(e) => return bad(e),
        }
    }
    let mut merged = match merge(shards, args.partial) {
        Ok(report) => report,
        Err(e) => return bad(e),
    };
    merged.thresholds = threshold::evaluate_all(&thresholds, &merged);
    let text = format!("{}{}", crate::render::summary(&merged), shards_table(&merged));
    let (json, html) = (args.json.as_deref().map(Path::new), args.html.as_deref().map(Path::new));
    if let Err(e) = crate::output::write(&merged, &text, json, html) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    if !merged.thresholds_passed() {
        return ExitCode::from(EXIT_THRESHOLDS);
    }
    ExitCode::SUCCESS
}
