//! A research workflow on reasoning models: a researcher plans and searches the web through an
//! MCP server over several rounds, then creates a writer agent in the agent service (as
//! hosted-agent frameworks do before running one) that streams a long report; the user may ask
//! a follow-up or two.

scenario_runtime::scenario! {
    name: research_report,
    description: "Research a question in a two-agent workflow: plan with a reasoning model, run three rounds of web search and page reading through an MCP server, recall notes, then create a writer agent that streams a cited report",
    agent: research_agent,
    model: "o3",
    workflow: deep_research,
    session: 1..3 turns,
    think: 30..120s,
    expect: { spans: 22, depth: 4, llm_calls: 5, tool_calls: 6 },

    llm(plan_research, input: 3000, output: 1800, reasoning: 1500, latency: 6..14s);
    repeat 3 {
        llm(choose_sources, input: 7000, output: 420, reasoning: 300, cached: 4096, latency: 2..5s, model: "o4-mini");
        parallel {
            mcp(web, web_search, 12kb, latency: 400..1200ms, fail: 2%);
            mcp(web, fetch_page, 32kb, latency: 800..2500ms, fail: 3%);
        }
    }
    retrieve(research_notes, 20kb, top_k: 10, latency: 80..200ms);
    create_agent(report_writer, latency: 300..900ms, fail: 1%);
    delegate report_writer {
        llm(write_report, input: 24000, output: 3000, reasoning: 1200, cached: 16384, stream: true, ttft: 1500..4000ms, latency: 25..50s);
    }
}
