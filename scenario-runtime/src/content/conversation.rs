//! The conversation an agent builds up during a trace, and the prompts cut from it.
//!
//! Real agents resend their whole history on every model call: the system prompt, the user's
//! request, each answer with its tool calls, each tool result. So prompts grow through a trace
//! until the context budget trims the oldest turns, and consecutive prompts share long prefixes
//! (which is what makes batches of real traces compress well). [`Conversation`] reproduces that:
//! every message is rendered once into its GenAI JSON form (`{"role":..,"parts":[..]}`) when it
//! joins the history, and a prompt is the newest messages that fit the step's token budget,
//! copied into one JSON array.

use std::ops::Range;

use rand::rngs::SmallRng;

use super::{Facts, ToolKind};

/// Where a message's text part starts.
const USER_PREFIX: &str = r#"{"role":"user","parts":[{"type":"text","content":""#;
const ASSISTANT_PREFIX: &str = r#"{"role":"assistant","parts":[{"type":"text","content":""#;
/// Closes a message whose last part is text.
const TEXT_SUFFIX: &str = r#""}]}"#;
/// Closes a tool response message.
const TOOL_SUFFIX: &str = "}]}";

/// A prompt shorter than this is not topped up with a new user message.
const MIN_FILLER: usize = 24;
/// An answer with tool calls has a text part only if this much room is left for it.
const MIN_TEXT_WITH_CALLS: usize = 48;
/// Messages are not cut shorter than this; older ones are dropped instead.
const MIN_PARTIAL: usize = 256;
/// Room kept for the user's new message on the first call of a conversation's later turn,
/// however long the history: a turn always starts with what the user says.
const TURN_MESSAGE: usize = 1_200;

/// One message of the history.
#[derive(Debug)]
struct Entry {
    role: &'static str,
    /// The rendered message; for a [`Body::Generated`] one, only what precedes the content.
    json: String,
    /// Where the content lies in the rendered message (past the end of `json` for a
    /// [`Body::Generated`] one, whose content is produced when a prompt needs it).
    content: Range<usize>,
    /// Whether the content is JSON (a tool result), which must be quoted when cut.
    json_content: bool,
    body: Body,
}

/// How an entry's content is kept.
#[derive(Debug)]
enum Body {
    /// In `json`.
    Rendered,
    /// A tool result kept as the random state that generated it: produced again (a copy from
    /// the pools) when a prompt includes it, so the history holds no second copy of results
    /// that can weigh megabytes.
    Generated { kind: ToolKind, facts: Option<Facts>, rng: SmallRng },
}

impl Entry {
    /// The content of a rendered entry (empty for a generated one).
    fn content(&self) -> &str {
        self.json.get(self.content.clone()).unwrap_or("")
    }

    /// The suffix that closes the message after its content.
    fn suffix(&self) -> &str {
        match self.body {
            Body::Rendered => &self.json[self.content.end..],
            Body::Generated { .. } => TOOL_SUFFIX,
        }
    }

    /// Appends the whole message to `out`; returns where its content lies in `out`.
    fn render(&self, out: &mut String) -> Range<usize> {
        let offset = out.len();
        match &self.body {
            Body::Rendered => {
                out.push_str(&self.json);
                offset + self.content.start..offset + self.content.end
            }
            Body::Generated { kind, facts, rng } => {
                out.push_str(&self.json);
                let start = out.len();
                let size = self.content.len();
                super::push_tool_result_about(out, *kind, facts.as_ref(), &mut rng.clone(), size);
                let content = start..out.len();
                out.push_str(TOOL_SUFFIX);
                content
            }
        }
    }

