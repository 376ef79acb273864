scenario_runtime::scenario! {
    name: s,
    description: "A session range written backwards",
    session: 8..3 turns,
    llm(answer, input: 1000, output: 200);
}

fn main() {}
