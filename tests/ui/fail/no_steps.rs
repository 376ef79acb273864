scenario_runtime::scenario! {
    name: s,
    description: "Nothing happens",
}

fn main() {}
