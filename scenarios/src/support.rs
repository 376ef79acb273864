//! Customer-support triage: one classification, then a specialist whose depth depends on the
//! kind of request.

scenario_runtime::scenario! {
    name: support_triage,
    description: "Classify a support request and route it to a billing, technical or account specialist",
    agent: support_assistant,
    expect: { spans: 9..13, depth: 4, bytes: 35kb..150kb, tokens: 6500..16600, llm_calls: 3..4, tool_calls: 4..6 },

    llm(classify_request, input: 1500, output: 60, latency: 300..600ms, model: "gpt-4o-mini");
    tool(get_customer, 4kb, latency: 40..120ms);
    route {
        45% => {
            delegate billing_specialist {
                llm(review_invoices, input: 2600, output: 150, latency: 500..1000ms);
                tool(get_invoices, 16kb, latency: 100..300ms);
                tool(issue_refund, 2kb, latency: 300..900ms, fail: 5%);
                llm(reply_billing, input: 3800, output: 300, latency: 800..1600ms);
            }
        }
        35% => {
            delegate technical_specialist {
                llm(diagnose, input: 3000, output: 200, latency: 600..1200ms);
                parallel {
                    tool(search_known_issues, 24kb, latency: 150..400ms);
                    tool(get_service_status, 4kb, latency: 50..150ms);
                    tool(fetch_error_logs, 48kb, latency: 300..900ms, fail: 3%);
                }
                delegate escalation_engineer {
                    llm(analyze_logs, input: 6000, output: 400, latency: 1200..2500ms, model: "claude-sonnet-4-5", provider: anthropic);
                    tool(create_bug_ticket, 3kb, latency: 200..500ms, fail: 2%);
                }
                llm(reply_technical, input: 5000, output: 350, latency: 900..1800ms);
            }
        }
        20% => {
            delegate account_specialist {
                llm(verify_identity, input: 2000, output: 80, latency: 300..700ms);
                tool(check_mfa_status, 2kb, latency: 50..150ms);
                tool(reset_credentials, 2kb, latency: 200..600ms, fail: 3%);
                llm(reply_account, input: 2800, output: 200, latency: 600..1200ms);
            }
        }
    }
    tool(log_resolution, 2kb, latency: 30..100ms);
}
