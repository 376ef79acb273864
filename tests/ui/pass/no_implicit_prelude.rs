// The expansion names everything by absolute path, so it works without the prelude.
#![no_implicit_prelude]

::scenario_runtime::scenario! {
    name: bare,
    description: "Built without the prelude",
    llm(plan, input: 100, output: 10);
    repeat 2 { tool(fetch, 2kb); }
    route {
        0.7 => { llm(answer, input: 200, output: 20); }
        0.3 => { tool(ask, 1kb); llm(answer, input: 200, output: 20); }
    }
}

fn main() {
    ::std::assert_eq!(bare::SPANS_MIN, 5);
    ::std::assert_eq!(bare::SPANS_MAX, 6);
    ::std::assert_eq!(bare::scenario().meta().name, "bare");
}
