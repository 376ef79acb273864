scenario_runtime::scenario! {
    name: s,
    description: "A route with nothing to choose from",
    route {
        1.0 => { llm(a, input: 10, output: 10); }
    }
}

fn main() {}
