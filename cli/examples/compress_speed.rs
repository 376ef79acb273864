//! How fast request bodies of the reference mix compress with the exporter's codecs, next to
//! the ways they were compressed before: gzip level 1 with zlib-rs (the `flate2` backend) and
//! zstd level 1 fed in 64 KiB pieces. Prints MB of raw OTLP per CPU-second and the ratio.
//! Run it in release:
//!
//! ```text
//! cargo run --release -p scaletest --example compress_speed
//! ```

use std::io::Write;
use std::time::Duration;

use scenario_runtime::engine::export::Compression;
use scenario_runtime::engine::export::compress::compress;
use scenario_runtime::engine::export::encode::BatchEncoder;
use scenario_runtime::engine::metrics::process_cpu_time;
use scenario_runtime::engine::schedule::Mix;
use scenario_runtime::platform::Protocol;
use scenario_runtime::{AnyScenario, Emitter};

/// Spans per body: about what the exporter's 512-span, 3 MB batches hold.
const BODY_SPANS: usize = 128;

/// CPU time each codec is timed for.
const ROUND: Duration = Duration::from_secs(2);

fn main() {
    let mix: Vec<(&'static dyn AnyScenario, f64)> = scenarios::DEFAULT_MIX
        .iter()
        .filter_map(|&(name, weight)| scenarios::find(name).map(|s| (s, weight)))
        .collect();
    let mix = Mix::new(&mix).unwrap_or_else(|| panic!("the reference mix is empty"));
    let emitter = Emitter::default();
    let encoder = BatchEncoder::new(emitter.resource().to_vec(), Protocol::HttpProtobuf);
    let (mut bodies, mut batch) = (Vec::new(), Vec::new());
    for sequence in 0..64u64 {
        let seed = scenario_runtime::exec::mix(7, sequence);
        let (_, spans) =
            scenario_runtime::record_trace(mix.scenario(mix.pick_seeded(seed)), &emitter, seed);
        batch.extend(spans);
        if batch.len() >= BODY_SPANS {
            bodies.push(encoder.encode_records(&batch));
            batch.clear();
        }
    }
    let total: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "{} bodies of the reference mix, {:.1} MB of raw OTLP",
        bodies.len(),
        total as f64 / 1e6
    );
    let time = |name: &str, codec: &dyn Fn(&[u8]) -> usize| {
        let began = process_cpu_time();
        let (mut raw, mut wire) = (0usize, 0usize);
        while process_cpu_time().saturating_sub(began) < ROUND {
            for body in &bodies {
                raw += body.len();
                wire += codec(body);
            }
        }
        let cpu_s = process_cpu_time().saturating_sub(began).as_secs_f64();
        println!(
            "  {name:<40} {:6.0} MB raw per CPU-s, ratio {:.2}",
            raw as f64 / cpu_s / 1e6,
            raw as f64 / wire as f64
        );
    };
    let exporter = |compression| {
        move |body: &[u8]| {
            compress(compression, body.to_vec()).unwrap_or_else(|e| panic!("{e}")).len()
        }
    };
    time("gzip, the exporter (libdeflate 1)", &exporter(Compression::Gzip));
    time("gzip, zlib-rs level 1", &|body| {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(body).and_then(|()| gzip.finish()).unwrap_or_else(|e| panic!("{e}")).len()
    });
    time("zstd, the exporter (level 1, one call)", &exporter(Compression::Zstd));
    time("zstd level 1, fed 64 KiB at a time", &|body| {
        let mut zstd =
            zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap_or_else(|e| panic!("{e}"));
        for piece in body.chunks(64 * 1024) {
            zstd.write_all(piece).unwrap_or_else(|e| panic!("{e}"));
        }
        zstd.finish().unwrap_or_else(|e| panic!("{e}")).len()
    });
}
