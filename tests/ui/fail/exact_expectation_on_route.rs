scenario_runtime::scenario! {
    name: s,
    description: "An exact expectation where a route makes the count vary",
    expect: { spans: 3 },
    route {
        0.5 => { llm(a, input: 10, output: 10); }
        0.5 => { llm(b, input: 10, output: 10); tool(c, 1kb); }
    }
}

fn main() {}
