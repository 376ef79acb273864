scenario_runtime::scenario! {
    name: s,
    description: "A model call without token counts",
    llm(plan, input: 100);
    llm(answer, latency: 2s);
}

fn main() {}
