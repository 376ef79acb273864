scenario_runtime::scenario! {
    name: s,
    description: "A tool without the size of its result",
    tool(search, latency: 200ms);
}

fn main() {}
