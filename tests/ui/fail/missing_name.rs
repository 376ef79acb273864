scenario_runtime::scenario! {
    description: "A scenario without a name",
    llm(plan, input: 100, output: 10);
}

fn main() {}
