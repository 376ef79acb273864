//! The reference scenarios, encoded as OTLP protobuf with the generic profile, weigh what the
//! reference tool's table says (within 10%), and compress like real traffic.

use std::io::Write;

use scenario_runtime::engine::export::Protocol;
use scenario_runtime::engine::export::encode::{BatchEncoder, to_proto};
use scenario_runtime::{Emitter, record_trace};

/// The reference table: scenario, spans, encoded bytes per trace.
const REFERENCE: [(&str, u64, f64); 4] = [
    ("simple_query", 5, 35_000.0),
    ("single_service_search", 12, 270_000.0),
    ("delegated_booking", 25, 470_000.0),
    ("multi_service_complex", 80, 2_300_000.0),
];

const SEEDS: u64 = 20;

fn encoded_traces(name: &str) -> Vec<Vec<u8>> {
    let scenario = scenarios::find(name).expect("reference scenario is registered");
    let emitter = Emitter::default();
    let encoder = BatchEncoder::new(emitter.resource().to_vec(), Protocol::HttpProtobuf);
    (0..SEEDS)
        .map(|seed| {
            let (_, spans) = record_trace(scenario, &emitter, seed);
            encoder.encode(spans.into_iter().map(to_proto).collect()).0
        })
        .collect()
}

#[test]
fn reference_scenarios_encode_within_ten_percent_of_the_table() {
    for (name, spans, reference_bytes) in REFERENCE {
        let scenario = scenarios::find(name).expect("registered");
        assert_eq!(scenario.meta().shape.spans.max, spans, "{name}");
        let traces = encoded_traces(name);
        let mean = traces.iter().map(Vec::len).sum::<usize>() as f64 / traces.len() as f64;
        let ratio = mean / reference_bytes;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{name}: {mean:.0} encoded bytes per trace, {:.0}% of the reference {reference_bytes}",
            ratio * 100.0
        );
    }
}

#[test]
fn encoded_traces_compress_like_real_traffic() {
    for (name, _, _) in REFERENCE {
        // One trace per request, as the smallest batch a backend could get.
        let body = &encoded_traces(name)[0];
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        gzip.write_all(body).expect("in-memory write");
        let gzipped = gzip.finish().expect("in-memory write");
        let ratio = body.len() as f64 / gzipped.len() as f64;
        // Padding compresses 40x and more; real chat and JSON traffic 3x to 8x (the history
        // repeated within a trace adds some).
        assert!((2.5..=10.0).contains(&ratio), "{name}: gzip ratio {ratio:.2}");
        let zstd_ratio =
            body.len() as f64 / zstd::encode_all(&body[..], 3).expect("zstd").len() as f64;
        assert!((2.5..=12.0).contains(&zstd_ratio), "{name}: zstd ratio {zstd_ratio:.2}");
        println!("{name}: {} bytes, gzip {ratio:.2}x, zstd {zstd_ratio:.2}x", body.len());
    }
}
