scenario_runtime::scenario! {
    name: s,
    description: "A session of no turns",
    session: 0..4 turns,
    llm(answer, input: 1000, output: 200);
}

fn main() {}
