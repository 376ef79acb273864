scenario_runtime::scenario! {
    name: s,
    description: "A tool result of no bytes",
    tool(search, 0kb);
}

fn main() {}
