//! The text rendering of a run's [`Report`]: what a person reads at the end of a run.
//!
//! Everything shown comes from the report data, so the text and `--json` never disagree.

use std::fmt::Write;

use scenario_runtime::engine::report::{Note, Percentiles, Report, RunStatus};
use scenario_runtime::engine::verify::Verification;

use crate::format::{decimal_bytes as bytes, ms, thousands, tokens};

fn percentiles(p: &Percentiles) -> String {
    if p.count == 0 {
        return "no samples".to_owned();
    }
    format!(
        "P50 {}  P95 {}  P99 {}  max {}",
        ms(p.p50_ms),
        ms(p.p95_ms),
        ms(p.p99_ms),
        ms(p.max_ms)
    )
}

/// Whether the bytes before compression were measured: not on the SDK path with compression,
/// where the SDK compresses its own request bodies.
fn raw_measured(r: &Report) -> bool {
    !(r.bytes.raw == 0 && r.bytes.wire > 0)
}

/// The final summary.
pub fn summary(r: &Report) -> String {
    let mut o = String::new();
    let status = match r.status {
        RunStatus::Completed => "completed",
        RunStatus::Interrupted => "interrupted (Ctrl-C): partial report",
        RunStatus::Aborted => "aborted: a threshold failed",
    };
    let _ = writeln!(o, "\nScale test results: {status}");
    let t = &r.traces;
    // A few starts a little late are timer jitter (the notes count them); missed or dropped
    // starts, or more than 1% late, mean the planned load was not offered.
    let behind = t.missed + t.dropped_starts > 0 || t.late * 100 > t.started.max(1);
    if behind {
        let _ = writeln!(
            o,
            "   WARNING: the planned load was not offered: {} late starts, {} missed, {} \
             dropped (no queue room for a whole trace); the generator or the export path \
             fell behind",
            thousands(t.late),
            thousands(t.missed),
            thousands(t.dropped_starts)
        );
    }
    let s = &r.spans;
    let pct = |part: u64, whole: u64| {
        if whole == 0 {
            "n/a".to_owned()
        } else {
            format!("{:.1}%", part as f64 / whole as f64 * 100.0)
        }
    };
    let _ = writeln!(
        o,
        "   Delivered: {} of {} traces started arrived whole ({}); {} of {} spans accepted ({})",
        thousands(t.delivered),
        thousands(t.started),
        pct(t.delivered, t.started),
        thousands(s.exported),
        thousands(s.created),
        pct(s.exported, s.created)
    );
    match &r.verification {
        None => {
            let _ = writeln!(o, "   Stored: not verified (--no-verify)");
        }
        Some(v) => {
            let unit_spans = v.countable.is_some_and(|c| c.spans);
            let (accepted, pick): (
                u64,
                fn(&scenario_runtime::engine::verify::Sample) -> Option<u64>,
            ) = if unit_spans {
                (v.spans_accepted, |s| s.spans)
            } else {
                (v.traces_accepted, |s| s.traces)
            };
            let unit = if unit_spans { "spans" } else { "traces" };
            let end = v.visible_at_end.as_ref().and_then(pick);
            let at_end_of_run = v.visible_at_run_end.as_ref().and_then(pick);
            let other_traffic =
                v.outcome == scenario_runtime::engine::verify::Outcome::OtherTraffic;
            match end {
                Some(_) if other_traffic => {
                    let _ = writeln!(
                        o,
                        "   Stored: not stated: the read-back counted more than this run accepted \
                         (other traffic in the project); see Storage below"
                    );
                }
                Some(end) => {
                    let lag = v.lag.as_ref().and_then(|l| l.p99_ms).map_or(String::new(), |ms| {
                        format!(
                            "; 99% visible within {:.1} s of acknowledgement",
                            ms as f64 / 1000.0
                        )
                    });
                    let _ = writeln!(
                        o,
                        "   Stored: {} of {} {unit} accepted were visible at the read-back's end ({} \
                         when the run ended){lag}",
                        thousands(end),
                        thousands(accepted),
                        at_end_of_run.map_or("not counted".to_owned(), thousands)
                    );
                }
                None => {
                    let why = v.reason.as_deref().unwrap_or("no count succeeded");
                    let _ = writeln!(o, "   Stored: not verified ({why})");
                }
            }
        }
    }
    let mut losses = Vec::new();
    for (n, what) in [
        (s.queue_full, "dropped: export queue full"),
        (s.rejected, "rejected by the backend"),
        (s.failed, "failed: no connection"),
        (s.unknown, "outcome unknown: sent, no answer"),
        (s.unfinished, "cut at shutdown: never sent"),
        (s.pending, "still pending"),
    ] {
        if n > 0 {
            losses.push(format!("{} {what}", thousands(n)));
        }
    }
    if !losses.is_empty() {
        let _ = writeln!(o, "   Spans not accepted: {}", losses.join("; "));
    }
    if t.lost + t.outcome_unknown + t.cut > 0 {
        let _ = writeln!(
            o,
            "   Traces not delivered: {} lost a span, {} with spans of unknown outcome, {} cut \
             before they ended",
            thousands(t.lost),
            thousands(t.outcome_unknown),
            thousands(t.cut)
        );
    }
    let c = &r.config;
    let scale = c.latency_scale.factor();
    let clock = if scale == 1.0 {
        format!("{} clock", c.clock)
    } else {
        format!("{} clock, latencies x{scale}", c.clock)
    };
    let _ = writeln!(
        o,
        "   Target: {} -> {} ({}, compression {}, {} exporter, {clock})",
        c.platform, c.endpoint, c.protocol, c.compression, c.exporter
    );
    let load = match (c.model.as_str(), c.target_rate_per_s, c.concurrency) {
        ("closed", _, Some(n)) => format!("closed model, {n} concurrent workers"),
        (_, Some(rate), _) => format!("open model, {rate} traces/s target"),
        _ => format!("open model, {} stages", c.stages.len()),
    };
    if let Some(project) = &c.project {
        let _ = writeln!(o, "   Project: {project}");
    }
    if let Some(experiment) = &c.experiment {
        let _ = writeln!(o, "   Experiment: {experiment}");
    }
    let cap = c.max_in_flight.map_or(String::new(), |n| format!(", at most {n} in flight"));
    let _ = writeln!(o, "   Load: {load}{cap}; seed {}", c.seed);
    let _ = writeln!(o, "   Duration: {:.1}s", r.duration_s);
    let _ = writeln!(
        o,
        "   Traces: {} started, {} completed, {} with an injected agent error, {} unfinished",
        thousands(t.started),
        thousands(t.completed),
        thousands(t.failed),
        thousands(t.unfinished)
    );
    if t.conversations_started > 0 {
        let _ = writeln!(
            o,
            "   Conversations: {} started, {} finished (every turn ran); the rest were between \
             turns when starts ended",
            thousands(t.conversations_started),
            thousands(t.conversations_finished)
        );
    }
    if t.started == 0 {
        let _ = writeln!(o, "   Success rate: n/a (no trace started)");
    } else {
        let _ =
            writeln!(o, "   Success rate: {:.1}% (traces delivered whole)", t.success_rate * 100.0);
    }
    let th = &r.throughput;
    let late = if t.started + t.missed == 0 {
        String::new()
    } else {
        format!(
            " ({:.1}% of starts late, {} missed)",
            t.late as f64 / (t.started + t.missed) as f64 * 100.0,
            thousands(t.missed)
        )
    };
    let raw = if raw_measured(r) {
        format!("{:.1} MB/s raw", th.raw_mb_per_s)
    } else {
        "raw not measured".to_owned()
    };
    // Below a second a per-second rate of starts says little: the count and the window do.
    let starts = if th.start_window_s >= 1.0 {
        format!(
            "started {:.1} traces/s over the {:.1} s start window",
            th.traces_per_s, th.start_window_s
        )
    } else {
        format!(
            "started {} trace{} in a {} start window",
            thousands(t.started),
            if t.started == 1 { "" } else { "s" },
            ms(th.start_window_s * 1000.0)
        )
    };
    let _ = writeln!(
        o,
        "   Throughput: {starts}{late}; {} spans/s created, {} accepted, and {:.1} MB/s on the \
         wire ({raw}) over the {:.1} s run",
        thousands(th.spans_per_s.round() as u64),
        thousands(th.accepted_spans_per_s.round() as u64),
        th.wire_mb_per_s,
        r.duration_s
    );

    let _ = writeln!(o, "\nScenario latency (from the intended start):");
    let _ = writeln!(o, "   {}", percentiles(&r.scenario_latency));
    let _ = writeln!(o, "Export latency (per request, send to acknowledgement):");
    let _ = writeln!(o, "   {}", percentiles(&r.export_latency));

    let q = &r.requests;
    let _ = writeln!(
        o,
        "\nRequests: {} sent, {} ok, {} failed ({:.2}% errors), {} retries",
        thousands(q.total),
        thousands(q.ok),
        thousands(q.failed),
        q.error_rate * 100.0,
        thousands(q.retries)
    );
    let mut classes: Vec<String> =
        q.by_status.iter().map(|(code, n)| format!("HTTP {code}: {}", thousands(*n))).collect();
    classes.extend(q.by_grpc_status.iter().map(|(code, n)| format!("gRPC {code}: {n}")));
    for (name, n) in [("timeout", q.timeout), ("connect", q.connect), ("io", q.io)] {
        if n > 0 {
            classes.push(format!("{name}: {}", thousands(n)));
        }
    }
    if !classes.is_empty() {
        let _ = writeln!(o, "   Errors by class: {}", classes.join(", "));
    }
    for (class, message) in &q.messages {
        let _ = writeln!(o, "   {class} said: {message}");
    }
    let _ = writeln!(
        o,
        "Spans: {} created = {} accepted + {} lost + {} outcome unknown + {} pending",
        thousands(s.created),
        thousands(s.exported),
        thousands(s.dropped),
        thousands(s.unknown),
        thousands(s.pending)
    );

    if let Some(sdk) = &r.sdk {
        let dropped_pct = if sdk.spans_ended == 0 {
            0.0
        } else {
            sdk.spans_dropped_by_sdk as f64 / sdk.spans_ended as f64 * 100.0
        };
        let _ = writeln!(o, "\nSDK pipeline (what an instrumented application sees):");
        let _ = writeln!(
            o,
            "   Spans: {} ended, {} exported, {} dropped by the SDK's batch processor ({:.1}%)",
            thousands(sdk.spans_ended),
            thousands(s.exported),
            thousands(sdk.spans_dropped_by_sdk),
            dropped_pct
        );
        let _ = writeln!(
            o,
            "   Tracer cost: {:.0} ns per span on the calling thread; export latency per request \
             above",
            sdk.tracer_ns_per_span
        );
        let per_span = sdk.tracer_alloc_bytes_per_span.map_or_else(
            || "not measured".to_owned(),
            |b| format!("{b:.0} B allocated per span by the tracer on the calling thread"),
        );
        let _ = writeln!(
            o,
            "   Memory: {per_span}; peak RSS {} for the whole process",
            bytes(sdk.peak_rss_bytes as f64)
        );
    }

    let b = &r.bytes;
    let _ = writeln!(o, "\nData volume:");
    if raw_measured(r) {
        let _ = writeln!(
            o,
            "   Total: {} of span content, {} encoded, {} on the wire ({:.1}x compression)",
            bytes(b.payload as f64),
            bytes(b.raw as f64),
            bytes(b.wire as f64),
            b.compression_ratio
        );
    } else {
        let _ = writeln!(
            o,
            "   Total: {} of span content, {} on the wire (encoded size before compression not \
             measured: the SDK compresses its own requests)",
            bytes(b.payload as f64),
            bytes(b.wire as f64)
        );
    }
    if t.completed + t.failed == 0 {
        let _ = writeln!(o, "   Avg per trace: n/a (no trace finished)");
    } else {
        let _ = writeln!(o, "   Avg per trace: {}", bytes(b.avg_payload_per_trace));
    }

    if let Some(d) = &r.delivery {
        let verdict = if d.verified { "verified" } else { "NOT verified" };
        let _ = writeln!(o, "\nDelivery (embedded sink): {verdict}");
        let _ = writeln!(
            o,
            "   Spans sent {} / received {}; traces received {}; orphan spans {}; traces \
             without root {}",
            thousands(d.spans_sent),
            thousands(d.spans_received),
            thousands(d.traces_received),
            thousands(d.orphan_spans),
            thousands(d.traces_without_root)
        );
    }

    if let Some(v) = &r.verification {
        storage(&mut o, v, r.delivery.is_some());
    }

    if let Some(q) = &r.queries {
        read_load(&mut o, q);
    }

    let _ = writeln!(o, "\nScenario mix breakdown:");
    let width = r.scenarios.iter().map(|s| s.name.len()).max().unwrap_or(8);
    for sc in &r.scenarios {
        if sc.completed + sc.failed == 0 {
            let _ = writeln!(
                o,
                "   {:<width$}  {:>7} traces, no completed traces (declares {:.0} spans, ~{} tokens)",
                sc.name,
                thousands(sc.started),
                sc.declared_spans,
                tokens(sc.declared_tokens)
            );
            continue;
        }
        let _ = writeln!(
            o,
            "   {:<width$}  {:>7} traces ({} failed), P50={} P99={}, {} avg; {:.1} spans measured \
             avg, {:.0} declared (~{} tokens)",
            sc.name,
            thousands(sc.started),
            thousands(sc.failed),
            ms(sc.latency.p50_ms),
            ms(sc.latency.p99_ms),
            bytes(sc.avg_payload_bytes),
            sc.avg_spans,
            sc.declared_spans,
            tokens(sc.declared_tokens)
        );
    }

    let g = &r.generator;
    let _ = writeln!(o, "\nGenerator:");
    let _ = writeln!(
        o,
        "   Start lag {}; late starts {} (> {} ms), missed starts {}",
        percentiles(&r.start_lag),
        thousands(t.late),
        c.late_threshold_ms,
        thousands(t.missed)
    );
    // CPU time is read in 10 ms ticks: over less than a second a percentage means nothing.
    let share = if r.duration_s >= 1.0 {
        format!("{:.0}% of one core", g.cpu_percent)
    } else {
        "run too short for a CPU share".to_owned()
    };
    let _ = writeln!(
        o,
        "   CPU {:.1}s ({share}), peak RSS {}",
        g.cpu_s,
        bytes(g.peak_rss_bytes as f64)
    );

    if let Some(res) = &r.resources {
        let _ = writeln!(o, "\nComponents (process trees sampled every {} ms):", res.interval_ms);
        for c in &res.components {
            let _ = writeln!(
                o,
                "   {} (pid {}): CPU cores min {:.2} mean {:.2} max {:.2}; RSS min {} mean {} max {} ({} samples)",
                c.name,
                c.pid,
                c.cpu_cores.min,
                c.cpu_cores.mean,
                c.cpu_cores.max,
                bytes(c.rss_bytes.min),
                bytes(c.rss_bytes.mean),
                bytes(c.rss_bytes.max),
                c.samples.len()
            );
        }
    }
    if !r.thresholds.is_empty() {
        let _ = writeln!(o, "\nThresholds:");
        for th in &r.thresholds {
            let verdict = if th.passed { "pass" } else { "FAIL" };
            let value = th.value.map_or("not measured".to_owned(), |v| format!("{v}"));
            let _ = writeln!(o, "   {verdict}  {} (value {value})", th.expression);
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(o, "\nNotes:");
        for note in &r.notes {
            let _ = writeln!(o, "   - {}", note_text(note));
        }
    }
    o
}

/// The read load, one row per operation.
fn read_load(o: &mut String, q: &scenario_runtime::engine::report::Queries) {
    let _ = writeln!(
        o,
        "\nRead load: {} queries/s asked ({}), window {:.0} min, {} rows a page",
        q.target_rate_per_s,
        if q.mix.is_empty() { "no operation could run" } else { q.mix.as_str() },
        q.window_s / 60.0,
        q.page_rows
    );
    for op in &q.operations {
        let mut outcome = vec![format!("{} ok", thousands(op.ok))];
        for (name, n) in [
            ("4xx", op.http_4xx),
            ("5xx", op.http_5xx),
            ("timeout", op.timeout),
            ("transport", op.transport),
            ("unanswered", op.unanswered),
            ("empty", op.empty),
            ("not JSON", op.decode_errors),
            ("skipped: no trace yet", op.skipped_no_trace),
            ("skipped: in flight", op.skipped_in_flight),
        ] {
            if n > 0 {
                outcome.push(format!("{} {name}", thousands(n)));
            }
        }
        let count =
            op.max_count.map_or(String::new(), |c| format!(", largest count {}", thousands(c)));
        let _ = writeln!(
            o,
            "   {:<6} {:>6} sent ({:.1}/s): {}; {}; {:.1} rows/answer, {}{count}",
            op.op,
            thousands(op.started),
            op.achieved_per_s,
            outcome.join(", "),
            percentiles(&op.latency),
            op.rows_per_answer,
            bytes(op.bytes as f64)
        );
        let _ = writeln!(o, "          {}", op.request);
    }
    for u in &q.unsupported {
        let _ = writeln!(o, "   {:<6} not run: {}", u.op, u.reason);
    }
}

/// A note in words.
pub fn note_text(note: &Note) -> String {
    let n = thousands;
    match note {
        Note::QueueFull { spans, sdk: true } => format!(
            "{} spans dropped by the SDK's batch span processor (its queue was full, or the spans \
             were still in it at shutdown): the SDK pipeline could not keep up with the offered \
             load",
            n(*spans)
        ),
        Note::QueueFull { spans, sdk: false } => format!(
            "{} spans dropped because the exporter's queue was full: the backend (or the \
             exporter) could not keep up with the offered load",
            n(*spans)
        ),
        Note::NotAccepted { rejected, failed } => format!(
            "{} spans rejected and {} failed to send: see the errors by class",
            n(*rejected),
            n(*failed)
        ),
        Note::OutcomeUnknown { spans } => format!(
            "{} spans were sent and got no answer (timeouts, resets, or still in flight at the \
             shutdown deadline): the backend may or may not have stored them",
            n(*spans)
        ),
        Note::DroppedStarts { traces } => format!(
            "{} trace starts dropped: the export queue had no room for a whole trace (traces \
             are admitted whole or not at all, so no trace was sent in part)",
            n(*traces)
        ),
        Note::HeldTraces { waits, seconds } => format!(
            "running traces waited {} times ({seconds:.1} s in all) for room in the export \
             queue after a simulated latency: the backend did not keep up, so those traces' spans last \
             longer than their scenarios declare (no span was dropped for it)",
            n(*waits)
        ),
        Note::LateStarts { late, missed } => format!(
            "{} late and {} missed starts: the generator or the in-flight cap could not hold the \
             target rate",
            n(*late),
            n(*missed)
        ),
        Note::NoTraceFinished => "no trace finished, so there is no scenario latency and no \
                                  per-trace average"
            .to_owned(),
        Note::ShutdownDeadline { spans_unsent } => format!(
            "the exporter's shutdown deadline passed with {} spans unsent",
            n(*spans_unsent)
        ),
        Note::DeliveryNotVerified {
            spans_sent,
            spans_received,
            orphan_spans,
            traces_without_root,
        } => format!(
            "delivery not verified: {} spans acknowledged, {} received, {} orphans, {} traces \
             without root",
            n(*spans_sent),
            n(*spans_received),
            n(*orphan_spans),
            n(*traces_without_root)
        ),
        Note::StoppedEarly { thresholds } => {
            format!("stopped early: {} failed during the run", thresholds.join(", "))
        }
        Note::StorageNotVerified { reason } => {
            format!("storage not verified, so accepted is all this report can say: {reason}")
        }
        Note::NotAllVisible { spans_not_visible, traces_not_visible } => {
            let part = |n: &Option<u64>, what: &str| n.map(|n| format!("{} {what}", thousands(n)));
            let missing: Vec<String> =
                [part(spans_not_visible, "spans"), part(traces_not_visible, "traces")]
                    .into_iter()
                    .flatten()
                    .collect();
            format!(
                "the read-back timed out with {} accepted but not visible: the backend is \
                 behind or lost them (raise --verify-timeout to tell which)",
                missing.join(" and ")
            )
        }
        Note::ReadBackFailed { reason } => format!("the read-back failed: {reason}"),
        Note::CountsNotThisRun { reason } => {
            format!("the read-back's counts are not this run's: {reason}")
        }
        Note::StoredTracesDiffer { missing, rootless, span_count_differs } => format!(
            "of the traces fetched back whole, {} were missing, {} had no root and {} had a \
             different span count than accepted",
            n(*missing),
            n(*rootless),
            n(*span_count_differs)
        ),
        Note::StartedLate { shard, late_by_ms } => format!(
            "{} began {:.1} s after --start-at: it did not start with the other shards",
            shard.map_or("the run".to_owned(), |i| format!("shard {i}")),
            late_by_ms / 1000.0
        ),
        Note::ShardsMissing { missing, count } => format!(
            "a partial merge: shard{} {} of {count} missing, so the totals are not the plan's",
            if missing.len() == 1 { "" } else { "s" },
            missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The read-back section: what the backend stored, and when.
fn storage(o: &mut String, v: &Verification, embedded: bool) {
    use scenario_runtime::engine::verify::Outcome;
    let verdict = match v.outcome {
        Outcome::AllVisible => "everything accepted is stored",
        Outcome::Incomplete => "NOT everything accepted became visible",
        Outcome::Failed => "read-back FAILED",
        Outcome::NotVerified => "not verified",
        Outcome::OtherTraffic => "NOT stated: the counts include other traffic",
    };
    let source = if embedded { "the embedded sink" } else { v.platform.name() };
    let _ = writeln!(o, "\nStorage (read back from {source}): {verdict}");
    if let Some(reason) = &v.reason {
        let _ = writeln!(o, "   {reason}");
    }
    if v.outcome == Outcome::NotVerified {
        return;
    }
    let seen = |s: &Option<scenario_runtime::engine::verify::Sample>, spans: bool| {
        s.as_ref()
            .and_then(|s| if spans { s.spans } else { s.traces })
            .map_or("not counted".to_owned(), thousands)
    };
    for (unit, accepted, spans) in
        [("spans", v.spans_accepted, true), ("traces", v.traces_accepted, false)]
    {
        let countable = v.countable.is_some_and(|c| if spans { c.spans } else { c.traces });
        if !countable {
            continue;
        }
        let _ = writeln!(
            o,
            "   {unit}: {} accepted, {} visible when the run ended, {} at the end of the read-back",
            thousands(accepted),
            seen(&v.visible_at_run_end, spans),
            seen(&v.visible_at_end, spans)
        );
    }
    if let Some(lag) = &v.lag {
        // Counts are samples: each level became visible between its two bounds.
        let s = |high: Option<u64>, low: Option<u64>| match (high, low.unwrap_or(0)) {
            (None, _) => "never".to_owned(),
            (Some(high), 0) => format!("within {:.1} s", high as f64 / 1000.0),
            (Some(high), low) => {
                format!("{:.1}-{:.1} s", low as f64 / 1000.0, high as f64 / 1000.0)
            }
        };
        let _ = writeln!(
            o,
            "   Ingestion lag (acknowledged -> visible, {:?}): 50% {}, 99% {}, all {}",
            lag.unit,
            s(lag.p50_ms, lag.p50_low_ms),
            s(lag.p99_ms, lag.p99_low_ms),
            s(lag.p100_ms, lag.p100_low_ms)
        );
    }
    if let Some(t) = &v.throughput {
        let rate = |r: Option<f64>| r.map_or("n/a".to_owned(), |r| format!("{r:.1}/s"));
        let _ = writeln!(
            o,
            "   Throughput ({:?}): accepted {}, stored {}",
            t.unit,
            rate(t.accepted_per_sec),
            rate(t.stored_per_sec)
        );
    }
    if let Some(w) = &v.whole_traces {
        match &w.unsupported {
            Some(why) => {
                let _ = writeln!(o, "   Whole traces: not fetched ({why})");
            }
            None => {
                let kinds: Vec<String> = w.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
                let _ = writeln!(
                    o,
                    "   Whole traces: {} of {} fetched were found; {} missing, {} without root, {} \
                     with another span count; kinds {}; tokens in {} out {}",
                    w.found,
                    w.asked,
                    w.missing.len(),
                    w.rootless.len(),
                    w.span_count_differs.len(),
                    if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") },
                    w.input_tokens.map_or("n/a".to_owned(), thousands),
                    w.output_tokens.map_or("n/a".to_owned(), thousands)
                );
            }
        }
    }
    for (class, n) in &v.read_errors {
        let example = v.read_error_examples.get(class).map_or("", String::as_str);
        let _ = writeln!(o, "   Read errors {class}: {} ({example})", thousands(*n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(bytes(747_000.0), "747 KB");
        assert_eq!(bytes(11_200_000_000.0), "11.2 GB");
        assert_eq!(ms(0.5), "0.50 ms");
    }

    #[test]
    fn summary_shows_what_the_reference_shows() {
        let mut r = Report::default();
        r.traces.started = 15000;
        r.scenario_latency = Percentiles { count: 1, p50_ms: 45.0, ..Percentiles::default() };
        r.scenarios.push(scenario_runtime::engine::report::ScenarioReport {
            name: "simple_query".into(),
            ..Default::default()
        });
        let text = summary(&r);
        for needle in ["Duration", "15,000 started", "Success rate", "Throughput", "P50 45.0 ms"] {
            assert!(text.contains(needle), "missing {needle}:\n{text}");
        }
        assert!(text.contains("Avg per trace") && text.contains("simple_query"));
    }
}
