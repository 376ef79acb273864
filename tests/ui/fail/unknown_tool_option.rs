scenario_runtime::scenario! {
    name: s,
    description: "Token counts belong to `llm`, not `tool`",
    tool(search, 4kb, input: 100);
}

fn main() {}
