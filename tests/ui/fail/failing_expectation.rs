scenario_runtime::scenario! {
    name: s,
    description: "A shape that no longer matches what it guards",
    expect: { spans: 25, depth: 2, bytes: 1kb..2kb, llm_calls: 2, tool_calls: 1, tokens: 300 },
    llm(plan, input: 100, output: 10);
    tool(search, 4kb);
}

fn main() {}
