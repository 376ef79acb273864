//! `scaletest list` and `scaletest describe`: what the compiled scenarios look like.

use std::process::ExitCode;

use scenario_runtime::{AnyScenario, Range, StepInfo, StepKind};

use crate::format::{binary_bytes as bytes, thousands};

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print the scenarios as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// Scenario name (see `scaletest list`).
    pub name: String,
    /// Print the step tree as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn list(args: &ListArgs) -> ExitCode {
    let all = scenarios::all();
    if args.json {
        let metas: Vec<_> = all.iter().map(|s| s.meta()).collect();
        return print_json(&metas);
    }
    print!("{}", list_table(all));
    ExitCode::SUCCESS
}

pub fn describe(args: &DescribeArgs) -> ExitCode {
    let Some(scenario) = scenarios::find(&args.name) else {
        eprintln!("{}", unknown_scenario(&args.name));
        return ExitCode::from(2);
    };
    if args.json {
        let value =
            serde_json::json!({ "scenario": scenario.meta(), "steps": scenario.describe() });
        return print_json(&value);
    }
    print!("{}", describe_text(scenario));
    ExitCode::SUCCESS
}

/// The error for a scenario name that is not compiled in, listing the known ones.
pub fn unknown_scenario(name: &str) -> String {
    format!("error: unknown scenario `{name}`; expected one of: {}", scenarios::names().join(", "))
}

fn print_json(value: &impl serde::Serialize) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot serialise to JSON: {error}");
            ExitCode::from(1)
        }
    }
}

fn range(r: Range, show: impl Fn(u64) -> String) -> String {
    if r.is_exact() { show(r.min) } else { format!("{}..{}", show(r.min), show(r.max)) }
}

/// The `list` table: one row per scenario with its build-time shape.
fn list_table(all: &[&'static dyn AnyScenario]) -> String {
    let header = ["SCENARIO", "SPANS", "DEPTH", "PAYLOAD", "TOKENS", "LLM", "TOOLS", "DESCRIPTION"];
    let rows: Vec<[String; 8]> = all
        .iter()
        .map(|s| {
            let m = s.meta();
            [
                m.name.to_owned(),
                range(m.shape.spans, |v| v.to_string()),
                m.shape.depth.to_string(),
                range(m.shape.payload_bytes, bytes),
                range(m.shape.tokens, thousands),
                range(m.shape.llm_calls, |v| v.to_string()),
                range(m.shape.tool_calls, |v| v.to_string()),
                m.description.to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: &[String]| {
        let line: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| match i {
                0 | 7 => format!("{cell:<w$}", w = widths[i]),
                _ => format!("{cell:>w$}", w = widths[i]),
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    };
    push_row(&header.map(str::to_owned));
    for row in &rows {
        push_row(row);
    }
    out
}

/// The `describe` text: a header with the shape, then the step tree, one step per line.
fn describe_text(scenario: &dyn AnyScenario) -> String {
    let m = scenario.meta();
    let shape = &m.shape;
    let mut out = format!("{}: {}\n", m.name, m.description);
    out.push_str(&format!(
        "spans {}, depth {}, payload {}, tokens {}, LLM calls {}, tool calls {}\n",
        range(shape.spans, |v| v.to_string()),
        shape.depth,
        range(shape.payload_bytes, bytes),
        range(shape.tokens, thousands),
        range(shape.llm_calls, |v| v.to_string()),
        range(shape.tool_calls, |v| v.to_string()),
    ));
    out.push_str(&format!("default model {} ({})\n", m.model, m.provider));
    if let Some(session) = &m.session {
        let turns = if session.min_turns == session.max_turns {
            session.min_turns.to_string()
        } else {
            format!("{}..{}", session.min_turns, session.max_turns)
        };
        out.push_str(&format!(
            "each run is one turn of a conversation of {turns} turns, {} apart\n",
            session.think
        ));
    }
    out.push('\n');
    let indent = match m.workflow {
        Some(workflow) => {
            out.push_str(&format!("invoke_workflow {workflow}\n  "));
            "  "
        }
        None => "",
    };
    out.push_str(&format!("invoke_agent {}\n", m.agent));
    for step in scenario.describe() {
        out.push_str(indent);
        out.push_str(&"  ".repeat(step.depth as usize + 1));
        out.push_str(&step_line(&step, m.model));
        out.push('\n');
    }
    out
}

fn step_line(step: &StepInfo, default_model: &str) -> String {
    let mut parts = vec![match step.kind {
        StepKind::Llm => format!("llm {}", step.name),
        StepKind::Tool => format!("tool {}", step.name),
        StepKind::Mcp if step.server_span => format!("mcp {} (with server span)", step.name),
        StepKind::Mcp => format!("mcp {}", step.name),
        StepKind::Embed => format!("embed {}", step.name),
        StepKind::Retrieve => format!("retrieve {}", step.name),
        StepKind::CreateAgent => format!("create_agent {}", step.name),
        StepKind::Delegate => format!("delegate {}", step.name),
        StepKind::Parallel => "parallel".to_owned(),
        StepKind::Route => "route".to_owned(),
        StepKind::Branch => format!("{} =>", step.weight.unwrap_or_default()),
        StepKind::Repeat => format!("repeat {}", step.times.unwrap_or_default()),
    }];
    match (step.input_tokens, step.output_tokens) {
        (Some(input), Some(output)) => parts.push(format!(
            "tokens {} in / {} out",
            thousands(input.into()),
            thousands(output.into())
        )),
        (Some(input), None) => parts.push(format!("tokens {} in", thousands(input.into()))),
        _ => {}
    }
    if let Some(size) = step.bytes {
        parts.push(bytes(size));
    }
    if let Some(latency) = step.latency {
        parts.push(latency.to_string());
    }
    if let Some(model) = step.model.filter(|model| *model != default_model) {
        parts.push(format!("model {model}"));
    }
    if let Some(fail) = step.fail {
        parts.push(format!("fail {}%", fail * 100.0));
    }
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_shows_every_builtin_scenario_with_its_shape() {
        let table = list_table(scenarios::all());
        for scenario in scenarios::all() {
            let meta = scenario.meta();
            let row = table
                .lines()
                .find(|line| line.starts_with(&format!("{} ", meta.name)))
                .unwrap_or_else(|| panic!("no row for {}", meta.name));
            assert!(row.contains(&range(meta.shape.spans, |v| v.to_string())), "{row}");
            assert!(row.contains(meta.description), "{row}");
        }
    }

    #[test]
    fn describe_lists_every_step_indented_by_depth() {
        for scenario in scenarios::all() {
            let text = describe_text(*scenario);
            let steps = scenario.describe();
            let body: Vec<&str> = text
                .lines()
                .skip_while(|l| !l.trim().starts_with("invoke_agent"))
                .skip(1)
                .collect();
            assert_eq!(body.len(), steps.len(), "{text}");
            let workflow = 2 * usize::from(scenario.meta().workflow.is_some());
            for (line, step) in body.iter().zip(&steps) {
                let indent = line.len() - line.trim_start().len();
                assert_eq!(indent, workflow + 2 * (step.depth as usize + 1), "{line}");
            }
        }
    }

    #[test]
    fn unknown_scenario_names_the_value_and_the_known_ones() {
        let message = unknown_scenario("no_such");
        assert!(message.contains("`no_such`"));
        for name in scenarios::names() {
            assert!(message.contains(name), "{message}");
        }
    }
}
