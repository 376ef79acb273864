scenario_runtime::scenario! {
    name: s,
    description: "A retrieval without the size of its documents",
    retrieve(product_docs, top_k: 8);
}

fn main() {}
