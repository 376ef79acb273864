//! What a run sent and the backend acknowledged: the input of verification.

use std::collections::{BTreeMap, HashMap};

/// A 16-byte OpenTelemetry trace id.
pub type TraceId = [u8; 16];

/// One trace as far as the exporter knows: how much of it the backend acknowledged, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentTrace {
    pub trace_id: TraceId,
    /// Spans of this trace the backend acknowledged (2xx / gRPC OK).
    pub spans_accepted: u64,
    /// Whether the root span was among them.
    pub root_accepted: bool,
    /// Unix ms of the last acknowledgement that carried spans of this trace.
    pub accepted_at_ms: u64,
    /// Unix ms of the earliest span start among the accepted spans (what backends index and
    /// what the count window is built from).
    pub started_at_ms: u64,
}

/// The traces a run had acknowledged, and the acknowledged spans over time.
///
/// The engine calls [`Ledger::accept`] once per trace present in each acknowledged request
/// (spans of one trace may travel in several requests); workers may keep ledgers of their own
/// and [`Ledger::merge`] them. Memory: about 80 bytes per trace.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    traces: Vec<SentTrace>,
    index: HashMap<TraceId, usize>,
    /// Unix ms -> spans acknowledged in that millisecond.
    accepted: BTreeMap<u64, u64>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the backend acknowledged, at `at_ms` (Unix ms), `spans` spans of
    /// `trace_id`, the root among them if `includes_root`, the earliest starting at
    /// `span_start_ms` (Unix ms).
    pub fn accept(
        &mut self,
        trace_id: TraceId,
        spans: u64,
        includes_root: bool,
        span_start_ms: u64,
        at_ms: u64,
    ) {
        if spans == 0 {
            return;
        }
        *self.accepted.entry(at_ms).or_default() += spans;
        match self.index.get(&trace_id) {
            Some(&i) => {
                let trace = &mut self.traces[i];
                trace.spans_accepted += spans;
                trace.root_accepted |= includes_root;
                trace.accepted_at_ms = trace.accepted_at_ms.max(at_ms);
                trace.started_at_ms = trace.started_at_ms.min(span_start_ms);
            }
            None => {
                self.index.insert(trace_id, self.traces.len());
                self.traces.push(SentTrace {
                    trace_id,
                    spans_accepted: spans,
                    root_accepted: includes_root,
                    accepted_at_ms: at_ms,
                    started_at_ms: span_start_ms,
                });
            }
        }
    }

    /// Records a whole trace at once (all its spans acknowledged at `trace.accepted_at_ms`).
    pub fn push(&mut self, trace: SentTrace) {
        let SentTrace { trace_id, spans_accepted, root_accepted, accepted_at_ms, started_at_ms } =
            trace;
        self.accept(trace_id, spans_accepted, root_accepted, started_at_ms, accepted_at_ms);
    }

    /// Adds everything `other` recorded.
    pub fn merge(&mut self, other: Ledger) {
        // Per-trace facts merge as in `accept`; the acceptance curve adds up exactly.
        for (at, spans) in other.accepted {
            *self.accepted.entry(at).or_default() += spans;
        }
        for trace in other.traces {
            match self.index.get(&trace.trace_id) {
                Some(&i) => {
                    let mine = &mut self.traces[i];
                    mine.spans_accepted += trace.spans_accepted;
                    mine.root_accepted |= trace.root_accepted;
                    mine.accepted_at_ms = mine.accepted_at_ms.max(trace.accepted_at_ms);
                    mine.started_at_ms = mine.started_at_ms.min(trace.started_at_ms);
                }
                None => {
                    self.index.insert(trace.trace_id, self.traces.len());
                    self.traces.push(trace);
                }
            }
        }
    }

    /// Every trace, in the order its first acknowledgement was recorded.
    pub fn traces(&self) -> &[SentTrace] {
        &self.traces
    }

    pub fn get(&self, trace_id: &TraceId) -> Option<&SentTrace> {
        self.index.get(trace_id).map(|&i| &self.traces[i])
    }

    pub fn spans_accepted(&self) -> u64 {
        self.accepted.values().sum()
    }

    pub fn traces_accepted(&self) -> u64 {
        self.traces.len() as u64
    }

    /// Spans acknowledged over time: (Unix ms, spans in that ms), in time order.
    pub fn acceptance(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.accepted.iter().map(|(&at, &spans)| (at, spans))
    }

    /// Earliest span start and latest acknowledgement (Unix ms), if anything was accepted.
    pub fn time_span(&self) -> Option<(u64, u64)> {
        let start = self.traces.iter().map(|t| t.started_at_ms).min()?;
        let end = self.traces.iter().map(|t| t.accepted_at_ms.max(t.started_at_ms)).max()?;
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_trace_add_up_and_merge_exactly() {
        let mut a = Ledger::new();
        a.accept([1; 16], 3, false, 1_000, 2_000);
        a.accept([1; 16], 2, true, 900, 2_500);
        a.accept([2; 16], 4, true, 1_100, 2_000);
        let t = a.get(&[1; 16]).unwrap();
        assert_eq!((t.spans_accepted, t.root_accepted), (5, true));
        assert_eq!((t.started_at_ms, t.accepted_at_ms), (900, 2_500));
        let mut b = Ledger::new();
        b.accept([2; 16], 1, false, 1_000, 3_000);
        b.accept([3; 16], 6, true, 1_200, 3_000);
        a.merge(b);
        assert_eq!(a.spans_accepted(), 16);
        assert_eq!(a.traces_accepted(), 3);
        assert_eq!(a.get(&[2; 16]).unwrap().spans_accepted, 5);
        assert_eq!(a.acceptance().collect::<Vec<_>>(), [(2_000, 7), (2_500, 2), (3_000, 7)]);
        assert_eq!(a.time_span(), Some((900, 3_000)));
    }
}
