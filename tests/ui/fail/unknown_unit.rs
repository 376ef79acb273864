scenario_runtime::scenario! {
    name: s,
    description: "Units the language does not know",
    tool(search, 40kib);
    tool(fetch, 4kb, latency: 2min);
}

fn main() {}
