//! The delivery ledger: which traces arrived whole.
//!
//! A trace is delivered when every span it emitted was acknowledged by the backend. The ledger
//! keeps one small entry per trace that is running or has spans still unsettled, and settles it
//! as soon as both its span count (known when the trace ends) and every span's fate are known:
//! memory follows the traces in flight, not the run's length. It also keeps what a later
//! read-back needs: acknowledged spans per second, and a uniform sample of delivered traces.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::engine::export::{Fate, SettledSpan};
use crate::span::TraceId;

/// How many of the traces delivered last are kept for reads of one trace (`--query-rate`).
pub const RECENT: usize = 64;

/// How many delivered traces the read-back sample keeps (reservoir sampling).
pub const SAMPLE_SIZE: usize = 1000;

/// A delivered trace, as the read-back checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveredTrace {
    pub trace_id: TraceId,
    pub spans: u32,
    /// When its last span was acknowledged, Unix milliseconds.
    pub accepted_unix_ms: u64,
}

#[derive(Debug, Default)]
struct Entry {
    /// Spans the trace emitted, once it has ended.
    emitted: Option<u32>,
    accepted: u32,
    lost: u32,
    unknown: u32,
    last_accept_ms: u64,
}

/// Traces by delivery outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceDelivery {
    /// Every span acknowledged.
    pub delivered: u64,
    /// At least one span certainly not stored (dropped, refused, never sent).
    pub lost: u64,
    /// No span lost, but at least one with an unknown outcome (no answer, partial rejection).
    pub unknown: u64,
}

/// The ledger. Not thread-safe by itself: the aggregator keeps it behind a lock.
#[derive(Debug, Default)]
pub struct Ledger {
    open: HashMap<TraceId, Entry>,
    settled: TraceDelivery,
    /// Spans acknowledged per Unix second.
    accepted_by_second: BTreeMap<u64, u64>,
    sample: Vec<DeliveredTrace>,
    /// Delivered traces seen, for the reservoir's odds.
    seen: u64,
    rng: u64,
    /// The traces delivered last, newest at the back.
    recent: VecDeque<TraceId>,
}

impl Ledger {
    /// Spans settled for good (`now_ms`: Unix milliseconds).
    pub fn settle_spans(&mut self, fate: Fate, spans: &[SettledSpan], now_ms: u64) {
        if fate == Fate::Accepted {
            *self.accepted_by_second.entry(now_ms / 1000).or_default() += spans.len() as u64;
        }
        for span in spans {
            let entry = self.open.entry(span.trace_id).or_default();
            match fate {
                Fate::Accepted => {
                    entry.accepted += 1;
                    entry.last_accept_ms = now_ms;
                }
                Fate::Lost => entry.lost += 1,
                Fate::Unknown => entry.unknown += 1,
            }
            self.try_settle(span.trace_id);
        }
    }

    /// The trace ended having emitted `spans` spans.
    pub fn trace_ended(&mut self, trace_id: TraceId, spans: u32) {
        self.open.entry(trace_id).or_default().emitted = Some(spans);
        self.try_settle(trace_id);
    }

    fn try_settle(&mut self, trace_id: TraceId) {
        let Some(entry) = self.open.get(&trace_id) else { return };
        let Some(emitted) = entry.emitted else { return };
        if entry.accepted + entry.lost + entry.unknown < emitted {
            return;
        }
        let Some(entry) = self.open.remove(&trace_id) else { return };
        if entry.lost > 0 {
            self.settled.lost += 1;
        } else if entry.unknown > 0 {
            self.settled.unknown += 1;
        } else {
            self.settled.delivered += 1;
            if self.recent.len() == RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back(trace_id);
            self.keep_in_sample(DeliveredTrace {
                trace_id,
                spans: emitted,
                accepted_unix_ms: entry.last_accept_ms,
            });
        }
    }

