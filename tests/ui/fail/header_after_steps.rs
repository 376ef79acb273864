scenario_runtime::scenario! {
    name: s,
    description: "A header entry among the steps",
    llm(plan, input: 100, output: 10);
    model: "gpt-4o-mini",
    llm(answer, input: 100, output: 10);
}

fn main() {}
