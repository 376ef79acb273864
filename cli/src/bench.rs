//! `scaletest bench`: what this machine can generate, measured end to end against the embedded
//! sink on loopback (client and sink share the cores, so the figures are a floor).
//!
//! Phases, a few seconds each (under a minute in all):
//! 1. the default mix, synthetic clock, as fast as the pipeline sustains without drops (four
//!    closed-model workers that wait while the exporter has more than 4,096 spans queued), for
//!    compression none, zstd, gzip: traces/s and MB/s acknowledged by the sink;
//! 2. flat small spans (a root and 100 tiny tool spans per trace): spans/s;
//! 3. the open-model dispatcher at 100, 1,000 and 5,000 traces/s (tiny traces): achieved vs
//!    target rate and start-lag p99;
//! 4. the direct path against the OpenTelemetry SDK pipeline at the same offered load: spans
//!    delivered, dropped (the SDK drops silently when its queue is full), tracer cost per span;
//! 5. the process's peak RSS.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use scenario_runtime::AnyScenario;
use scenario_runtime::engine::export::Compression;
use scenario_runtime::engine::metrics::peak_rss_bytes;
use scenario_runtime::engine::plan::{
    ContentPlan, Endpoint, ExportPath, ExportPlan, ReportPlan, RunPlan, Target, VerifyMode,
    VerifyPlan,
};
use scenario_runtime::engine::report::Report;
use scenario_runtime::engine::schedule::{ClockKind, Load, Mix, RatePlan, StopSignal, Workload};
use scenario_runtime::engine::sink::SinkConfig;
use scenario_runtime::engine::{self, NoProgress};
use scenario_runtime::latency::Latency;
use scenario_runtime::platform::{PlatformId, PlatformSettings, Protocol};
use scenario_runtime::scenario::{Meta, Scenario};
use scenario_runtime::shape::{Range, Shape};
use scenario_runtime::step::{Repeat, Tool};

/// `scaletest bench` options.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Seconds per throughput phase.
    #[arg(long, default_value_t = 3)]
    pub seconds: u64,
    /// Run only one phase (to profile it): mix, flat, sdk or rate.
    #[arg(long, value_parser = ["mix", "flat", "sdk", "rate"])]
    pub only: Option<String>,
}

