//! The embedded sink as a read API: a backend whose read-back is exact and immediate, so its
//! delivery figures come through the same report fields as every other platform's.

use std::time::Duration;

use crate::engine::sink::SinkReader;
use crate::platform::PlatformId;

use super::{Countable, Counts, ReadApi, ReadError, StoredTrace, TimeWindow, TraceId};

const WHY_NO_LOOKUP: &str = "the embedded sink checks every trace's root and parents itself \
     (orphans and traces without root in the delivery figures) and forgets complete traces to \
     bound memory";

/// Counts what the embedded sink decoded (spans and distinct traces of accepted requests).
#[derive(Debug)]
pub struct EmbeddedSink(pub SinkReader);

#[async_trait::async_trait]
impl ReadApi for EmbeddedSink {
    fn platform(&self) -> PlatformId {
        PlatformId::Otlp
    }

    fn countable(&self) -> Countable {
        Countable { spans: true, traces: true }
    }

    fn trace_lookup_unsupported(&self) -> Option<&'static str> {
        Some(WHY_NO_LOOKUP)
    }

    fn min_poll_interval(&self) -> Duration {
        Duration::ZERO
    }

    /// The sink receives only this run's spans: the window is the whole run.
    async fn count(&self, _window: TimeWindow) -> Result<Counts, ReadError> {
        let stats = self.0.stats();
        Ok(Counts { spans: Some(stats.spans), traces: Some(stats.traces) })
    }

    async fn fetch_trace(
        &self,
        _trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        Err(ReadError::Unsupported(WHY_NO_LOOKUP))
    }
}
