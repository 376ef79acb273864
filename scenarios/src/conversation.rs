//! A customer-support chat: conversations of several turns, tools reached through MCP servers
//! (the company's own CRM and commerce servers are instrumented too, so their server spans are
//! in the trace), retrieval from the help center, streamed answers.

scenario_runtime::scenario! {
    name: support_conversation,
    description: "One turn of a customer-support chat: look the customer and their orders up through MCP servers, search the help center, then stream an answer or open a ticket",
    agent: support_agent,
    model: "gpt-4.1",
    session: 2..6 turns,
    think: 8..45s,
    expect: { spans: 11..14, depth: 4, bytes: 75kb..115kb, llm_calls: 2..3, tool_calls: 2..3 },

    llm(understand_request, input: 2400, output: 120, latency: 400..900ms, cached: 1792);
    parallel {
        mcp(crm, get_customer, 3kb, latency: 80..200ms, server_span: true);
        mcp(commerce, list_recent_orders, 6kb, latency: 100..300ms, fail: 1%, server_span: true);
    }
    embed(embed_question, input: 60, latency: 20..60ms);
    retrieve(help_center, 24kb, top_k: 6, latency: 60..180ms);
    route {
        70% => {
            llm(answer_customer, input: 8000, output: 350, latency: 1200..2400ms, cached: 2048, ttft: 300..600ms);
        }
        30% => {
            llm(decide_escalation, input: 8000, output: 150, latency: 700..1400ms, cached: 2048);
            mcp(helpdesk, create_ticket, 2kb, latency: 200..500ms, fail: 2%);
            llm(reply_with_ticket, input: 9000, output: 220, latency: 900..1800ms, cached: 7936, ttft: 300..600ms);
        }
    }
}
