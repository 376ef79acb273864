scenario_runtime::scenario! {
    name: s,
    description: "An expectation on something not computed",
    expect: { spans: 2, latency: 400ms },
    llm(plan, input: 100, output: 10);
}

fn main() {}
