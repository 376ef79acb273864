//! How fast the built-in scenarios' content is generated, and how well it compresses.
//!
//! For each scenario (then the reference mix), records traces with the synthetic clock under
//! the generic OTLP profile for about a second and prints traces/s, MB/s of span payload
//! (names plus attribute keys and values, what an OTLP body mostly carries) and the gzip
//! ratio of that payload, batch by batch of 64 traces (an export request holds many traces, so
//! their shared prefixes count, as they do on the wire). Run it in release:
//!
//! ```text
//! cargo run --release -p scaletest-tests --example content_bench
//! ```

use std::io::Write;
use std::time::{Duration, Instant};

use scenario_runtime::span::Value;
use scenario_runtime::{AnyScenario, Emitter, record_trace};

/// Traces per gzip batch.
const BATCH: usize = 64;

fn payload(out: &mut Vec<u8>, scenario: &dyn AnyScenario, emitter: &Emitter, seed: u64) {
    let (_, spans) = record_trace(scenario, emitter, seed);
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

/// (traces/s, MB/s, gzip ratio) of `pick(seed)`'s traces over about `budget`.
fn measure(pick: &dyn Fn(u64) -> &'static dyn AnyScenario, budget: Duration) -> (f64, f64, f64) {
    let emitter = Emitter::default();
    let (mut traces, mut bytes, mut generating) = (0u64, 0usize, Duration::ZERO);
    let (mut raw, mut compressed) = (0usize, 0usize);
    let mut batch = Vec::new();
    let began = Instant::now();
    let mut seed = 0u64;
    while began.elapsed() < budget || traces < BATCH as u64 {
        let start = Instant::now();
        let before = batch.len();
        payload(&mut batch, pick(seed), &emitter, seed);
        generating += start.elapsed();
        bytes += batch.len() - before;
        traces += 1;
        seed += 1;
        if traces.is_multiple_of(BATCH as u64) {
            raw += batch.len();
            compressed += gzip(&batch);
            batch.clear();
        }
    }
    let seconds = generating.as_secs_f64();
    (traces as f64 / seconds, bytes as f64 / seconds / 1e6, raw as f64 / compressed.max(1) as f64)
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
        let (rate, mbps, ratio) = measure(&|_| scenario, Duration::from_secs(1));
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
        measure(&|seed| mix[(seed % mix.len() as u64) as usize], Duration::from_secs(2));
    println!("{:<24} {rate:>10.0} {mbps:>10.0} {ratio:>6.2}", "reference mix");
}
