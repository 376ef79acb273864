scenario_runtime::scenario! {
    name: s,
    description: "A model given twice",
    model: "gpt-4o",
    model: "gpt-4o-mini",
    llm(plan, input: 100, output: 10);
}

fn main() {}