    /// Appends the message with its content cut to `cap` bytes; returns where the content
    /// lies in `out`. A generated tool result keeps its first records and says it was
    /// truncated; other JSON content becomes a JSON string.
    fn render_cut(&self, out: &mut String, cap: usize) -> Range<usize> {
        out.push_str(&self.json[..self.content.start]);
        let start = out.len();
        match &self.body {
            Body::Rendered if !self.json_content => {
                let mut end = self.content.start + cap.min(self.content.len());
                while !self.json.is_char_boundary(end) {
                    end -= 1;
                }
                out.push_str(&self.json[self.content.start..end]);
            }
            Body::Rendered => {
                out.push('"');
                super::push_json_escaped(out, self.content(), cap);
                out.push('"');
            }
            Body::Generated { kind, facts, rng } => {
                let size = self.content.len();
                let facts = facts.as_ref();
                super::push_truncated_tool_result(out, *kind, facts, &mut rng.clone(), size, cap);
            }
        }
        let content = start..out.len();
        out.push_str(self.suffix());
        content
    }
}

/// A prompt: the `gen_ai.input.messages` JSON and where each message's content lies in it.
#[derive(Debug)]
pub struct Prompt {
    pub json: String,
    /// Role and content range (in `json`) of each message, oldest first.
    pub messages: Vec<(&'static str, Range<usize>)>,
    /// Bytes at the start of the prompt identical to the previous prompt's start (the history
    /// kept whole), which a provider's prompt cache would serve.
    pub cached_bytes: usize,
}

impl Prompt {
    /// The content of message `index`.
    pub fn content(&self, index: usize) -> &str {
        self.messages.get(index).map_or("", |(_, range)| &self.json[range.clone()])
    }

    /// The id of the call a `tool` message `index` answers: the `id` its
    /// `tool_call_response` part carries, just before the content.
    pub fn tool_call_id(&self, index: usize) -> Option<&str> {
        let (role, range) = self.messages.get(index)?;
        if *role != "tool" {
            return None;
        }
        let before = self.json[..range.start].strip_suffix(TOOL_ID_END)?;
        let start = before.rfind(TOOL_ID_START)? + TOOL_ID_START.len();
        Some(&before[start..])
    }
}

/// What surrounds the call id in a tool message (see [`tool_prefix`]).
const TOOL_ID_START: &str = r#""type":"tool_call_response","id":""#;
const TOOL_ID_END: &str = r#"","response":"#;

/// An assistant answer: its history form and its `gen_ai.output.messages` form.
#[derive(Debug)]
pub struct Answer {
    /// `[{"role":"assistant","parts":[..],"finish_reason":".."}]`
    pub output_json: String,
    /// The answer's text (empty when the answer is only tool calls).
    pub text: Range<usize>,
}

/// The messages one agent has exchanged so far in a trace.
#[derive(Debug, Default)]
pub struct Conversation {
    entries: Vec<Entry>,
    first_user: Option<usize>,
    last_assistant: Option<usize>,
    /// Set when earlier turns were replayed ([`Self::replay_turns`]) and the user has not
    /// spoken yet in this one.
    turn_pending: bool,
    last_kind: Option<ToolKind>,
    /// What new messages' prose is about (see [`Self::set_topic`]).
    topic: Option<super::Topic>,
}

/// One finished turn of a multi-turn conversation: what the user said and what the agent
/// answered (each the inside of a JSON string), replayed as history into the next turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub user: String,
    pub assistant: String,
}

impl Conversation {
    /// Makes the prose of the messages written from now on about `topic` (the trace's facts,
    /// in its domain's sentences); without one it is about no trace.
    pub fn set_topic(&mut self, topic: super::Topic) {
        self.topic = Some(topic);
    }

    /// Messages in the history.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first user message's text, if any: what the agent was asked. Like
    /// [`Self::last_assistant_text`], it is the inside of the message's JSON string.
    pub fn first_user_text(&self) -> Option<&str> {
        self.first_user.map(|i| self.entries[i].content())
    }

    /// The last answer's text, if any: what the agent concluded.
    pub fn last_assistant_text(&self) -> Option<&str> {
        self.last_assistant.map(|i| self.entries[i].content())
    }

    fn push(&mut self, entry: Entry) {
        match entry.role {
            "user" if self.first_user.is_none() => self.first_user = Some(self.entries.len()),
            "assistant" => self.last_assistant = Some(self.entries.len()),
            _ => {}
        }
        self.entries.push(entry);
    }

