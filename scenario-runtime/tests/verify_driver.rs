//! The verification driver against an in-process read API, on tokio's paused clock: lag,
//! throughput, watching during the run, budgets and errors are exact here.
#![cfg(feature = "engine")]

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use scenario_runtime::engine::verify::{
    Budget, Countable, Counts, LagUnit, Ledger, Outcome, ReadApi, ReadError, StoredTrace,
    TimeWindow, TraceId, Unverifiable, Verification, Verifier,
};
use scenario_runtime::platform::PlatformId;
use tokio::time::Instant;

/// A backend whose spans become readable on a schedule: (after, spans readable from then on).
#[derive(Debug)]
struct Revealing {
    started: Instant,
    schedule: Vec<(Duration, u64)>,
    spans_per_trace: u64,
    /// Counts that fail before succeeding (timeouts).
    failures: Mutex<u32>,
    count_spans: bool,
    windows: Mutex<Vec<TimeWindow>>,
}

impl Revealing {
    fn new(schedule: Vec<(Duration, u64)>, spans_per_trace: u64) -> Self {
        Self {
            started: Instant::now(),
            schedule,
            spans_per_trace,
            failures: Mutex::new(0),
            count_spans: true,
            windows: Mutex::default(),
        }
    }

    fn visible(&self) -> u64 {
        let elapsed = self.started.elapsed();
        self.schedule.iter().filter(|(after, _)| *after <= elapsed).map(|(_, n)| *n).sum()
    }
}

#[async_trait::async_trait]
impl ReadApi for Revealing {
    fn platform(&self) -> PlatformId {
        PlatformId::Phoenix
    }

    fn countable(&self) -> Countable {
        Countable { spans: self.count_spans, traces: true }
    }

    async fn count(&self, window: TimeWindow) -> Result<Counts, ReadError> {
        self.windows.lock().unwrap().push(window);
        {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err(ReadError::Timeout);
            }
        }
        let spans = self.visible();
        Ok(Counts {
            spans: self.count_spans.then_some(spans),
            traces: Some(spans / self.spans_per_trace),
        })
    }

    async fn fetch_trace(
        &self,
        trace_id: &TraceId,
        _window: TimeWindow,
    ) -> Result<Option<StoredTrace>, ReadError> {
        // Traces are readable in id order as spans become visible.
        let readable = self.visible() / self.spans_per_trace;
        if u64::from(trace_id[0]) >= readable {
            return Ok(None);
        }
        let mut stored =
            StoredTrace { spans: self.spans_per_trace, roots: 1, ..Default::default() };
        stored.kinds.insert("AGENT".into(), 1);
        stored.kinds.insert("LLM".into(), self.spans_per_trace - 1);
        stored.input_tokens = Some(10 * (self.spans_per_trace - 1));
        Ok(Some(stored))
    }
}

/// `traces` traces of `spans` spans, acknowledged at `at_ms`.
fn ledger(traces: u8, spans: u64, at_ms: u64) -> Ledger {
    let mut ledger = Ledger::new();
    for t in 0..traces {
        ledger.accept([t; 16], spans, true, at_ms - 2_000, at_ms);
    }
    ledger
}

fn budget(timeout_s: u64) -> Budget {
    Budget {
        timeout: Duration::from_secs(timeout_s),
        poll_interval: Duration::from_millis(500),
        sample_traces: 4,
        window_margin: Duration::from_secs(60),
        ..Budget::default()
    }
}

#[tokio::test(start_paused = true)]
async fn lag_is_measured_from_acknowledgement_to_visibility() {
    // 100 spans in 10 traces, acknowledged at t=0; 50 readable at 2 s, 49 more at 5 s, the
    // last at 8 s.
    let schedule = vec![
        (Duration::from_secs(2), 50),
        (Duration::from_secs(5), 49),
        (Duration::from_secs(8), 1),
    ];
    let api = Arc::new(Revealing::new(schedule, 10));
    let verifier = Verifier::new(api.clone(), budget(60));
    let ledger = ledger(10, 10, verifier.now_ms());
    let result = verifier.verify(&ledger, None).await;
    assert_eq!(result.outcome, Outcome::AllVisible);
    let lag = result.lag.clone().unwrap();
    assert_eq!(lag.unit, LagUnit::Spans);
    assert_eq!((lag.p50_ms, lag.p99_ms, lag.p100_ms), (Some(2_000), Some(5_000), Some(8_000)));
    assert_eq!(lag.resolution_ms, Some(500));
    assert_eq!(result.visible_at_run_end.unwrap().spans, Some(0));
    assert_eq!(result.visible_at_end.unwrap().spans, Some(100));
    assert_eq!(result.samples.len(), 17, "a count every 500 ms from 0 to 8 s");
    let throughput = result.throughput.unwrap();
    assert_eq!(throughput.accepted_per_sec, None, "one acknowledgement instant: no rate");
    assert_eq!(throughput.stored_per_sec, Some(12.5), "100 spans from 0 to 8 s");
    let whole = result.whole_traces.unwrap();
    assert_eq!((whole.asked, whole.found), (4, 4));
    assert_eq!(whole.kinds.get("LLM"), Some(&36));
    assert_eq!((whole.input_tokens, whole.output_tokens), (Some(360), None), "none exposed");
    // The window covers the spans' start (2 s before the acknowledgement) with the margin.
    let window = api.windows.lock().unwrap()[0];
    assert_eq!(window.start_ms, ledger.time_span().unwrap().0 - 60_000);
}

