//! `scaletest bench`: what this machine can generate, measured against `scaletest sink` running
//! in a process of its own, so that every CPU figure is the generator's alone.
//!
//! Phases, a few seconds each:
//! 1. capacity with the real clock: the reference mix at `--capacity-rate` traces/s; traces in
//!    flight, late starts, drops, and resident memory per trace in flight;
//! 2. the bare-encoder ceiling for each compression: prebuilt spans (no content generation)
//!    encoded, compressed and POSTed as fast as four requests in flight go; OTLP bytes per
//!    CPU-second;
//! 3. the default mix, synthetic clock, as fast as the pipeline sustains without drops (four
//!    closed-model workers that wait while the exporter has more than 4,096 spans queued), for
//!    each compression: traces/s, spans/s, OTLP bytes per generator CPU-second, and the ratio
//!    to the ceiling;
//! 4. flat small spans (a root and 100 tiny tool spans per trace): spans/s;
//! 5. the direct path against the OpenTelemetry SDK pipeline at the same offered load;
//! 6. the open-model dispatcher at 100, 1,000 and 5,000 traces/s: achieved rate, start lag.
//!
//! `--soak` runs instead one long real-clock run (200 traces/s for 10 minutes by default) and
//! reads its resident memory every second: growth from the end of the first fifth (minute 2 of
//! 10) to the end must stay under 10%.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scenario_runtime::engine::export::encode::BatchEncoder;
use scenario_runtime::engine::export::{Compression, encode_body, http_client_builder};
use scenario_runtime::engine::metrics::{peak_rss_bytes, process_cpu_time};
use scenario_runtime::engine::plan::{
    ContentPlan, Endpoint, ExportPath, ExportPlan, ReportPlan, RunPlan, Target, VerifyMode,
    VerifyPlan,
};
use scenario_runtime::engine::report::Report;
use scenario_runtime::engine::schedule::{ClockKind, Load, Mix, RatePlan, StopSignal, Workload};
use scenario_runtime::engine::series::rss_bytes;
use scenario_runtime::engine::{self, NoProgress};
use scenario_runtime::latency::Latency;
use scenario_runtime::platform::{PlatformId, PlatformSettings, Protocol};
use scenario_runtime::scenario::{Meta, Scenario};
use scenario_runtime::shape::{Range, Shape};
use scenario_runtime::step::{Repeat, Tool};
use scenario_runtime::{AnyScenario, LatencyScale};

/// Exit code when the soak's memory grew by the limit or more (as a failed threshold).
const EXIT_SOAK_GREW: u8 = 3;

/// Most memory growth a soak may show, from the end of its first fifth to its end.
const SOAK_GROWTH_LIMIT: f64 = 0.10;

/// `scaletest bench` options.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Seconds per throughput phase.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Run only one phase (to profile it): capacity, ceiling, mix, flat, sdk or rate.
    #[arg(long, value_parser = ["capacity", "ceiling", "mix", "flat", "sdk", "rate"])]
    pub only: Option<String>,
    /// Traces/s of the reference mix in the real-clock capacity phase.
    #[arg(long, default_value = "1000", value_parser = parse_rate)]
    pub capacity_rate: f64,
    /// Length of the real-clock capacity phase (`20s`): long enough for the longest traces
    /// (about 40 s) to fill the in-flight count takes longer.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub capacity_duration: Duration,
    /// Run the soak instead of the phases: real clock, resident memory read every second.
    #[arg(long)]
    pub soak: bool,
    /// How long the soak starts traces (`10m`).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub soak_duration: Duration,
    /// Traces/s of the reference mix during the soak.
    #[arg(long, default_value = "200", value_parser = parse_rate)]
    pub soak_rate: f64,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("`{text}` is not a rate: expected a positive number of traces/s")),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    match scenario_runtime::units::parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(format!("duration `{}` is zero: expected a positive duration", text.trim())),
        Err(e) => Err(format!("invalid duration `{}`: {e}", text.trim())),
    }
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

