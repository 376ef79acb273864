scenario_runtime::scenario! {
    name: s,
    description: "A size without its unit",
    tool(search, 40);
}

fn main() {}
