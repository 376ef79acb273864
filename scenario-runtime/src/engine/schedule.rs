//! The scheduler: starts traces at a target rate (open model) or from N looping workers
//! (closed model), runs each one, and reports to [`Metrics`].
//!
//! **Open model** (the default): a tokio loop wakes every millisecond and starts every trace
//! whose intended start ([`RatePlan::time_of`]) has passed, whatever the backend does. A tick
//! dispatcher, not one timer per trace: measured on a 2-core machine it held 50k traces/s with a
//! p99 lag near 1 ms. With a cap on traces in flight, a trace that finds the cap full waits for
//! a slot; its lag grows and it is counted as late (more than
//! [`LATE_THRESHOLD`](crate::engine::metrics::LATE_THRESHOLD), 10 ms, after its intended time).
//! Intended starts still pending when the run ends are counted as missed. No start is ever
//! silently skipped.
//!
//! **Closed model**: N workers each run one trace after another (ramped up evenly over the
//! ramp-up time). The rate is whatever the system gives; there is no intended start.
//!
//! Scenario latency is measured from the intended start, so a slow generator or a full cap
//! shows up as latency rather than vanishing (no coordinated omission).
//!
//! Each trace gets a fresh random trace id, a content seed `mix(seed, sequence)` (the same seed
//! gives the same content, trace for trace) and a scenario drawn from the mix by an rng seeded
//! the same way.
//!
//! **End of a run**: no trace starts after the duration (or the count, or a stop); traces still
//! running get the drain timeout to finish, then are cancelled. A cancelled trace's future is
//! dropped, which ends and emits the agent spans it had started, so nothing already sent is left
//! without its ancestors; it is counted as unfinished. A second stop ends the drain at once.

mod plan;
mod sessions;

pub use plan::{RatePlan, Stage};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use crate::emit::Emitter;
use crate::engine::metrics::Metrics;
use crate::exec::{Clock, RunSettings, Sleeper, TraceRun, mix, splitmix64, unix_nanos_now};
use crate::latency::LatencyScale;
use crate::scenario::AnyScenario;
use crate::span::{SpanRecord, SpanSink, TraceId};

/// How often the open-model dispatcher wakes.
pub const TICK: Duration = Duration::from_millis(1);

/// How simulated latencies pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockKind {
    /// Latencies are waited for real (tokio timers), as in production.
    Real,
    /// Timestamps computed, nothing waits: maximum throughput.
    Synthetic,
}

/// How load is offered.
#[derive(Clone, Debug)]
pub enum Load {
    /// Traces start on a schedule, optionally at most `max_in_flight` at a time.
    Open { plan: RatePlan, max_in_flight: Option<usize> },
    /// `workers` loops, each starting its next trace when its last one ends. With
    /// `max_pending_spans`, a worker also waits while more spans than that are created but not
    /// yet exported or dropped: backpressure from the exporter, so that a closed run never
    /// drops spans for lack of queue (an open-model run never waits for the backend).
    Closed { workers: usize, ramp_up: Duration, max_pending_spans: Option<u64> },
}

/// A normalised weight rounded to 12 decimals (far below any meaningful difference).
fn round_weight(weight: f64) -> f64 {
    (weight * 1e12).round() / 1e12
}

