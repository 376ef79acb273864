scenario_runtime::scenario! {
    name: s,
    description: "More cached tokens than input tokens",
    llm(answer, input: 1000, output: 200, cached: 2048);
}

fn main() {}
