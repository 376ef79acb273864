scenario_runtime::scenario! {
    name: s,
    description: "More reasoning tokens than output tokens",
    llm(think, input: 1000, output: 200, reasoning: 500);
}

fn main() {}