/// Scenarios with weights; picks one per trace.
#[derive(Clone, Debug)]
pub struct Mix {
    /// Scenarios and cumulative weights normalised to end at 1.
    entries: Vec<(&'static dyn AnyScenario, f64)>,
}

impl Mix {
    /// A mix from positive weights (need not sum to 1). `None` when empty or all zero.
    pub fn new(weighted: &[(&'static dyn AnyScenario, f64)]) -> Option<Self> {
        let total: f64 = weighted.iter().map(|(_, w)| w.max(0.0)).sum();
        if !(total > 0.0 && total.is_finite()) {
            return None;
        }
        let mut acc = 0.0;
        let entries = weighted
            .iter()
            .map(|&(s, w)| {
                acc += w.max(0.0) / total;
                (s, acc)
            })
            .collect();
        Some(Self { entries })
    }

    /// `(name, normalised weight)` in order, rounded to 12 decimals so that reports show
    /// `0.4`, not the `0.4000000000000001` float division leaves.
    pub fn weights(&self) -> Vec<(&'static str, f64)> {
        let mut previous = 0.0;
        self.entries
            .iter()
            .map(|&(s, c)| {
                let w = c - previous;
                previous = c;
                (s.meta().name, round_weight(w))
            })
            .collect()
    }

    /// The scenario index for a uniform draw `u` in `0..1`.
    pub fn pick(&self, u: f64) -> usize {
        self.entries.iter().position(|&(_, c)| u < c).unwrap_or(self.entries.len() - 1)
    }

    /// The scenario index of the trace whose content seed is `content_seed`: the draw every
    /// path (scheduler, console) makes, so a seed always picks the same scenario.
    pub fn pick_seeded(&self, content_seed: u64) -> usize {
        self.pick(SmallRng::seed_from_u64(content_seed).random::<f64>())
    }

    /// The scenarios, in mix order.
    pub fn scenarios(&self) -> impl Iterator<Item = &'static dyn AnyScenario> + '_ {
        self.entries.iter().map(|&(s, _)| s)
    }

    /// The scenario at `index` (as returned by [`Mix::pick`]).
    pub fn scenario(&self, index: usize) -> &'static dyn AnyScenario {
        self.entries[index.min(self.entries.len() - 1)].0
    }
}

/// Everything the scheduler needs to know about the run.
#[derive(Clone, Debug)]
pub struct Workload {
    pub load: Load,
    /// How long traces are started for (`None`: until `count` or a stop).
    pub duration: Option<Duration>,
    /// How many traces to start at most.
    pub count: Option<u64>,
    pub mix: Mix,
    pub seed: u64,
    pub clock: ClockKind,
    /// How much longer than declared every simulated step latency lasts.
    pub latency_scale: LatencyScale,
    /// How long traces still running at the end may take to finish.
    pub drain_timeout: Duration,
}

/// Why a run stops early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    Interrupted,
    Aborted,
}

/// Asks a running schedule to stop starting traces (and, a second time, to stop waiting).
#[derive(Debug, Default)]
pub struct StopSignal {
    stop: AtomicBool,
    hard: AtomicBool,
    reason: AtomicU64,
    notify: Notify,
}

impl StopSignal {
    /// Stops starting traces; in-flight ones drain. A second call also ends the drain.
    pub fn stop(&self, reason: StopReason) {
        if self.stop.swap(true, Ordering::SeqCst) {
            self.hard.store(true, Ordering::SeqCst);
        } else {
            self.reason.store(reason as u64 + 1, Ordering::SeqCst);
        }
        self.notify.notify_waiters();
    }

    /// Stops starting traces and cancels those in flight at once (no drain): what a failed
    /// threshold under `--abort-on-fail` asks for. Cancelled traces still end their agent spans.
    pub fn stop_now(&self, reason: StopReason) {
        if !self.stop.swap(true, Ordering::SeqCst) {
            self.reason.store(reason as u64 + 1, Ordering::SeqCst);
        }
        self.hard.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Returns once the run is asked to stop starting traces.
    pub async fn stopped(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }

    /// Returns once the drain is to end at once (a second stop, or [`StopSignal::stop_now`]).
    pub async fn stopped_hard(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_hard() {
                return;
            }
            notified.await;
        }
    }

    /// Whether the drain is to end at once (a second stop, or [`StopSignal::stop_now`]).
    pub fn is_hard(&self) -> bool {
        self.hard.load(Ordering::SeqCst)
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Why the run was stopped, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        match self.reason.load(Ordering::SeqCst) {
            1 => Some(StopReason::Interrupted),
            2 => Some(StopReason::Aborted),
            _ => None,
        }
    }
}

/// What the scheduler did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub started: u64,
    /// Intended starts that never happened.
    pub missed: u64,
    /// Traces (closed model: workers) still running when the drain timed out; they were
    /// cancelled.
    pub unfinished: u64,
    pub stopped: Option<StopReason>,
}

/// Waits with tokio timers, for [`Clock::Real`]; then, while the span sink is over its memory
/// bound, for room (see [`SpanSink::hold`]), measuring the wait.
struct HoldingSleeper {
    sink: Arc<dyn SpanSink>,
    metrics: Arc<Metrics>,
}

impl Sleeper for HoldingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let (sink, metrics) = (Arc::clone(&self.sink), Arc::clone(&self.metrics));
        Box::pin(async move {
            tokio::time::sleep(duration).await;
            if let Some(hold) = sink.hold() {
                // Counted also when the run cancels the trace during the wait.
                let _held = Held { began: tokio::time::Instant::now(), metrics };
                hold.await;
            }
        })
    }
}

/// Records a wait for room when it ends (or is dropped with its trace).
struct Held {
    began: tokio::time::Instant,
    metrics: Arc<Metrics>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.metrics.trace_held(self.began.elapsed());
    }
}

