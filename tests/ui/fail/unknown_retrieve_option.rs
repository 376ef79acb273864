scenario_runtime::scenario! {
    name: s,
    description: "A retrieval with an option of llm steps",
    retrieve(product_docs, 24kb, top_k: 8, input: 40);
}

fn main() {}
