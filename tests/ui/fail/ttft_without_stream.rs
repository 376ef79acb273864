scenario_runtime::scenario! {
    name: s,
    description: "A time to first token on a call that does not stream",
    llm(answer, input: 1000, output: 200, stream: false, ttft: 300ms);
}

fn main() {}
