// Every construct and option of the language in one scenario, with its computed shape.
scenario_runtime::scenario! {
    name: delegated_booking,
    description: "Book a hotel through a specialist agent",
    agent: primary_assistant,
    model: "gpt-4o",
    provider: openai,
    workflow: trip_planning,
    session: 2..5 turns,
    think: 5..30s,
    expect: { spans: 24, depth: 5, llm_calls: 7..8, tool_calls: 7..8 },

    llm(primary_plan, input: 1200, output: 150, latency: 400ms);
    create_agent(hotel, model: "claude-sonnet-4-5", provider: anthropic, latency: 100..300ms, fail: 1%);
    delegate hotel {
        llm(hotel_plan, input: 2000, output: 100, latency: 200..800ms, model: "claude-sonnet-4-5", provider: anthropic);
        tool(search_hotels, 40kb, latency: 250ms, fail: 2%);
        parallel {
            tool(fetch_reviews, 20kb);
            tool(check_availability, 4kb, latency: 1.5s);
        }
        route {
            0.9 => { tool(book_hotel, 10kb); }
            0.1 => { llm(ask_user_dates, input: 2600, output: 80); }
        }
        repeat 2 { llm(refine, input: 2400, output: 120, latency: 200ms..2s); tool(price_check, 3kb); }
    }
    llm(primary_confirm, input: 3000, output: 100, fail: 1%, provider: "openai");
    llm(research, input: 6000, output: 900, reasoning: 600, cached: 4096, stream: true, latency: 2..4s);
    mcp(github, search_issues, 8kb, latency: 100..300ms, fail: 1%);
    mcp(billing, get_invoice, 2kb, server_span: true);
    embed(embed_question, input: 40, model: "text-embedding-3-large", dimensions: 3072, provider: openai, latency: 30ms, fail: 1%);
    retrieve(product_docs, 24kb, top_k: 8, latency: 80..200ms, fail: 1%);
    llm(stream_answer, input: 9000, output: 400, ttft: 300..600ms, latency: 1..2s);
}

fn main() {
    use delegated_booking as s;
    assert_eq!((s::SPANS_MIN, s::SPANS_MAX), (24, 24));
    assert_eq!(s::DEPTH, 5);
    assert_eq!(s::LLM_CALLS_MIN, 7);
    assert_eq!(s::LLM_CALLS_MAX, 8);
    let meta = s::scenario().meta();
    assert_eq!(meta.agent, "primary_assistant");
    assert_eq!(meta.description, "Book a hotel through a specialist agent");
    assert_eq!(meta.workflow, Some("trip_planning"));
    let session = meta.session.expect("a session");
    assert_eq!((session.min_turns, session.max_turns), (2, 5));
    assert_eq!((session.think.min_micros, session.think.max_micros), (5_000_000, 30_000_000));
    let lines = s::scenario().describe();
    assert!(lines.iter().any(|line| line.name == "check_availability"));
    let hotel_plan = lines.iter().find(|line| line.name == "hotel_plan").expect("hotel_plan");
    assert_eq!(hotel_plan.model, Some("claude-sonnet-4-5"));
    let created = lines.iter().find(|line| line.name == "hotel" && line.kind == scenario_runtime::StepKind::CreateAgent);
    assert_eq!(created.expect("create_agent hotel").provider, Some("anthropic"));
    let (_, spans) = scenario_runtime::record_trace(s::scenario(), &Default::default(), 1);
    assert!(s::SHAPE.spans.contains(spans.len() as u64));
}
