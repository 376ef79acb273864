//! Scheduler tests on a hand-built two-span scenario (an `llm` step under the root).

use super::*;
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
        load,
        duration: None,
        count: None,
        mix,
        seed: 7,
        clock,
        drain_timeout: Duration::from_secs(5),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    let report = s.metrics.snapshot();
    assert_eq!(report.traces.started, 300);
    assert_eq!(report.traces.completed + report.traces.failed, 300);
    assert!(report.traces.failed > 30 && report.traces.failed < 150, "{:?}", report.traces);
    assert_eq!(report.spans.created, 600);
    assert_eq!(s.recorder.take().len(), 600);
    // Synthetic latency is the simulated 5 ms plus the start lag.
    assert!(report.scenario_latency.p50_ms >= 5.0, "{:?}", report.scenario_latency);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    // Exactly the arrivals intended before the end: 500, started or counted as missed.
    assert_eq!(outcome.started + outcome.missed, 500);
    assert!(outcome.started >= 490, "{outcome:?}");
    let report = s.metrics.snapshot();
    assert_eq!(report.traces.completed, outcome.started);
    assert!(report.scenario_latency.p50_ms >= 20.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    // Two slots of 100 ms each: about 10 traces fit in 500 ms out of 50 intended.
    assert_eq!(outcome.started + outcome.missed, 50);
    assert!(outcome.started <= 14, "{outcome:?}");
    let report = s.metrics.snapshot();
    assert!(report.traces.late >= outcome.started - 3, "{:?}", report.traces);
    assert_eq!(report.traces.missed, outcome.missed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    let report = s.metrics.snapshot();
    assert_eq!(report.traces.completed, 200);
    let (a, b) = (report.scenarios[0].started, report.scenarios[1].started);
    assert_eq!(a + b, 200);
    assert!(a > 25 && a < 80, "a={a} b={b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    assert!(outcome.started > 15 && outcome.started < 60, "{outcome:?}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    assert!(began.elapsed() < Duration::from_secs(5), "cancellation did not end the run");
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
    let report = s.metrics.snapshot();
    assert_eq!(report.traces.unfinished, 3);
    assert_eq!(report.spans.created, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    // Loose below (a loaded machine oversleeps), tight above (no ramp would give 40).
    assert!(outcome.started >= 14 && outcome.started <= 33, "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_backpressure_waits_for_the_exporter() {
    // Nothing reports spans exported, so pending spans only grow: with a limit of 10 the two
    // workers stop starting traces (2 spans each) once about 10 spans are pending.
    let mix = Mix::new(&[(scenario("a", 1, 0.0), 1.0)]).unwrap_or_else(|| unreachable!());
    let s = setup(&mix);
    let mut w = workload(
        Load::Closed { workers: 2, ramp_up: Duration::ZERO, max_pending_spans: Some(10) },
        mix,
        ClockKind::Synthetic,
    );
    w.duration = Some(Duration::from_millis(300));
    let outcome = go(w, &s).await;
    assert!(outcome.started >= 5 && outcome.started <= 8, "{outcome:?}");
    assert!(s.metrics.spans_pending() <= 16);
}
