scenario_runtime::scenario! {
    name: s,
    description: "A latency without its unit",
    tool(search, 4kb, latency: 250);
}

fn main() {}
