//! Scheduler tests on a hand-built two-span scenario (an `llm` step under the root).
//!
//! They run on tokio's paused clock: time advances only when every task waits, so rates,
//! timeouts and ramps give exact counts whatever the machine's load.

use super::*;
use std::collections::HashMap;

use crate::Recorder;
use crate::latency::Latency;
use crate::scenario::{Meta, Scenario};
use crate::shape::{Range, Shape};
use crate::step::Llm;

fn scenario(name: &'static str, latency_ms: u64, fail: f64) -> &'static dyn AnyScenario {
    let shape = Shape {
        spans: Range::exact(2),
        depth: 2,
        payload_bytes: Range::exact(0),
        llm_calls: Range::exact(1),
        tool_calls: Range::exact(0),
        tokens: Range::exact(0),
    };
    Box::leak(Box::new(Scenario {
        meta: Meta {
            name,
            description: "test",
            agent: "assistant",
            model: "gpt-4o",
            provider: "openai",
            workflow: None,
            session: None,
            shape,
        },
        tree: Llm {
            id: 0,
            name: "answer",
            input_tokens: 10,
            output_tokens: 10,
            latency: Latency::fixed_micros(latency_ms * 1000),
            model: "gpt-4o",
            provider: "openai",
            fail,
            tool_calls: &[],
        },
    }))
}

struct Setup {
    recorder: Arc<Recorder>,
    metrics: Arc<Metrics>,
    stop: Arc<StopSignal>,
}

fn setup(mix: &Mix) -> Setup {
    Setup {
        recorder: Arc::new(Recorder::new()),
        metrics: Arc::new(Metrics::new(&mix.weights())),
        stop: Arc::new(StopSignal::default()),
    }
}

async fn go(workload: Workload, s: &Setup) -> Outcome {
    run(
        workload,
        Arc::clone(&s.recorder) as Arc<dyn SpanSink>,
        Arc::new(Emitter::default()),
        Arc::clone(&s.metrics),
        Arc::clone(&s.stop),
    )
    .await
}

fn workload(load: Load, mix: Mix, clock: ClockKind) -> Workload {
    Workload {
        latency_scale: LatencyScale::ONE,
        load,
        duration: None,
        count: None,
        mix,
        seed: 7,
        clock,
        drain_timeout: Duration::from_secs(5),
    }
}

#[tokio::test(start_paused = true)]
async fn open_model_count_is_exact_and_books_balance() {
    let mix = Mix::new(&[(scenario("a", 5, 0.3), 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Open { plan: RatePlan::constant(2000.0), max_in_flight: None },
        mix,
        ClockKind::Synthetic,
    );
    w.count = Some(300);
    let outcome = go(w, &s).await;
    assert_eq!(outcome.started, 300);
    // Nothing holds the sink once the run is over: its owner can shut it down.
    assert_eq!(Arc::strong_count(&s.recorder), 1);
    assert_eq!(outcome.missed, 0);
    let m = s.metrics.snapshot();
    let a = &m.scenarios[0];
    assert_eq!(a.started, 300);
    assert_eq!(a.completed + a.failed, 300);
    assert!(a.failed > 30 && a.failed < 150, "{a:?}");
    assert_eq!(m.spans.created, 600);
    assert_eq!(s.recorder.take().len(), 600);
    // Synthetic latency is the simulated 5 ms plus the start lag (under one 1 ms tick).
    let p = m.scenario_latency.percentiles();
    assert!(p.p50_ms >= 5.0 && p.max_ms <= 6.0, "{p:?}");
    // 300 traces at 2,000/s: the last is due at 149.5 ms and starts on the 150 ms tick.
    assert!((m.window.start_window_s - 0.150).abs() < 1e-9, "{:?}", m.window);
}

#[tokio::test(start_paused = true)]
async fn open_model_rate_is_accurate_with_real_clock() {
    let mix = Mix::new(&[(scenario("a", 20, 0.0), 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Open { plan: RatePlan::constant(500.0), max_in_flight: None },
        mix,
        ClockKind::Real,
    );
    w.duration = Some(Duration::from_secs(1));
    let outcome = go(w, &s).await;
    // Exactly the arrivals intended in the second, all started on time.
    assert_eq!(outcome.started, 500);
    assert_eq!(outcome.missed, 0);
    let m = s.metrics.snapshot();
    assert_eq!(m.scenarios[0].completed, 500);
    assert_eq!(m.late, 0);
    // 20 ms of waiting plus a start lag under one tick.
    let p = m.scenario_latency.percentiles();
    assert!(p.p50_ms >= 20.0 && p.max_ms <= 21.0, "{p:?}");
}

#[tokio::test(start_paused = true)]
async fn a_full_cap_makes_starts_late_not_skipped() {
    let mix = Mix::new(&[(scenario("a", 100, 0.0), 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Open { plan: RatePlan::constant(100.0), max_in_flight: Some(2) },
        mix,
        ClockKind::Real,
    );
    w.duration = Some(Duration::from_millis(500));
    let outcome = go(w, &s).await;
    // Two slots of 100 ms each: starts at 0, 10, 100, 110, ..., 400, 410 ms, so 10 of the 50
    // intended fit in 500 ms; the other 40 are missed, never skipped silently.
    assert_eq!(outcome.started, 10, "{outcome:?}");
    assert_eq!(outcome.missed, 40);
    let m = s.metrics.snapshot();
    // All but the first two waited for a slot, 80 ms or more.
    assert_eq!(m.late, 8);
    assert_eq!(m.missed, 40);
}

#[tokio::test(start_paused = true)]
async fn closed_model_runs_workers_until_count() {
    let mix = Mix::new(&[(scenario("a", 2, 0.0), 1.0), (scenario("b", 2, 0.0), 3.0)])
        .unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Closed { workers: 4, ramp_up: Duration::ZERO, max_pending_spans: None },
        mix,
        ClockKind::Real,
    );
    w.count = Some(200);
    let outcome = go(w, &s).await;
    assert_eq!(outcome.started, 200);
    assert_eq!(Arc::strong_count(&s.recorder), 1);
    let m = s.metrics.snapshot();
    assert_eq!(m.scenarios.iter().map(|s| s.completed).sum::<u64>(), 200);
    let (a, b) = (m.scenarios[0].started, m.scenarios[1].started);
    assert_eq!(a + b, 200);
    assert!(a > 25 && a < 80, "a={a} b={b}");
}

#[tokio::test(start_paused = true)]
async fn stop_ends_the_run_early() {
    let mix = Mix::new(&[(scenario("a", 1, 0.0), 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let w = workload(
        Load::Open { plan: RatePlan::constant(100.0), max_in_flight: None },
        mix,
        ClockKind::Real,
    );
    let stop = Arc::clone(&s.stop);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.stop(StopReason::Interrupted);
    });
    let outcome = tokio::time::timeout(Duration::from_secs(5), go(w, &s)).await;
    let outcome = outcome.unwrap_or_else(|_| unreachable!("stop did not end the run"));
    assert_eq!(outcome.stopped, Some(StopReason::Interrupted));
    // Intended at 0, 10, ..., 300 ms: the dispatcher's 300 ms tick comes before the stop of
    // that same instant, so 31 starts and none after.
    assert_eq!(outcome.started, 31, "{outcome:?}");
}

#[test]
fn mix_picks_by_weight() {
    let mix = Mix::new(&[(scenario("a", 1, 0.0), 1.0), (scenario("b", 1, 0.0), 3.0)])
        .unwrap_or_else(|| unreachable!());
    assert_eq!(mix.pick(0.0), 0);
    assert_eq!(mix.pick(0.249), 0);
    assert_eq!(mix.pick(0.25), 1);
    assert_eq!(mix.pick(0.999_999), 1);
    assert!(Mix::new(&[(scenario("a", 1, 0.0), 0.0)]).is_none());
    let w = mix.weights();
    assert!((w[1].1 - 0.75).abs() < 1e-12);
}

#[tokio::test(start_paused = true)]
async fn traces_still_running_at_the_drain_timeout_are_cancelled_whole() {
    // A delegate under the root: cancelling mid-trace must still emit the root and the
    // delegate's agent span, so no span sent is an orphan.
    let shape = Shape {
        spans: Range::exact(3),
        depth: 3,
        payload_bytes: Range::exact(0),
        llm_calls: Range::exact(1),
        tool_calls: Range::exact(0),
        tokens: Range::exact(0),
    };
    let slow: &'static dyn AnyScenario = Box::leak(Box::new(Scenario {
        meta: Meta {
            name: "slow",
            description: "test",
            agent: "assistant",
            model: "gpt-4o",
            provider: "openai",
            workflow: None,
            session: None,
            shape,
        },
        tree: crate::step::Delegate {
            id: 0,
            agent: "helper",
            body: Llm {
                id: 1,
                name: "think",
                input_tokens: 10,
                output_tokens: 10,
                latency: Latency::fixed_micros(30_000_000),
                model: "gpt-4o",
                provider: "openai",
                fail: 0.0,
                tool_calls: &[],
            },
        },
    }));
    let mix = Mix::new(&[(slow, 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Open { plan: RatePlan::constant(100.0), max_in_flight: None },
        mix,
        ClockKind::Real,
    );
    w.count = Some(3);
    w.drain_timeout = Duration::from_millis(300);
    let began = Instant::now();
    let outcome = go(w, &s).await;
    // The last start is at 20 ms; the drain gives up 300 ms later, not after the 30 s step.
    let took = began.elapsed();
    assert!(took >= Duration::from_millis(320) && took < Duration::from_millis(330), "{took:?}");
    assert_eq!(outcome.unfinished, 3);
    let spans = s.recorder.take();
    // The 30 s llm spans never ended; both agent spans of each trace did.
    assert_eq!(spans.len(), 6, "{spans:#?}");
    let ids: Vec<_> = spans.iter().map(|sp| sp.span_id).collect();
    for span in &spans {
        if let Some(parent) = span.parent_span_id {
            assert!(ids.contains(&parent), "orphan {}", span.name);
        }
    }
    let m = s.metrics.snapshot();
    assert_eq!(m.traces_started() - m.traces_finished(), 3);
    assert_eq!(m.spans.created, 6);
}

#[tokio::test(start_paused = true)]
async fn closed_model_ramps_workers_up() {
    // 4 workers of 50 ms traces for 500 ms: 40 traces at full strength; ramped over 400 ms the
    // workers join at 0, 100, 200 and 300 ms, for about 10 + 8 + 6 + 4 = 28.
    let mix = Mix::new(&[(scenario("a", 50, 0.0), 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Closed { workers: 4, ramp_up: Duration::from_millis(400), max_pending_spans: None },
        mix,
        ClockKind::Real,
    );
    w.duration = Some(Duration::from_millis(500));
    let outcome = go(w, &s).await;
    assert_eq!(outcome.started, 28, "{outcome:?}");
}

#[tokio::test(start_paused = true)]
async fn closed_model_backpressure_waits_for_the_exporter() {
    // Nothing reports spans exported, so pending spans only grow: with a limit of 10 the two
    // workers stop starting traces (2 spans each) once more than 10 spans are pending.
    let mix = Mix::new(&[(scenario("a", 1, 0.0), 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Closed { workers: 2, ramp_up: Duration::ZERO, max_pending_spans: Some(10) },
        mix,
        ClockKind::Synthetic,
    );
    w.duration = Some(Duration::from_millis(300));
    let outcome = go(w, &s).await;
    assert_eq!(outcome.started, 6, "{outcome:?}");
    assert_eq!(s.metrics.spans_pending(), 12);
}

/// A one-`llm` scenario whose runs are the turns of conversations of `turns` turns, `think_ms`
/// apart.
fn session_scenario(turns: (u32, u32), latency_ms: u64, think_ms: u64) -> &'static dyn AnyScenario {
    let shape = Shape {
        spans: Range::exact(2),
        depth: 2,
        payload_bytes: Range::exact(0),
        llm_calls: Range::exact(1),
        tool_calls: Range::exact(0),
        tokens: Range::exact(0),
    };
    Box::leak(Box::new(Scenario {
        meta: Meta {
            name: "chat",
            description: "test",
            agent: "assistant",
            model: "gpt-4o",
            provider: "openai",
            workflow: None,
            session: Some(crate::scenario::Session {
                min_turns: turns.0,
                max_turns: turns.1,
                think: Latency::fixed_micros(think_ms * 1000),
            }),
            shape,
        },
        tree: Llm {
            id: 0,
            name: "answer",
            input_tokens: 3000,
            output_tokens: 200,
            latency: Latency::fixed_micros(latency_ms * 1000),
            model: "gpt-4o",
            provider: "openai",
            fail: 0.0,
            tool_calls: &[],
        },
    }))
}

/// Records, for each span as it ends, its conversation, the (paused) time and, for chat spans,
/// how many messages its prompt had.
#[derive(Default)]
struct TurnLog {
    ends: std::sync::Mutex<Vec<(String, &'static str, Instant, usize)>>,
}

impl SpanSink for TurnLog {
    fn emit(&self, span: SpanRecord) {
        let conversation = match span.attribute(crate::genai::CONVERSATION_ID) {
            Some(crate::span::Value::Str(id)) => id.clone(),
            _ => String::new(),
        };
        let messages = match span.attribute(crate::genai::INPUT_MESSAGES) {
            Some(crate::span::Value::Str(json)) => json.matches(r#"{"role":"#).count(),
            _ => 0,
        };
        let kind = if span.parent_span_id.is_none() { "root" } else { "chat" };
        self.ends.lock().unwrap_or_else(|p| p.into_inner()).push((
            conversation,
            kind,
            Instant::now(),
            messages,
        ));
    }
}

#[tokio::test(start_paused = true)]
async fn turns_of_a_conversation_start_in_order_after_the_think_time_and_the_rate_counts_traces() {
    let mix =
        Mix::new(&[(session_scenario((3, 3), 20, 100), 1.0)]).unwrap_or_else(|| unreachable!());
    let metrics = Arc::new(Metrics::new(&mix.weights()));
    let log = Arc::new(TurnLog::default());
    let mut w = workload(
        Load::Open { plan: RatePlan::constant(100.0), max_in_flight: None },
        mix,
        ClockKind::Real,
    );
    w.duration = Some(Duration::from_secs(2));
    let outcome = run(
        w,
        Arc::clone(&log) as Arc<dyn SpanSink>,
        Arc::new(Emitter::default()),
        Arc::clone(&metrics),
        Arc::new(StopSignal::default()),
    )
    .await;
    // The rate counts traces, whichever conversation each one continues.
    assert_eq!(outcome.started, 200);
    let ends = log.ends.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut by_conversation: HashMap<String, Vec<(&str, Instant, usize)>> = HashMap::new();
    for (conversation, kind, at, messages) in ends {
        by_conversation.entry(conversation).or_default().push((kind, at, messages));
    }
    let m = metrics.snapshot();
    assert_eq!(m.traces.conversations_started, by_conversation.len() as u64);
    let mut finished = 0;
    for (conversation, spans) in &by_conversation {
        let roots: Vec<Instant> =
            spans.iter().filter(|(kind, ..)| *kind == "root").map(|(_, at, _)| *at).collect();
        let prompts: Vec<usize> =
            spans.iter().filter(|(kind, ..)| *kind == "chat").map(|(.., n)| *n).collect();
        assert!(roots.len() <= 3, "{conversation}: {} turns", roots.len());
        finished += u64::from(roots.len() == 3);
        // Each turn starts at least the think time after the previous one ended, and runs 20 ms.
        for pair in roots.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(120), "{conversation}: {pair:?}");
        }
        // The history grows: turn k resends the k - 1 turns before it, then the user's message.
        let expected: Vec<usize> = (0..prompts.len()).map(|k| 2 * k + 1).collect();
        assert_eq!(prompts, expected, "{conversation}");
    }
    assert_eq!(m.traces.conversations_finished, finished);
    // 100 traces/s of 3-turn conversations 120 ms apart: most conversations finished.
    assert!(finished >= 50 && m.traces.conversations_started <= 90, "{m:?}");
}

/// A sink whose queue is "full" for its first `holds` questions: each of those waits 1 s.
struct SlowQueue {
    spans: AtomicU64,
    holds: AtomicU64,
}

impl SpanSink for SlowQueue {
    fn emit(&self, _span: SpanRecord) {
        self.spans.fetch_add(1, Ordering::Relaxed);
    }

    fn hold(&self) -> Option<crate::span::Hold> {
        let left =
            self.holds.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        left.is_ok()
            .then(|| Box::pin(tokio::time::sleep(Duration::from_secs(1))) as crate::span::Hold)
    }
}

#[tokio::test(start_paused = true)]
async fn running_traces_wait_when_the_sink_holds_them_and_the_waits_are_counted() {
    let mix = Mix::new(&[(scenario("held", 100, 0.0), 1.0)]).unwrap_or_else(|| unreachable!());
    let metrics = Arc::new(Metrics::new(&mix.weights()));
    let sink = Arc::new(SlowQueue { spans: AtomicU64::new(0), holds: AtomicU64::new(3) });
    let load = Load::Closed { workers: 1, ramp_up: Duration::ZERO, max_pending_spans: None };
    let mut w = workload(load, mix, ClockKind::Real);
    w.count = Some(5);
    let began = Instant::now();
    let outcome = run(
        w,
        Arc::clone(&sink) as Arc<dyn SpanSink>,
        Arc::new(Emitter::default()),
        Arc::clone(&metrics),
        Arc::new(StopSignal::default()),
    )
    .await;
    assert_eq!(outcome.started, 5);
    // Nothing dropped for the waits: every trace emitted both its spans.
    assert_eq!(sink.spans.load(Ordering::Relaxed), 10);
    let m = metrics.snapshot();
    assert_eq!(m.held, 3);
    assert!((m.held_s - 3.0).abs() < 1e-3, "{} s held", m.held_s);
    // One worker, five traces of 100 ms, three waits of 1 s: the waits made the run longer.
    assert!(began.elapsed() >= Duration::from_millis(3500), "{:?}", began.elapsed());
}
