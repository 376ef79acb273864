//! The verification driver: polls counts until everything accepted is visible or the budget
//! ends, checks a sample of traces whole, and puts what it observed into a [`Verification`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::http::hex;
use super::measure::{self, Lag, LagUnit, Throughput};
use super::{Countable, Counts, Ledger, ReadApi, ReadError, TimeWindow, TraceId, Unverifiable};
use crate::platform::PlatformId;

/// How long and how hard verification may read.
#[derive(Clone, Debug)]
pub struct Budget {
    /// From [`Verifier::verify`] until polling stops, whatever is visible by then.
    pub timeout: Duration,
    /// Between two counts (raised to the platform's [`ReadApi::min_poll_interval`]).
    pub poll_interval: Duration,
    /// Traces fetched whole (spread evenly over the ledger); 0 skips the whole-trace check.
    pub sample_traces: usize,
    /// Added before the earliest span start and after the latest acknowledgement to make the
    /// count window (synthetic-clock spans may start a little after they are sent).
    pub window_margin: Duration,
    /// Attempts per sampled trace when the backend answers 429/503 (each after its wait).
    pub max_throttled_attempts: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(180),
            poll_interval: Duration::from_secs(2),
            sample_traces: 20,
            window_margin: Duration::from_secs(600),
            max_throttled_attempts: 3,
        }
    }
}

/// How verification ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every counted unit reached the accepted total within the budget.
    AllVisible,
    /// The budget ended first; the figures say how far it got.
    Incomplete,
    /// The read API could not be used (credentials, configuration, no count ever succeeded).
    Failed,
    /// The platform has no read API scaletest uses: storage not verified.
    NotVerified,
    /// A count found more than this run accepted: other traffic (or duplicates) shares the
    /// counted project and window, so the counts are not this run's, and neither the stored
    /// share nor the ingestion lag is stated.
    OtherTraffic,
}

/// One count, taken at `at_ms` (Unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub at_ms: u64,
    pub spans: Option<u64>,
    pub traces: Option<u64>,
}

/// A trace whose stored span count differs from what was accepted for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanCountDiff {
    pub trace_id: String,
    pub accepted: u64,
    pub stored: u64,
}

/// A trace stored without any root span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rootless {
    pub trace_id: String,
    /// Whether the root was among the spans the backend acknowledged (if not, the backend
    /// stored what it was given; if so, it lost or re-parented the root).
    pub root_accepted: bool,
}

/// The sample of traces fetched whole, after polling ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WholeTraceCheck {
    /// Why no trace could be fetched, when the platform cannot look traces up by OTel id.
    pub unsupported: Option<String>,
    /// Traces asked for.
    pub asked: u64,
    /// Traces the backend returned.
    pub found: u64,
    /// Traces whose fetch failed (see the read errors): neither found nor missing.
    pub unchecked: u64,
    /// Trace ids (hex) the backend said it does not have.
    pub missing: Vec<String>,
    pub rootless: Vec<Rootless>,
    /// Trace ids (hex) stored with more than one span without a parent.
    pub several_roots: Vec<String>,
    pub span_count_differs: Vec<SpanCountDiff>,
    /// Span kinds the backend assigned, summed over the found traces.
    pub kinds: BTreeMap<String, u64>,
    /// Tokens summed over the found traces; `None` if the backend exposed none.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

/// What verification observed. Every figure not observed is `None` (or absent), never 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub platform: PlatformId,
    pub outcome: Outcome,
    /// Why, for `not_verified` and `failed`.
    pub reason: Option<String>,
    /// The units this platform's counts observe (`None` when not verified).
    pub countable: Option<Countable>,
    pub spans_accepted: u64,
    pub traces_accepted: u64,
    /// Accepted traces whose root was among the accepted spans.
    pub traces_accepted_with_root: u64,
    /// The window counted (span start times, Unix ms).
    pub window: Option<TimeWindow>,
    /// The first count that succeeded once the run had ended.
    pub visible_at_run_end: Option<Sample>,
    /// The last count that succeeded.
    pub visible_at_end: Option<Sample>,
    /// Every successful count, during the run (if watched) and after, in time order.
    pub samples: Vec<Sample>,
    /// Accepted minus visible at the end, for each counted unit (saturating at 0; a larger
    /// count than accepted means other traffic shares the window).
    pub spans_not_visible: Option<u64>,
    pub traces_not_visible: Option<u64>,
    pub lag: Option<Lag>,
    pub throughput: Option<Throughput>,
    pub whole_traces: Option<WholeTraceCheck>,
    /// Failed reads by class (`auth`, `rate_limited`, `timeout`, ...).
    pub read_errors: BTreeMap<String, u64>,
    /// The first message of each class.
    pub read_error_examples: BTreeMap<String, String>,
    /// Unix ms when verification started and ended.
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
}

