//! A research agent on a reasoning model: plans, searches the web through an MCP server over
//! several rounds, and streams a long report.

scenario_runtime::scenario! {
    name: research_report,
    description: "Research a question: plan with a reasoning model, run three rounds of web search and page reading through an MCP server, recall notes, then stream a cited report",
    agent: research_agent,
    model: "o3",
    expect: { spans: 19, depth: 3, llm_calls: 5, tool_calls: 6 },

    llm(plan_research, input: 3000, output: 1800, reasoning: 1500, latency: 6..14s);
    repeat 3 {
        llm(choose_sources, input: 7000, output: 420, reasoning: 300, cached: 4096, latency: 2..5s, model: "o4-mini");
        parallel {
            mcp(web, web_search, 12kb, latency: 400..1200ms, fail: 2%);
            mcp(web, fetch_page, 32kb, latency: 800..2500ms, fail: 3%);
        }
    }
    retrieve(research_notes, 20kb, top_k: 10, latency: 80..200ms);
    llm(write_report, input: 24000, output: 3000, reasoning: 1200, cached: 16384, stream: true, ttft: 1500..4000ms, latency: 25..50s);
}