/// `scaletest sink` in a child process on a free loopback port; killed when dropped.
struct SinkProcess {
    child: Child,
    /// Kept open: the sink prints its summary on exit, and a closed pipe would fail it.
    _stdout: BufReader<ChildStdout>,
    traces_url: String,
}

impl SinkProcess {
    fn start() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let mut child = Command::new(exe)
            .args(["sink", "--listen", "127.0.0.1:0", "--report-every", "0s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start `scaletest sink`: {e}"))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err("`scaletest sink` has no output".into());
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        // "scaletest sink listening on 127.0.0.1:PORT"
        let Some(addr) = line.trim().strip_prefix("scaletest sink listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`scaletest sink` did not start: `{}`", line.trim()));
        };
        let traces_url = format!("http://{addr}/v1/traces");
        Ok(Self { child, _stdout: stdout, traces_url })
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one phase measured: the report, the wall time from the engine's start until the
/// exporter had sent everything, and this process's CPU time over the same span.
struct Measured {
    report: Report,
    elapsed: Duration,
    cpu_s: f64,
}

/// One measured phase's settings.
struct Phase<'a> {
    mix: &'a [(&'static dyn AnyScenario, f64)],
    load: Load,
    duration: Duration,
    compression: Compression,
    path: ExportPath,
    clock: ClockKind,
    drain: Duration,
}

impl<'a> Phase<'a> {
    fn synthetic(
        mix: &'a [(&'static dyn AnyScenario, f64)],
        load: Load,
        duration: Duration,
    ) -> Self {
        Self {
            mix,
            load,
            duration,
            compression: Compression::None,
            path: ExportPath::Direct,
            clock: ClockKind::Synthetic,
            drain: Duration::from_secs(5),
        }
    }
}

/// Runs one phase through the same engine as `run`, against the sink at `url`.
async fn phase(url: &str, p: Phase<'_>) -> Result<Measured, String> {
    let platform = PlatformId::Otlp;
    let profile = platform.profile(&PlatformSettings::default()).map_err(|e| e.to_string())?;
    let mut export = ExportPlan::new(p.path, Protocol::HttpProtobuf);
    export.compression = p.compression;
    export.max_requests = 4;
    let plan = RunPlan {
        target: Target {
            platform,
            settings: PlatformSettings::default(),
            profile,
            endpoint: Endpoint::Url(url.to_owned()),
        },
        export,
        workload: Workload {
            load: p.load,
            duration: Some(p.duration),
            count: None,
            mix: Mix::new(p.mix).ok_or("empty mix")?,
            seed: 1,
            clock: p.clock,
            latency_scale: LatencyScale::ONE,
            drain_timeout: p.drain,
        },
        content: ContentPlan {
            service_name: Some("scaletest-bench".to_owned()),
            ..ContentPlan::default()
        },
        report: ReportPlan::default(),
        // The bench measures the generator; the sink counts what arrived.
        verify: VerifyPlan { mode: VerifyMode::Off, ..VerifyPlan::default() },
        query: None,
    };
    let cpu = process_cpu_time();
    let began = Instant::now();
    let report = engine::run(plan, Arc::new(StopSignal::default()), &mut NoProgress)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Measured {
        report,
        elapsed: began.elapsed(),
        cpu_s: process_cpu_time().saturating_sub(cpu).as_secs_f64(),
    })
}

