//! Renders a trace as a readable tree for the console platform.
//!
//! One line per span, children indented under their parent in start order, with what an author
//! checks first: the span's name and kind, when it started relative to the trace and how long it
//! took, the key GenAI attributes (tokens, finish reason, tool call id), how many bytes of content
//! it carries, and whether it failed.
//!
//! ```text
//! trace 4bf92f3577b34da6a3ce929d0e0e4736  5 spans  36.1 KB  1.95 s
//! invoke_agent assistant  INTERNAL  +0 ms  1950 ms  4.0 KB
//! ├─ chat gpt-4o  CLIENT  +0 ms  400 ms  tokens 1200→150  finish tool_call  5.9 KB
//! ├─ execute_tool search_flights  INTERNAL  +400 ms  250 ms  call call_8Xq…  40.0 KB
//! └─ chat gpt-4o  CLIENT  +650 ms  1300 ms  tokens 3000→100  finish stop  ERROR timeout
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::genai;
use crate::span::{SpanId, SpanKind, SpanRecord, Status, Value};

/// The spans of one trace (in any order) as an indented tree. Spans whose parent is missing
/// are shown as extra roots, marked `(orphan)`.
pub fn render_trace(spans: &[SpanRecord]) -> String {
    let mut out = String::new();
    if spans.is_empty() {
        out.push_str("(no spans)\n");
        return out;
    }
    let by_id: HashMap<SpanId, usize> =
        spans.iter().enumerate().map(|(i, s)| (s.span_id, i)).collect();
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span.parent_span_id {
            Some(parent) if by_id.contains_key(&parent) => {
                children.entry(parent).or_default().push(i);
            }
            _ => roots.push(i),
        }
    }
    let order = |list: &mut Vec<usize>| {
        list.sort_by_key(|&i| (spans[i].start_unix_nanos, spans[i].end_unix_nanos, i));
    };
    order(&mut roots);
    for list in children.values_mut() {
        order(list);
    }

    let trace_start = spans.iter().map(|s| s.start_unix_nanos).min().unwrap_or(0);
    let trace_end = spans.iter().map(|s| s.end_unix_nanos).max().unwrap_or(0);
    let bytes: usize = spans.iter().map(content_bytes).sum();
    let _ = writeln!(
        out,
        "trace {}  {} spans  {}  {}",
        hex(&spans[0].trace_id),
        spans.len(),
        human_bytes(bytes),
        duration(trace_end.saturating_sub(trace_start)),
    );

    let mut stack: Vec<(usize, String, String)> =
        roots.iter().rev().map(|&i| (i, String::new(), String::new())).collect();
    while let Some((index, marker, indent)) = stack.pop() {
        let span = &spans[index];
        out.push_str(&marker);
        line(&mut out, span, trace_start, span.parent_span_id.is_some() && marker.is_empty());
        out.push('\n');
        if let Some(kids) = children.get(&span.span_id) {
            for (k, &child) in kids.iter().enumerate().rev() {
                let last = k + 1 == kids.len();
                let marker = format!("{indent}{}", if last { "└─ " } else { "├─ " });
                let child_indent = format!("{indent}{}", if last { "   " } else { "│  " });
                stack.push((child, marker, child_indent));
            }
        }
    }
    out
}

