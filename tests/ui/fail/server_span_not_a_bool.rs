scenario_runtime::scenario! {
    name: s,
    description: "A server span flag written as a word",
    mcp(crm, get_customer, 3kb, server_span: yes);
}

fn main() {}
