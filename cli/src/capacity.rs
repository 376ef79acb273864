//! `scaletest capacity`: the highest arrival rate at which a backend still meets stated
//! criteria (the knee), found by stepping the rate up by a growth factor until a step fails,
//! then bisecting between the highest passing and the lowest failing rate to a resolution.
//!
//! Each step is one `scaletest run` (the same validation and engine): a warm-up ramp to the
//! step's rate, a hold at it, then the read-back with its own budget, so that stored counts and
//! ingestion lag are observed for what the step sent; the criteria are its thresholds. A pause
//! follows each step so that a backlog does not spill into the next. The backend is either
//! already running (run flags after `--`) or started by scaletest from a suite file's
//! components (`--suite FILE [--run NAME]`), sampled like any suite run.

use std::ffi::OsString;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use scenario_runtime::engine::report::{Report, RunStatus, ThresholdResult};
use scenario_runtime::engine::threshold::Threshold;
use serde::Serialize;

use crate::html::{chart, close_page, escape, open_page};
use crate::run::{EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED};
use crate::suite::file::{self, Secrets};
use crate::suite::report::metric;
use crate::suite::{Interrupt, Pool};

/// Flags of `scaletest capacity`.
#[derive(Debug, clap::Args)]
pub struct CapacityArgs {
    /// A criterion every step must meet, in threshold syntax (`stored_rate>=0.99`,
    /// `ingest_lag_p99_s<10`, `export_p99_ms<1000`, `error_rate<0.01`); repeatable, at least one.
    #[arg(long = "criterion", value_name = "RULE", required = true)]
    pub criterion: Vec<String>,
    /// First step's rate, traces/s.
    #[arg(long, value_name = "TRACES_PER_S", default_value = "5")]
    pub start_rate: String,
    /// Highest rate tried, traces/s.
    #[arg(long, value_name = "TRACES_PER_S", default_value = "1000")]
    pub max_rate: String,
    /// Each rate after a passing step is this many times the last, until a step fails.
    #[arg(long, value_name = "FACTOR", default_value = "2")]
    pub growth: String,
    /// Bisection stops when the highest passing and lowest failing rates are this close:
    /// traces/s (`2`) or a share of the failing rate (`10%`).
    #[arg(long, value_name = "RATE|PCT", default_value = "10%")]
    pub resolution: String,
    /// How long each step holds its rate (after the warm-up).
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub step_duration: String,
    /// Ramp from 0 to the step's rate before the hold (counted in the step's figures).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub warmup: String,
    /// Read-back budget after each step: how long stored counts and lag are watched.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub settle: String,
    /// Pause between steps.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub cooldown: String,
    /// First run one step at the start rate that is not judged (its report is
    /// `step-00-prime`): a cold backend's first requests can take seconds.
    #[arg(long)]
    pub prime: bool,
    /// Most steps run.
    #[arg(long, value_name = "N", default_value = "12")]
    pub max_steps: String,
    /// Start the backend from this suite file's components (with the settings of its run
    /// `--run`, the first by default, less its rate, length, thresholds and read-back budget).
    #[arg(long, value_name = "FILE.toml")]
    pub suite: Option<PathBuf>,
    /// The suite run whose settings and components the steps use.
    #[arg(long, value_name = "NAME", requires = "suite")]
    pub run: Option<String>,
    /// Directory for each step's JSON and HTML reports (and the components' logs).
    #[arg(long, value_name = "DIR", default_value = "capacity-out")]
    pub out: PathBuf,
    /// Write the capacity report (every step, the knee) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the capacity report as an HTML page with rate-vs-lag and rate-vs-latency charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Read variables from this file instead of `./.env` (never overrides the environment).
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// `scaletest run` flags for every step (target, platform, mix, ...), after `--`; not with
    /// --suite. The rate, duration, ramp-up, thresholds and read-back budget are the search's.
    #[arg(last = true, value_name = "RUN FLAGS")]
    pub run_flags: Vec<String>,
}

/// How close the bisection gets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Traces/s.
    Absolute(f64),
    /// A share of the lowest failing rate.
    Relative(f64),
}