/// Raw OTLP gigabytes per CPU-second.
fn per_cpu_s(bytes: u64, cpu_s: f64) -> f64 {
    if cpu_s > 0.0 { bytes as f64 / 1e9 / cpu_s } else { 0.0 }
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
        "  {label:<18} {:>7.0} traces/s {:>8.0} spans/s {:>7.1} MB/s raw {:>7.1} MB/s wire \
         {:>5.1}% dropped; {:.2} GB raw per CPU-s ({:.1} CPU-s){cost}",
        r.traces.started as f64 * delivered / secs,
        r.spans.exported as f64 / secs,
        r.bytes.raw as f64 / 1e6 / secs,
        r.bytes.wire as f64 / 1e6 / secs,
        (1.0 - delivered) * 100.0,
        per_cpu_s(r.bytes.raw, m.cpu_s),
        m.cpu_s,
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
    let sink = match SinkProcess::start() {
        Ok(sink) => sink,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let result = if args.soak {
        runtime.block_on(soak(&sink.traces_url, args.soak_rate, args.soak_duration))
    } else {
        runtime.block_on(bench(&sink.traces_url, &args)).map(|()| true)
    };
    drop(sink);
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_SOAK_GREW),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn default_mix() -> Vec<(&'static dyn AnyScenario, f64)> {
    scenarios::DEFAULT_MIX
        .iter()
        .filter_map(|&(name, w)| scenarios::find(name).map(|s| (s, w)))
        .collect()
}

const COMPRESSIONS: [Compression; 3] = [Compression::None, Compression::Zstd, Compression::Gzip];

async fn bench(url: &str, args: &BenchArgs) -> Result<(), String> {
    let wanted = |phase: &str| args.only.as_deref().is_none_or(|o| o == phase);
    let seconds = Duration::from_secs(args.seconds.clamp(1, 600));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "scaletest bench: {cores} cores; `scaletest sink` in its own process on 127.0.0.1, so \
         CPU figures are the generator's alone"
    );
    let default_mix = default_mix();
    if wanted("capacity") {
        capacity(url, &default_mix, args.capacity_rate, args.capacity_duration).await?;
    }
    let mut ceilings = Vec::new();
    if wanted("ceiling") || wanted("mix") {
        println!(
            "\nBare-encoder ceiling: prebuilt spans of the default mix (no content generation) \
             encoded, compressed and POSTed, 4 requests in flight ({}s each):",
            seconds.as_secs()
        );
        for compression in COMPRESSIONS {
            let c = ceiling(url, &default_mix, compression, seconds).await?;
            println!(
                "  compression {:<6} {:>8.0} spans/s {:>7.1} MB/s raw {:>7.1} MB/s wire; \
                 {:.2} GB raw per CPU-s ({:.1} CPU-s)",
                compression.to_string(),
                c.spans as f64 / c.elapsed_s,
                c.raw as f64 / 1e6 / c.elapsed_s,
                c.wire as f64 / 1e6 / c.elapsed_s,
                per_cpu_s(c.raw, c.cpu_s),
                c.cpu_s
            );
            ceilings.push((compression, per_cpu_s(c.raw, c.cpu_s)));
        }
    }
    // As fast as the pipeline goes without drops: workers wait while the exporter has more
    // than a few batches' worth of spans queued.
    let saturate =
        Load::Closed { workers: 4, ramp_up: Duration::ZERO, max_pending_spans: Some(4096) };
    if wanted("mix") {
        println!(
            "\nDefault mix, synthetic clock, as fast as possible ({}s each); workers wait while \
             the exporter is behind, so nothing is dropped:",
            seconds.as_secs()
        );
        for compression in COMPRESSIONS {
            let phase_settings =
                Phase { compression, ..Phase::synthetic(&default_mix, saturate.clone(), seconds) };
            let m = phase(url, phase_settings).await?;
            let ratio = ceilings
                .iter()
                .find(|(c, _)| *c == compression)
                .filter(|(_, ceiling)| *ceiling > 0.0)
                .map_or(String::new(), |(_, ceiling)| {
                    format!(
                        "; {:.0}% of the ceiling's {ceiling:.2}",
                        per_cpu_s(m.report.bytes.raw, m.cpu_s) / ceiling * 100.0
                    )
                });
            println!("{}{ratio}", throughput_line(&format!("compression {compression}"), &m));
        }
    }
    if wanted("flat") {
        println!("\nFlat small spans (root + 100 tool spans per trace):");
        let flat = [(flat_scenario("flat_small_spans", 100), 1.0)];
        let m = phase(url, Phase::synthetic(&flat, saturate.clone(), seconds)).await?;
        println!("{}", throughput_line("compression none", &m));
    }
    if wanted("sdk") {
        paths(url, &default_mix, seconds).await?;
    }
    if wanted("rate") {
        rates(url).await?;
    }
    println!("\nPeak RSS of the generator: {:.1} MB", peak_rss_bytes() as f64 / 1e6);
    Ok(())
}

