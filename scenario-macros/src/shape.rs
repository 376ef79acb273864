//! The shape of a scenario, computed from the model with the arithmetic of the
//! `scenario-shape` crate (which the runtime's `scenario_runtime::shape` re-exports, so build
//! time and run time count alike; the rules are documented there).

use scenario_shape::Part;
pub use scenario_shape::{Range, Shape};

use crate::model::{Step, StepKind};

/// The shape of a scenario whose root agent runs `steps`, inside an `invoke_workflow` span
/// when `workflow` is set.
pub fn of(steps: &[Step], workflow: bool) -> Shape {
    let shape = block(steps).root();
    if workflow { shape.in_workflow() } else { shape }
}

fn block(steps: &[Step]) -> Part {
    steps.iter().map(step).fold(Part::EMPTY, Part::then)
}

fn step(step: &Step) -> Part {
    match &step.kind {
        StepKind::Llm(llm) => Part::llm(llm.input_tokens, llm.output_tokens),
        StepKind::Tool(tool) => Part::tool(tool.result_bytes),
        StepKind::Delegate { body, .. } => Part::delegate(block(body)),
        StepKind::Parallel { body } => block(body),
        StepKind::Route { branches, .. } => branches
            .iter()
            .map(|branch| block(&branch.body))
            .reduce(Part::or)
            .unwrap_or(Part::EMPTY),
        StepKind::Repeat { times, body } => block(body).times(*times),
        StepKind::Mcp(mcp) if mcp.server_span => Part::mcp_with_server(mcp.result_bytes),
        StepKind::Mcp(mcp) => Part::mcp(mcp.result_bytes),
        StepKind::Embed(embed) => Part::embed(embed.input_tokens),
        StepKind::Retrieve(retrieve) => Part::retrieve(retrieve.result_bytes),
        StepKind::CreateAgent(_) => Part::create_agent(),
    }
}