#[tokio::test(start_paused = true)]
async fn the_budget_ends_polling_and_what_was_never_seen_stays_unknown() {
    // 20 spans accepted; 10 become readable, the rest never do.
    let api = Arc::new(Revealing::new(vec![(Duration::from_secs(1), 10)], 5));
    let verifier = Verifier::new(api, budget(10));
    let ledger = ledger(4, 5, verifier.now_ms());
    let started = Instant::now();
    let result = verifier.verify(&ledger, None).await;
    assert!(started.elapsed() <= Duration::from_secs(11), "{:?}", started.elapsed());
    assert_eq!(result.outcome, Outcome::Incomplete);
    let lag = result.lag.unwrap();
    assert_eq!((lag.p50_ms, lag.p99_ms, lag.p100_ms), (Some(1_000), None, None));
    assert_eq!((result.spans_not_visible, result.traces_not_visible), (Some(10), Some(2)));
    let whole = result.whole_traces.unwrap();
    assert_eq!(whole.missing.len(), 2, "{whole:?}");
}

#[tokio::test(start_paused = true)]
async fn a_count_above_what_was_accepted_is_not_this_runs_and_states_no_lag() {
    // 20 spans accepted; the project already holds 30 more from other traffic, all readable
    // at 1 s: the count (50) cannot be this run's, so neither stored share nor lag is stated.
    let api = Arc::new(Revealing::new(vec![(Duration::from_secs(1), 50)], 5));
    let verifier = Verifier::new(api, budget(10));
    let ledger = ledger(4, 5, verifier.now_ms());
    let result = verifier.verify(&ledger, None).await;
    assert_eq!(result.outcome, Outcome::OtherTraffic, "{result:#?}");
    let reason = result.reason.clone().unwrap();
    assert!(reason.contains("50 spans") && reason.contains("accepted 20"), "{reason}");
    assert_eq!(result.lag, None);
    assert_eq!(result.throughput, None);
    assert_eq!((result.spans_not_visible, result.traces_not_visible), (None, None));
    // Fetching by id still checks the run's own traces.
    assert_eq!(result.whole_traces.unwrap().missing.len(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_watch_sees_visibility_during_the_run() {
    let api = Arc::new(Revealing::new(
        vec![(Duration::from_secs(1), 30), (Duration::from_secs(3), 30)],
        10,
    ));
    let verifier = Verifier::new(api, budget(30));
    let run_start = verifier.now_ms();
    let watch = verifier.watch(run_start);
    // The run: 30 spans acknowledged at 0.5 s, 30 more at 2.5 s; it ends at 4 s.
    let mut ledger = Ledger::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for t in 0..3 {
        ledger.accept([t; 16], 10, true, run_start, verifier.now_ms());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for t in 3..6 {
        ledger.accept([t; 16], 10, true, run_start, verifier.now_ms());
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let result = verifier.verify(&ledger, Some(watch)).await;
    assert_eq!(result.outcome, Outcome::AllVisible);
    let during: Vec<_> = result.samples.iter().filter(|s| s.at_ms < run_start + 4_000).collect();
    assert!(during.len() >= 7, "{:?}", result.samples);
    assert_eq!(result.visible_at_run_end.unwrap().spans, Some(60));
    let lag = result.lag.unwrap();
    // 50% (30 spans): accepted at 0.5 s, visible at 1 s; 100%: accepted 2.5 s, visible 3 s.
    assert_eq!((lag.p50_ms, lag.p100_ms), (Some(500), Some(500)));
    let throughput = result.throughput.unwrap();
    assert_eq!(throughput.accepted_per_sec, Some(30.0), "60 spans from 0.5 s to 2.5 s");
}

#[tokio::test(start_paused = true)]
async fn transient_read_errors_are_counted_and_polling_goes_on() {
    let api = Arc::new(Revealing::new(vec![(Duration::ZERO, 20)], 10));
    *api.failures.lock().unwrap() = 2;
    let verifier = Verifier::new(api, budget(30));
    let ledger = ledger(2, 10, verifier.now_ms());
    let result = verifier.verify(&ledger, None).await;
    assert_eq!(result.outcome, Outcome::AllVisible);
    assert_eq!(result.read_errors.get("timeout"), Some(&2));
    assert!(result.read_error_examples["timeout"].contains("timed out"));
}

#[tokio::test(start_paused = true)]
async fn a_platform_counting_traces_only_measures_lag_in_traces() {
    let mut api = Revealing::new(vec![(Duration::from_secs(3), 40)], 10);
    api.count_spans = false;
    let verifier = Verifier::new(Arc::new(api), budget(30));
    let ledger = ledger(4, 10, verifier.now_ms());
    let result = verifier.verify(&ledger, None).await;
    assert_eq!(result.outcome, Outcome::AllVisible);
    let lag = result.lag.unwrap();
    assert_eq!((lag.unit, lag.accepted, lag.p100_ms), (LagUnit::Traces, 4, Some(3_000)));
    assert_eq!(result.spans_not_visible, None, "spans are not counted, not zero");
}

#[test]
fn storage_not_verified_says_why_and_reports_only_what_was_accepted() {
    let ledger = ledger(3, 4, 10_000);
    let why = Unverifiable { platform: PlatformId::Otlp, reason: "no read API".into() };
    let result = Verification::not_verified(&why, &ledger, 20_000);
    assert_eq!(result.outcome, Outcome::NotVerified);
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["outcome"], "not_verified");
    assert_eq!(json["reason"], "no read API");
    assert_eq!(json["spans_accepted"], 12);
    assert!(json["visible_at_end"].is_null() && json["lag"].is_null(), "{json}");
    assert!(json["whole_traces"].is_null());
}
