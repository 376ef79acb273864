//! How fast the built-in scenarios' content is generated, and how well it compresses.
//!
//! For each scenario (then the reference mix), records traces with the synthetic clock under
//! the generic OTLP profile, batch by batch of 64 traces (an export request holds many traces,
//! so their shared prefixes count, as they do on the wire), and prints traces/s and MB/s of
//! span payload (names plus attribute keys and values, what an OTLP body mostly carries) per
//! CPU-second of generation, and the gzip ratio of that payload. Only generating the traces
//! is timed, on this thread's CPU clock, so that other processes on the machine and the
//! payload's copying and compression do not count; each figure is the best of `ROUNDS`
//! rounds. Run it in release:
//!
//! ```text
//! cargo run --release -p scaletest-tests --example content_bench
//! ```

use std::io::Write;
use std::time::Duration;

use nix::time::{ClockId, clock_gettime};
use scenario_runtime::span::Value;
use scenario_runtime::{AnyScenario, Emitter, SpanRecord, record_trace};

/// Traces per gzip batch.
const BATCH: usize = 64;

/// Rounds per scenario; each figure is the best round's.
const ROUNDS: usize = 3;

/// CPU time of this thread.
fn cpu_time() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_else(|e| panic!("thread CPU clock: {e}"))
}

fn payload(out: &mut Vec<u8>, spans: Vec<SpanRecord>) {
    for span in spans {
        out.extend_from_slice(span.name.as_bytes());
        for attribute in span.attributes {
            out.extend_from_slice(attribute.key.as_bytes());
            match attribute.value {
                Value::Str(s) => out.extend_from_slice(s.as_bytes()),
                Value::StrArray(items) => {
                    items.iter().for_each(|s| out.extend_from_slice(s.as_bytes()))
                }
                Value::Int(n) => out.extend_from_slice(&n.to_le_bytes()),
                Value::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
                Value::Bool(b) => out.push(u8::from(b)),
            }
        }
    }
}

fn gzip(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap_or_else(|e| panic!("gzip: {e}"));
    encoder.finish().unwrap_or_else(|e| panic!("gzip: {e}")).len()
}

/// What one round measured.
#[derive(Clone, Copy, Default)]
struct Round {
    traces: u64,
    bytes: usize,
    cpu: Duration,
    compressed: usize,
}

impl Round {
    fn traces_per_s(&self) -> f64 {
        self.traces as f64 / self.cpu.as_secs_f64()
    }
}

/// One round: batches of `pick(seed)`'s traces (seeds from 0, the same every round) until
/// `budget` of generation CPU time; with `compress`, each batch's payload is gzipped (slow:
/// gzip at its default level runs far below the generator).
fn round(
    pick: &dyn Fn(u64) -> &'static dyn AnyScenario,
    budget: Duration,
    compress: bool,
) -> Round {
    let emitter = Emitter::default();
    let mut round = Round::default();
    let mut seed = 0u64;
    let mut batch = Vec::new();
    let mut traces = Vec::with_capacity(BATCH);
    while round.cpu < budget {
        let start = cpu_time();
        for _ in 0..BATCH {
            traces.push(record_trace(pick(seed), &emitter, seed).1);
            seed += 1;
        }
        round.cpu += cpu_time().saturating_sub(start);
        round.traces += BATCH as u64;
        batch.clear();
        traces.drain(..).for_each(|spans| payload(&mut batch, spans));
        round.bytes += batch.len();
        if compress {
            round.compressed += gzip(&batch);
        }
    }
    round
}

/// (traces/s, MB/s, gzip ratio) of `pick(seed)`'s traces: the speed of the best of `ROUNDS`
/// rounds, the gzip ratio of the first.
fn measure(pick: &dyn Fn(u64) -> &'static dyn AnyScenario, budget: Duration) -> (f64, f64, f64) {
    let rounds: Vec<Round> = (0..ROUNDS).map(|i| round(pick, budget, i == 0)).collect();
    let ratio = rounds[0].bytes as f64 / rounds[0].compressed.max(1) as f64;
    let best = rounds.iter().copied().max_by(|a, b| a.traces_per_s().total_cmp(&b.traces_per_s()));
    let best = best.unwrap_or_default();
    (best.traces_per_s(), best.bytes as f64 / best.cpu.as_secs_f64() / 1e6, ratio)
}

/// The request and the final answer of one `delegated_booking` trace, as a sample of the
/// content.
fn sample() {
    let scenario = scenarios::find("delegated_booking").unwrap_or_else(|| panic!("no scenario"));
    let (_, spans) = record_trace(scenario, &Emitter::default(), 1);
    let text = |key: &str, span: &scenario_runtime::SpanRecord| match span.attribute(key) {
        Some(Value::Str(json)) => {
            let parsed: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
            let last = parsed.as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
            last["parts"][0]["content"].as_str().unwrap_or_default().chars().take(360).collect()
        }
        _ => String::new(),
    };
    let root = spans.iter().find(|s| s.parent_span_id.is_none());
    if let Some(root) = root {
        println!("request: {}", text("gen_ai.input.messages", root));
        println!("answer:  {}\n", text("gen_ai.output.messages", root));
    }
}

fn main() {
    scenario_runtime::content::prepare();
    sample();
    println!("{:<24} {:>10} {:>10} {:>6}", "scenario", "traces/s", "MB/s", "gzip");
    for scenario in scenarios::all() {
        let scenario: &'static dyn AnyScenario = *scenario;
        let (rate, mbps, ratio) = measure(&|_| scenario, Duration::from_millis(300));
        println!("{:<24} {rate:>10.0} {mbps:>10.0} {ratio:>6.2}", scenario.meta().name);
    }
    // The reference mix, 40/30/20/10, as `scaletest run` picks it.
    let mix: Vec<&'static dyn AnyScenario> = scenarios::DEFAULT_MIX
        .iter()
        .flat_map(|(name, share)| {
            let scenario = scenarios::find(name).unwrap_or_else(|| panic!("no scenario {name}"));
            std::iter::repeat_n(scenario, (share * 10.0).round() as usize)
        })
        .collect();
    let (rate, mbps, ratio) =
        measure(&|seed| mix[(seed % mix.len() as u64) as usize], Duration::from_secs(1));
    println!("{:<24} {rate:>10.0} {mbps:>10.0} {ratio:>6.2}", "reference mix");
}
