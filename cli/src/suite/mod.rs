//! `scaletest suite FILE.toml`: an ordered list of runs and the components they need.
//!
//! The file is read and every run validated first ([`file`]); nothing starts before that.
//! Then, run by run: the components the run needs are started (once, or anew for each run
//! with `fresh = true`) and waited for until healthy, the run goes while every component's
//! process tree is sampled each second and watched, and its report (with the samples as
//! `resources`) is written. A component that does not start, never becomes healthy or dies
//! stops the suite (exit 1) with its name and the end of its log; every component is stopped
//! on every way out ([`component::Running`] stops its process group when dropped), Ctrl-C and
//! SIGTERM included (exit 130). A failed threshold in any run: exit 3. A bad file: exit 2.

pub mod component;
pub mod file;
pub mod report;
pub mod resources;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scenario_runtime::engine::plan::RunPlan;
use scenario_runtime::engine::report::{Report, Resources};
use scenario_runtime::engine::schedule::{StopReason, StopSignal};
use scenario_runtime::engine::{self, EngineError};

use crate::run::{EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED, EXIT_THRESHOLDS};
use component::{ComponentError, Running};
use file::{ComponentSpec, Secrets, Suite};

/// Flags of `scaletest suite`.
#[derive(Debug, clap::Args)]
pub struct SuiteArgs {
    /// The suite file (TOML): components and runs; see the README's Suites section.
    #[arg(value_name = "FILE.toml")]
    pub file: PathBuf,
    /// Directory for each run's JSON and HTML reports and each component's log.
    #[arg(long, value_name = "DIR", default_value = "suite-out")]
    pub out: PathBuf,
    /// Write the suite report (all runs side by side) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the suite report as one self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Read variables from this file instead of `./.env` (never overrides the environment).
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Validate the file (every run's settings, every component) and exit without starting
    /// anything.
    #[arg(long)]
    pub check: bool,
}

pub fn main(args: SuiteArgs) -> ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    let suite = match file::load(&args.file, &env) {
        Ok(suite) => suite,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if args.check {
        println!(
            "{}: valid: {} run(s), {} component(s)",
            args.file.display(),
            suite.runs.len(),
            suite.components.len()
        );
        return ExitCode::SUCCESS;
    }
    for (flag, path) in [("--json", &args.json), ("--html", &args.html)] {
        if let Some(path) = path
            && let Err(e) = check_writable(path)
        {
            eprintln!("error: invalid {flag} `{}`: {e}", path.display());
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    if let Err(e) = prepare_out(&args.out) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    runtime.block_on(run_suite(suite, args))
}

/// Whether a report file can be written, checked before anything starts (as `run` checks
/// its `--json` and `--html`), leaving no file behind.
pub fn check_writable(path: &Path) -> Result<(), String> {
    let result = if path.exists() {
        std::fs::OpenOptions::new().append(true).open(path).map(drop)
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|_| std::fs::remove_file(path))
    };
    result.map_err(|e| format!("cannot write it: {e}"))
}

/// Creates the output directory and its `components/` folder.
pub fn prepare_out(out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out.join("components"))
        .map_err(|e| format!("cannot create the output directory `{}`: {e}", out.display()))
}

async fn run_suite(suite: Suite, args: SuiteArgs) -> ExitCode {
    let interrupt = Interrupt::install();
    let mut pool = Pool::new(suite.components.clone(), &args.out, suite.secrets.clone());
    let mut rows = Vec::new();
    let mut failure: Option<String> = None;
    let total = suite.runs.len();
    for (i, run) in suite.runs.iter().enumerate() {
        if interrupt.is_set() {
            break;
        }
        eprintln!("== suite {}: run {}/{total} `{}`", suite.name, i + 1, run.name);
        if let Err(e) = pool.ensure(&run.components, &interrupt).await {
            failure = Some(suite.secrets.scrub(&e.to_string()));
            break;
        }
        if interrupt.is_set() {
            break;
        }
        let plan = match run.settings.plan(|var| std::env::var(var).ok()) {
            Ok(plan) => plan,
            Err(e) => {
                eprintln!("error: run `{}`: {}", run.name, suite.secrets.scrub(&e.0));
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        };
        let label = format!("{}-{}", suite.name, run.name);
        let plan = match crate::experiment::own(plan, &crate::experiment::unique_name(&label)).await
        {
            Ok(plan) => plan,
            Err(e) => {
                failure = Some(suite.secrets.scrub(&format!("run `{}`: {e}", run.name)));
                break;
            }
        };
        let outcome =
            execute(plan, run.settings.metrics_listen, &mut pool, &run.components, &interrupt)
                .await;
        let (report, died) = match outcome {
            Ok(done) => done,
            Err((code, message)) => {
                eprintln!("error: run `{}`: {}", run.name, suite.secrets.scrub(&message));
                return ExitCode::from(code);
            }
        };
        let report = scrubbed(&report, &suite.secrets);
        let stem = format!("{:02}-{}", i + 1, file_safe(&run.name));
        let json = run
            .settings
            .json
            .clone()
            .filter(|p| p.as_os_str() != crate::config::STDOUT)
            .unwrap_or_else(|| args.out.join(format!("{stem}.json")));
        let html =
            run.settings.html.clone().unwrap_or_else(|| args.out.join(format!("{stem}.html")));
        print!("{}", crate::render::summary(&report));
        if let Err(e) = write_report(&report, &json, &html) {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
        rows.push(report::RunRow::of(&run.name, &report, Some(json.display().to_string())));
        pool.after_run(&run.components);
        if let Some(e) = died {
            failure = Some(suite.secrets.scrub(&e.to_string()));
            break;
        }
    }
    pool.stop_all();
    let summary = report::SuiteReport::new(&suite, rows, failure.clone(), interrupt.is_set());
    print!("{}", summary.text());
    if let Some(path) = &args.json {
        let written = serde_json::to_vec_pretty(&summary)
            .map_err(|e| e.to_string())
            .and_then(|j| std::fs::write(path, j).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("error: cannot write the suite JSON report to `{}`: {e}", path.display());
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    }
    if let Some(path) = &args.html
        && let Err(e) = std::fs::write(path, summary.html())
    {
        eprintln!("error: cannot write the suite HTML report to `{}`: {e}", path.display());
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    if let Some(message) = failure {
        eprintln!("error: {message}");
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    if interrupt.is_set() {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    if summary.runs.iter().any(|r| !r.thresholds_passed) {
        return ExitCode::from(EXIT_THRESHOLDS);
    }
    ExitCode::SUCCESS
}

/// Writes a run's JSON and HTML reports.
pub fn write_report(report: &Report, json: &Path, html: &Path) -> Result<(), String> {
    let bytes = serde_json::to_vec_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(json, bytes)
        .map_err(|e| format!("cannot write the JSON report to `{}`: {e}", json.display()))?;
    std::fs::write(html, crate::html::report_page(report))
        .map_err(|e| format!("cannot write the HTML report to `{}`: {e}", html.display()))
}

/// The report with every secret value replaced by `${VAR}` (through its JSON form, so that no
/// field is missed).
pub fn scrubbed(report: &Report, secrets: &Secrets) -> Report {
    let Ok(mut value) = serde_json::to_value(report) else { return report.clone() };
    secrets.scrub_json(&mut value);
    serde_json::from_value(value).unwrap_or_else(|_| report.clone())
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// Ctrl-C and SIGTERM: the first stops the current run (its traces drain) and the suite; the
/// second stops waiting.
pub struct Interrupt {
    set: AtomicBool,
    count: AtomicU32,
    current: Mutex<Option<Arc<StopSignal>>>,
}

impl Interrupt {
    /// Listens for the signals from now on.
    pub fn install() -> Arc<Interrupt> {
        let interrupt = Arc::new(Interrupt {
            set: AtomicBool::new(false),
            count: AtomicU32::new(0),
            current: Mutex::new(None),
        });
        let handle = Arc::clone(&interrupt);
        tokio::spawn(async move {
            let mut interrupts = crate::run::Interrupts::listen();
            loop {
                if !interrupts.next().await {
                    return;
                }
                let round = handle.count.fetch_add(1, Ordering::SeqCst);
                handle.set.store(true, Ordering::SeqCst);
                eprintln!(
                    "\nstopping: {}",
                    if round == 0 {
                        "finishing the current run, then stopping every component (Ctrl-C again to stop waiting)"
                    } else {
                        "cancelling traces in flight"
                    }
                );
                if let Some(stop) = handle.current.lock().ok().and_then(|c| c.clone()) {
                    stop.stop(StopReason::Interrupted);
                }
            }
        });
        interrupt
    }

    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    fn watch(&self, stop: Option<Arc<StopSignal>>) {
        if let Ok(mut current) = self.current.lock() {
            *current = stop;
        }
    }
}

/// The suite's components: started when a run needs them, stopped when dropped.
pub struct Pool {
    specs: Vec<ComponentSpec>,
    running: Vec<Option<Running>>,
    logs: PathBuf,
    secrets: Secrets,
    client: reqwest::Client,
}

impl Pool {
    pub fn new(specs: Vec<ComponentSpec>, out: &Path, secrets: Secrets) -> Pool {
        let running = specs.iter().map(|_| None).collect();
        Pool {
            specs,
            running,
            logs: out.join("components"),
            secrets,
            client: scenario_runtime::engine::export::http_client_builder()
                .build()
                .unwrap_or_default(),
        }
    }

    /// Starts the components of `needed` that are not running, in order, each healthy before
    /// the next starts; a fresh component is started anew.
    pub async fn ensure(
        &mut self,
        needed: &[usize],
        interrupt: &Interrupt,
    ) -> Result<(), ComponentError> {
        for &i in needed {
            if let Some(running) = self.running[i].as_mut() {
                if let Some(how) = running.exited() {
                    return Err(running.error(format!("died between runs ({how})")));
                }
                continue;
            }
            let spec = &self.specs[i];
            let log = self.logs.join(format!("{}.log", file_safe(&spec.name)));
            eprintln!("   starting component `{}` (log {})", spec.name, log.display());
            let mut started = Running::start(spec, &log)?;
            let healthy = tokio::select! {
                r = started.wait_healthy(&self.client) => r,
                () = until(|| interrupt.is_set()) => return Ok(()),
            };
            let took = healthy?;
            eprintln!(
                "   component `{}` ready after {:.1}s (pid {})",
                spec.name,
                took.as_secs_f64(),
                started.pid
            );
            self.running[i] = Some(started);
        }
        Ok(())
    }

    /// Stops the fresh components of a run that is over.
    pub fn after_run(&mut self, needed: &[usize]) {
        for &i in needed {
            if self.specs[i].fresh {
                self.stop(i);
            }
        }
    }

    fn stop(&mut self, i: usize) {
        if let Some(mut running) = self.running[i].take()
            && let Some(how) = running.stop()
        {
            eprintln!("   stopped component `{}`: {}", running.spec.name, self.secrets.scrub(&how));
        }
    }

    /// Stops every component, last started first.
    pub fn stop_all(&mut self) {
        for i in (0..self.running.len()).rev() {
            self.stop(i);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Resolves once `check` holds (polled every 100 ms).
async fn until(check: impl Fn() -> bool) {
    while !check() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sampling period of the components' resources.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Runs one plan while sampling and watching the components of `needed`. Returns the report
/// (with `resources`) and the component that died during the run, if one did; or the exit
/// code and message of a run that could not go at all.
pub async fn execute(
    plan: RunPlan,
    metrics_listen: Option<std::net::SocketAddr>,
    pool: &mut Pool,
    needed: &[usize],
    interrupt: &Interrupt,
) -> Result<(Report, Option<ComponentError>), (u8, String)> {
    let stop = Arc::new(StopSignal::default());
    interrupt.watch(Some(Arc::clone(&stop)));
    let mut samplers: Vec<(usize, resources::Sampler)> = needed
        .iter()
        .filter_map(|&i| {
            pool.running[i].as_ref().map(|r| (i, resources::Sampler::new(&r.spec.name, r.pid)))
        })
        .collect();
    for (_, s) in &mut samplers {
        s.sample();
    }
    let metrics_server = match metrics_listen {
        Some(addr) => match crate::prom::Server::start(addr).await {
            Ok(server) => Some(server),
            Err(e) => return Err((EXIT_BAD_INPUT, format!("cannot serve metrics on {addr}: {e}"))),
        },
        None => None,
    };
    let mut live = crate::progress::Live::new();
    let mut died: Option<ComponentError> = None;
    let result = {
        let mut tee = crate::prom::Tee::new(&mut live, metrics_server.as_ref());
        let run = engine::run(plan, Arc::clone(&stop), &mut tee);
        tokio::pin!(run);
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                result = &mut run => break result,
                _ = tick.tick() => {
                    for (i, sampler) in &mut samplers {
                        sampler.sample();
                        if died.is_none()
                            && let Some(running) = pool.running[*i].as_mut()
                            && let Some(how) = running.exited()
                        {
                                    died = Some(running.error(format!("died during the run ({how})")));
                                    // Nothing more can be stored: stop starting and stop waiting.
                                    stop.stop(StopReason::Interrupted);
                                    stop.stop(StopReason::Interrupted);
                        }
                    }
                }
            }
        }
    };
    interrupt.watch(None);
    drop(live);
    if let (Some(server), Ok(report)) = (&metrics_server, &result) {
        server.publish(report);
    }
    let mut report = match result {
        Ok(report) => report,
        Err(EngineError::Export(e)) => return Err((EXIT_BAD_INPUT, e.to_string())),
        Err(e) => return Err((EXIT_RUN_FAILED, e.to_string())),
    };
    for (_, s) in &mut samplers {
        s.sample();
    }
    if !samplers.is_empty() {
        report.resources = Some(Resources {
            interval_ms: SAMPLE_EVERY.as_millis() as u64,
            components: samplers.iter_mut().map(|(_, s)| s.finish()).collect(),
        });
    }
    Ok((report, died))
}
