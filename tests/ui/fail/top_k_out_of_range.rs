scenario_runtime::scenario! {
    name: s,
    description: "A retrieval asking for no documents",
    retrieve(product_docs, 24kb, top_k: 0);
}

fn main() {}
