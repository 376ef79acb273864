scenario_runtime::scenario! {
    name: s,
    description: "A latency range written backwards",
    tool(search, 4kb, latency: 800..200ms);
}

fn main() {}