fn line(out: &mut String, span: &SpanRecord, trace_start: u64, orphan: bool) {
    let kind = match span.kind {
        SpanKind::Internal => "INTERNAL",
        SpanKind::Client => "CLIENT",
        SpanKind::Server => "SERVER",
    };
    let _ = write!(
        out,
        "{}  {kind}  +{}  {}",
        span.name,
        duration(span.start_unix_nanos.saturating_sub(trace_start)),
        duration(span.end_unix_nanos.saturating_sub(span.start_unix_nanos)),
    );
    let int = |key: &str| match span.attribute(key) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    };
    if let (Some(input), Some(output)) =
        (int(genai::USAGE_INPUT_TOKENS), int(genai::USAGE_OUTPUT_TOKENS))
    {
        let _ = write!(out, "  tokens {input}→{output}");
    } else if let Some(input) = int(genai::USAGE_INPUT_TOKENS) {
        let _ = write!(out, "  tokens {input}→-");
    }
    if let Some(Value::StrArray(reasons)) = span.attribute(genai::RESPONSE_FINISH_REASONS) {
        let _ = write!(out, "  finish {}", reasons.join(","));
    }
    if let Some(Value::Str(id)) = span.attribute(genai::TOOL_CALL_ID) {
        let _ = write!(out, "  call {id}");
    }
    let bytes = content_bytes(span);
    if bytes > 0 {
        let _ = write!(out, "  {}", human_bytes(bytes));
    }
    if let Status::Error(description) = &span.status {
        let error = match span.attribute(genai::ERROR_TYPE) {
            Some(Value::Str(e)) => e.as_str(),
            _ => description.as_str(),
        };
        let _ = write!(out, "  ERROR {error}");
    }
    if orphan {
        out.push_str("  (orphan)");
    }
}

/// Bytes of the span's string attributes above 64 bytes: its content (messages, results).
fn content_bytes(span: &SpanRecord) -> usize {
    span.attributes.iter().map(|a| a.value.byte_len()).filter(|&n| n > 64).sum()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn human_bytes(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn duration(nanos: u64) -> String {
    if nanos >= 10_000_000_000 {
        format!("{:.1} s", nanos as f64 / 1e9)
    } else if nanos >= 1_000_000_000 {
        format!("{:.2} s", nanos as f64 / 1e9)
    } else {
        format!("{} ms", nanos / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Attribute;

    fn span(id: u8, parent: Option<u8>, name: &str, start_ms: u64, end_ms: u64) -> SpanRecord {
        SpanRecord {
            trace_id: [0xab; 16],
            span_id: [id; 8],
            parent_span_id: parent.map(|p| [p; 8]),
            name: name.to_owned(),
            kind: if name.starts_with("chat") { SpanKind::Client } else { SpanKind::Internal },
            start_unix_nanos: start_ms * 1_000_000,
            end_unix_nanos: end_ms * 1_000_000,
            status: Status::Unset,
            attributes: Vec::new(),
        }
    }

    #[test]
    fn renders_children_in_start_order_under_their_parent() {
        let mut chat = span(2, Some(1), "chat gpt-4o", 0, 400);
        chat.attributes = vec![
            Attribute::new(genai::USAGE_INPUT_TOKENS, 1200u32),
            Attribute::new(genai::USAGE_OUTPUT_TOKENS, 150u32),
            Attribute::new(genai::RESPONSE_FINISH_REASONS, vec!["tool_call".to_owned()]),
            Attribute::new(genai::INPUT_MESSAGES, "x".repeat(2048)),
        ];
        let mut tool = span(3, Some(4), "execute_tool search_flights", 500, 750);
        tool.status = Status::Error("timeout".into());
        tool.attributes = vec![Attribute::new(genai::ERROR_TYPE, "timeout")];
        // Emitted children first, as the sink receives them.
        let spans = vec![
            tool,
            chat,
            span(4, Some(1), "invoke_agent hotel", 400, 800),
            span(1, None, "invoke_agent assistant", 0, 1000),
        ];
        let text = render_trace(&spans);
        let expected = "\
trace abababababababababababababababab  4 spans  2.0 KB  1.00 s
invoke_agent assistant  INTERNAL  +0 ms  1.00 s
├─ chat gpt-4o  CLIENT  +0 ms  400 ms  tokens 1200→150  finish tool_call  2.0 KB
└─ invoke_agent hotel  INTERNAL  +400 ms  400 ms
   └─ execute_tool search_flights  INTERNAL  +500 ms  250 ms  ERROR timeout
";
        assert_eq!(text, expected);
    }

    #[test]
    fn marks_orphans() {
        let spans = vec![span(1, None, "invoke_agent a", 0, 10), span(2, Some(9), "chat m", 1, 2)];
        let text = render_trace(&spans);
        assert!(text.contains("chat m  CLIENT  +1 ms  1 ms  (orphan)"), "{text}");
        assert_eq!(render_trace(&[]), "(no spans)\n");
    }
}
