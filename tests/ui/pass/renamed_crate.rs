// The expansion refers to the runtime through `$crate`, so a renamed runtime works.
extern crate scenario_runtime as rt;

rt::scenario! {
    name: renamed,
    description: "Written through a renamed runtime",
    llm(plan, input: 100, output: 10);
    delegate helper {
        tool(fetch, 1kb);
    }
}

fn main() {
    assert_eq!(renamed::SPANS, 4);
    assert_eq!(renamed::DEPTH, 3);
    let shape: rt::Shape = renamed::SHAPE;
    assert_eq!(shape.spans, rt::Range::exact(4));
}
