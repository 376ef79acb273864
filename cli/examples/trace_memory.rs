//! Memory held per trace in flight with the real clock, counted by the allocator.
//!
//! Traces of one scenario (or the reference mix) start at a steady rate on a simulated clock:
//! a single-threaded event loop where every step's latency is a timer that fires in simulated
//! time, so traces sleep between their steps exactly as with the real clock while no time
//! really passes. Spans go to a sink that drops them (the export queue is bounded on its own
//! and is not per trace). Over a window of steady state the loop averages, weighted by
//! simulated time, the bytes live on this thread (allocated minus freed, as counted by
//! `scenario_runtime::alloc::Counting`) and the traces in flight, and prints their ratio: the bytes one trace
//! in flight holds, everything it allocated included (its futures, conversations, ids).
//!
//! ```text
//! cargo run --release -p scaletest --example trace_memory -- [SCENARIO|mix] [TRACES/S] [SECONDS]
//! ```
//!
//! Defaults: `multi_service_complex`, 20 traces/s, 120 simulated seconds (the first half warms
//! up, the second is measured).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use scenario_runtime::engine::schedule::Mix;
use scenario_runtime::exec::{Clock, RunSettings, Sleeper, TraceRun, unix_nanos_now};
use scenario_runtime::span::{SpanRecord, SpanSink};
use scenario_runtime::{AnyScenario, Emitter};

#[global_allocator]
static GLOBAL: scenario_runtime::alloc::Counting<std::alloc::System> =
    scenario_runtime::alloc::Counting(std::alloc::System);

/// Timers of the simulated clock: (deadline in simulated nanoseconds, sequence, waker).
#[derive(Default)]
struct Timers {
    now: u64,
    sequence: u64,
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    wakers: std::collections::HashMap<u64, Waker>,
}

#[derive(Clone, Default)]
struct SimClock(Arc<Mutex<Timers>>);

struct SimSleep {
    clock: SimClock,
    deadline: u64,
    registered: bool,
}

impl Future for SimSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut timers = self.clock.0.lock().unwrap_or_else(|p| p.into_inner());
        if timers.now >= self.deadline {
            return Poll::Ready(());
        }
        if !self.registered {
            let sequence = timers.sequence;
            timers.sequence += 1;
            timers.wakers.insert(sequence, cx.waker().clone());
            let deadline = self.deadline;
            timers.heap.push(Reverse((deadline, sequence)));
            drop(timers);
            self.registered = true;
        }
        Poll::Pending
    }
}

impl Sleeper for SimClock {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let now = self.0.lock().unwrap_or_else(|p| p.into_inner()).now;
        Box::pin(SimSleep {
            clock: self.clone(),
            deadline: now + duration.as_nanos() as u64,
            registered: false,
        })
    }
}

/// Drops every span (counting them).
#[derive(Default)]
struct NullSink(std::sync::atomic::AtomicU64);

impl SpanSink for NullSink {
    fn emit(&self, span: SpanRecord) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        drop(span);
    }
}

/// Marks a trace ready to be polled.
struct TraceWaker {
    index: usize,
    ready: Arc<Mutex<Vec<usize>>>,
}

impl Wake for TraceWaker {
    fn wake(self: Arc<Self>) {
        self.ready.lock().unwrap_or_else(|p| p.into_inner()).push(self.index);
    }
}

fn live_bytes() -> u64 {
    scenario_runtime::alloc::thread_allocated()
        .saturating_sub(scenario_runtime::alloc::thread_freed())
}

type TraceFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("multi_service_complex", String::as_str);
    let rate: f64 = args.get(1).map_or(20.0, |s| s.parse().unwrap_or(20.0));
    let seconds: f64 = args.get(2).map_or(120.0, |s| s.parse().unwrap_or(120.0));
    let pick: Box<dyn Fn(u64) -> &'static dyn AnyScenario> = if name == "mix" {
        let weighted: Vec<(&'static dyn AnyScenario, f64)> = scenarios::DEFAULT_MIX
            .iter()
            .filter_map(|(name, weight)| scenarios::find(name).map(|s| (s, *weight)))
            .collect();
        let mix = Mix::new(&weighted).unwrap_or_else(|| panic!("empty mix"));
        Box::new(move |seed| mix.scenario(mix.pick_seeded(seed)))
    } else {
        let scenario = scenarios::find(name).unwrap_or_else(|| {
            eprintln!("error: no scenario named {name:?}; expected a built-in name or `mix`");
            std::process::exit(2)
        });
        Box::new(move |_| scenario)
    };

    let emitter: &'static Emitter = Box::leak(Box::new(Emitter::default()));
    let sink: &'static NullSink = Box::leak(Box::default());
    let clock = SimClock::default();
    let sleeper: &'static SimClock = Box::leak(Box::new(clock.clone()));
    let settings = RunSettings {
        sink,
        clock: Clock::Real(sleeper),
        latency_scale: Default::default(),
        emitter,
    };

    // Build the content pools (once per process, on first use) before the baseline.
    for scenario in scenarios::all() {
        for seed in 0..4 {
            scenario_runtime::record_trace(*scenario, emitter, seed);
        }
    }
    // The size of one trace's step future, allocated when it is first polled.
    let sample_run = TraceRun::new(settings, [1; 16], 1);
    let sample = pick(1).run(&sample_run, unix_nanos_now());
    let future_bytes = std::mem::size_of_val(&*sample);
    drop(sample);
    drop(sample_run);

    let ready: Arc<Mutex<Vec<usize>>> = Arc::default();
    let mut traces: Vec<Option<(TraceFuture, Waker)>> = Vec::new();
    let period = (1e9 / rate) as u64;
    let end = (seconds * 1e9) as u64;
    let warm = end / 2;
    let (mut started, mut finished, mut in_flight) = (0u64, 0u64, 0u64);
    let (mut byte_time, mut trace_time, mut window) = (0f64, 0f64, 0f64);
    let mut peak_in_flight = 0;
    let baseline = live_bytes();
    let wall = Instant::now();
    let mut now = 0u64;
    loop {
        // Start the traces due.
        while started * period <= now && started * period < end {
            let seed = started;
            let trace_id = {
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&(seed + 1).to_be_bytes());
                id[8..].copy_from_slice(&(!seed).to_be_bytes());
                id
            };
            let scenario = pick(seed);
            let future: TraceFuture = Box::pin(async move {
                let run = TraceRun::new(settings, trace_id, seed);
                scenario.run(&run, unix_nanos_now()).await;
            });
            let index = traces.len();
            let waker = Waker::from(Arc::new(TraceWaker { index, ready: ready.clone() }));
            traces.push(Some((future, waker)));
            ready.lock().unwrap_or_else(|p| p.into_inner()).push(index);
            started += 1;
            in_flight += 1;
        }
        // Poll what is ready.
        loop {
            let batch: Vec<usize> =
                std::mem::take(&mut *ready.lock().unwrap_or_else(|p| p.into_inner()));
            if batch.is_empty() {
                break;
            }
            for index in batch {
                let Some((future, waker)) = traces[index].as_mut() else { continue };
                let mut cx = Context::from_waker(waker);
                if future.as_mut().poll(&mut cx).is_ready() {
                    traces[index] = None;
                    finished += 1;
                    in_flight -= 1;
                }
            }
        }
        peak_in_flight = peak_in_flight.max(in_flight);
        // Advance to the next event: a timer or a start.
        let next_start = if started * period < end { started * period } else { u64::MAX };
        {
            let mut timers = clock.0.lock().unwrap_or_else(|p| p.into_inner());
            let next_timer = timers.heap.peek().map_or(u64::MAX, |Reverse((at, _))| *at);
            let next = next_start.min(next_timer);
            if next == u64::MAX {
                break;
            }
            let step = next.max(now);
            if now >= warm && now < end {
                let span = (step.min(end) - now) as f64;
                let live = live_bytes().saturating_sub(baseline) as f64;
                byte_time += live * span;
                trace_time += in_flight as f64 * span;
                window += span;
            }
            now = step;
            timers.now = now;
            while let Some(Reverse((at, sequence))) = timers.heap.peek().copied() {
                if at > now {
                    break;
                }
                timers.heap.pop();
                if let Some(waker) = timers.wakers.remove(&sequence) {
                    waker.wake();
                }
            }
        }
    }
    let mean_live = byte_time / window.max(1.0);
    let mean_in_flight = trace_time / window.max(1.0);
    println!(
        "{name}: {started} traces at {rate} traces/s over {seconds} simulated s ({finished} \
         finished, {} spans dropped by the null sink; {:.1} s)",
        sink.0.load(std::sync::atomic::Ordering::Relaxed),
        wall.elapsed().as_secs_f64()
    );
    println!(
        "  steady state (second half): {mean_in_flight:.0} traces in flight on average (at most \
         {peak_in_flight}), {:.1} MB live beyond the baseline",
        mean_live / 1e6
    );
    println!(
        "  {:.1} KB per trace in flight (the step future alone: {:.1} KB)",
        mean_live / mean_in_flight.max(1.0) / 1e3,
        future_bytes as f64 / 1e3
    );
    println!("  after every trace ended: {} bytes live beyond the baseline", {
        drop(traces);
        live_bytes().saturating_sub(baseline)
    });
}
