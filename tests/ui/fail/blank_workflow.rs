scenario_runtime::scenario! {
    name: s,
    description: "A workflow without a name",
    workflow: "",
    llm(answer, input: 1000, output: 200);
}

fn main() {}
