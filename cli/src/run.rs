//! `scaletest run`: resolves the configuration into a run plan, hands it to the engine, shows
//! progress, prints the report and sets the exit code.
//!
//! Exit codes: 0 ok; 1 the run failed (spans were created but none could be exported); 2 bad
//! input (printed as one message naming the value); 3 thresholds failed; 130 interrupted (the
//! partial report is still written).
//!
//! Platform `console` prints `--count` traces (default 1) as trees, with the synthetic clock and
//! no network.

use std::process::ExitCode;
use std::sync::Arc;

use scenario_runtime::engine::plan::{Endpoint, RunPlan};
use scenario_runtime::engine::schedule::{StopReason, StopSignal};
use scenario_runtime::engine::{self, EngineError};
use scenario_runtime::platform::PlatformId;

pub use crate::config::RunArgs;
use crate::config::Settings;

/// Exit code for bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when nothing could be exported.
pub const EXIT_RUN_FAILED: u8 = 1;
/// Exit code when a threshold failed.
pub const EXIT_THRESHOLDS: u8 = 3;
/// Exit code of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it): the
/// partial report is written, and a cancelled CI job never reads as a pass.
pub const EXIT_INTERRUPTED: u8 = 130;

fn bad_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

pub fn main(args: RunArgs) -> ExitCode {
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(e) => return bad_input(e),
    };
    let plan = match settings.plan(|var| std::env::var(var).ok()) {
        Ok(plan) => plan,
        Err(e) => return bad_input(e),
    };
    if plan.target.platform == PlatformId::Console {
        return console(&settings, &plan);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    runtime.block_on(load_test(settings, plan))
}

/// Prints `--count` traces (default 1) as trees: the console platform.
fn console(settings: &Settings, plan: &RunPlan) -> ExitCode {
    let emitter = plan.content.emitter(&plan.target.profile);
    let mix = &plan.workload.mix;
    for sequence in 0..settings.count.unwrap_or(1) {
        let seed = scenario_runtime::exec::mix(settings.seed, sequence);
        let scenario = mix.scenario(mix.pick_seeded(seed));
        let (_, spans) = scenario_runtime::record_trace(scenario, &emitter, seed);
        println!("{}", scenario_runtime::console::render_trace(&spans));
    }
    ExitCode::SUCCESS
}

async fn load_test(settings: Settings, plan: RunPlan) -> ExitCode {
    let endpoint = match &plan.target.endpoint {
        Endpoint::Url(url) => Some(url.clone()),
        Endpoint::Embedded(_) => None,
    };
    let stop = Arc::new(StopSignal::default());
    spawn_ctrl_c(Arc::clone(&stop));
    let mut live = crate::progress::Live::new();
    let metrics_server = match settings.metrics_listen {
        Some(addr) => match crate::prom::Server::start(addr).await {
            Ok(server) => Some(server),
            Err(e) => return bad_input(format!("cannot serve metrics on {addr}: {e}")),
        },
        None => None,
    };
    let plan = match crate::experiment::own(plan, &crate::experiment::unique_name("run")).await {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    let mut tee = crate::prom::Tee::new(&mut live, metrics_server.as_ref());
    let report = match engine::run(plan, stop, &mut tee).await {
        Ok(report) => report,
        Err(EngineError::Export(e)) => return bad_input(e),
        Err(e @ EngineError::Sink(_)) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    drop(live);
    if let Some(server) = &metrics_server {
        server.publish(&report);
    }
    let text = crate::render::summary(&report);
    if let Err(e) =
        crate::output::write(&report, &text, settings.json.as_deref(), settings.html.as_deref())
    {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    if !report.thresholds_passed() || report.status == engine::report::RunStatus::Aborted {
        return ExitCode::from(EXIT_THRESHOLDS);
    }
    if report.status == engine::report::RunStatus::Interrupted {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    if report.spans.created > 0 && report.spans.exported == 0 {
        let target = endpoint.map_or("the embedded sink".to_owned(), |url| {
            scenario_runtime::engine::plan::redact_url(&url)
        });
        eprintln!("error: no span could be exported to {target}");
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    ExitCode::SUCCESS
}

/// Ctrl-C, and on Unix SIGTERM too (as Kubernetes and `docker stop` send it), one at a time.
/// On Unix both are streams registered once, so a signal that comes while the last one is
/// being handled is kept, not missed.
pub(crate) struct Interrupts {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    /// Listens from now on (within a tokio runtime).
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        use tokio::signal::unix::{SignalKind, signal};
        Self {
            #[cfg(unix)]
            int: signal(SignalKind::interrupt()).ok(),
            #[cfg(unix)]
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    /// The next signal; `false` when none can be received any more.
    pub(crate) async fn next(&mut self) -> bool {
        #[cfg(unix)]
        if let (Some(int), Some(term)) = (self.int.as_mut(), self.term.as_mut()) {
            return tokio::select! {
                r = int.recv() => r.is_some(),
                r = term.recv() => r.is_some(),
            };
        }
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// First Ctrl-C (or SIGTERM): stop starting traces and drain. Second: stop waiting.
fn spawn_ctrl_c(stop: Arc<StopSignal>) {
    tokio::spawn(async move {
        let mut interrupts = Interrupts::listen();
        for round in 0..2 {
            if !interrupts.next().await {
                return;
            }
            if round == 0 {
                eprintln!("\nstopping: finishing traces in flight (Ctrl-C again to stop waiting)");
            } else {
                eprintln!("\nstopping now: cancelling traces in flight");
            }
            stop.stop(StopReason::Interrupted);
        }
    });
}
