scenario_runtime::scenario! {
    name: s,
    description: "An option given twice",
    llm(plan, input: 100, output: 10, input: 200);
}

fn main() {}
