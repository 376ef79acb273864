scenario_runtime::scenario! {
    name: s,
    description: "A step not ended by `;`",
    llm(plan, input: 100, output: 10)
    tool(search, 4kb);
}

fn main() {}
