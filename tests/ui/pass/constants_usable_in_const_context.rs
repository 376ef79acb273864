// The shape constants are real constants: usable in const items, array lengths and asserts.
scenario_runtime::scenario! {
    name: checkout,
    description: "A cart checked out",
    llm(plan, input: 800, output: 60);
    parallel {
        tool(get_cart, 2kb);
        tool(get_addresses, 1kb);
    }
    llm(confirm, input: 1200, output: 90);
}

const _: () = assert!(checkout::SPANS == 5);
const _: () = assert!(checkout::DEPTH == 2);
const _: () = assert!(checkout::SHAPE.tool_calls.min == 2);
const PER_SPAN: [u8; checkout::SPANS as usize] = [0; checkout::SPANS as usize];

fn main() {
    assert_eq!(PER_SPAN.len(), 5);
    assert_eq!(checkout::BYTES_MIN, (800 + 60 + 1200 + 90) * 4 + 3 * 1024);
}
