scenario_runtime::scenario! {
    name: s,
    description: "A first token that comes after the last",
    llm(answer, input: 1000, output: 200, latency: 400..900ms, ttft: 500ms);
}

fn main() {}