/// A trace of a root and `times` tiny tool spans: measures per-span overhead, not content.
fn flat_scenario(name: &'static str, times: u32) -> &'static dyn AnyScenario {
    let shape = Shape {
        spans: Range::exact(u64::from(times) + 1),
        depth: 2,
        payload_bytes: Range::exact(u64::from(times) * 16),
        llm_calls: Range::exact(0),
        tool_calls: Range::exact(u64::from(times)),
        tokens: Range::exact(0),
    };
    Box::leak(Box::new(Scenario {
        meta: Meta {
            name,
            description: "flat small spans (benchmark)",
            agent: "bench",
            model: "none",
            provider: "none",
            workflow: None,
            session: None,
            shape,
        },
        tree: Repeat {
            id: 0,
            times,
            body: Tool {
                id: 1,
                name: "ping",
                result_bytes: 16,
                latency: Latency::fixed_micros(100),
                fail: 0.0,
            },
        },
    }))
}

/// What one phase measured: the report, and the time from the engine's start until the
/// exporter had sent everything (so figures are not inflated by spans still queued when traces
/// ended).
struct Measured {
    report: Report,
    elapsed: Duration,
}

/// One measured phase against a fresh embedded sink, through the same engine as `run`.
async fn phase(
    mix: &[(&'static dyn AnyScenario, f64)],
    load: Load,
    duration: Duration,
    compression: Compression,
    path: ExportPath,
) -> Result<Measured, String> {
    let platform = PlatformId::Otlp;
    let profile = platform.profile(&PlatformSettings::default()).map_err(|e| e.to_string())?;
    let mut export = ExportPlan::new(path, Protocol::HttpProtobuf);
    export.compression = compression;
    export.max_requests = 4;
    let plan = RunPlan {
        target: Target {
            platform,
            settings: PlatformSettings::default(),
            profile,
            endpoint: Endpoint::Embedded(SinkConfig::default()),
        },
        export,
        workload: Workload {
            load,
            duration: Some(duration),
            count: None,
            mix: Mix::new(mix).ok_or("empty mix")?,
            seed: 1,
            clock: ClockKind::Synthetic,
            drain_timeout: Duration::from_secs(5),
        },
        content: ContentPlan {
            service_name: Some("scaletest-bench".to_owned()),
            ..ContentPlan::default()
        },
        report: ReportPlan::default(),
        // The bench measures the generator; the sink's delivery figures say what arrived.
        verify: VerifyPlan { mode: VerifyMode::Off, ..VerifyPlan::default() },
    };
    let began = std::time::Instant::now();
    let report = engine::run(plan, Arc::new(StopSignal::default()), &mut NoProgress)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Measured { report, elapsed: began.elapsed() })
}

fn throughput_line(label: &str, m: &Measured) -> String {
    let r = &m.report;
    let secs = m.elapsed.as_secs_f64().max(1e-9);
    let delivered =
        if r.spans.created == 0 { 0.0 } else { r.spans.exported as f64 / r.spans.created as f64 };
    let cost = r.sdk.as_ref().map_or(String::new(), |sdk| {
        format!(", tracer {:.0} ns/span on the caller", sdk.tracer_ns_per_span)
    });
    format!(
        "  {label:<18} {:>8.0} traces/s  {:>8.0} spans/s  {:>7.1} MB/s raw  {:>7.1} MB/s wire  \
         {:>5.1}% dropped{cost}",
        r.traces.started as f64 * delivered / secs,
        r.spans.exported as f64 / secs,
        r.bytes.raw as f64 / 1e6 / secs,
        r.bytes.wire as f64 / 1e6 / secs,
        (1.0 - delivered) * 100.0
    )
}

pub fn main(args: BenchArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let seconds = Duration::from_secs(args.seconds.clamp(1, 60));
    match runtime.block_on(bench(seconds, args.only.as_deref())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn bench(seconds: Duration, only: Option<&str>) -> Result<(), String> {
    let wanted = |phase: &str| only.is_none_or(|o| o == phase);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("scaletest bench: {cores} cores, embedded sink on 127.0.0.1, synthetic clock");
    let default_mix: Vec<(&'static dyn AnyScenario, f64)> = scenarios::DEFAULT_MIX
        .iter()
        .filter_map(|&(name, w)| scenarios::find(name).map(|s| (s, w)))
        .collect();
    let flat = [(flat_scenario("flat_small_spans", 100), 1.0)];
    let tiny = [(flat_scenario("tiny", 1), 1.0)];
    // As fast as the pipeline goes without drops: workers wait while the exporter has more
    // than a few batches' worth of spans queued.
    let saturate =
        Load::Closed { workers: 4, ramp_up: Duration::ZERO, max_pending_spans: Some(4096) };

    if wanted("mix") {
        println!(
            "\nFigures count what the sink acknowledged, per second until the exporter had sent \
             it all; workers wait while the direct exporter is behind, so these phases drop \
             nothing (the SDK comparison below counts what its batch processor drops)."
        );
        println!("\nDefault mix, as fast as possible ({}s each):", seconds.as_secs());
        for compression in [Compression::None, Compression::Zstd, Compression::Gzip] {
            let m = phase(&default_mix, saturate.clone(), seconds, compression, ExportPath::Direct)
                .await?;
            println!("{}", throughput_line(&format!("compression {compression}"), &m));
        }
    }
    if wanted("flat") {
        println!("\nFlat small spans (root + 100 tool spans per trace):");
        let m =
            phase(&flat, saturate.clone(), seconds, Compression::None, ExportPath::Direct).await?;
        println!("{}", throughput_line("compression none", &m));
    }
    if wanted("sdk") {
        paths(&default_mix, seconds).await?;
    }
    if wanted("rate") {
        rates(&tiny).await?;
    }
    println!("\nPeak RSS: {:.1} MB", peak_rss_bytes() as f64 / 1e6);
    Ok(())
}

/// The direct path and the SDK pipeline offered the same open-model load: what each delivers,
/// what the SDK drops silently, and what its tracer costs the application per span.
async fn paths(mix: &[(&'static dyn AnyScenario, f64)], seconds: Duration) -> Result<(), String> {
    const OFFERED: f64 = 3000.0;
    println!(
        "\nDirect path vs OpenTelemetry SDK pipeline (default mix offered at {OFFERED} traces/s, \
         no compression):"
    );
    for (label, path) in [("direct", ExportPath::Direct), ("sdk", ExportPath::Sdk)] {
        let load = Load::Open { plan: RatePlan::constant(OFFERED), max_in_flight: None };
        let m = phase(mix, load, seconds, Compression::None, path).await?;
        println!("{}", throughput_line(label, &m));
    }
    Ok(())
}

/// The open-model dispatcher at fixed rates: achieved rate and start lag.
async fn rates(tiny: &[(&'static dyn AnyScenario, f64)]) -> Result<(), String> {
    println!("\nOpen-model dispatcher (2 s each, tiny traces):");
    for rate in [100.0, 1000.0, 5000.0] {
        let load = Load::Open { plan: RatePlan::constant(rate), max_in_flight: None };
        let r = phase(tiny, load, Duration::from_secs(2), Compression::None, ExportPath::Direct)
            .await?
            .report;
        let achieved = r.throughput.traces_per_s;
        println!(
            "  target {rate:>6.0} traces/s: achieved {achieved:>8.1} traces/s ({:+.2}%), start lag p99 {:.2} ms, late {}, missed {}",
            (achieved / rate - 1.0) * 100.0,
            r.start_lag.p99_ms,
            r.traces.late,
            r.traces.missed
        );
    }
    Ok(())
}