/// The real clock at `rate` traces/s: how many traces were in flight at once, whether they
/// started on time and were all delivered, and the resident memory each one took.
async fn capacity(
    url: &str,
    mix: &[(&'static dyn AnyScenario, f64)],
    rate: f64,
    duration: Duration,
) -> Result<(), String> {
    println!(
        "\nReal clock, default mix at {rate:.0} traces/s for {:.0} s (traces still running at the \
         end are cancelled):",
        duration.as_secs_f64()
    );
    // The content pools belong to the baseline, not to the traces.
    scenario_runtime::content::prepare();
    let baseline = rss_bytes();
    let load = Load::Open { plan: RatePlan::constant(rate), max_in_flight: None };
    let phase_settings = Phase {
        clock: ClockKind::Real,
        drain: Duration::ZERO,
        compression: Compression::Gzip,
        ..Phase::synthetic(mix, load, duration)
    };
    let m = phase(url, phase_settings).await?;
    let r = &m.report;
    let peak = r.measurements.series.rows.iter().max_by_key(|row| row.traces_in_flight);
    let (in_flight, rss, queued) =
        peak.map_or((0, 0, 0), |row| (row.traces_in_flight, row.rss_bytes, row.queue_spans));
    let per_trace = rss.saturating_sub(baseline) as f64 / in_flight.max(1) as f64;
    println!(
        "  gzip: started {} ({:.0} traces/s), late {} (start lag p99 {:.1} ms), missed {}, \
         dropped starts {}; spans created {}, exported {}, dropped {} (queue full {}, cut at \
         shutdown {}, refused {}, failed {}), outcome unknown {}",
        r.traces.started,
        r.throughput.traces_per_s,
        r.traces.late,
        r.start_lag.p99_ms,
        r.traces.missed,
        r.traces.dropped_starts,
        r.spans.created,
        r.spans.exported,
        r.spans.dropped,
        r.spans.queue_full,
        r.spans.unfinished,
        r.spans.rejected,
        r.spans.failed,
        r.spans.unknown
    );
    println!(
        "  in flight: at most {in_flight} traces at once; RSS then {:.0} MB ({:.0} MB before the \
         phase, {queued} spans queued in the exporter then): {:.1} KB per trace in flight; \
         generator CPU {:.0}%",
        rss as f64 / 1e6,
        baseline as f64 / 1e6,
        per_trace / 1e3,
        m.cpu_s / m.elapsed.as_secs_f64().max(1e-9) * 100.0
    );
    if per_trace > 0.0 {
        println!(
            "  at that memory per trace, 1 GB holds about {:.0} traces in flight (arithmetic, \
             not measured)",
            1e9 / per_trace
        );
    }
    Ok(())
}

/// What the bare-encoder ceiling sent.
struct Ceiling {
    spans: u64,
    raw: u64,
    wire: u64,
    elapsed_s: f64,
    cpu_s: f64,
}

/// Encodes, compresses and POSTs prebuilt batches of the mix (cut as the exporter cuts them,
/// encoded by the exporter's own [`encode_body`]) for `duration` with four requests in flight:
/// what the export path alone costs.
async fn ceiling(
    url: &str,
    mix: &[(&'static dyn AnyScenario, f64)],
    compression: Compression,
    duration: Duration,
) -> Result<Ceiling, String> {
    const MAX_BATCH_SPANS: usize = 512;
    const MAX_BATCH_BYTES: usize = 3_000_000;
    let mix = Mix::new(mix).ok_or("empty mix")?;
    let emitter = scenario_runtime::Emitter::default();
    let mut batches = vec![Vec::new()];
    let mut batch_bytes = 0;
    for sequence in 0..64u64 {
        let seed = scenario_runtime::exec::mix(7, sequence);
        let scenario = mix.scenario(mix.pick_seeded(seed));
        let (_, spans) = scenario_runtime::record_trace(scenario, &emitter, seed);
        for span in spans {
            let len = scenario_runtime::engine::export::encode::estimated_len(
                &span,
                Protocol::HttpProtobuf,
            );
            let full = batches.last().is_some_and(|b: &Vec<_>| {
                b.len() >= MAX_BATCH_SPANS || batch_bytes + len > MAX_BATCH_BYTES
            });
            if full {
                batches.push(Vec::new());
                batch_bytes = 0;
            }
            batch_bytes += len;
            if let Some(batch) = batches.last_mut() {
                batch.push(span);
            }
        }
    }
    let batches: Vec<Arc<Vec<_>>> = batches.into_iter().map(Arc::new).collect();
    let encoder = BatchEncoder::new(emitter.resource().to_vec(), Protocol::HttpProtobuf);
    let client = http_client_builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(4)
        .build()
        .map_err(|e| e.to_string())?;
    let totals = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let cpu = process_cpu_time();
    let began = Instant::now();
    let deadline = began + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let own = batches.clone();
        let (client, encoder, totals, url) =
            (client.clone(), encoder.clone(), Arc::clone(&totals), url.to_owned());
        tasks.spawn(async move {
            let mut next = worker;
            while Instant::now() < deadline {
                let index = next % own.len();
                next += 1;
                let spans = &own[index];
                let count = spans.len() as u64;
                // The exporter's own encoding: pieces, or compressed while encoded.
                let (body, raw_len) = encode_body(&encoder, compression, spans);
                let body = body.map_err(|e| e.to_string())?;
                let (raw_len, wire_len) = (raw_len as u64, body.len() as u64);
                let mut request = client
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .body(body.into_request_body());
                if let Some(encoding) = compression.encoding() {
                    request = request.header("content-encoding", encoding);
                }
                let response = request.send().await.map_err(|e| e.to_string())?;
                let status = response.status();
                let _ = response.bytes().await;
                if !status.is_success() {
                    return Err(format!("the sink answered {status}"));
                }
                totals[0].fetch_add(count, Ordering::Relaxed);
                totals[1].fetch_add(raw_len, Ordering::Relaxed);
                totals[2].fetch_add(wire_len, Ordering::Relaxed);
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(Ceiling {
        spans: totals[0].load(Ordering::Relaxed),
        raw: totals[1].load(Ordering::Relaxed),
        wire: totals[2].load(Ordering::Relaxed),
        elapsed_s: began.elapsed().as_secs_f64(),
        cpu_s: process_cpu_time().saturating_sub(cpu).as_secs_f64(),
    })
}

/// The direct path and the SDK pipeline offered the same open-model load: what each delivers,
/// what the SDK drops silently, and what its tracer costs the application per span.
async fn paths(
    url: &str,
    mix: &[(&'static dyn AnyScenario, f64)],
    seconds: Duration,
) -> Result<(), String> {
    const OFFERED: f64 = 3000.0;
    println!(
        "\nDirect path vs OpenTelemetry SDK pipeline (default mix offered at {OFFERED} traces/s, \
         no compression):"
    );
    for (label, path) in [("direct", ExportPath::Direct), ("sdk", ExportPath::Sdk)] {
        let load = Load::Open { plan: RatePlan::constant(OFFERED), max_in_flight: None };
        let m = phase(url, Phase { path, ..Phase::synthetic(mix, load, seconds) }).await?;
        println!("{}", throughput_line(label, &m));
    }
    Ok(())
}

/// The open-model dispatcher at fixed rates: achieved rate and start lag.
async fn rates(url: &str) -> Result<(), String> {
    let tiny = [(flat_scenario("tiny", 1), 1.0)];
    println!("\nOpen-model dispatcher (2 s each, tiny traces):");
    for rate in [100.0, 1000.0, 5000.0] {
        let load = Load::Open { plan: RatePlan::constant(rate), max_in_flight: None };
        let r = phase(url, Phase::synthetic(&tiny, load, Duration::from_secs(2))).await?.report;
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

/// The soak: the reference mix with the real clock at `rate` traces/s for `duration`, resident
/// memory read every second. `false` when it grew by [`SOAK_GROWTH_LIMIT`] or more from the end
/// of the first fifth to the end.
async fn soak(url: &str, rate: f64, duration: Duration) -> Result<bool, String> {
    println!(
        "scaletest bench --soak: default mix at {rate:.0} traces/s for {:.0} s, real clock, gzip, \
         against `scaletest sink` in its own process; resident memory read every second",
        duration.as_secs_f64()
    );
    let mix = default_mix();
    let load = Load::Open { plan: RatePlan::constant(rate), max_in_flight: None };
    let phase_settings = Phase {
        clock: ClockKind::Real,
        drain: Duration::ZERO,
        compression: Compression::Gzip,
        ..Phase::synthetic(&mix, load, duration)
    };
    let m = phase(url, phase_settings).await?;
    let r = &m.report;
    let rows = &r.measurements.series.rows;
    let Some(first) = rows.first() else {
        return Err("the run recorded no time series".into());
    };
    let start_ms = first.start_unix_ms;
    let end_ms = start_ms + duration.as_millis() as u64;
    // RSS at a moment: the mean of the samples of the 10 seconds before it (or fewer).
    let rss_at = |at_ms: u64| {
        let window: Vec<u64> = rows
            .iter()
            .filter(|row| row.start_unix_ms < at_ms && row.start_unix_ms + 10_000 >= at_ms)
            .map(|row| row.rss_bytes)
            .collect();
        window.iter().sum::<u64>() as f64 / window.len().max(1) as f64
    };
    let minute = 60_000;
    println!("  time     traces in flight   RSS MB   CPU %");
    let mut at = minute.min(duration.as_millis() as u64);
    loop {
        let row = rows.iter().rfind(|row| row.start_unix_ms < start_ms + at);
        if let Some(row) = row {
            println!(
                "  {:>2}:{:02}    {:>16} {:>8.0} {:>7.0}",
                at / minute,
                at % minute / 1000,
                row.traces_in_flight,
                rss_at(start_ms + at) / 1e6,
                row.cpu_ms as f64 / row.duration_ms.max(1) as f64 * 100.0
            );
        }
        if start_ms + at >= end_ms {
            break;
        }
        at = (at + minute).min(duration.as_millis() as u64);
    }
    let fifth = start_ms + duration.as_millis() as u64 / 5;
    let (early, late) = (rss_at(fifth), rss_at(end_ms));
    let growth = if early > 0.0 { late / early - 1.0 } else { 0.0 };
    println!(
        "  started {}, late {} (start lag p99 {:.1} ms), dropped starts {}; spans created {}, \
         exported {}, dropped {}; peak RSS {:.0} MB",
        r.traces.started,
        r.traces.late,
        r.start_lag.p99_ms,
        r.traces.dropped_starts,
        r.spans.created,
        r.spans.exported,
        r.spans.dropped,
        peak_rss_bytes() as f64 / 1e6
    );
    let ok = growth < SOAK_GROWTH_LIMIT;
    println!(
        "  RSS growth from {:.0} s to {:.0} s: {:.0} MB -> {:.0} MB, {:+.1}% ({} the {:.0}% limit)",
        (fifth - start_ms) as f64 / 1e3,
        (end_ms - start_ms) as f64 / 1e3,
        early / 1e6,
        late / 1e6,
        growth * 100.0,
        if ok { "within" } else { "over" },
        SOAK_GROWTH_LIMIT * 100.0
    );
    Ok(ok)
}
