scenario_runtime::scenario! {
    name: s,
    description: "Branch weights that leave a gap",
    route {
        0.5 => { llm(a, input: 10, output: 10); }
        0.3 => { llm(b, input: 10, output: 10); }
    }
}

fn main() {}
