scenario_runtime::scenario! {
    name: s,
    description: "A sub-agent that does nothing",
    llm(plan, input: 100, output: 10);
    delegate hotel {}
}

fn main() {}
