scenario_runtime::scenario! {
    name: s,
    description: "An embeddings request without its input tokens",
    embed(embed_query, model: "text-embedding-3-large");
}

fn main() {}
