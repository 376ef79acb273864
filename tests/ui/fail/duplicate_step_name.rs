scenario_runtime::scenario! {
    name: s,
    description: "Two sibling steps with one name",
    llm(plan, input: 100, output: 10);
    tool(search, 4kb);
    llm(plan, input: 200, output: 10);
}

fn main() {}