/// The search's parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Search {
    pub start_rate: f64,
    pub max_rate: f64,
    pub growth: f64,
    pub resolution: Resolution,
    pub max_steps: usize,
}

/// The rate of the next step given the steps so far (`(rate, passed)` in order), or `None`
/// when the search is over. Pure, so the search is tested without a backend.
pub fn next_rate(search: &Search, steps: &[(f64, bool)]) -> Option<f64> {
    if steps.len() >= search.max_steps {
        return None;
    }
    if steps.is_empty() {
        return Some(search.start_rate);
    }
    let (low, high) = bounds(steps);
    match high {
        None => {
            let last = low.unwrap_or(0.0);
            (last < search.max_rate).then(|| round((last * search.growth).min(search.max_rate)))
        }
        Some(high) => {
            let low = low.unwrap_or(0.0);
            let width = match search.resolution {
                Resolution::Absolute(r) => r,
                Resolution::Relative(share) => share * high,
            };
            if high - low <= width {
                return None;
            }
            let mid = round((low + high) / 2.0);
            // Rounding must not repeat a rate already run.
            (mid > low && mid < high).then_some(mid)
        }
    }
}

/// The highest passing rate below the lowest failing one, and the lowest failing rate.
pub fn bounds(steps: &[(f64, bool)]) -> (Option<f64>, Option<f64>) {
    let high = steps.iter().filter(|(_, ok)| !ok).map(|(r, _)| *r).reduce(f64::min);
    let low = steps
        .iter()
        .filter(|(r, ok)| *ok && high.is_none_or(|h| *r < h))
        .map(|(r, _)| *r)
        .reduce(f64::max);
    (low, high)
}

/// Rates to 0.01 traces/s.
fn round(rate: f64) -> f64 {
    (rate * 100.0).round() / 100.0
}

/// One step's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Target rate of the hold, traces/s.
    pub rate_per_s: f64,
    pub passed: bool,
    pub status: RunStatus,
    pub traces_per_s: Option<f64>,
    pub accepted_spans_per_s: Option<f64>,
    pub stored_rate: Option<f64>,
    pub ingest_lag_p99_s: Option<f64>,
    pub export_p99_ms: Option<f64>,
    pub error_rate: Option<f64>,
    pub dropped_starts: Option<f64>,
    /// Mean CPU cores and highest RSS of each component during the step.
    pub components: Vec<crate::suite::report::ComponentFigures>,
    pub criteria: Vec<ThresholdResult>,
    /// The step's full JSON report.
    pub report_file: String,
}

impl Step {
    fn of(rate: f64, r: &Report, report_file: String) -> Step {
        let row = crate::suite::report::RunRow::of("", r, None);
        Step {
            rate_per_s: rate,
            passed: r.thresholds_passed() && r.status == RunStatus::Completed,
            status: r.status,
            traces_per_s: metric(r, "traces_per_s"),
            accepted_spans_per_s: metric(r, "accepted_spans_per_s"),
            stored_rate: metric(r, "stored_rate"),
            ingest_lag_p99_s: metric(r, "ingest_lag_p99_s"),
            export_p99_ms: metric(r, "export_p99_ms"),
            error_rate: metric(r, "error_rate"),
            dropped_starts: metric(r, "dropped_starts"),
            components: row.components,
            criteria: r.thresholds.clone(),
            report_file,
        }
    }
}

/// The capacity report.
#[derive(Debug, Serialize)]
pub struct CapacityReport {
    pub criteria: Vec<String>,
    pub search: Search,
    pub step_duration_s: f64,
    pub warmup_s: f64,
    pub settle_s: f64,
    /// The highest rate that met every criterion (`null`: none did).
    pub knee_rate_per_s: Option<f64>,
    /// The lowest rate that failed (`null`: none did up to `max_rate`).
    pub first_failing_rate_per_s: Option<f64>,
    /// Why the search ended: `resolution`, `max_rate` (every step passed), `max_steps`,
    /// `interrupted` or `component_failed`.
    pub ended_by: &'static str,
    /// Every step, in the order run.
    pub steps: Vec<Step>,
}

