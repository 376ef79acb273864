scenario_runtime::scenario! {
    name: s,
    description: "An MCP call that names the server but not the tool",
    mcp(github, 8kb);
}

fn main() {}
