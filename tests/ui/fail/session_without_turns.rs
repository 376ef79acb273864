scenario_runtime::scenario! {
    name: s,
    description: "A session whose length has no unit",
    session: 3..8,
    llm(answer, input: 1000, output: 200);
}

fn main() {}