impl Verification {
    /// The result for a platform whose storage cannot be verified: the accepted figures and the
    /// reason, nothing else.
    pub fn not_verified(unverifiable: &Unverifiable, ledger: &Ledger, now_ms: u64) -> Self {
        let mut v = Self::empty(unverifiable.platform, ledger, now_ms);
        v.outcome = Outcome::NotVerified;
        v.reason = Some(unverifiable.reason.clone());
        v
    }

    fn empty(platform: PlatformId, ledger: &Ledger, now_ms: u64) -> Self {
        Self {
            platform,
            outcome: Outcome::Failed,
            reason: None,
            countable: None,
            spans_accepted: ledger.spans_accepted(),
            traces_accepted: ledger.traces_accepted(),
            traces_accepted_with_root: ledger.traces().iter().filter(|t| t.root_accepted).count()
                as u64,
            window: None,
            visible_at_run_end: None,
            visible_at_end: None,
            samples: Vec::new(),
            spans_not_visible: None,
            traces_not_visible: None,
            lag: None,
            throughput: None,
            whole_traces: None,
            read_errors: BTreeMap::new(),
            read_error_examples: BTreeMap::new(),
            started_at_ms: now_ms,
            finished_at_ms: now_ms,
        }
    }
}

/// Read errors by class, with the first message of each.
#[derive(Debug, Default)]
struct ErrorLog {
    counts: BTreeMap<String, u64>,
    examples: BTreeMap<String, String>,
}

impl ErrorLog {
    fn record(&mut self, error: &ReadError) {
        let class = error.class().to_owned();
        *self.counts.entry(class.clone()).or_default() += 1;
        self.examples.entry(class).or_insert_with(|| error.to_string());
    }

    fn merge(&mut self, other: ErrorLog) {
        for (class, n) in other.counts {
            *self.counts.entry(class).or_default() += n;
        }
        for (class, message) in other.examples {
            self.examples.entry(class).or_insert(message);
        }
    }
}

/// Wall-clock Unix ms that follows tokio's clock, so paused-time tests see consistent times.
#[derive(Clone, Copy, Debug)]
struct Clock {
    base_unix_ms: u64,
    base: Instant,
}

impl Clock {
    fn new() -> Self {
        let base_unix_ms =
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        Self { base_unix_ms, base: Instant::now() }
    }

    fn now_ms(&self) -> u64 {
        self.base_unix_ms + self.base.elapsed().as_millis() as u64
    }
}

/// Verifies one run against one platform's read API.
#[derive(Debug, Clone)]
pub struct Verifier {
    api: Arc<dyn ReadApi>,
    budget: Budget,
    clock: Clock,
}

/// Counts taken in the background while the run goes on; hand it to [`Verifier::verify`].
#[derive(Debug)]
pub struct Watch {
    stop: oneshot::Sender<()>,
    task: JoinHandle<(Vec<Sample>, ErrorLog)>,
}

