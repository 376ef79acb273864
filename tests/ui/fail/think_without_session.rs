scenario_runtime::scenario! {
    name: s,
    description: "A think time without a session",
    think: 5..30s,
    llm(answer, input: 1000, output: 200);
}

fn main() {}
