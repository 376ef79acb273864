//! Per-trace bookkeeping of span ids, to check that every span's parent arrived.
//!
//! Children arrive before their parents (spans are exported as they end), so links are checked
//! when a snapshot is taken, not as spans arrive. Only ids are kept, never content, and a trace
//! that is complete (root present, no dangling parent) and idle for a while is forgotten (only
//! counted), so memory stays bounded however long the sink runs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::span::{SpanId, TraceId};

/// How long a complete trace must be idle before it is forgotten. Longer than any export
/// retry, so a late duplicate or straggler still finds its trace.
pub const EVICT_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct TraceEntry {
    /// (span id, parent id) of every span received.
    spans: Vec<(SpanId, Option<SpanId>)>,
    last_seen: Instant,
}

/// Parent-link checks over all traces received.
#[derive(Debug, Default)]
pub struct Ledger {
    traces: HashMap<TraceId, TraceEntry>,
    /// Complete traces forgotten to bound memory.
    evicted: u64,
    /// Spans forgotten with them.
    evicted_spans: u64,
}

/// What a snapshot of the ledger found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerCounts {
    pub traces: u64,
    /// Spans whose parent has not arrived.
    pub orphan_spans: u64,
    /// Traces none of whose spans is a root.
    pub traces_without_root: u64,
    /// Span ids received more than once in the same trace.
    pub duplicate_spans: u64,
    /// Traces currently held in memory.
    pub traces_in_memory: u64,
}

impl Ledger {
    /// Records one received span.
    pub fn add(&mut self, trace: TraceId, span: SpanId, parent: Option<SpanId>, now: Instant) {
        let entry = self
            .traces
            .entry(trace)
            .or_insert_with(|| TraceEntry { spans: Vec::new(), last_seen: now });
        entry.spans.push((span, parent));
        entry.last_seen = now;
    }

    /// Checks every trace held, forgetting complete ones idle for `evict_after`.
    pub fn snapshot(&mut self, now: Instant, evict_after: Duration) -> LedgerCounts {
        let mut counts = LedgerCounts::default();
        let mut evicted = 0;
        let mut evicted_spans = 0;
        self.traces.retain(|_, entry| {
            let mut ids: Vec<SpanId> = entry.spans.iter().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            let total = ids.len();
            ids.dedup();
            let duplicates = (total - ids.len()) as u64;
            let orphans = entry
                .spans
                .iter()
                .filter(|(_, parent)| parent.is_some_and(|p| ids.binary_search(&p).is_err()))
                .count() as u64;
            let has_root = entry.spans.iter().any(|(_, parent)| parent.is_none());
            counts.orphan_spans += orphans;
            counts.duplicate_spans += duplicates;
            counts.traces_without_root += u64::from(!has_root);
            let complete = has_root && orphans == 0;
            if complete && now.saturating_duration_since(entry.last_seen) >= evict_after {
                evicted += 1;
                evicted_spans += total as u64;
                false
            } else {
                true
            }
        });
        self.evicted += evicted;
        self.evicted_spans += evicted_spans;
        counts.traces_in_memory = self.traces.len() as u64;
        counts.traces = counts.traces_in_memory + self.evicted;
        counts
    }
}

/// A trace held, as the sink's read routes list it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldTrace {
    pub trace_id: TraceId,
    pub spans: u64,
    pub has_root: bool,
    /// Milliseconds since its last span arrived.
    pub idle_ms: u64,
}

impl Ledger {
    /// Up to `limit` traces held whose last span arrived within `within` of `now`, with at
    /// least `min_spans` spans (and a root if `need_root`), most recently seen first.
    pub fn recent(
        &self,
        now: Instant,
        within: Duration,
        limit: usize,
        min_spans: u64,
        need_root: bool,
    ) -> Vec<HeldTrace> {
        let mut found: Vec<HeldTrace> = self
            .traces
            .iter()
            .map(|(id, e)| HeldTrace {
                trace_id: *id,
                spans: e.spans.len() as u64,
                has_root: e.spans.iter().any(|(_, parent)| parent.is_none()),
                idle_ms: now.saturating_duration_since(e.last_seen).as_millis() as u64,
            })
            .filter(|t| {
                t.idle_ms <= within.as_millis() as u64
                    && t.spans >= min_spans
                    && (t.has_root || !need_root)
            })
            .collect();
        let limit = limit.min(found.len());
        if limit < found.len() {
            found.select_nth_unstable_by_key(limit, |t| t.idle_ms);
            found.truncate(limit);
        }
        found.sort_unstable_by_key(|t| (t.idle_ms, t.trace_id));
        found
    }

