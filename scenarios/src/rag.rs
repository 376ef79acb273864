//! Retrieval-augmented answering: the shape of a documentation or support assistant.

scenario_runtime::scenario! {
    name: rag_answer,
    description: "Answer from documents: rewrite the query, embed it, query three vector stores and a keyword index in parallel, rerank, then answer with citations or ask a clarifying question",
    agent: research_assistant,
    expect: { spans: 9..10, depth: 2, bytes: 190kb..210kb, tokens: 8000..11000, llm_calls: 2, tool_calls: 2..3 },

    llm(rewrite_query, input: 900, output: 80, latency: 200..500ms, model: "gpt-4o-mini");
    embed(embed_query, input: 40, latency: 30..80ms);
    parallel {
        retrieve(product_docs, 48kb, top_k: 8, latency: 80..250ms);
        retrieve(support_tickets, 32kb, top_k: 6, latency: 100..300ms, fail: 2%);
        retrieve(wiki, 40kb, top_k: 8, latency: 80..250ms);
        tool(keyword_search, 24kb, latency: 50..150ms);
    }
    tool(rerank, 16kb, latency: 120..300ms);
    route {
        0.85 => {
            llm(answer_with_citations, input: 9000, output: 600, latency: 1200..2800ms, cached: 1024);
            tool(verify_citations, 4kb, latency: 50..150ms);
        }
        0.15 => {
            llm(ask_clarifying_question, input: 7000, output: 120, latency: 600..1200ms, cached: 1024);
        }
    }
}
