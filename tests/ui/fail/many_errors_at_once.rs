// Every mistake of a scenario is reported in one compile, each on its own tokens.
scenario_runtime::scenario! {
    name: s,
    description: "Many mistakes",
    llm(plan, input: 100, output: 10, temprature: 0.2);
    tool(search, 40);
    tool(search, 4kb, fail: 200%);
    lm(answer, input: 100, output: 10);
    delegate hotel {}
    repeat 0 { tool(fetch, 1kb); }
    route {
        0.5 => { tool(a, 1kb); }
        0.2 => { tool(b, 1kb); }
    }
    llm(confirm, input: 100, output: 10, latency: 900..300ms);
}

fn main() {}
