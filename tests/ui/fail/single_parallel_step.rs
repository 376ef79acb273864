scenario_runtime::scenario! {
    name: s,
    description: "A parallel block with one step",
    parallel {
        tool(search, 4kb);
    }
}

fn main() {}
