scenario_runtime::scenario! {
    name: s,
    description: "Failure probabilities outside (0, 1]",
    tool(search, 4kb, fail: 150%);
    tool(fetch, 4kb, fail: 0);
    tool(book, 4kb, fail: 2);
}

fn main() {}
