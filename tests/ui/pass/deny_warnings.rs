// The expansion raises no warning, even unused and under the strictest common lint settings.
#![deny(warnings, missing_docs, unreachable_pub, unused_qualifications)]
//! A crate that treats every warning as an error.

mod scenarios {
    scenario_runtime::scenario! {
        name: Strict_Name,
        description: "Unused, oddly named, in a private module",
        expect: { spans: 4 },
        llm(plan, input: 500, output: 50);
        parallel {
            tool(a, 1kb);
            tool(b, 1kb);
        }
    }

    scenario_runtime::scenario! {
        name: used,
        description: "Used from main",
        route {
            0.5 => { llm(short, input: 10, output: 10); }
            0.5 => { llm(long, input: 10, output: 10); tool(fetch, 1b); }
        }
    }

    pub(crate) fn spans() -> u64 {
        used::SPANS_MAX
    }
}

fn main() {
    assert_eq!(scenarios::spans(), 3);
}
