scenario_runtime::scenario! {
    name: s,
    description: "A branch that can never be taken",
    route {
        1.0 => { llm(a, input: 10, output: 10); }
        0.0 => { llm(b, input: 10, output: 10); }
        -0.5 => { llm(c, input: 10, output: 10); }
    }
}

fn main() {}