/// State shared by every trace task.
struct Shared {
    mix: Mix,
    seed: u64,
    /// Random per process, so trace ids are fresh on every run even with a fixed seed.
    id_base: u64,
    clock: ClockKind,
    latency_scale: LatencyScale,
    sink: Arc<dyn SpanSink>,
    emitter: Arc<Emitter>,
    metrics: Arc<Metrics>,
    in_flight: Arc<InFlight>,
    /// Set when the drain time is over: traces still running are cancelled.
    cancel: tokio::sync::watch::Sender<bool>,
    /// Conversations of session scenarios between their turns.
    sessions: sessions::Sessions,
}

/// Counts what one trace emits on its way to the real sink.
struct CountingSink<'a> {
    inner: &'a dyn SpanSink,
    metrics: &'a Metrics,
    payload_bytes: AtomicU64,
    spans: AtomicU64,
}

impl SpanSink for CountingSink<'_> {
    fn emit(&self, span: SpanRecord) {
        let bytes = span.name.len()
            + span.attributes.iter().map(|a| a.key.len() + a.value.byte_len()).sum::<usize>();
        self.payload_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.spans.fetch_add(1, Ordering::Relaxed);
        self.metrics.span_created();
        self.inner.emit(span);
    }
}

impl Shared {
    fn trace_id(&self, sequence: u64) -> TraceId {
        let high = splitmix64(self.id_base ^ sequence);
        let low = splitmix64(high ^ self.id_base.rotate_left(17) ^ sequence);
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&high.to_be_bytes());
        id[8..].copy_from_slice(&low.to_be_bytes());
        if id == [0; 16] {
            id[15] = 1;
        }
        id
    }

    /// Runs trace `sequence`, intended to start at `intended`, unless the run cancels it first:
    /// then its future is dropped, which ends and emits every agent span it had started (see
    /// [`crate::exec::AgentSpan`]), and it stays counted as unfinished. `false` when the trace
    /// could not start because the export queue had no room for all of it.
    async fn run_trace(&self, sequence: u64, intended: Instant) -> bool {
        let mut cancel = self.cancel.subscribe();
        tokio::select! {
            biased;
            admitted = self.trace(sequence, intended) => admitted,
            _ = cancel.wait_for(|cancelled| *cancelled) => true,
        }
    }

    async fn trace(&self, sequence: u64, intended: Instant) -> bool {
        let content_seed = mix(self.seed, sequence);
        let index = self.mix.pick_seeded(content_seed);
        let scenario = self.mix.scenario(index);
        let trace_id = self.trace_id(sequence);
        // A session scenario's trace is the next turn of one of its conversations.
        let session = scenario.meta().session;
        let conversation = session.map(|session| {
            let id_seed =
                splitmix64(u64::from_be_bytes(trace_id[..8].try_into().unwrap_or([0; 8])));
            self.sessions.next(index, &session, content_seed, id_seed, Instant::now())
        });
        let content_seed = conversation.as_ref().map_or(content_seed, |c| c.content_seed());
        // Whole traces or none: room for the trace's largest span count, or no start.
        let reserved = scenario.meta().shape.spans.max;
        if !self.sink.reserve(reserved) {
            if let (Some(session), Some(conversation)) = (session, conversation) {
                let end = sessions::TurnEnd::NotStarted;
                self.sessions.turn_over(index, &session, conversation, None, end);
            }
            return false;
        }
        if conversation.as_ref().is_some_and(|c| c.is_new()) {
            self.metrics.conversation_started();
        }
        let lag = intended.elapsed();
        self.metrics.trace_started(index, lag);
        let counting = CountingSink {
            inner: &*self.sink,
            metrics: &self.metrics,
            payload_bytes: AtomicU64::new(0),
            spans: AtomicU64::new(0),
        };
        // Gives back the room the trace did not use, also when it is cancelled.
        let _release = Release { sink: &*self.sink, reserved, emitted: &counting.spans };
        let sleeper =
            HoldingSleeper { sink: Arc::clone(&self.sink), metrics: Arc::clone(&self.metrics) };
        let clock = match self.clock {
            ClockKind::Real => Clock::Real(&sleeper),
            ClockKind::Synthetic => Clock::Synthetic,
        };
        let settings = RunSettings {
            sink: &counting,
            clock,
            latency_scale: self.latency_scale,
            emitter: &self.emitter,
        };
        let mut run = TraceRun::new(settings, trace_id, content_seed);
        if let Some(conversation) = &conversation {
            run = run
                .in_conversation(conversation.id_seed)
                .with_history(conversation.history.clone())
                .about(conversation.facts_seed());
        }
        let start = unix_nanos_now();
        let done = scenario.run(&run, start).await;
        // Real clock: the wall time since the intended start. Synthetic: the simulated duration
        // plus however late the trace started.
        let latency = match self.clock {
            ClockKind::Real => intended.elapsed(),
            ClockKind::Synthetic => lag + Duration::from_nanos(done.end.saturating_sub(start)),
        };
        self.metrics.trace_finished(
            index,
            latency,
            done.failed,
            run.spans_emitted(),
            counting.payload_bytes.load(Ordering::Relaxed),
        );
        self.metrics.trace_emitted(trace_id, run.spans_emitted());
        if let (Some(session), Some(conversation)) = (session, conversation) {
            // The turn's end: now, or the end of its simulated time.
            let at = match self.clock {
                ClockKind::Real => Instant::now(),
                ClockKind::Synthetic => intended + latency,
            };
            let end = sessions::TurnEnd::Ended { at };
            if self.sessions.turn_over(index, &session, conversation, run.take_turn(), end) {
                self.metrics.conversation_finished();
            }
        }
        true
    }
}

