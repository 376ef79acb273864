scenario_runtime::scenario! {
    name: s,
    description: "A loop that never runs",
    repeat 0 {
        llm(refine, input: 100, output: 10);
    }
}

fn main() {}
