//! The open-model read load: starts queries on a fixed schedule whatever the earlier ones are
//! doing, measures each into the run's aggregator, and at the end counts the unanswered ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{Id, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};

use super::{QueryApi, QueryContext, QueryOp, QueryPlan, QueryRequest, Rows, WINDOW, WINDOW_SLACK};
use crate::engine::measure::QueryMeasurements;
use crate::engine::metrics::Metrics;
use crate::engine::verify::ReadError;

fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What became of one query.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Answered { status: u16, bytes: u64, rows: Rows, body: bytes::Bytes, latency: Duration },
    Timeout,
    Transport,
}

/// Records a finished query into `m`.
fn record(m: &mut QueryMeasurements, outcome: Outcome) {
    match outcome {
        Outcome::Timeout => m.timeout += 1,
        Outcome::Transport => m.transport += 1,
        Outcome::Answered { status, bytes, rows, body, latency } => {
            m.latency.record(latency);
            m.bytes += bytes;
            if !(200..300).contains(&status) {
                *m.by_status.entry(status).or_default() += 1;
                return;
            }
            m.ok += 1;
            match count_rows(rows, &body) {
                Ok((0, _)) => m.empty += 1,
                Ok((n, count)) => {
                    m.rows += n;
                    if count.is_some() {
                        m.max_count = m.max_count.max(count);
                    }
                }
                Err(()) => m.decode_errors += 1,
            }
        }
    }
}

/// Rows in a 2xx answer, and the count a count answer carries; `Err` when the body is not the
/// JSON expected. A missing array counts as empty (protobuf JSON leaves empty lists out).
fn count_rows(rows: Rows, body: &[u8]) -> Result<(u64, Option<u64>), ()> {
    match rows {
        Rows::Lines => {
            let text = std::str::from_utf8(body).map_err(|_| ())?;
            let mut n = 0;
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                serde_json::from_str::<serde_json::Value>(line).map_err(|_| ())?;
                n += 1;
            }
            Ok((n, None))
        }
        Rows::Array(pointer) => {
            let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| ())?;
            match value.pointer(pointer) {
                None | Some(serde_json::Value::Null) => Ok((0, None)),
                Some(serde_json::Value::Array(items)) => Ok((items.len() as u64, None)),
                Some(_) => Err(()),
            }
        }
        Rows::Count(pointer) => {
            let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| ())?;
            match crate::engine::verify::http::as_count(value.pointer(pointer)) {
                Some(n) => Ok((1, Some(n))),
                None => Ok((0, None)),
            }
        }
    }
}

/// Sends one request and classifies its outcome.
async fn send(api: &dyn QueryApi, request: QueryRequest) -> Outcome {
    let began = Instant::now();
    match api.exchange(&request).await {
        Ok((status, body)) => Outcome::Answered {
            status,
            bytes: body.len() as u64,
            rows: request.rows,
            body,
            latency: began.elapsed(),
        },
        Err(ReadError::Timeout) => Outcome::Timeout,
        Err(_) => Outcome::Transport,
    }
}

/// The read load of a run, running on its own task.
#[derive(Debug)]
pub struct QueryLoad {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<(JoinSet<()>, HashMap<Id, QueryOp>)>,
    metrics: Arc<Metrics>,
    began: Instant,
}

impl QueryLoad {
    /// Starts `plan.rate_per_s` queries per second against `api`, in `plan.mix` order, until
    /// [`QueryLoad::finish`]. `began_unix_ms`: when the run began (the window never starts
    /// earlier than a minute before it). Operations the platform lacks are left out of the mix.
    pub fn start(
        api: Arc<dyn QueryApi>,
        plan: &QueryPlan,
        began_unix_ms: u64,
        metrics: Arc<Metrics>,
    ) -> QueryLoad {
        let cycle = plan.mix.cycle();
        metrics.queries_init(
            &QueryOp::ALL.into_iter().filter(|op| cycle.contains(op)).collect::<Vec<_>>(),
        );
        let (stop, stopped) = watch::channel(false);
        let period = Duration::from_secs_f64(1.0 / plan.rate_per_s.max(1e-3));
        let task = tokio::spawn(drive(
            api,
            cycle,
            period,
            plan.max_in_flight,
            began_unix_ms,
            Arc::clone(&metrics),
            stopped,
        ));
        QueryLoad { stop, task, metrics, began: Instant::now() }
    }

