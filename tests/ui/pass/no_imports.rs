// The macro needs no `use`: everything it expands to is reached through the runtime's path.
scenario_runtime::scenario! {
    name: lookup,
    description: "One lookup and an answer",
    llm(plan, input: 500, output: 50);
    tool(search, 4kb);
    llm(answer, input: 1500, output: 200);
}

fn main() {
    assert_eq!(lookup::SPANS, 4);
    assert_eq!(lookup::DEPTH, 2);
    assert_eq!(lookup::LLM_CALLS_MAX, 2);
    assert_eq!(lookup::TOOL_CALLS_MAX, 1);
    assert_eq!(lookup::TOKENS_MIN, 2250);
    assert_eq!(lookup::BYTES_MIN, 2250 * 4 + 4096);
    let meta = lookup::scenario().meta();
    assert_eq!(meta.name, "lookup");
    assert_eq!(meta.agent, "assistant");
    assert_eq!(meta.model, "gpt-4o");
    assert_eq!(meta.provider, "openai");
}
