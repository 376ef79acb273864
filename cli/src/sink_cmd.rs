//! `scaletest sink`: the embedded OTLP receiver on its own, with optional fault injection.
//!
//! It prints counts every `--report-every` and a summary on Ctrl-C. Every flag has an
//! environment variable (`SCALETEST_SINK_*`); bad values exit with code 2 and name the value.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use scenario_runtime::engine::sink::{
    Faults, RunningSink, SinkConfig, SinkStats, Throttle, Trigger,
};

#[derive(Debug, clap::Args)]
pub struct SinkArgs {
    /// Address to listen on. Loopback by default; 0.0.0.0:PORT accepts remote clients.
    #[arg(long, env = "SCALETEST_SINK_LISTEN", default_value = "127.0.0.1:4318", value_parser = parse_addr)]
    listen: SocketAddr,

    /// Largest request body, as sent and after decompression; larger ones get 413.
    /// Units: b, kb, mb, gb (1kb = 1024 bytes, as in scenarios).
    #[arg(long = "max-body", env = "SCALETEST_SINK_MAX_BODY", default_value = "64mb", value_parser = parse_size)]
    max_body: usize,

    /// How often to print counts (`5s`, `500ms`); `0s` prints only the summary.
    #[arg(long, env = "SCALETEST_SINK_REPORT_EVERY", default_value = "5s", value_parser = parse_duration)]
    report_every: Duration,

    /// Print the summary on exit as JSON instead of text.
    #[arg(long, env = "SCALETEST_SINK_JSON")]
    json: bool,

    /// Boxed: the fault flags make the struct large next to the other subcommands'.
    #[command(flatten)]
    faults: Box<FaultArgs>,
}

/// Fault-injection flags.
#[derive(Debug, clap::Args)]
struct FaultArgs {
    /// Fault: latency added to every request, fixed (`50ms`) or uniform in a range (`10..200ms`).
    #[arg(long, env = "SCALETEST_SINK_LATENCY", value_parser = parse_latency, help_heading = "Faults")]
    latency: Option<(Duration, Duration)>,

    /// Fault: throttle every N-th request (see --throttle-status, --retry-after).
    #[arg(long, env = "SCALETEST_SINK_THROTTLE_EVERY", value_parser = parse_every, help_heading = "Faults")]
    throttle_every: Option<u64>,

    /// Fault: throttle each request with probability P (0..1).
    #[arg(long, env = "SCALETEST_SINK_THROTTLE_PROBABILITY", value_parser = parse_probability, help_heading = "Faults")]
    throttle_probability: Option<f64>,

    /// Status of throttling answers: 429 or 503 (gRPC: RESOURCE_EXHAUSTED or UNAVAILABLE).
    #[arg(long, env = "SCALETEST_SINK_THROTTLE_STATUS", default_value = "429", value_parser = parse_throttle_status, help_heading = "Faults")]
    throttle_status: u16,

    /// `Retry-After` sent with throttling answers (`1s`); none by default.
    #[arg(long, env = "SCALETEST_SINK_RETRY_AFTER", value_parser = parse_duration, help_heading = "Faults")]
    retry_after: Option<Duration>,

    /// Fault: 413 for request bodies (as sent) larger than this (`3mb`).
    #[arg(long, env = "SCALETEST_SINK_REJECT_ABOVE", value_parser = parse_size, help_heading = "Faults")]
    reject_above: Option<usize>,

    /// Fault: 400 for this fraction of requests (0..1).
    #[arg(long, env = "SCALETEST_SINK_BAD_REQUEST_FRACTION", value_parser = parse_probability, help_heading = "Faults")]
    bad_request_fraction: Option<f64>,

    /// Fault: drop the connection without answering for this fraction of requests (0..1).
    #[arg(long, env = "SCALETEST_SINK_RESET_FRACTION", value_parser = parse_probability, help_heading = "Faults")]
    reset_fraction: Option<f64>,

    /// Fault: drop the connection without answering on every N-th request.
    #[arg(long, env = "SCALETEST_SINK_RESET_EVERY", value_parser = parse_every, help_heading = "Faults")]
    reset_every: Option<u64>,