    /// Stops starting queries, waits up to `grace` for those in flight, and counts the rest as
    /// unanswered. Returns how long queries were started, seconds.
    pub async fn finish(self, grace: Duration) -> f64 {
        self.stop.send_replace(true);
        let starting = self.began.elapsed().as_secs_f64();
        let Ok((mut set, mut ops)) = self.task.await else { return starting };
        let deadline = Instant::now() + grace;
        loop {
            match tokio::time::timeout_at(deadline, set.join_next_with_id()).await {
                Ok(Some(Ok((id, ())))) => {
                    ops.remove(&id);
                }
                Ok(Some(Err(e))) => {
                    ops.remove(&e.id());
                }
                Ok(None) | Err(_) => break,
            }
        }
        set.abort_all();
        while set.join_next().await.is_some() {}
        for op in ops.into_values() {
            self.metrics.query_record(op, |m| m.unanswered += 1);
        }
        starting
    }
}

async fn drive(
    api: Arc<dyn QueryApi>,
    cycle: Vec<QueryOp>,
    period: Duration,
    max_in_flight: usize,
    began_unix_ms: u64,
    metrics: Arc<Metrics>,
    mut stopped: watch::Receiver<bool>,
) -> (JoinSet<()>, HashMap<Id, QueryOp>) {
    let mut set = JoinSet::new();
    let mut ops: HashMap<Id, QueryOp> = HashMap::new();
    if cycle.is_empty() {
        return (set, ops);
    }
    let mut ticks = tokio::time::interval(period);
    // Open model: a late tick is caught up, never skipped.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut next = 0usize;
    let mut picks = 0u64;
    loop {
        tokio::select! {
            biased;
            _ = stopped.wait_for(|s| *s) => break,
            _ = ticks.tick() => {}
        }
        while let Some(done) = set.try_join_next_with_id() {
            let id = match done {
                Ok((id, ())) => id,
                Err(e) => e.id(),
            };
            ops.remove(&id);
        }
        let op = cycle[next % cycle.len()];
        next += 1;
        if set.len() >= max_in_flight {
            metrics.query_record(op, |m| m.skipped_in_flight += 1);
            continue;
        }
        let now = unix_ms_now();
        let slack = WINDOW_SLACK.as_millis() as u64;
        let start_ms =
            began_unix_ms.saturating_sub(slack).max(now.saturating_sub(WINDOW.as_millis() as u64));
        let trace_id = if op == QueryOp::Get {
            picks += 1;
            match metrics.recent_delivered(picks) {
                Some(id) => Some(id),
                None => {
                    metrics.query_record(op, |m| m.skipped_no_trace += 1);
                    continue;
                }
            }
        } else {
            None
        };
        let cx = QueryContext { start_ms, end_ms: now + slack, trace_id };
        let Ok(request) = api.request(op, &cx) else {
            // Operations the platform lacks are out of the mix, so only a `get` without a
            // trace can land here.
            if op == QueryOp::Get {
                metrics.query_record(op, |m| m.skipped_no_trace += 1);
            }
            continue;
        };
        metrics.query_record(op, |m| m.started += 1);
        let api = Arc::clone(&api);
        let metrics = Arc::clone(&metrics);
        let handle = set.spawn(async move {
            let outcome = send(api.as_ref(), request).await;
            metrics.query_record(op, |m| record(m, outcome));
        });
        ops.insert(handle.id(), op);
    }
    (set, ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, rows: Rows, body: &str) -> Outcome {
        Outcome::Answered {
            status,
            bytes: body.len() as u64,
            rows,
            body: bytes::Bytes::from(body.to_owned()),
            latency: Duration::from_millis(12),
        }
    }

    #[test]
    fn answers_are_classified_once() {
        let mut m = QueryMeasurements::new("list");
        record(&mut m, answered(200, Rows::Array("/data"), r#"{"data":[1,2,3]}"#));
        record(&mut m, answered(200, Rows::Array("/data"), r#"{"data":[]}"#));
        record(&mut m, answered(200, Rows::Array("/traces"), r#"{}"#));
        record(&mut m, answered(200, Rows::Array("/data"), "<html>"));
        record(&mut m, answered(503, Rows::Array("/data"), "busy"));
        record(&mut m, answered(404, Rows::Array("/data"), "{}"));
        record(&mut m, Outcome::Timeout);
        record(&mut m, Outcome::Transport);
        assert_eq!((m.ok, m.rows, m.empty, m.decode_errors), (4, 3, 2, 1));
        assert_eq!((m.http_errors(4), m.http_errors(5), m.timeout, m.transport), (1, 1, 1, 1));
        // Timeouts and transport errors have no answer and so no latency.
        assert_eq!(m.latency.len(), 6);
        assert_eq!(m.bytes, (16 + 11 + 2 + 6 + 4 + 2) as u64);
    }

    #[test]
    fn counts_and_lines() {
        let mut m = QueryMeasurements::new("count");
        record(&mut m, answered(200, Rows::Count("/data/0/n"), r#"{"data":[{"n":"17"}]}"#));
        record(&mut m, answered(200, Rows::Count("/data/0/n"), r#"{"data":[{"n":5}]}"#));
        record(&mut m, answered(200, Rows::Count("/data/0/n"), r#"{"data":[]}"#));
        assert_eq!((m.rows, m.empty, m.max_count), (2, 1, Some(17)));
        let mut l = QueryMeasurements::new("list");
        record(&mut l, answered(200, Rows::Lines, "{\"id\":1}\n{\"id\":2}\n\n"));
        record(&mut l, answered(200, Rows::Lines, "{\"id\":1}\nnot json\n"));
        assert_eq!((l.rows, l.decode_errors), (2, 1));
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;
    use crate::engine::query::{QueryMix, QueryPlan};
    use crate::platform::PlatformId;

    /// Answers `list` after 100 ms, `count` never, and has no `get` trace ids to offer.
    #[derive(Debug)]
    struct Fake;

    #[async_trait::async_trait]
    impl QueryApi for Fake {
        fn platform(&self) -> PlatformId {
            PlatformId::Otlp
        }

        async fn exchange(&self, request: &QueryRequest) -> Result<(u16, bytes::Bytes), ReadError> {
            if request.path == "count" {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok((200, bytes::Bytes::from_static(br#"{"data":[1,2]}"#)))
        }

        fn request(&self, op: QueryOp, _cx: &QueryContext) -> Result<QueryRequest, &'static str> {
            Ok(QueryRequest::get(op.name().to_owned(), Rows::Array("/data")))
        }

        fn describe(&self, _op: QueryOp) -> Result<&'static str, &'static str> {
            Ok("fake")
        }
    }

    #[tokio::test(start_paused = true)]
    async fn starts_on_schedule_and_counts_the_unanswered() {
        let metrics = Arc::new(Metrics::new(&[("a", 1.0)]));
        let mut plan = QueryPlan::new(10.0);
        plan.mix = QueryMix::parse("list=3,get=1,count=1").unwrap();
        let load = QueryLoad::start(Arc::new(Fake), &plan, unix_ms_now(), Arc::clone(&metrics));
        // 10 s at 10/s: the first tick is immediate, so 101 starts by the end.
        tokio::time::sleep(Duration::from_millis(10_050)).await;
        let seconds = load.finish(Duration::from_secs(1)).await;
        assert!((seconds - 10.05).abs() < 1e-6, "{seconds}");
        let queries = metrics.snapshot().queries;
        let by = |op: &str| queries.iter().find(|q| q.op == op).cloned().unwrap();
        let (list, get, count) = (by("list"), by("get"), by("count"));
        assert_eq!(list.started + get.skipped_no_trace + count.started, 101);
        // Open model: 100 ms answers do not slow the starts, and every list was answered.
        assert_eq!((list.ok, list.rows, list.unanswered), (list.started, 2 * list.started, 0));
        // 100 ms on paused time, within the histogram's 3 significant digits.
        let p50 = list.latency.quantile_ms(0.5).unwrap_or(0.0);
        assert!((100.0..100.2).contains(&p50), "{p50}");
        // Never answered: counted as such at the end, with no latency.
        assert_eq!((count.ok, count.unanswered), (0, count.started));
        assert!(count.started >= 20 && count.latency.is_empty());
        // No trace delivered: every get was skipped, none sent.
        assert_eq!((get.started, get.skipped_no_trace > 0), (0, true));
    }
}