    /// Builds the prompt of a model call with a budget of `budget` bytes: the history, then a
    /// new user message filling what is left (it joins the history). The system instructions
    /// travel apart (`gen_ai.system_instructions`) and are not part of the budget given here.
    ///
    /// When the history does not fit, long messages are cut first, all to the same length (as
    /// agents truncate long tool outputs), and only when even cut messages do not fit are the
    /// oldest dropped. A cut tool result keeps its first records and a `"truncated":true`.
    pub fn prompt(&mut self, budget: usize, rng: &mut SmallRng) -> Prompt {
        self.prompt_with(budget, "", rng)
    }

    /// [`Self::prompt`] whose new user message, when the agent has not been asked anything
    /// yet in this turn, opens with `lead` (the request in the words of the trace's facts).
    pub fn prompt_with(&mut self, budget: usize, lead: &str, rng: &mut SmallRng) -> Prompt {
        let mut json = String::with_capacity(budget + 64);
        let mut messages = Vec::with_capacity(self.entries.len() + 2);
        json.push('[');
        let reserve = if self.turn_pending { TURN_MESSAGE.min(budget / 3) } else { 0 };
        let available = budget.saturating_sub(2 + reserve);

        // Which messages to keep (the newest from `first`) and how long their content may be.
        let mut first = 0;
        let mut cap = usize::MAX;
        if self.cost(first, usize::MAX) > available {
            while first + 1 < self.entries.len() && self.cost(first, MIN_PARTIAL) > available {
                first += 1;
            }
            let (mut low, mut high) = (MIN_PARTIAL.min(available), available);
            while low < high {
                let middle = low + (high - low).div_ceil(2);
                if self.cost(first, middle) <= available {
                    low = middle;
                } else {
                    high = middle - 1;
                }
            }
            cap = low;
        }
        let mut cached_bytes = if first == 0 { usize::MAX } else { 0 };
        for entry in &self.entries[first..] {
            if json.len() > 1 {
                json.push(',');
            }
            let content = if entry.content.len() <= cap {
                entry.render(&mut json)
            } else {
                cached_bytes = cached_bytes.min(json.len());
                entry.render_cut(&mut json, cap)
            };
            messages.push((entry.role, content));
        }
        let cached_bytes = cached_bytes.min(json.len());

        // A new user turn with what is left (the whole budget on an agent's first call).
        let used = json.len() + 1;
        let remaining = budget.saturating_sub(used);
        let overhead = usize::from(json.len() > 1) + USER_PREFIX.len() + TEXT_SUFFIX.len();
        if remaining >= overhead + MIN_FILLER || self.entries.is_empty() || self.turn_pending {
            let asking = self.first_user.is_none() || self.turn_pending;
            self.turn_pending = false;
            let text_len = remaining.saturating_sub(overhead).max(MIN_FILLER);
            let mut entry_json = String::with_capacity(USER_PREFIX.len() + text_len + 4);
            entry_json.push_str(USER_PREFIX);
            let content_start = entry_json.len();
            let lead = if asking { lead } else { "" };
            let topic = self.topic.as_ref();
            super::push_led_about(&mut entry_json, lead, topic, text_len, rng);
            let content = content_start..entry_json.len();
            entry_json.push_str(TEXT_SUFFIX);
            if json.len() > 1 {
                json.push(',');
            }
            let offset = json.len();
            json.push_str(&entry_json);
            messages.push(("user", offset + content.start..offset + content.end));
            self.push(Entry {
                role: "user",
                json: entry_json,
                content,
                json_content: false,
                body: Body::Rendered,
            });
        }
        json.push(']');
        Prompt { json, messages, cached_bytes }
    }

    /// Bytes the history from entry `first` on takes in a prompt when contents longer than
    /// `cap` are cut to `cap` (a cut JSON content gains two quotes).
    fn cost(&self, first: usize, cap: usize) -> usize {
        self.entries[first.min(self.entries.len())..]
            .iter()
            .map(|entry| {
                let len = entry.content.len();
                let overhead = 1 + entry.content.start + entry.suffix().len();
                if len <= cap {
                    overhead + len
                } else {
                    overhead + cap + if entry.json_content { 2 } else { 0 }
                }
            })
            .sum()
    }