    /// Fault: stop accepting (close the listener and every connection) after N requests.
    #[arg(long, env = "SCALETEST_SINK_STOP_AFTER_REQUESTS", value_parser = parse_every, help_heading = "Faults")]
    stop_after_requests: Option<u64>,

    /// Fault: stop accepting this long after starting (`30s`).
    #[arg(long, env = "SCALETEST_SINK_STOP_AFTER", value_parser = parse_duration, help_heading = "Faults")]
    stop_after: Option<Duration>,

    /// Seed of the probabilistic faults, to repeat a run exactly.
    #[arg(long, env = "SCALETEST_SINK_FAULT_SEED", default_value_t = 0, help_heading = "Faults")]
    fault_seed: u64,
}

impl FaultArgs {
    fn faults(&self) -> Faults {
        let throttle =
            (self.throttle_every.is_some() || self.throttle_probability.is_some()).then(|| {
                Throttle {
                    when: Trigger {
                        every: self.throttle_every.unwrap_or(0),
                        probability: self.throttle_probability.unwrap_or(0.0),
                    },
                    status: self.throttle_status,
                    retry_after: self.retry_after,
                }
            });
        Faults {
            latency: self.latency,
            throttle,
            reject_above: self.reject_above,
            bad_request: Trigger::probability(self.bad_request_fraction.unwrap_or(0.0)),
            reset: Trigger {
                every: self.reset_every.unwrap_or(0),
                probability: self.reset_fraction.unwrap_or(0.0),
            },
            stop_after_requests: self.stop_after_requests,
            stop_after: self.stop_after,
            seed: self.fault_seed,
        }
    }
}

pub fn main(args: SinkArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: SinkArgs) -> ExitCode {
    let faults = args.faults.faults();
    let config = SinkConfig { listen: args.listen, max_body_bytes: args.max_body, faults };
    let sink = match RunningSink::start(config.clone()).await {
        Ok(sink) => sink,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = sink.local_addr();
    println!("scaletest sink listening on {addr}");
    println!("  OTLP/HTTP  {} (protobuf or JSON; gzip, zstd)", sink.traces_url());
    println!("  OTLP/gRPC  http://{addr}");
    println!(
        "  body limit {}",
        scenario_runtime::units::binary_bytes(config.max_body_bytes as u64)
    );
    if config.faults.any() {
        println!("  faults     {}", describe_faults(&config.faults));
    }
    println!("Ctrl-C (or SIGTERM) prints the summary and exits.");

    let started = Instant::now();
    let mut last = (Instant::now(), SinkStats::default());
    let period = if args.report_every.is_zero() { Duration::MAX / 4 } else { args.report_every };
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let terminate = terminated();
    tokio::pin!(terminate);
    loop {
        tokio::select! {
            signal = tokio::signal::ctrl_c() => {
                if let Err(e) = signal {
                    eprintln!("error: cannot listen for Ctrl-C: {e}");
                }
                break;
            }
            () = &mut terminate => break,
            _ = ticks.tick() => {
                let stats = sink.stats();
                let now = Instant::now();
                println!("{}", progress_line(started.elapsed(), &last.1, &stats, now - last.0));
                last = (now, stats);
            }
        }
    }
    let stats = sink.shutdown().await;
    if args.json {
        match serde_json::to_string_pretty(&stats) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot write the summary as JSON: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        print!("{}", summary(started.elapsed(), &stats));
    }
    ExitCode::SUCCESS
}

/// Resolves on SIGTERM (how `kill`, containers and service managers stop a process); never
/// where there is no such signal.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await;
}

fn progress_line(
    elapsed: Duration,
    before: &SinkStats,
    now: &SinkStats,
    window: Duration,
) -> String {
    let secs = window.as_secs_f64().max(1e-9);
    let spans_rate = (now.spans - before.spans) as f64 / secs;
    let mb_rate = (now.bytes_raw - before.bytes_raw) as f64 / secs / 1e6;
    format!(
        "[{:>6.0}s] requests {} (rejected {})  spans {} ({spans_rate:.0}/s)  traces {}  \
         {:.1} MB raw ({mb_rate:.1} MB/s)  orphans {}  without root {}",
        elapsed.as_secs_f64(),
        now.requests,
        now.rejected_requests,
        now.spans,
        now.traces,
        now.bytes_raw as f64 / 1e6,
        now.orphan_spans,
        now.traces_without_root,
    )
}