fn bad(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// Metrics only the read-back measures.
const READ_BACK_METRICS: [&str; 5] = [
    "stored_rate",
    "spans_not_visible",
    "ingest_lag_p50_s",
    "ingest_lag_p99_s",
    "ingest_lag_max_s",
];

/// Run flags the search sets itself.
const SEARCH_OWNS: [&str; 8] = [
    "rate",
    "stages",
    "duration",
    "count",
    "ramp-up",
    "concurrency",
    "threshold",
    "verify-timeout",
];

fn positive(name: &str, text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("invalid --{name} `{text}`: expected a number above 0")),
    }
}

/// Validated search parameters.
fn search(args: &CapacityArgs) -> Result<Search, String> {
    let start_rate = positive("start-rate", &args.start_rate)?;
    let max_rate = positive("max-rate", &args.max_rate)?;
    if max_rate < start_rate {
        return Err(format!(
            "invalid --max-rate `{}`: expected at least --start-rate ({start_rate})",
            args.max_rate
        ));
    }
    let growth = positive("growth", &args.growth)?;
    if growth <= 1.0 {
        return Err(format!(
            "invalid --growth `{}`: expected a factor above 1, e.g. 2",
            args.growth
        ));
    }
    let resolution = match args.resolution.trim().strip_suffix('%') {
        Some(p) => match p.trim().parse::<f64>() {
            Ok(v) if v > 0.0 && v < 100.0 => Resolution::Relative(v / 100.0),
            _ => {
                return Err(format!(
                    "invalid --resolution `{}`: expected a share from 0% to 100% (exclusive), e.g. 10%",
                    args.resolution
                ));
            }
        },
        None => Resolution::Absolute(positive("resolution", &args.resolution)?),
    };
    let max_steps = match args.max_steps.trim().parse::<usize>() {
        Ok(n) if (1..=100).contains(&n) => n,
        _ => {
            return Err(format!(
                "invalid --max-steps `{}`: expected a whole number from 1 to 100",
                args.max_steps
            ));
        }
    };
    Ok(Search { start_rate, max_rate, growth, resolution, max_steps })
}

fn duration(name: &str, text: &str, zero_ok: bool) -> Result<Duration, String> {
    let what = format!("--{name}");
    let parsed = if zero_ok {
        crate::config::parse_duration_or_zero(&what, text)
    } else {
        crate::config::parse_duration(&what, text)
    };
    parsed.map_err(|e| e.0)
}

