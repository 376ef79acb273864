//! The built-in scenarios and a registry by name.
//!
//! Each module holds one family of scenarios, written with `scenario_runtime::scenario!` and
//! guarded by `expect:` so that a change of shape is a compile error. [`all`] lists them in a
//! stable order (the reference four first, in the order of the reference tool's table).

use scenario_runtime::AnyScenario;

pub mod coding;
pub mod conversation;
pub mod rag;
pub mod research;
pub mod support;
pub mod travel;

static ALL: [&dyn AnyScenario; 9] = [
    &travel::simple_query::SCENARIO,
    &travel::single_service_search::SCENARIO,
    &travel::delegated_booking::SCENARIO,
    &travel::multi_service_complex::SCENARIO,
    &rag::rag_answer::SCENARIO,
    &coding::coding_agent::SCENARIO,
    &support::support_triage::SCENARIO,
    &conversation::support_conversation::SCENARIO,
    &research::research_report::SCENARIO,
];

/// Every built-in scenario, in a stable order.
pub fn all() -> &'static [&'static dyn AnyScenario] {
    &ALL
}

/// The built-in scenario called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static dyn AnyScenario> {
    ALL.iter().copied().find(|scenario| scenario.meta().name == name)
}

/// The names of the built-in scenarios, in the order of [`all`].
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|scenario| scenario.meta().name).collect()
}

/// The reference tool's default traffic mix: scenario name and share of traces.
pub const DEFAULT_MIX: &[(&str, f64)] = &[
    ("simple_query", 0.4),
    ("single_service_search", 0.3),
    ("delegated_booking", 0.2),
    ("multi_service_complex", 0.1),
];

// The reference scenarios keep the reference tool's span counts and nesting: a change that
// breaks this fails the build (each scenario's `expect:` guards the rest of its shape).
const _: () = {
    assert!(travel::simple_query::SPANS == 5);
    assert!(travel::single_service_search::SPANS == 12);
    assert!(travel::delegated_booking::SPANS == 25);
    assert!(travel::delegated_booking::DEPTH >= 5);
    assert!(travel::multi_service_complex::SPANS == 80);
    assert!(travel::multi_service_complex::DEPTH >= 6 && travel::multi_service_complex::DEPTH <= 8);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names = names();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "two built-in scenarios share a name");
    }

    #[test]
    fn find_returns_the_scenario_with_that_name() {
        for name in names() {
            let found = find(name).map(|s| s.meta().name);
            assert_eq!(found, Some(name));
        }
        assert_eq!(
            find("delegated_booking").map(|s| s.meta().shape.spans.min),
            Some(travel::delegated_booking::SPANS)
        );
    }

    #[test]
    fn unknown_names_are_not_found() {
        assert!(find("no_such_scenario").is_none());
        assert!(find("").is_none());
        assert!(find("Simple_Query").is_none(), "names are case-sensitive");
    }

    #[test]
    fn default_mix_names_built_in_scenarios_and_sums_to_one() {
        for (name, _) in DEFAULT_MIX {
            assert!(find(name).is_some(), "{name} is in the default mix but not built in");
        }
        let total: f64 = DEFAULT_MIX.iter().map(|(_, share)| share).sum();
        assert!((total - 1.0).abs() < 1e-9, "the default mix sums to {total}");
    }

    #[test]
    fn descriptions_list_steps_in_written_order() {
        let names: Vec<String> =
            travel::simple_query::scenario().describe().into_iter().map(|line| line.name).collect();
        assert_eq!(
            names,
            ["understand_question", "search_knowledge_base", "get_destination_facts", "answer"]
        );
    }

    #[test]
    fn every_scenario_describes_its_steps() {
        for scenario in all() {
            let lines = scenario.describe();
            assert!(!lines.is_empty(), "{} describes no step", scenario.meta().name);
        }
    }
}
