//! An in-memory span sink, and a helper that runs a scenario into it with the synthetic clock.

use std::sync::Mutex;

use crate::emit::Emitter;
use crate::exec::{Clock, Done, RunSettings, TraceRun};
use crate::scenario::AnyScenario;
use crate::span::{SpanRecord, SpanSink};

/// Keeps every span it is given, in emission order.
#[derive(Debug, Default)]
pub struct Recorder {
    spans: Mutex<Vec<SpanRecord>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the spans recorded so far.
    pub fn take(&self) -> Vec<SpanRecord> {
        std::mem::take(&mut *self.spans.lock().unwrap_or_else(|poison| poison.into_inner()))
    }
}

impl SpanSink for Recorder {
    fn emit(&self, span: SpanRecord) {
        self.spans.lock().unwrap_or_else(|poison| poison.into_inner()).push(span);
    }
}

/// Timestamp at which [`record_trace`] starts its traces: 2026-01-01T00:00:00Z, so recorded
/// traces are identical from one day to the next.
pub const RECORD_EPOCH_NANOS: u64 = 1_767_225_600_000_000_000;

/// Runs one trace of `scenario` with the synthetic clock and returns its spans.
///
/// The trace id is derived from `seed`, so the result is fully deterministic.
pub fn record_trace(
    scenario: &dyn AnyScenario,
    emitter: &Emitter,
    seed: u64,
) -> (Done, Vec<SpanRecord>) {
    let recorder = Recorder::new();
    let settings = RunSettings {
        sink: &recorder,
        clock: Clock::Synthetic,
        latency_scale: Default::default(),
        emitter,
    };
    let mut trace_id = [0u8; 16];
    trace_id[..8].copy_from_slice(&crate::exec::splitmix64(seed).to_be_bytes());
    trace_id[8..].copy_from_slice(&crate::exec::splitmix64(!seed).to_be_bytes());
    let run = TraceRun::new(settings, trace_id, seed);
    let done = futures_executor::block_on(scenario.run(&run, RECORD_EPOCH_NANOS));
    (done, recorder.take())
}
