scenario_runtime::scenario! {
    name: s,
    description: "A step kind that does not exist",
    llm(plan, input: 100, output: 10);
    call(search, 4kb);
}

fn main() {}