fn summary(elapsed: Duration, stats: &SinkStats) -> String {
    let f = &stats.faults;
    let mut text = String::new();
    let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<22}{value}\n"));
    line("ran for", format!("{:.1} s", elapsed.as_secs_f64()));
    line(
        "requests",
        format!(
            "{} ({} accepted, {} rejected, {} undecodable)",
            stats.requests, stats.accepted_requests, stats.rejected_requests, stats.decode_errors
        ),
    );
    line(
        "by protocol",
        format!(
            "http/protobuf {}, http/json {}, grpc {}",
            stats.requests_http_protobuf, stats.requests_http_json, stats.requests_grpc
        ),
    );
    line("spans", stats.spans.to_string());
    line("traces", stats.traces.to_string());
    line(
        "bytes",
        format!(
            "{:.1} MB on the wire, {:.1} MB raw",
            stats.bytes_wire as f64 / 1e6,
            stats.bytes_raw as f64 / 1e6
        ),
    );
    line("orphan spans", stats.orphan_spans.to_string());
    line("traces without root", stats.traces_without_root.to_string());
    line("duplicate spans", stats.duplicate_spans.to_string());
    line(
        "faults injected",
        format!(
            "delayed {}, throttled {}, 400 {}, 413 {}, resets {}, refused after stop {}",
            f.delayed, f.throttled, f.bad_request, f.too_large, f.resets, f.refused_after_stop
        ),
    );
    format!("scaletest sink summary\n{text}")
}

fn describe_faults(faults: &Faults) -> String {
    let mut parts = Vec::new();
    if let Some((low, high)) = faults.latency {
        parts.push(if low == high {
            format!("latency {low:?}")
        } else {
            format!("latency {low:?}..{high:?}")
        });
    }
    if let Some(t) = faults.throttle {
        let after = t.retry_after.map(|d| format!(" with Retry-After {d:?}")).unwrap_or_default();
        parts.push(format!("{} {}{after}", t.status, trigger_text(t.when)));
    }
    if let Some(limit) = faults.reject_above {
        parts.push(format!("413 above {limit} bytes"));
    }
    if faults.bad_request.probability > 0.0 {
        parts.push(format!("400 {}", trigger_text(faults.bad_request)));
    }
    if faults.reset.every > 0 || faults.reset.probability > 0.0 {
        parts.push(format!("reset {}", trigger_text(faults.reset)));
    }
    if let Some(n) = faults.stop_after_requests {
        parts.push(format!("stop after {n} requests"));
    }
    if let Some(d) = faults.stop_after {
        parts.push(format!("stop after {d:?}"));
    }
    parts.join("; ")
}

fn trigger_text(trigger: Trigger) -> String {
    match (trigger.every, trigger.probability) {
        (0, p) => format!("for {:.1}% of requests", p * 100.0),
        (n, p) if p > 0.0 => format!("every {n} requests and {:.1}% of the rest", p * 100.0),
        (n, _) => format!("every {n} requests"),
    }
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!("`{text}` is not a socket address: expected IP:PORT, e.g. 127.0.0.1:4318")
    })
}

/// A size with a binary unit (the workspace's one size parser), as a `usize`.
fn parse_size(text: &str) -> Result<usize, String> {
    scenario_runtime::units::parse_size(text)
        .map_err(|e| format!("invalid size `{}`: {e}", text.trim()))
        .and_then(|n| usize::try_from(n).map_err(|_| format!("size `{text}` is out of range")))
}

/// A duration (the workspace's one duration parser: seconds when there is no unit).
fn parse_duration(text: &str) -> Result<Duration, String> {
    scenario_runtime::units::parse_duration(text)
        .map_err(|e| format!("invalid duration `{}`: {e}", text.trim()))
}

