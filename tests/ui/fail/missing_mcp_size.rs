scenario_runtime::scenario! {
    name: s,
    description: "An MCP tool call without the size of its result",
    mcp(github, search_issues, latency: 200ms);
}

fn main() {}
