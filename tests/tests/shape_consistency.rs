//! Every built-in scenario, run over many seeds, emits what its build-time shape says: the span
//! count equals `SPANS` (or lies in min..max where a route makes it vary), the spans form one
//! tree, and every route branch is taken.

use std::collections::{BTreeSet, HashSet};

use scenario_runtime::{AnyScenario, Emitter, record_trace};

const SEEDS: u64 = 200;

/// Span counts observed over [`SEEDS`] runs, checking each run's tree on the way.
fn observed_span_counts(scenario: &dyn AnyScenario) -> BTreeSet<u64> {
    let name = scenario.meta().name;
    let emitter = Emitter::default();
    let mut counts = BTreeSet::new();
    for seed in 0..SEEDS {
        let (_, spans) = record_trace(scenario, &emitter, seed);
        let ids: HashSet<_> = spans.iter().map(|span| span.span_id).collect();
        assert_eq!(ids.len(), spans.len(), "{name} seed {seed}: span ids are not unique");
        let roots: Vec<_> = spans.iter().filter(|span| span.parent_span_id.is_none()).collect();
        assert_eq!(roots.len(), 1, "{name} seed {seed}: expected exactly one root span");
        for span in &spans {
            if let Some(parent) = span.parent_span_id {
                assert!(
                    ids.contains(&parent),
                    "{name} seed {seed}: span `{}` has a parent that was not recorded",
                    span.name
                );
            }
        }
        counts.insert(spans.len() as u64);
    }
    counts
}

#[test]
fn every_scenario_emits_its_declared_span_count() {
    for scenario in scenarios::all() {
        let meta = scenario.meta();
        let declared = meta.shape.spans;
        let counts = observed_span_counts(*scenario);
        for count in &counts {
            assert!(
                declared.contains(*count),
                "{}: a run emitted {count} spans, the shape says {declared}",
                meta.name
            );
        }
        if declared.is_exact() {
            assert_eq!(counts.len(), 1, "{}: span count varies: {counts:?}", meta.name);
        } else {
            assert!(
                counts.len() > 1,
                "{}: over {SEEDS} seeds every run emitted {counts:?} spans; routes never took another branch",
                meta.name
            );
            assert_eq!(
                counts.first(),
                Some(&declared.min),
                "{}: the smallest branch never ran",
                meta.name
            );
            assert_eq!(
                counts.last(),
                Some(&declared.max),
                "{}: the largest branch never ran",
                meta.name
            );
        }
    }
}

#[test]
fn reference_scenarios_have_exact_shapes() {
    use scenarios::travel::{delegated_booking, multi_service_complex, simple_query};
    let emitter = Emitter::default();
    let (_, spans) = record_trace(&simple_query::SCENARIO, &emitter, 7);
    assert_eq!(spans.len() as u64, simple_query::SPANS);
    let (_, spans) = record_trace(&delegated_booking::SCENARIO, &emitter, 7);
    assert_eq!(spans.len() as u64, delegated_booking::SPANS);
    let (_, spans) = record_trace(&multi_service_complex::SCENARIO, &emitter, 7);
    assert_eq!(spans.len() as u64, multi_service_complex::SPANS);
}

#[test]
fn recorded_depth_matches_the_declared_depth() {
    for scenario in scenarios::all() {
        let meta = scenario.meta();
        let emitter = Emitter::default();
        let mut deepest = 0;
        for seed in 0..SEEDS {
            let (_, spans) = record_trace(*scenario, &emitter, seed);
            for span in &spans {
                let mut depth = 1;
                let mut parent = span.parent_span_id;
                while let Some(id) = parent {
                    depth += 1;
                    parent = spans.iter().find(|s| s.span_id == id).and_then(|s| s.parent_span_id);
                }
                deepest = deepest.max(depth);
            }
        }
        assert_eq!(deepest, meta.shape.depth, "{}: deepest recorded span", meta.name);
    }
}

#[test]
fn route_branches_are_taken_with_their_weights() {
    // support_triage routes 45% / 35% / 20% to three specialists (a three-way route runs as
    // two nested choices, each with its own random draw).
    let scenario = scenarios::find("support_triage").expect("support_triage is built in");
    let emitter = Emitter::default();
    let runs = 1000;
    let mut taken = [0u32; 3];
    for seed in 0..runs {
        let (_, spans) = record_trace(scenario, &emitter, seed);
        let took =
            |agent: &str| spans.iter().any(|span| span.name == format!("invoke_agent {agent}"));
        let branch = ["billing_specialist", "technical_specialist", "account_specialist"]
            .iter()
            .position(|agent| took(agent))
            .expect("every run takes one branch");
        taken[branch] += 1;
    }
    // Binomial standard deviations over 1000 runs are 13-16; allow about 4 of them.
    for (count, expected) in taken.iter().zip([450, 350, 200]) {
        assert!(
            count.abs_diff(expected) <= 60,
            "branches taken {taken:?} times, expected about [450, 350, 200]"
        );
    }
}