/// `50ms` (fixed) or `10..200ms` / `10ms..200ms` (uniform range).
fn parse_latency(text: &str) -> Result<(Duration, Duration), String> {
    match text.split_once("..") {
        None => parse_duration(text).map(|d| (d, d)),
        Some((low, high)) => {
            let high_d = parse_duration(high)?;
            // `10..200ms`: the low end borrows the high end's unit.
            let unit: String =
                high.trim().chars().skip_while(|c| c.is_ascii_digit() || *c == '.').collect();
            let bare = low.trim().chars().all(|c| c.is_ascii_digit() || c == '.');
            let low_d = if bare {
                parse_duration(&format!("{}{unit}", low.trim()))?
            } else {
                parse_duration(low)?
            };
            if low_d > high_d {
                return Err(format!(
                    "latency range `{text}` is empty: the low end exceeds the high end"
                ));
            }
            Ok((low_d, high_d))
        }
    }
}

fn parse_probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => {
            Err(format!("`{text}` is not a fraction: expected a number between 0 and 1, e.g. 0.05"))
        }
    }
}

fn parse_every(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a count: expected a whole number of at least 1")),
    }
}

fn parse_throttle_status(text: &str) -> Result<u16, String> {
    match text.trim() {
        "429" => Ok(429),
        "503" => Ok(503),
        _ => Err(format!("throttle status `{text}` is not supported: expected 429 or 503")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: SinkArgs,
    }

    #[test]
    fn parses_units_and_names_bad_values() {
        assert_eq!(parse_size("64MB"), Ok(64 * 1024 * 1024));
        assert_eq!(parse_size("512kib"), Ok(512 * 1024));
        assert_eq!(parse_size("1000b"), Ok(1000));
        assert!(parse_size("64").unwrap_err().contains("no unit"));
        assert!(parse_size("3pb").unwrap_err().contains("`pb`"));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        // A plain number is seconds, as for every duration of every command.
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("-1s").is_err());
        assert_eq!(
            parse_latency("10..200ms"),
            Ok((Duration::from_millis(10), Duration::from_millis(200)))
        );
        assert_eq!(parse_latency("1s..2s"), Ok((Duration::from_secs(1), Duration::from_secs(2))));
        assert!(parse_latency("300..200ms").unwrap_err().contains("empty"));
        assert!(parse_probability("1.5").unwrap_err().contains("`1.5`"));
        assert!(parse_every("0").is_err());
        assert!(parse_throttle_status("500").unwrap_err().contains("429 or 503"));
        assert!(parse_addr("localhost").unwrap_err().contains("IP:PORT"));
        assert_eq!(scenario_runtime::units::binary_bytes(64 << 20), "64 MiB");
        assert_eq!(scenario_runtime::units::binary_bytes(1000), "1000 B");
    }

    #[test]
    fn flags_become_faults() {
        let cli = Cli::try_parse_from([
            "sink",
            "--listen",
            "127.0.0.1:0",
            "--throttle-every",
            "3",
            "--throttle-status",
            "503",
            "--retry-after",
            "2s",
            "--reject-above",
            "3mb",
            "--reset-every",
            "7",
            "--stop-after-requests",
            "100",
        ])
        .expect("valid flags");
        let faults = cli.args.faults.faults();
        assert_eq!(
            faults.throttle,
            Some(Throttle {
                when: Trigger::every(3),
                status: 503,
                retry_after: Some(Duration::from_secs(2))
            })
        );
        assert_eq!(faults.reject_above, Some(3 * 1024 * 1024));
        assert_eq!(faults.reset, Trigger::every(7));
        assert_eq!(faults.stop_after_requests, Some(100));
        assert!(faults.validate().is_ok());
        assert!(describe_faults(&faults).contains("503 every 3 requests with Retry-After 2s"));
        let defaults = Cli::try_parse_from(["sink"]).expect("defaults");
        assert_eq!(defaults.args.listen, "127.0.0.1:4318".parse::<SocketAddr>().expect("addr"));
        assert!(!defaults.args.faults.faults().any());
    }

    #[test]
    fn bad_values_exit_with_code_2() {
        let err = Cli::try_parse_from(["sink", "--max-body", "lots"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("lots"), "{err}");
        let err = Cli::try_parse_from(["sink", "--reset-fraction", "2"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
