scenario_runtime::scenario! {
    name: s,
    description: "A tool result larger than any request limit",
    tool(search, 500mb);
}

fn main() {}