impl Watch {
    /// Stops polling and returns what was observed.
    async fn finish(self) -> (Vec<Sample>, ErrorLog) {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

impl Verifier {
    pub fn new(api: Arc<dyn ReadApi>, budget: Budget) -> Self {
        Self { api, budget, clock: Clock::new() }
    }

    /// Now, in Unix ms, on the clock verification uses (give the ledger the same clock).
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Unix milliseconds now, on the clock verifiers use.
    pub fn unix_ms_now() -> u64 {
        Clock::new().now_ms()
    }

    fn poll_interval(&self) -> Duration {
        self.budget.poll_interval.max(self.api.min_poll_interval())
    }

    /// Starts counting in the background, every poll interval, in the window from
    /// `run_started_ms` (minus the margin) to now (plus the margin). Must be called inside a
    /// tokio runtime.
    pub fn watch(&self, run_started_ms: u64) -> Watch {
        let (stop, mut stopped) = oneshot::channel();
        let api = self.api.clone();
        let clock = self.clock;
        let margin = self.budget.window_margin.as_millis() as u64;
        let interval = self.poll_interval();
        let task = tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut errors = ErrorLog::default();
            loop {
                let now = clock.now_ms();
                let window = TimeWindow {
                    start_ms: run_started_ms.saturating_sub(margin),
                    end_ms: now + margin,
                };
                tokio::select! {
                    _ = &mut stopped => break,
                    counted = api.count(window) => match counted {
                        Ok(counts) => samples.push(sample(clock.now_ms(), counts)),
                        Err(error) => {
                            errors.record(&error);
                            if error.is_fatal() {
                                break;
                            }
                        }
                    },
                }
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(interval) => {}
                }
            }
            (samples, errors)
        });
        Watch { stop, task }
    }

    /// Polls until every counted unit reaches what `ledger` says was accepted, or the budget
    /// ends; then fetches a sample of traces whole. `watch`, if given, is stopped and its
    /// samples kept. Call it once the run's last acknowledgement is in the ledger.
    pub async fn verify(&self, ledger: &Ledger, watch: Option<Watch>) -> Verification {
        let started = Instant::now();
        let mut result = Verification::empty(self.api.platform(), ledger, self.now_ms());
        let countable = self.api.countable();
        result.countable = Some(countable);
        let mut errors = ErrorLog::default();
        let mut samples = Vec::new();
        if let Some(watch) = watch {
            let (watched, watch_errors) = watch.finish().await;
            samples = watched;
            errors.merge(watch_errors);
        }
        let run_end_ms = self.now_ms();
        let margin = self.budget.window_margin.as_millis() as u64;
        let (first_start, last_ack) = ledger.time_span().unwrap_or((run_end_ms, run_end_ms));
        let watch_start = samples.first().map_or(first_start, |s| s.at_ms.min(first_start));
        let window_for = |now: u64| TimeWindow {
            start_ms: watch_start.min(first_start).saturating_sub(margin),
            end_ms: now.max(last_ack) + margin,
        };

        let spans_goal = ledger.spans_accepted();
        let traces_goal = ledger.traces_accepted();
        let complete = |c: &Sample| {
            (!countable.spans || c.spans.is_some_and(|n| n >= spans_goal))
                && (!countable.traces || c.traces.is_some_and(|n| n >= traces_goal))
                && (countable.spans || countable.traces)
        };
        let mut fatal = None;
        loop {
            match self.api.count(window_for(self.now_ms())).await {
                Ok(counts) => {
                    let s = sample(self.now_ms(), counts);
                    samples.push(s);
                    if result.visible_at_run_end.is_none() {
                        result.visible_at_run_end = Some(s);
                    }
                    if complete(&s) {
                        result.outcome = Outcome::AllVisible;
                        break;
                    }
                }
                Err(error) => {
                    errors.record(&error);
                    if error.is_fatal() {
                        fatal = Some(error.to_string());
                        break;
                    }
                }
            }
            if started.elapsed() >= self.budget.timeout {
                break;
            }
            let left = self.budget.timeout.saturating_sub(started.elapsed());
            tokio::time::sleep(self.poll_interval().min(left)).await;
        }
        result.window = Some(window_for(self.now_ms()));
        let last = samples.last().copied();
        result.visible_at_end = last;
        if result.outcome != Outcome::AllVisible {
            result.outcome = if last.is_some() && fatal.is_none() {
                Outcome::Incomplete
            } else {
                Outcome::Failed
            };
        }
        result.reason = fatal.or_else(|| {
            (result.outcome == Outcome::Failed)
                .then(|| "no count succeeded within the budget; see read_errors".to_owned())
        });
        if let Some(last) = last {
            result.spans_not_visible = last.spans.map(|n| spans_goal.saturating_sub(n));
            result.traces_not_visible = last.traces.map(|n| traces_goal.saturating_sub(n));
        }
        // More than accepted, in the unit the lag is measured in: not this run's count.
        let over = samples.iter().find_map(|s| {
            if countable.spans {
                s.spans.filter(|n| *n > spans_goal).map(|n| (n, spans_goal, "spans"))
            } else {
                s.traces.filter(|n| *n > traces_goal).map(|n| (n, traces_goal, "traces"))
            }
        });
        if let Some((counted, accepted, unit)) = over {
            result.outcome = Outcome::OtherTraffic;
            result.reason = Some(format!(
                "a count found {counted} {unit} where this run accepted {accepted}: other \
                 traffic or duplicates share the project and window, so the stored share and \
                 the ingestion lag are not stated (give the run a project of its own)"
            ));
            result.spans_not_visible = None;
            result.traces_not_visible = None;
        }

        // Lag and throughput, in spans where spans are counted, else in traces.
        let (unit, accepted, visible): (_, Curve, Curve) = if countable.spans {
            let visible = samples.iter().filter_map(|s| Some((s.at_ms, s.spans?))).collect();
            (LagUnit::Spans, ledger.acceptance().collect(), visible)
        } else {
            let mut accepted: Vec<(u64, u64)> =
                ledger.traces().iter().map(|t| (t.accepted_at_ms, 1)).collect();
            accepted.sort_unstable();
            let visible = samples.iter().filter_map(|s| Some((s.at_ms, s.traces?))).collect();
            (LagUnit::Traces, accepted, visible)
        };
        if !visible.is_empty() && result.outcome != Outcome::OtherTraffic {
            result.lag = measure::lag(unit, &accepted, &visible);
            result.throughput = Some(measure::throughput(unit, &accepted, &visible));
        }
        result.samples = samples;

        if self.budget.sample_traces > 0
            && !ledger.traces().is_empty()
            && result.outcome != Outcome::Failed
        {
            let window = window_for(self.now_ms());
            result.whole_traces = Some(self.check_sample(ledger, window, &mut errors).await);
        }
        result.read_errors = errors.counts;
        result.read_error_examples = errors.examples;
        result.finished_at_ms = self.now_ms();
        result
    }

    async fn check_sample(
        &self,
        ledger: &Ledger,
        window: TimeWindow,
        errors: &mut ErrorLog,
    ) -> WholeTraceCheck {
        let mut check = WholeTraceCheck::default();
        if let Some(why) = self.api.trace_lookup_unsupported() {
            check.unsupported = Some(why.to_owned());
            return check;
        }
        let traces = ledger.traces();
        let n = self.budget.sample_traces.min(traces.len());
        // Evenly spread over the run: the first, the last and between.
        let picks = (0..n).map(|i| if n == 1 { 0 } else { i * (traces.len() - 1) / (n - 1) });
        for i in picks {
            let sent = &traces[i];
            check.asked += 1;
            match self.fetch(&sent.trace_id, window, errors).await {
                Some(Some(stored)) => {
                    check.found += 1;
                    let id = hex(&sent.trace_id);
                    if stored.roots == 0 {
                        check.rootless.push(Rootless {
                            trace_id: id.clone(),
                            root_accepted: sent.root_accepted,
                        });
                    } else if stored.roots > 1 {
                        check.several_roots.push(id.clone());
                    }
                    if stored.spans != sent.spans_accepted {
                        check.span_count_differs.push(SpanCountDiff {
                            trace_id: id,
                            accepted: sent.spans_accepted,
                            stored: stored.spans,
                        });
                    }
                    for (kind, k) in stored.kinds {
                        *check.kinds.entry(kind).or_default() += k;
                    }
                    if let Some(t) = stored.input_tokens {
                        *check.input_tokens.get_or_insert(0) += t;
                    }
                    if let Some(t) = stored.output_tokens {
                        *check.output_tokens.get_or_insert(0) += t;
                    }
                }
                Some(None) => check.missing.push(hex(&sent.trace_id)),
                None => {
                    check.unchecked += 1;
                    if errors.counts.contains_key("auth")
                        || errors.counts.contains_key("unsupported")
                    {
                        // Every other fetch would fail the same way.
                        check.unchecked += (n as u64).saturating_sub(check.asked);
                        break;
                    }
                }
            }
        }
        check
    }

    /// One trace, retried after 429/503 (the client waits what the backend asked); `None` when
    /// it could not be checked.
    async fn fetch(
        &self,
        trace_id: &TraceId,
        window: TimeWindow,
        errors: &mut ErrorLog,
    ) -> Option<Option<super::StoredTrace>> {
        for _ in 0..self.budget.max_throttled_attempts.max(1) {
            match self.api.fetch_trace(trace_id, window).await {
                Ok(found) => return Some(found),
                Err(error) => {
                    errors.record(&error);
                    if !matches!(error, ReadError::RateLimited { .. }) {
                        return None;
                    }
                }
            }
        }
        None
    }
}

/// (Unix ms, count) points.
type Curve = Vec<(u64, u64)>;

fn sample(at_ms: u64, counts: Counts) -> Sample {
    Sample { at_ms, spans: counts.spans, traces: counts.traces }
}
