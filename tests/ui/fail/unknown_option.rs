scenario_runtime::scenario! {
    name: s,
    description: "An option `llm` does not have",
    llm(plan, input: 100, output: 10, temperature: 0.7);
}

fn main() {}
