scenario_runtime::scenario! {
    name: s,
    description: "An agent created but run by no delegate of its block",
    llm(plan, input: 100, output: 10);
    create_agent(report_writer);
    delegate writer { llm(write, input: 100, output: 10); }
}

fn main() {}
