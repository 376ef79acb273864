//! A fingerprint of the content every built-in scenario generates: one hash over the names,
//! kinds, statuses and attributes of the spans of seeds `0..N` of each scenario (synthetic
//! clock, generic OTLP profile). The same number before and after a change to how content is
//! generated or kept shows the traces carry the same bytes.
//!
//! ```text
//! cargo run --release -p scaletest-tests --example content_hash -- [SEEDS]
//! ```

use std::hash::{DefaultHasher, Hash, Hasher};

use scenario_runtime::span::{Status, Value};
use scenario_runtime::{Emitter, record_trace};

fn main() {
    let seeds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(500);
    let emitter = Emitter::default();
    let mut all = DefaultHasher::new();
    for scenario in scenarios::all() {
        let mut hasher = DefaultHasher::new();
        for seed in 0..seeds {
            let (done, spans) = record_trace(*scenario, &emitter, seed);
            (done.end, done.failed).hash(&mut hasher);
            for span in spans {
                span.name.hash(&mut hasher);
                span.kind.hash(&mut hasher);
                (span.span_id, span.parent_span_id).hash(&mut hasher);
                (span.start_unix_nanos, span.end_unix_nanos).hash(&mut hasher);
                match &span.status {
                    Status::Error(message) => message.hash(&mut hasher),
                    other => format!("{other:?}").hash(&mut hasher),
                }
                for attribute in &span.attributes {
                    attribute.key.hash(&mut hasher);
                    match &attribute.value {
                        Value::Str(s) => s.hash(&mut hasher),
                        Value::StrArray(items) => items.hash(&mut hasher),
                        Value::Int(n) => n.hash(&mut hasher),
                        Value::F64(x) => x.to_bits().hash(&mut hasher),
                        Value::Bool(b) => b.hash(&mut hasher),
                    }
                }
            }
        }
        let hash = hasher.finish();
        println!("{:<28} {hash:016x}", scenario.meta().name);
        hash.hash(&mut all);
    }
    println!("{:<28} {:016x} ({seeds} seeds each)", "all", all.finish());
}
