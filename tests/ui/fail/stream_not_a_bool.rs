scenario_runtime::scenario! {
    name: s,
    description: "A streaming flag written as a number",
    llm(answer, input: 1000, output: 200, stream: 1);
}

fn main() {}