pub fn main(args: CapacityArgs) -> ExitCode {
    // Everything is validated before anything starts.
    let search = match search(&args) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let times = (|| -> Result<_, String> {
        Ok((
            duration("step-duration", &args.step_duration, false)?,
            duration("warmup", &args.warmup, true)?,
            duration("settle", &args.settle, false)?,
            duration("cooldown", &args.cooldown, true)?,
        ))
    })();
    let (hold, warmup, settle, cooldown) = match times {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let mut criteria = Vec::new();
    for text in &args.criterion {
        match Threshold::parse(text, &scenarios::names()) {
            Ok(_) => criteria.push(text.trim().to_owned()),
            Err(e) => return bad(format!("{e} (in --criterion)")),
        }
    }
    let env = |name: &str| std::env::var(name).ok();
    let (base, components, needed, secrets) = match &args.suite {
        Some(path) => {
            if !args.run_flags.is_empty() {
                return bad(
                    "run flags after `--` and --suite: give the run's settings in the suite file's run instead",
                );
            }
            let suite = match file::load(path, &env) {
                Ok(s) => s,
                Err(e) => return bad(e),
            };
            let run = match &args.run {
                Some(name) => suite.runs.iter().find(|r| &r.name == name),
                None => suite.runs.first(),
            };
            let Some(run) = run else {
                return bad(format!(
                    "no run `{}` in {}: expected one of {}",
                    args.run.as_deref().unwrap_or_default(),
                    path.display(),
                    suite.runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                ));
            };
            // The search sets the rate, the length and the rules of every step: a suite run's
            // own are left out.
            let args = run
                .args
                .iter()
                .filter(|a| {
                    let text = a.to_string_lossy();
                    !SEARCH_OWNS.iter().any(|f| text.starts_with(&format!("--{f}=")))
                })
                .cloned()
                .collect();
            (args, suite.components.clone(), run.components.clone(), suite.secrets.clone())
        }
        None => {
            let mut base: Vec<OsString> = vec!["run".into()];
            base.extend(args.run_flags.iter().map(OsString::from));
            (base, Vec::new(), Vec::new(), Secrets::default())
        }
    };
    for arg in &base[1..] {
        let text = arg.to_string_lossy();
        if let Some(flag) = SEARCH_OWNS.iter().find(|f| {
            text.strip_prefix("--").is_some_and(|t| t == **f || t.starts_with(&format!("{f}=")))
        }) {
            return bad(format!(
                "--{flag} in the run settings: the capacity search sets it (--criterion for rules, --settle for the read-back budget)"
            ));
        }
    }
    // Each step's settings, validated now for the first rate (the others differ by the rate).
    let rules = criteria.clone();
    // Each step writes to a project of its own (`PROJECT-step-N`), so that a backlog of one
    // step is not counted as stored in the next: read-back counts are per project.
    // MLflow has experiments, not projects: `experiment` is the id of the step's own one.
    let step_args = move |rate: f64, step: usize, experiment: Option<&str>| -> Vec<OsString> {
        let mut a: Vec<OsString> = base
            .iter()
            .filter(|x| {
                experiment.is_none() || !x.to_str().is_some_and(|t| t.starts_with("--experiment="))
            })
            .map(|x| match x.to_str().and_then(|t| t.strip_prefix("--project=")) {
                Some(project) => format!("--project={project}-step-{step}").into(),
                None => x.clone(),
            })
            .collect();
        if let Some(id) = experiment {
            a.push(format!("--experiment={id}").into());
        }
        a.push(format!("--rate={rate}").into());
        a.push(format!("--duration={}ms", (warmup + hold).as_millis()).into());
        if !warmup.is_zero() {
            a.push(format!("--ramp-up={}ms", warmup.as_millis()).into());
        }
        a.push(format!("--verify-timeout={}ms", settle.as_millis()).into());
        for c in &rules {
            a.push(format!("--threshold={c}").into());
        }
        a
    };
    let first = match file::run_settings(&step_args(search.start_rate, 1, None)) {
        Ok(s) => s,
        Err(e) => return bad(secrets.scrub(&e.0)),
    };
    let first_plan = match first.plan(env) {
        Ok(p) => p,
        Err(e) => return bad(secrets.scrub(&e.0)),
    };
    // MLflow counts traces per experiment: each step gets an experiment of its own, or one
    // step's backlog would count as stored in the next.
    let mlflow = (first_plan.target.platform == scenario_runtime::platform::PlatformId::Mlflow)
        .then(|| first_plan.target.settings.clone());
    let search_started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // A criterion on what was stored needs the read-back: without it every step would fail.
    if first.verify == scenario_runtime::engine::plan::VerifyMode::Off
        && let Some(rule) = first.thresholds.iter().find(|t| READ_BACK_METRICS.contains(&t.metric))
    {
        return bad(format!(
            "--criterion `{}` needs the read-back, which the run settings turn off: expected \
             verify on or during, or no criterion on stored spans or ingestion lag",
            rule.expression
        ));
    }
    for (flag, path) in [("--json", &args.json), ("--html", &args.html)] {
        if let Some(path) = path
            && let Err(e) = crate::suite::check_writable(path)
        {
            return bad(format!("invalid {flag} `{}`: {e}", path.display()));
        }
    }
    if let Err(e) = crate::suite::prepare_out(&args.out) {
        return bad(e);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    runtime.block_on(async move {
        let interrupt = Interrupt::install();
        let mut pool = Pool::new(components, &args.out, secrets.clone());
        let mut steps: Vec<Step> = Vec::new();
        let mut ended_by = "resolution";
        let mut failure = None;
        let mut priming = args.prime;
        loop {
            let done: Vec<(f64, bool)> = steps.iter().map(|s| (s.rate_per_s, s.passed)).collect();
            let next = if priming { Some(search.start_rate) } else { next_rate(&search, &done) };
            let Some(rate) = next else {
                if done.len() >= search.max_steps {
                    ended_by = "max_steps";
                } else if bounds(&done).1.is_none() {
                    ended_by = "max_rate";
                }
                break;
            };
            if interrupt.is_set() {
                ended_by = "interrupted";
                break;
            }
            if let Err(e) = pool.ensure(&needed, &interrupt).await {
                failure = Some(secrets.scrub(&e.to_string()));
                ended_by = "component_failed";
                break;
            }
            let number = if priming { 0 } else { steps.len() + 1 };
            let experiment = match &mlflow {
                Some(target) => {
                    let name = format!("scaletest-capacity-{search_started}-step-{number}");
                    let options = scenario_runtime::engine::verify::ReadOptions::default();
                    match scenario_runtime::engine::verify::create_mlflow_experiment(target, &options, &name).await {
                        Ok(id) => Some(id),
                        Err(e) => {
                            failure = Some(secrets.scrub(&format!("cannot create the MLflow experiment `{name}`: {e}")));
                            ended_by = "component_failed";
                            break;
                        }
                    }
                }
                None => None,
            };
            let settings = match file::run_settings(&step_args(rate, number, experiment.as_deref())) {
                Ok(s) => s,
                Err(e) => return bad(secrets.scrub(&e.0)),
            };
            let plan = match settings.plan(env) {
                Ok(p) => p,
                Err(e) => return bad(secrets.scrub(&e.0)),
            };
            if priming {
                eprintln!("== capacity: priming at {rate} traces/s (not judged)");
            } else {
                eprintln!("== capacity: step {} at {rate} traces/s", steps.len() + 1);
            }
            let (report, died) = match crate::suite::execute(plan, settings.metrics_listen, &mut pool, &needed, &interrupt).await {
                Ok(r) => r,
                Err((code, message)) => {
                    eprintln!("error: {}", secrets.scrub(&message));
                    return ExitCode::from(code);
                }
            };
            let report = crate::suite::scrubbed(&report, &secrets);
            let stem = if priming {
                "step-00-prime".to_owned()
            } else {
                format!("step-{number:02}-{rate}")
            };
            let json = args.out.join(format!("{stem}.json"));
            if let Err(e) = crate::suite::write_report(&report, &json, &args.out.join(format!("{stem}.html"))) {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_RUN_FAILED);
            }
            let step = Step::of(rate, &report, json.display().to_string());
            eprintln!("   {}", step_line(&step));
            pool.after_run(&needed);
            if let Some(e) = died {
                failure = Some(secrets.scrub(&e.to_string()));
                ended_by = "component_failed";
                break;
            }
            if report.status == RunStatus::Interrupted {
                ended_by = "interrupted";
                break;
            }
            if priming {
                priming = false;
            } else {
                steps.push(step);
            }
            tokio::select! {
                () = tokio::time::sleep(cooldown) => {}
                () = async { while !interrupt.is_set() { tokio::time::sleep(Duration::from_millis(100)).await } } => {}
            }
        }
        pool.stop_all();
        let done: Vec<(f64, bool)> = steps.iter().map(|s| (s.rate_per_s, s.passed)).collect();
        let (knee, failing) = bounds(&done);
        let report = CapacityReport {
            criteria,
            search,
            step_duration_s: hold.as_secs_f64(),
            warmup_s: warmup.as_secs_f64(),
            settle_s: settle.as_secs_f64(),
            knee_rate_per_s: knee,
            first_failing_rate_per_s: failing,
            ended_by,
            steps,
        };
        print!("{}", text(&report));
        if let Some(path) = &args.json {
            let written = serde_json::to_vec_pretty(&report)
                .map_err(|e| e.to_string())
                .and_then(|j| std::fs::write(path, j).map_err(|e| e.to_string()));
            if let Err(e) = written {
                eprintln!("error: cannot write the capacity JSON report to `{}`: {e}", path.display());
                return ExitCode::from(EXIT_RUN_FAILED);
            }
        }
        if let Some(path) = &args.html
            && let Err(e) = std::fs::write(path, html(&report))
        {
            eprintln!("error: cannot write the capacity HTML report to `{}`: {e}", path.display());
            return ExitCode::from(EXIT_RUN_FAILED);
        }
        if let Some(message) = failure {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
        if ended_by == "interrupted" {
            return ExitCode::from(EXIT_INTERRUPTED);
        }
        ExitCode::SUCCESS
    })
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.digits$}"))
}

fn step_line(s: &Step) -> String {
    let failed: Vec<&str> =
        s.criteria.iter().filter(|c| !c.passed).map(|c| c.expression.as_str()).collect();
    format!(
        "{} traces/s: {}{}",
        s.rate_per_s,
        if s.passed { "pass" } else { "FAIL" },
        if failed.is_empty() { String::new() } else { format!(" ({})", failed.join(", ")) }
    )
}

/// The text rendering: the knee, then one line per step in rate order.
pub fn text(r: &CapacityReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\nCapacity: criteria {}", r.criteria.join(", "));
    match (r.knee_rate_per_s, r.first_failing_rate_per_s) {
        (Some(k), Some(f)) => {
            let _ = writeln!(
                o,
                "   knee: {k} traces/s met every criterion; {f} traces/s did not (search ended by {})",
                r.ended_by
            );
        }
        (Some(k), None) => {
            let _ = writeln!(
                o,
                "   knee: at least {k} traces/s: every step met the criteria (search ended by {})",
                r.ended_by
            );
        }
        (None, Some(f)) => {
            let _ = writeln!(
                o,
                "   knee: below {f} traces/s: no step met the criteria (search ended by {})",
                r.ended_by
            );
        }
        (None, None) => {
            let _ = writeln!(
                o,
                "   knee: not measured: no step completed (search ended by {})",
                r.ended_by
            );
        }
    }
    let _ = writeln!(
        o,
        "   {:>8} {:>6} {:>9} {:>10} {:>8} {:>9} {:>10} {:>7} {:>8}  backend cpu/rss max",
        "rate",
        "result",
        "traces/s",
        "acc.spans/s",
        "stored",
        "lag p99 s",
        "export p99",
        "errors",
        "dropped",
    );
    let mut order: Vec<&Step> = r.steps.iter().collect();
    order.sort_by(|a, b| a.rate_per_s.total_cmp(&b.rate_per_s));
    for s in order {
        let backend = s
            .components
            .iter()
            .map(|c| format!("{} {:.2}/{:.0} MB", c.name, c.cpu_cores_mean, c.rss_bytes_max / 1e6))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            o,
            "   {:>8} {:>6} {:>9} {:>10} {:>8} {:>9} {:>10} {:>7} {:>8}  {}",
            s.rate_per_s,
            if s.passed { "pass" } else { "FAIL" },
            opt(s.traces_per_s, 1),
            opt(s.accepted_spans_per_s, 0),
            s.stored_rate.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0)),
            opt(s.ingest_lag_p99_s, 1),
            s.export_p99_ms.map_or("-".to_owned(), |v| format!("{v:.0} ms")),
            s.error_rate.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0)),
            opt(s.dropped_starts, 0),
            backend
        );
    }
    o
}