    /// The (span id, parent id) pairs of a trace held; `None` if it is not (never received, or
    /// forgotten once complete and idle).
    pub fn spans_of(&self, trace: &TraceId) -> Option<Vec<(SpanId, Option<SpanId>)>> {
        self.traces.get(trace).map(|e| e.spans.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_before_parents_are_not_orphans_once_the_parent_arrives() {
        let mut ledger = Ledger::default();
        let now = Instant::now();
        let trace = [1; 16];
        ledger.add(trace, [2; 8], Some([1; 8]), now);
        let early = ledger.snapshot(now, EVICT_AFTER);
        assert_eq!((early.orphan_spans, early.traces_without_root), (1, 1));
        ledger.add(trace, [1; 8], None, now);
        ledger.add([9; 16], [3; 8], Some([4; 8]), now);
        let later = ledger.snapshot(now, EVICT_AFTER);
        assert_eq!(later.traces, 2);
        assert_eq!(later.orphan_spans, 1, "only the span of the second trace");
        assert_eq!(later.traces_without_root, 1);
    }

    #[test]
    fn recent_traces_newest_first_and_filtered() {
        let mut ledger = Ledger::default();
        let start = Instant::now();
        ledger.add([1; 16], [1; 8], None, start);
        ledger.add([2; 16], [2; 8], None, start + Duration::from_secs(2));
        ledger.add([2; 16], [3; 8], Some([2; 8]), start + Duration::from_secs(2));
        ledger.add([3; 16], [4; 8], Some([9; 8]), start + Duration::from_secs(3));
        let now = start + Duration::from_secs(4);
        let all = ledger.recent(now, Duration::from_secs(60), 10, 0, false);
        let ids: Vec<u8> = all.iter().map(|t| t.trace_id[0]).collect();
        assert_eq!(ids, vec![3, 2, 1]);
        assert_eq!((all[1].spans, all[1].has_root, all[1].idle_ms), (2, true, 2000));
        let two = ledger.recent(now, Duration::from_secs(60), 2, 0, false);
        assert_eq!(two.iter().map(|t| t.trace_id[0]).collect::<Vec<_>>(), vec![3, 2]);
        let rooted = ledger.recent(now, Duration::from_secs(60), 10, 2, true);
        assert_eq!(rooted.iter().map(|t| t.trace_id[0]).collect::<Vec<_>>(), vec![2]);
        let fresh = ledger.recent(now, Duration::from_millis(1500), 10, 0, false);
        assert_eq!(fresh.iter().map(|t| t.trace_id[0]).collect::<Vec<_>>(), vec![3]);
        assert_eq!(ledger.spans_of(&[2; 16]).map(|s| s.len()), Some(2));
        assert_eq!(ledger.spans_of(&[7; 16]), None);
    }

    #[test]
    fn complete_idle_traces_are_forgotten_but_counted() {
        let mut ledger = Ledger::default();
        let start = Instant::now();
        ledger.add([1; 16], [1; 8], None, start);
        ledger.add([2; 16], [2; 8], Some([5; 8]), start);
        let counts = ledger.snapshot(start + EVICT_AFTER, EVICT_AFTER);
        assert_eq!(counts.traces, 2);
        assert_eq!(counts.traces_in_memory, 1, "the incomplete trace is kept");
        assert_eq!(counts.orphan_spans, 1);
        ledger.add([1; 16], [1; 8], None, start);
        assert_eq!(ledger.snapshot(start, EVICT_AFTER).duplicate_spans, 0);
    }
}