/// Releases a trace's unused queue reservation when dropped.
struct Release<'a> {
    sink: &'a dyn SpanSink,
    reserved: u64,
    emitted: &'a AtomicU64,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let emitted = self.emitted.load(Ordering::Relaxed);
        self.sink.release(self.reserved.saturating_sub(emitted));
    }
}

/// Counts the tasks still holding [`Shared`] (trace tasks, or closed-model workers) so the drain
/// knows when they are done. Kept apart from `Shared`, and decremented only after a task has
/// dropped its `Shared`: when the count reaches zero nothing holds the span sink any more, and
/// the caller may shut its exporter down (the SDK pipeline needs sole ownership for that).
#[derive(Debug, Default)]
struct InFlight {
    count: AtomicU64,
    idle: Notify,
}

impl InFlight {
    fn begin(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    fn end(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

/// A fresh random 64-bit value from the OS-seeded hasher keys of the standard library.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(unix_nanos_now());
    hasher.finish()
}

/// Runs `workload` to its end (or until `stop`), sending spans to `sink`.
///
/// Must be called inside a tokio runtime with the time driver enabled.
pub async fn run(
    workload: Workload,
    sink: Arc<dyn SpanSink>,
    emitter: Arc<Emitter>,
    metrics: Arc<Metrics>,
    stop: Arc<StopSignal>,
) -> Outcome {
    let shared = Arc::new(Shared {
        mix: workload.mix.clone(),
        seed: workload.seed,
        id_base: random_u64(),
        clock: workload.clock,
        latency_scale: workload.latency_scale,
        sink,
        emitter,
        metrics: Arc::clone(&metrics),
        in_flight: Arc::default(),
        cancel: tokio::sync::watch::Sender::new(false),
        sessions: sessions::Sessions::default(),
    });
    // Content pools are built lazily; build them before the clock starts.
    crate::content::prepare();
    metrics.mark_start();
    let (started, missed) = match &workload.load {
        Load::Open { plan, max_in_flight } => {
            open_loop(&workload, plan, *max_in_flight, &shared, &stop).await
        }
        Load::Closed { workers, ramp_up, max_pending_spans } => {
            let closed = Closed {
                workers: *workers,
                ramp_up: *ramp_up,
                max_pending_spans: *max_pending_spans,
            };
            (closed_loop(&workload, closed, &shared, &stop).await, 0)
        }
    };
    metrics.missed(missed);
    metrics.mark_starts_ended();
    let unfinished = drain(&shared, workload.drain_timeout, &stop).await;
    metrics.mark_end();
    Outcome { started, missed, unfinished, stopped: stop.reason() }
}

/// The 1 ms dispatcher. Returns (started, missed).
async fn open_loop(
    workload: &Workload,
    plan: &RatePlan,
    max_in_flight: Option<usize>,
    shared: &Arc<Shared>,
    stop: &StopSignal,
) -> (u64, u64) {
    let limit = |t: Duration| {
        let mut due = plan.due(t);
        if let Some(duration) = workload.duration {
            due = due.min(plan.total(duration));
        }
        if let Some(count) = workload.count {
            due = due.min(count);
        }
        due
    };
    let slots = max_in_flight.map(|n| Arc::new(Semaphore::new(n.max(1))));
    let t0 = Instant::now();
    let mut next = 0u64;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        if stop.is_stopped() {
            break;
        }
        let now = t0.elapsed();
        let due = limit(now);
        while next < due {
            let permit = match &slots {
                Some(slots) => match Arc::clone(slots).try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => break, // cap full: these starts wait, and their lag grows
                },
                None => None,
            };
            let intended = t0 + plan.time_of(next).unwrap_or(now);
            let task = Arc::clone(shared);
            let tracker = Arc::clone(&shared.in_flight);
            tracker.begin();
            let sequence = next;
            tokio::spawn(async move {
                if !task.run_trace(sequence, intended).await {
                    task.metrics.start_dropped();
                }
                drop(permit);
                drop(task);
                tracker.end();
            });
            next += 1;
        }
        let finished_count = workload.count.is_some_and(|count| next >= count);
        let finished_time = workload.duration.is_some_and(|d| now >= d);
        if finished_count || finished_time || (plan.time_of(next).is_none() && next >= due) {
            break;
        }
    }
    // Everything intended before the end (or the stop) that did not start.
    let end = workload.duration.map_or(t0.elapsed(), |d| d.min(t0.elapsed()));
    let missed = limit(end).saturating_sub(next);
    (next, missed)
}

