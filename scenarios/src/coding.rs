//! A coding agent that loops edit, test and read-logs until the tests pass.

scenario_runtime::scenario! {
    name: coding_agent,
    description: "Fix a failing test: plan, then edit, run the tests and read the logs four times, then summarize and open a pull request",
    agent: coding_assistant,
    model: "claude-sonnet-4-5",
    provider: anthropic,
    expect: { spans: 23, depth: 2, bytes: 440kb..460kb, tokens: 60000..66000, llm_calls: 6, tool_calls: 16 },

    llm(plan_fix, input: 6000, output: 400, latency: 1500..3000ms);
    parallel {
        tool(read_file, 12kb, latency: 20..80ms);
        tool(search_code, 8kb, latency: 100..400ms);
        tool(git_log, 4kb, latency: 50..150ms);
    }
    repeat 4 {
        llm(write_patch, input: 9000, output: 900, latency: 3000..6000ms);
        tool(apply_edit, 6kb, latency: 50..150ms);
        tool(run_tests, 24kb, latency: 4..20s, fail: 30%);
        tool(read_logs, 16kb, latency: 100..300ms);
    }
    llm(summarize_changes, input: 14000, output: 500, latency: 2..4s);
    tool(open_pull_request, 3kb, latency: 400..1200ms, fail: 1%);
}