    fn keep_in_sample(&mut self, trace: DeliveredTrace) {
        self.seen += 1;
        if self.sample.len() < SAMPLE_SIZE {
            self.sample.push(trace);
            return;
        }
        self.rng = crate::exec::splitmix64(self.rng ^ self.seen);
        let slot = self.rng % self.seen;
        if let Some(kept) = self.sample.get_mut(slot as usize) {
            *kept = trace;
        }
    }

    /// One of the last [`RECENT`] delivered traces, chosen by `pick`; `None` before any.
    pub fn recent(&self, pick: u64) -> Option<TraceId> {
        let len = self.recent.len() as u64;
        (len > 0).then(|| self.recent[(pick % len) as usize])
    }

    /// Traces settled so far.
    pub fn settled(&self) -> TraceDelivery {
        self.settled
    }

    /// Traces not settled: cut before they ended, or with spans never settled.
    pub fn unsettled(&self) -> u64 {
        self.open.len() as u64
    }

    /// Spans acknowledged per Unix second, in order.
    pub fn accepted_by_second(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.accepted_by_second.iter().map(|(s, n)| (*s, *n))
    }

    /// A uniform sample of the delivered traces (at most [`SAMPLE_SIZE`]).
    pub fn sample(&self) -> &[DeliveredTrace] {
        &self.sample
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(trace: u8, n: usize, root: bool) -> Vec<SettledSpan> {
        (0..n).map(|i| SettledSpan { trace_id: [trace; 16], root: root && i == 0 }).collect()
    }

    #[test]
    fn a_trace_is_delivered_only_when_every_span_is_acknowledged() {
        let mut l = Ledger::default();
        // Spans may settle before the trace ends (children first) and after.
        l.settle_spans(Fate::Accepted, &spans(1, 3, false), 1_000);
        assert_eq!(l.settled().delivered, 0);
        l.trace_ended([1; 16], 4);
        assert_eq!(l.unsettled(), 1);
        l.settle_spans(Fate::Accepted, &spans(1, 1, true), 2_500);
        assert_eq!(l.settled(), TraceDelivery { delivered: 1, lost: 0, unknown: 0 });
        assert_eq!(
            l.sample()[0],
            DeliveredTrace { trace_id: [1; 16], spans: 4, accepted_unix_ms: 2_500 }
        );
        // One span lost: lost, whatever the others did.
        l.trace_ended([2; 16], 2);
        l.settle_spans(Fate::Unknown, &spans(2, 1, false), 3_000);
        l.settle_spans(Fate::Lost, &spans(2, 1, true), 3_000);
        // No span lost, one never answered: unknown.
        l.trace_ended([3; 16], 2);
        l.settle_spans(Fate::Accepted, &spans(3, 1, true), 3_000);
        l.settle_spans(Fate::Unknown, &spans(3, 1, false), 3_000);
        // Cut before it ended: never settled.
        l.settle_spans(Fate::Accepted, &spans(4, 2, false), 3_000);
        assert_eq!(l.settled(), TraceDelivery { delivered: 1, lost: 1, unknown: 1 });
        assert_eq!(l.unsettled(), 1);
        let by_second: Vec<_> = l.accepted_by_second().collect();
        assert_eq!(by_second, vec![(1, 3), (2, 1), (3, 3)]);
    }

    #[test]
    fn the_sample_stays_bounded_and_uniform() {
        let mut l = Ledger::default();
        let n = 20 * SAMPLE_SIZE as u32;
        for i in 0..n {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            l.trace_ended(id, 1);
            l.settle_spans(Fate::Accepted, &[SettledSpan { trace_id: id, root: true }], 0);
        }
        assert_eq!(l.sample().len(), SAMPLE_SIZE);
        assert_eq!(l.unsettled(), 0);
        // Uniform: about a tenth of the sample from each tenth of the run.
        let first_tenth = l
            .sample()
            .iter()
            .filter(|t| {
                u32::from_be_bytes([t.trace_id[0], t.trace_id[1], t.trace_id[2], t.trace_id[3]])
                    < n / 10
            })
            .count();
        assert!((50..=150).contains(&first_tenth), "{first_tenth}");
    }
}
