scenario_runtime::scenario! {
    name: s,
    description: "A model call that reads nothing",
    llm(plan, input: 0, output: 10);
    llm(answer, input: 100, output: 5000000);
}

fn main() {}