    /// Builds an answer of about `budget` bytes of output JSON: text, then one `tool_call` part
    /// per `(id, name, arguments)` call, and adds it to the history.
    pub fn answer(
        &mut self,
        budget: usize,
        calls: &[(String, &str, String)],
        finish_reason: &str,
        rng: &mut SmallRng,
    ) -> Answer {
        self.answer_with(budget, calls, finish_reason, "", rng)
    }

    /// [`Self::answer`] whose text opens with `lead` (what the answer concludes, in the words
    /// of the trace's facts).
    pub fn answer_with(
        &mut self,
        budget: usize,
        calls: &[(String, &str, String)],
        finish_reason: &str,
        lead: &str,
        rng: &mut SmallRng,
    ) -> Answer {
        let mut call_parts = String::new();
        for (id, name, arguments) in calls {
            call_parts.push_str(r#",{"type":"tool_call","id":""#);
            call_parts.push_str(id);
            call_parts.push_str(r#"","name":"#);
            super::push_json_str(&mut call_parts, name);
            call_parts.push_str(r#","arguments":"#);
            call_parts.push_str(arguments);
            call_parts.push('}');
        }
        let finish = format!(r#","finish_reason":"{finish_reason}"}}]"#);
        let overhead = 1 + ASSISTANT_PREFIX.len() + 2 + call_parts.len() + 2 + finish.len();
        let room = budget.saturating_sub(overhead);

        let mut entry_json = String::with_capacity(overhead + room.max(MIN_FILLER));
        let content = if calls.is_empty() || room >= MIN_TEXT_WITH_CALLS {
            entry_json.push_str(ASSISTANT_PREFIX);
            let start = entry_json.len();
            let topic = self.topic.as_ref();
            super::push_led_about(&mut entry_json, lead, topic, room.max(MIN_FILLER), rng);
            let content = start..entry_json.len();
            entry_json.push('"');
            entry_json.push('}');
            entry_json.push_str(&call_parts);
            content
        } else {
            // No room for words: the answer is its tool calls alone, as models often send.
            entry_json.push_str(r#"{"role":"assistant","parts":["#);
            let start = entry_json.len();
            entry_json.push_str(&call_parts[1..]);
            start..start
        };
        entry_json.push_str("]}");

        let mut output_json = String::with_capacity(entry_json.len() + finish.len() + 1);
        output_json.push('[');
        output_json.push_str(&entry_json[..entry_json.len() - 1]);
        output_json.push_str(&finish);
        let text = 1 + content.start..1 + content.end;
        self.push(Entry {
            role: "assistant",
            json: entry_json,
            content,
            json_content: false,
            body: Body::Rendered,
        });
        Answer { output_json, text }
    }

    /// Adds a tool's result (JSON) as the response to call `call_id`.
    pub fn push_tool_result(&mut self, call_id: &str, result: &str) {
        let mut json = tool_prefix(call_id, result.len());
        let start = json.len();
        json.push_str(result);
        let content = start..json.len();
        json.push_str(TOOL_SUFFIX);
        self.push(Entry { role: "tool", json, content, json_content: true, body: Body::Rendered });
    }

    /// Adds the response to call `call_id`: the tool result of `kind` and `size` bytes that
    /// [`super::tool_result`] produces from `rng` (a copy of its state before it did).
    pub fn push_generated_tool_result(
        &mut self,
        call_id: &str,
        kind: ToolKind,
        rng: SmallRng,
        size: usize,
    ) {
        self.push_generated_tool_result_about(call_id, kind, None, rng, size);
    }

    /// [`Self::push_generated_tool_result`] for a result about `facts`
    /// ([`super::push_tool_result_about`]).
    pub fn push_generated_tool_result_about(
        &mut self,
        call_id: &str,
        kind: ToolKind,
        facts: Option<Facts>,
        rng: SmallRng,
        size: usize,
    ) {
        let json = tool_prefix(call_id, 0);
        let start = json.len();
        self.last_kind = Some(kind);
        self.push(Entry {
            role: "tool",
            json,
            content: start..start + size,
            json_content: true,
            body: Body::Generated { kind, facts, rng },
        });
    }

    /// The kind of the last tool result generated into this conversation, if any: what the
    /// agent's answer is about.
    pub fn last_tool_kind(&self) -> Option<ToolKind> {
        self.last_kind
    }

    /// Adds context the application put before the model: a user-role message of `text`
    /// (the inside of a JSON string), such as retrieved documents. It does not count as what
    /// the agent was asked ([`Self::first_user_text`]).
    pub fn push_context(&mut self, text: &str) {
        let mut json = String::with_capacity(USER_PREFIX.len() + text.len() + TEXT_SUFFIX.len());
        json.push_str(USER_PREFIX);
        let start = json.len();
        json.push_str(text);
        let content = start..json.len();
        json.push_str(TEXT_SUFFIX);
        self.entries.push(Entry {
            role: "user",
            json,
            content,
            json_content: false,
            body: Body::Rendered,
        });
    }

    /// Puts a conversation's earlier turns in front of this one's messages, oldest first, as
    /// chat applications resend them; the next prompt then keeps room for the user's new
    /// message. They are history only: [`Self::first_user_text`] and
    /// [`Self::last_assistant_text`] stay this turn's.
    pub fn replay_turns(&mut self, turns: &[Turn]) {
        for turn in turns {
            for (role, prefix, text) in [
                ("user", USER_PREFIX, &turn.user),
                ("assistant", ASSISTANT_PREFIX, &turn.assistant),
            ] {
                let mut json = String::with_capacity(prefix.len() + text.len() + 8);
                json.push_str(prefix);
                let start = json.len();
                json.push_str(text);
                let content = start..json.len();
                json.push_str(TEXT_SUFFIX);
                self.entries.push(Entry {
                    role,
                    json,
                    content,
                    json_content: false,
                    body: Body::Rendered,
                });
            }
        }
        self.turn_pending = !turns.is_empty();
    }

    /// Adds what a sub-agent named `agent` answered; `text` is the inside of a JSON string, as
    /// [`Self::last_assistant_text`] gives it.
    pub fn push_agent_answer(&mut self, agent: &str, text: &str) {
        let mut json = String::with_capacity(80 + agent.len() + text.len());
        json.push_str(r#"{"role":"assistant","name":"#);
        super::push_json_str(&mut json, agent);
        json.push_str(r#","parts":[{"type":"text","content":""#);
        let start = json.len();
        json.push_str(text);
        let content = start..json.len();
        json.push_str(TEXT_SUFFIX);
        self.push(Entry {
            role: "assistant",
            json,
            content,
            json_content: false,
            body: Body::Rendered,
        });
    }
}

/// The start of a tool response message, up to its content.
fn tool_prefix(call_id: &str, content_capacity: usize) -> String {
    let mut json = String::with_capacity(64 + call_id.len() + content_capacity + 3);
    json.push_str(r#"{"role":"tool","parts":[{"#);
    json.push_str(TOOL_ID_START);
    json.push_str(call_id);
    json.push_str(TOOL_ID_END);
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> serde_json::Value {
        match serde_json::from_str(json) {
            Ok(value) => value,
            Err(error) => panic!("invalid JSON ({error}): {json}"),
        }
    }

    #[test]
    fn tool_messages_tell_which_call_they_answer() {
        let mut conversation = Conversation::default();
        conversation.push_tool_result("call_abc123", r#"{"ok":true}"#);
        let prompt = conversation.prompt(4000, &mut super::super::rng(1));
        let tool = prompt.messages.iter().position(|(role, _)| *role == "tool");
        let tool = tool.unwrap_or_else(|| panic!("no tool message in {}", prompt.json));
        assert_eq!(prompt.tool_call_id(tool), Some("call_abc123"));
        let user = prompt.messages.iter().position(|(role, _)| *role == "user");
        assert_eq!(user.and_then(|i| prompt.tool_call_id(i)), None);
    }

    #[test]
    fn prompts_fill_their_budget_and_grow_with_the_history() {
        let mut rng = super::super::rng(3);
        let mut conversation = Conversation::default();
        let mut previous = 0;
        for (turn, budget) in [4_000usize, 9_000, 14_000, 20_000, 30_000].into_iter().enumerate() {
            let prompt = conversation.prompt(budget, &mut rng);
            let value = parse(&prompt.json);
            let count = value.as_array().map_or(0, Vec::len);
            assert!(count > previous, "turn {turn}: {count} messages after {previous}");
            previous = count;
            assert!(prompt.json.len() <= budget, "{} > {budget}", prompt.json.len());
            assert!(prompt.json.len() + 200 >= budget, "{} << {budget}", prompt.json.len());
            let id = format!("call_{turn}");
            let answer = conversation.answer(
                600,
                &[(id.clone(), "search_flights", r#"{"origin":"SFO"}"#.to_owned())],
                "tool_call",
                &mut rng,
            );
            parse(&answer.output_json);
            conversation.push_tool_result(&id, r#"{"results":[{"a":"b"}]}"#);
        }
    }

    #[test]
    fn a_small_budget_cuts_long_messages_and_keeps_their_order() {
        let mut rng = super::super::rng(4);
        let mut conversation = Conversation::default();
        conversation.prompt(2_000, &mut rng);
        let big = super::super::tool_result(super::super::ToolKind::Hotels, &mut rng, 20_000);
        conversation.push_tool_result("call_1", &big);
        let prompt = conversation.prompt(6_000, &mut rng);
        let value = parse(&prompt.json);
        assert!(prompt.json.len() <= 6_000 && prompt.json.len() + 100 >= 6_000);
        // the user's request, the tool result cut (a rendered result becomes a string)
        assert_eq!(value.as_array().map(Vec::len), Some(2), "{}", prompt.json);
        assert_eq!(value[0]["role"], "user");
        assert_eq!(value[1]["role"], "tool");
        assert!(value[1]["parts"][0]["response"].is_string());
        for (index, (role, _)) in prompt.messages.iter().enumerate() {
            assert_eq!(value[index]["role"], *role);
        }
    }

    #[test]
    fn a_tiny_budget_drops_the_oldest_messages() {
        let mut rng = super::super::rng(5);
        let mut conversation = Conversation::default();
        conversation.prompt(2_000, &mut rng);
        for i in 0..20 {
            conversation.push_tool_result(&format!("call_{i}"), r#"{"ok":true}"#);
        }
        let prompt = conversation.prompt(1_000, &mut rng);
        let value = parse(&prompt.json);
        assert!(prompt.json.len() <= 1_000, "{}", prompt.json.len());
        let messages = value.as_array().map_or(0, Vec::len);
        assert!(messages > 1 && messages < 21, "{messages}");
        let tools: Vec<&serde_json::Value> =
            value.as_array().into_iter().flatten().filter(|m| m["role"] == "tool").collect();
        assert!(tools.len() < 20);
        assert_eq!(tools.last().map(|m| &m["parts"][0]["id"]), Some(&"call_19".into()));
    }

    #[test]
    fn generated_results_render_as_the_tool_produced_them() {
        let mut rng = super::super::rng(6);
        let mut conversation = Conversation::default();
        conversation.prompt(1_000, &mut rng);
        let saved = rng.clone();
        let result = super::super::tool_result(ToolKind::Flights, &mut rng, 30_000);
        conversation.push_generated_tool_result("call_9", ToolKind::Flights, saved.clone(), 30_000);
        let whole = conversation.prompt(40_000, &mut rng);
        assert!(whole.json.contains(&result), "the history holds what the tool returned");
        let value = parse(&whole.json);
        assert_eq!(value[1]["parts"][0]["response"], parse(&result));

        let mut other = Conversation::default();
        other.prompt(1_000, &mut super::super::rng(6));
        other.push_generated_tool_result("call_9", ToolKind::Flights, saved, 30_000);
        let cut = other.prompt(5_000, &mut rng);
        let value = parse(&cut.json);
        let response = &value[1]["parts"][0]["response"];
        assert_eq!(response["truncated"], true, "{response}");
        let records = response["results"].as_array().map_or(0, Vec::len);
        assert!(records >= 1, "{response}");
        assert_eq!(response["results"][0], parse(&result)["results"][0]);
    }
}
