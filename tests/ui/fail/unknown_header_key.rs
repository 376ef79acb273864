scenario_runtime::scenario! {
    name: s,
    description: "A header key that does not exist",
    temperature: 0.7,
    llm(plan, input: 100, output: 10);
}

fn main() {}