/// The HTML page: the knee, charts of lag, latency and stored share against the rate, and the
/// step table.
pub fn html(r: &CapacityReport) -> String {
    let mut o = open_page("scaletest capacity");
    let _ = write!(
        o,
        "<header><h1>Capacity</h1></header><p class=\"sub\">criteria {}</p>",
        escape(&r.criteria.join(", "))
    );
    let _ = write!(o, "<pre style=\"overflow-x:auto\">{}</pre>", escape(text(r).trim()));
    let mut order: Vec<&Step> = r.steps.iter().collect();
    order.sort_by(|a, b| a.rate_per_s.total_cmp(&b.rate_per_s));
    let x_max = order.last().map_or(1.0, |s| s.rate_per_s * 1.05);
    let marks: Vec<chart::Mark> = r
        .knee_rate_per_s
        .map(|k| chart::Mark { x: k, label: "knee".to_owned() })
        .into_iter()
        .collect();
    let line = |name: &str, color: usize, f: &dyn Fn(&Step) -> Option<f64>| chart::Line {
        name: name.to_owned(),
        color: chart::PALETTE[color],
        dashed: false,
        points: order.iter().map(|s| (s.rate_per_s, f(s))).collect(),
    };
    let charts = [
        (
            "lag",
            "Ingestion lag p99 against the rate",
            "s",
            vec![line("ingest lag p99", 0, &|s| s.ingest_lag_p99_s)],
        ),
        (
            "latency",
            "Export latency p99 against the rate",
            "ms",
            vec![line("export p99", 1, &|s| s.export_p99_ms)],
        ),
        (
            "stored",
            "Stored and accepted against the rate",
            "%",
            vec![
                line("stored of accepted", 2, &|s| s.stored_rate.map(|v| v * 100.0)),
                line("request errors", 4, &|s| s.error_rate.map(|v| v * 100.0)),
            ],
        ),
    ];
    o.push_str("<div class=\"charts\">");
    for (id, title, unit, lines) in charts {
        o.push_str(&chart::render(&chart::Chart {
            id: id.to_owned(),
            title: title.to_owned(),
            unit: unit.to_owned(),
            lines,
            marks: marks.clone(),
            shade: None,
            x_max,
            x_unit: Some("traces/s".to_owned()),
        }));
    }
    o.push_str("</div>");
    o.push_str(&close_page());
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(resolution: Resolution) -> Search {
        Search { start_rate: 10.0, max_rate: 1000.0, growth: 2.0, resolution, max_steps: 20 }
    }

    /// Runs the search against a simulated backend that passes up to `capacity`.
    fn simulate(s: &Search, capacity: f64) -> Vec<(f64, bool)> {
        let mut steps = Vec::new();
        while let Some(rate) = next_rate(s, &steps) {
            steps.push((rate, rate <= capacity));
        }
        steps
    }

    #[test]
    fn grows_then_bisects_to_the_resolution() {
        let steps = simulate(&search(Resolution::Absolute(5.0)), 137.0);
        let rates: Vec<f64> = steps.iter().map(|s| s.0).collect();
        assert_eq!(rates, [10.0, 20.0, 40.0, 80.0, 160.0, 120.0, 140.0, 130.0, 135.0]);
        assert_eq!(bounds(&steps), (Some(135.0), Some(140.0)));
    }

    #[test]
    fn relative_resolution_and_a_capacity_below_the_start() {
        let steps = simulate(&search(Resolution::Relative(0.1)), 3.0);
        let (low, high) = bounds(&steps);
        // 10 fails; bisection toward 0 until the gap is within 10% of the failing rate.
        assert_eq!(steps[0], (10.0, false));
        assert!(low.is_some_and(|l| l <= 3.0) && high.is_some_and(|h| h > 3.0), "{steps:?}");
        assert!(high.zip(low).is_some_and(|(h, l)| h - l <= 0.1 * h), "{steps:?}");
    }

    #[test]
    fn every_step_passing_stops_at_the_max_rate() {
        let s = Search { max_rate: 100.0, ..search(Resolution::Absolute(1.0)) };
        let steps = simulate(&s, 1e9);
        let rates: Vec<f64> = steps.iter().map(|s| s.0).collect();
        assert_eq!(rates, [10.0, 20.0, 40.0, 80.0, 100.0]);
        assert_eq!(bounds(&steps), (Some(100.0), None));
    }

    #[test]
    fn a_noisy_pass_above_a_failure_does_not_count() {
        // 40 failed, then (noise) 60 passed: the knee is below the lowest failure.
        let steps = [(10.0, true), (20.0, true), (40.0, false), (60.0, true)];
        assert_eq!(bounds(&steps), (Some(20.0), Some(40.0)));
        assert_eq!(next_rate(&search(Resolution::Absolute(1.0)), &steps), Some(30.0));
    }

    #[test]
    fn the_step_budget_ends_the_search() {
        let s = Search { max_steps: 3, ..search(Resolution::Absolute(1.0)) };
        assert_eq!(simulate(&s, 137.0).len(), 3);
    }
}