/// The closed model's settings.
#[derive(Clone, Copy)]
struct Closed {
    workers: usize,
    ramp_up: Duration,
    max_pending_spans: Option<u64>,
}

/// N looping workers. Returns the number of traces started.
async fn closed_loop(
    workload: &Workload,
    Closed { workers, ramp_up, max_pending_spans }: Closed,
    shared: &Arc<Shared>,
    stop: &Arc<StopSignal>,
) -> u64 {
    let sequence = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let deadline = workload.duration.map(|d| t0 + d);
    let workers = workers.max(1);
    let mut handles = Vec::with_capacity(workers);
    for worker in 0..workers {
        let delay = ramp_up.mul_f64(worker as f64 / workers as f64);
        let (shared, stop, sequence) =
            (Arc::clone(shared), Arc::clone(stop), Arc::clone(&sequence));
        let count = workload.count;
        let tracker = Arc::clone(&shared.in_flight);
        tracker.begin();
        handles.push(tokio::spawn(async move {
            // The ramp-up wait, cut short by a stop.
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = stop.stopped() => {}
            }
            loop {
                if stop.is_stopped() || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                // Backpressure: wait while the exporter is behind, woken as it settles spans.
                if let Some(limit) = max_pending_spans
                    && shared.metrics.spans_pending() > limit
                {
                    let until =
                        deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
                    tokio::select! {
                        () = shared.metrics.wait_pending_at_most(limit) => {}
                        () = stop.stopped() => {}
                        () = tokio::time::sleep_until(until) => {}
                    }
                    continue;
                }
                let n = sequence.fetch_add(1, Ordering::SeqCst);
                if count.is_some_and(|c| n >= c) {
                    break;
                }
                // No room for a whole trace: wait for the exporter, as for backpressure.
                while !shared.run_trace(n, Instant::now()).await {
                    if stop.is_stopped() {
                        break;
                    }
                    let _ = tokio::time::timeout(
                        Duration::from_millis(5),
                        shared.metrics.wait_pending_at_most(0),
                    )
                    .await;
                }
                // A synthetic trace never waits; let the runtime breathe between them.
                tokio::task::yield_now().await;
            }
            drop(shared);
            tracker.end();
        }));
    }
    // Workers end once the count is reached, or at the deadline or a stop (after their
    // current trace, which the drain then waits for, bounded by its timeout).
    let all = futures_util::future::join_all(handles);
    let time_up = async {
        match deadline {
            Some(deadline) => tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = stop.stopped() => {}
            },
            None => stop.stopped().await,
        }
    };
    tokio::select! {
        _ = all => {}
        () = time_up => {}
    }
    let issued = sequence.load(Ordering::SeqCst);
    workload.count.map_or(issued, |c| issued.min(c)).min(issued)
}

/// How long cancelled traces get to emit the spans they had started.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// Waits for in-flight traces; at the timeout (or a second stop) cancels the ones still running
/// and returns how many that was.
async fn drain(shared: &Shared, timeout: Duration, stop: &StopSignal) -> u64 {
    // Woken when the last trace ends, at the deadline, or (while draining) by a second stop.
    let wait = |deadline: Instant, watch_stop: bool| async move {
        let idle = async {
            loop {
                let idle = shared.in_flight.idle.notified();
                if shared.in_flight.count.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        };
        let hard = async {
            if watch_stop {
                stop.stopped_hard().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = idle => {}
            () = tokio::time::sleep_until(deadline) => {}
            () = hard => {}
        }
        shared.in_flight.count.load(Ordering::SeqCst)
    };
    let unfinished = wait(Instant::now() + timeout, true).await;
    if unfinished > 0 {
        shared.cancel.send_replace(true);
        wait(Instant::now() + CANCEL_GRACE, false).await;
    }
    unfinished
}

#[cfg(test)]
mod tests;
