scenario_runtime::scenario! {
    name: s,
    llm(plan, input: 100, output: 10);
}

fn main() {}
