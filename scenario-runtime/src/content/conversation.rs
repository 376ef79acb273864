//! The conversation an agent builds up during a trace, and the prompts cut from it.
//!
//! Real agents resend their whole history on every model call: the system prompt, the user's
//! request, each answer with its tool calls, each tool result. So prompts grow through a trace
//! until the context budget trims the oldest turns, and consecutive prompts share long prefixes
//! (which is what makes batches of real traces compress well). [`Conversation`] reproduces that:
//! a prompt is the newest messages that fit the step's token budget, in their GenAI JSON form
//! (`{"role":..,"parts":[..]}`), in one JSON array.
//!
//! A trace in flight spends most of its life waiting between steps, holding its agents'
//! histories. So the history keeps each message's JSON frame and, for the text and tool results
//! written from the content pools, the random state that wrote them rather than the text:
//! a prompt that includes a message writes it again, byte for byte the same.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use rand::rngs::SmallRng;

use super::{Facts, ToolKind, Topic};

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

/// The frame of a user message of text: [`USER_PREFIX`], then [`TEXT_SUFFIX`].
const USER_FRAME: &str =
    concat!(r#"{"role":"user","parts":[{"type":"text","content":""#, r#""}]}"#);
/// The frame of an assistant message of text alone.
const ASSISTANT_FRAME: &str =
    concat!(r#"{"role":"assistant","parts":[{"type":"text","content":""#, r#""}]}"#);

/// How much of the first user message's text a conversation keeps written
/// ([`Conversation::first_user_text_cut`]): what an agent span summarises.
const HEAD_BYTES: usize = 512;

/// One message of the history: 104 bytes besides what its frame and body point to (a trace in
/// flight keeps a few dozen).
#[derive(Debug)]
struct Entry {
    body: Body,
    /// The message without its content: what precedes the content, then what follows it.
    frame: Frame,
    /// Bytes of `frame` before the content.
    split: u32,
    /// Bytes of content (for a [`Body::Tool`], the size asked of the tool).
    len: u32,
    role: Role,
    /// Whether the content is JSON (a tool result), which must be quoted when cut.
    json_content: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    User,
    Assistant,
    Tool,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// An entry's frame: one of the common ones, or its own.
#[derive(Debug)]
enum Frame {
    User,
    Assistant,
    Own(Box<str>),
}

impl Frame {
    fn as_str(&self) -> &str {
        match self {
            Frame::User => USER_FRAME,
            Frame::Assistant => ASSISTANT_FRAME,
            Frame::Own(frame) => frame,
        }
    }
}

/// A length as an entry keeps it (contents are far below 4 GiB).
fn small(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// How an entry's content is kept. Most of a trace's history is what a prompt or an answer
/// wrote from the pools; it is kept as what wrote it and written again (a copy from the pools)
/// when a prompt includes it, so a trace in flight holds its random states, not its text.
#[derive(Debug)]
enum Body {
    /// The content itself.
    Rendered(Box<str>),
    /// Prose of `len` bytes that [`super::push_led_about`] writes from `rng` (a copy of its
    /// state before it did), opening with `lead`, about `topic`.
    Text { rng: SmallRng, lead: Box<str>, topic: Option<Arc<Topic>> },
    /// A tool result that [`super::push_tool_result_about`] writes from `rng`, so the history
    /// holds no second copy of results that can weigh megabytes.
    Tool { kind: ToolKind, facts: Option<Facts>, rng: SmallRng },
}

impl Entry {
    /// Bytes of content.
    fn len(&self) -> usize {
        self.len as usize
    }

    /// What precedes the content.
    fn prefix(&self) -> &str {
        &self.frame.as_str()[..self.split as usize]
    }

    /// What closes the message after its content.
    fn suffix(&self) -> &str {
        &self.frame.as_str()[self.split as usize..]
    }

    /// The content: borrowed when kept rendered, written again otherwise (empty for a tool
    /// result, which is never asked for).
    fn content(&self) -> Cow<'_, str> {
        match &self.body {
            Body::Rendered(text) => Cow::Borrowed(text),
            Body::Text { .. } => {
                let mut out = String::with_capacity(self.len());
                self.push_content(&mut out);
                Cow::Owned(out)
            }
            Body::Tool { .. } => Cow::Borrowed(""),
        }
    }

    /// Bytes this entry keeps on the heap.
    fn kept_bytes(&self) -> usize {
        let frame = match &self.frame {
            Frame::Own(frame) => frame.len(),
            Frame::User | Frame::Assistant => 0,
        };
        let body = match &self.body {
            Body::Rendered(text) => text.len(),
            Body::Text { lead, topic, .. } => {
                // A topic (its size and about 128 bytes of slot text) is shared by the messages
                // written about it; counted whole for each here.
                lead.len() + topic.as_ref().map_or(0, |_| std::mem::size_of::<Topic>() + 128)
            }
            Body::Tool { .. } => 0,
        };
        frame + body
    }

    /// Appends the whole content to `out`.
    fn push_content(&self, out: &mut String) {
        match &self.body {
            Body::Rendered(text) => out.push_str(text),
            Body::Text { rng, lead, topic } => {
                super::push_led_about(out, lead, topic.as_deref(), self.len(), &mut rng.clone());
            }
            Body::Tool { kind, facts, rng } => {
                super::push_tool_result_about(
                    out,
                    *kind,
                    facts.as_ref(),
                    &mut rng.clone(),
                    self.len(),
                );
            }
        }
    }

    /// Appends the whole message to `out`; returns where its content lies in `out`.
    fn render(&self, out: &mut String) -> Range<usize> {
        out.push_str(self.prefix());
        let start = out.len();
        self.push_content(out);
        let content = start..out.len();
        out.push_str(self.suffix());
        content
    }

    /// Appends the message with its content cut to `cap` bytes; returns where the content
    /// lies in `out`. A generated tool result keeps its first records and says it was
    /// truncated; other JSON content becomes a JSON string.
    fn render_cut(&self, out: &mut String, cap: usize) -> Range<usize> {
        out.push_str(self.prefix());
        let start = out.len();
        match &self.body {
            Body::Rendered(text) if self.json_content => {
                out.push('"');
                super::push_json_escaped(out, text, cap);
                out.push('"');
            }
            Body::Tool { kind, facts, rng } => {
                let facts = facts.as_ref();
                super::push_truncated_tool_result(
                    out,
                    *kind,
                    facts,
                    &mut rng.clone(),
                    self.len(),
                    cap,
                );
            }
            Body::Text { rng, lead, topic } if lead.len() + 2 < cap => {
                // Prose is the same text cut to any length but for its last byte, a full stop
                // (see `push_led_about`), and ASCII: one byte more than the cut, less that one,
                // is the whole text cut, without writing the rest.
                let topic = topic.as_deref();
                super::push_led_about(out, lead, topic, cap + 1, &mut rng.clone());
                out.truncate(start + char_floor(&out[start..], cap));
            }
            Body::Rendered(_) | Body::Text { .. } => {
                self.push_content(out);
                out.truncate(start + char_floor(&out[start..], cap));
            }
        }
        let content = start..out.len();
        out.push_str(self.suffix());
        content
    }
}

/// The largest character boundary of `text` at or below `max`.
fn char_floor(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// `prefix` then `suffix`, as an entry's frame.
fn frame(prefix: &str, suffix: &str) -> Frame {
    let mut frame = String::with_capacity(prefix.len() + suffix.len());
    frame.push_str(prefix);
    frame.push_str(suffix);
    Frame::Own(frame.into())
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
    /// The start of the first user message's text, at most [`HEAD_BYTES`], so that agent
    /// spans summarise what the agent was asked without writing the message again.
    first_user_head: Box<str>,
    /// What new messages' prose is about (see [`Self::set_topic_about`]), shared with the
    /// messages written about it, and the facts and tool kind it was made of.
    topic: Option<(Arc<Topic>, Facts, Option<ToolKind>)>,
}

/// One finished turn of a multi-turn conversation: what the user said and what the agent
/// answered (each the inside of a JSON string), replayed as history into the next turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub user: String,
    pub assistant: String,
}

impl Conversation {
    /// Makes the prose of the messages written from now on about `facts`, in the sentences of
    /// the domain of tools of `kind` ([`Topic::new`]); without a topic it is about no trace.
    pub fn set_topic_about(&mut self, facts: &Facts, kind: Option<ToolKind>) {
        if !matches!(&self.topic, Some((_, f, k)) if f == facts && *k == kind) {
            self.topic = Some((Arc::new(Topic::new(facts, kind)), *facts, kind));
        }
    }

    fn topic(&self) -> Option<Arc<Topic>> {
        self.topic.as_ref().map(|(topic, _, _)| Arc::clone(topic))
    }

    /// Messages in the history.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes the history keeps on the heap beyond its entries' fixed size (an upper bound:
    /// topics shared by several messages are counted for each).
    pub fn kept_bytes(&self) -> usize {
        self.entries.iter().map(Entry::kept_bytes).sum::<usize>()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.first_user_head.len()
    }

    /// The first user message's text, if any: what the agent was asked. Like
    /// [`Self::last_assistant_text`], it is the inside of the message's JSON string (written
    /// again from what generated it unless it was kept rendered).
    pub fn first_user_text(&self) -> Option<Cow<'_, str>> {
        self.first_user.map(|i| self.entries[i].content())
    }

    /// [`Self::first_user_text`] cut to at most `max` bytes at a character boundary; written
    /// again only when `max` goes past what the conversation keeps of it.
    pub fn first_user_text_cut(&self, max: usize) -> Option<Cow<'_, str>> {
        let entry = &self.entries[self.first_user?];
        let head = &*self.first_user_head;
        if max <= head.len() || head.len() == entry.len() {
            return Some(Cow::Borrowed(head.get(..char_floor(head, max)).unwrap_or(head)));
        }
        let mut text = entry.content().into_owned();
        text.truncate(char_floor(&text, max));
        Some(Cow::Owned(text))
    }

    /// The last answer's text, if any: what the agent concluded.
    pub fn last_assistant_text(&self) -> Option<Cow<'_, str>> {
        self.last_assistant.map(|i| self.entries[i].content())
    }

    fn push(&mut self, entry: Entry) {
        match entry.role {
            Role::User if self.first_user.is_none() => self.first_user = Some(self.entries.len()),
            Role::Assistant => self.last_assistant = Some(self.entries.len()),
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
            let content = if entry.len() <= cap {
                entry.render(&mut json)
            } else {
                cached_bytes = cached_bytes.min(json.len());
                entry.render_cut(&mut json, cap)
            };
            messages.push((entry.role.name(), content));
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
            let lead = if asking { lead } else { "" };
            let topic = self.topic();
            if json.len() > 1 {
                json.push(',');
            }
            json.push_str(USER_PREFIX);
            let start = json.len();
            let before = rng.clone();
            super::push_led_about(&mut json, lead, topic.as_deref(), text_len, rng);
            let len = json.len() - start;
            json.push_str(TEXT_SUFFIX);
            messages.push(("user", start..start + len));
            if self.first_user.is_none() {
                let text = &json[start..start + len];
                self.first_user_head = text[..char_floor(text, HEAD_BYTES)].into();
            }
            self.push(Entry {
                role: Role::User,
                frame: Frame::User,
                split: small(USER_PREFIX.len()),
                len: small(len),
                json_content: false,
                body: Body::Text { rng: before, lead: lead.into(), topic },
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
                let len = entry.len();
                let overhead = 1 + entry.split as usize + entry.suffix().len();
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

        // `[`, the message less its closing brace, then the finish reason.
        let mut output_json = String::with_capacity(overhead + room.max(MIN_FILLER));
        output_json.push('[');
        let (entry, text) = if calls.is_empty() || room >= MIN_TEXT_WITH_CALLS {
            output_json.push_str(ASSISTANT_PREFIX);
            let start = output_json.len();
            let before = rng.clone();
            let topic = self.topic();
            let len = room.max(MIN_FILLER);
            super::push_led_about(&mut output_json, lead, topic.as_deref(), len, rng);
            let text = start..output_json.len();
            let mut suffix = String::with_capacity(2 + call_parts.len() + 2);
            suffix.push_str("\"}");
            suffix.push_str(&call_parts);
            suffix.push_str("]}");
            let entry = Entry {
                role: Role::Assistant,
                frame: frame(ASSISTANT_PREFIX, &suffix),
                split: small(ASSISTANT_PREFIX.len()),
                len: small(text.len()),
                json_content: false,
                body: Body::Text { rng: before, lead: lead.into(), topic },
            };
            output_json.push_str(&suffix[..suffix.len() - 1]);
            (entry, text)
        } else {
            // No room for words: the answer is its tool calls alone, as models often send.
            const PREFIX: &str = r#"{"role":"assistant","parts":["#;
            output_json.push_str(PREFIX);
            let start = output_json.len();
            output_json.push_str(&call_parts[1..]);
            output_json.push(']');
            let entry = Entry {
                role: Role::Assistant,
                frame: frame(PREFIX, &format!("{}]}}", &call_parts[1..])),
                split: small(PREFIX.len()),
                len: 0,
                json_content: false,
                body: Body::Rendered(Box::default()),
            };
            (entry, start..start)
        };
        output_json.push_str(&finish);
        self.push(entry);
        Answer { output_json, text }
    }

    /// Adds a tool's result (JSON) as the response to call `call_id`.
    pub fn push_tool_result(&mut self, call_id: &str, result: &str) {
        let (frame, split) = tool_frame(call_id);
        self.push(Entry {
            role: Role::Tool,
            frame,
            split,
            len: small(result.len()),
            json_content: true,
            body: Body::Rendered(result.into()),
        });
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
        let (frame, split) = tool_frame(call_id);
        self.last_kind = Some(kind);
        self.push(Entry {
            role: Role::Tool,
            frame,
            split,
            len: small(size),
            json_content: true,
            body: Body::Tool { kind, facts, rng },
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
        self.entries.push(Entry {
            role: Role::User,
            frame: Frame::User,
            split: small(USER_PREFIX.len()),
            len: small(text.len()),
            json_content: false,
            body: Body::Rendered(text.into()),
        });
    }

    /// Puts a conversation's earlier turns in front of this one's messages, oldest first, as
    /// chat applications resend them; the next prompt then keeps room for the user's new
    /// message. They are history only: [`Self::first_user_text`] and
    /// [`Self::last_assistant_text`] stay this turn's.
    pub fn replay_turns(&mut self, turns: &[Turn]) {
        for turn in turns {
            for (role, frame, split, text) in [
                (Role::User, Frame::User, USER_PREFIX.len(), &turn.user),
                (Role::Assistant, Frame::Assistant, ASSISTANT_PREFIX.len(), &turn.assistant),
            ] {
                self.entries.push(Entry {
                    role,
                    frame,
                    split: small(split),
                    len: small(text.len()),
                    json_content: false,
                    body: Body::Rendered(text.as_str().into()),
                });
            }
        }
        self.turn_pending = !turns.is_empty();
    }

    /// Adds what a sub-agent named `agent` answered; `text` is the inside of a JSON string, as
    /// [`Self::last_assistant_text`] gives it.
    pub fn push_agent_answer(&mut self, agent: &str, text: &str) {
        let mut prefix = String::with_capacity(80 + agent.len());
        prefix.push_str(r#"{"role":"assistant","name":"#);
        super::push_json_str(&mut prefix, agent);
        prefix.push_str(r#","parts":[{"type":"text","content":""#);
        self.push(Entry {
            role: Role::Assistant,
            frame: frame(&prefix, TEXT_SUFFIX),
            split: small(prefix.len()),
            len: small(text.len()),
            json_content: false,
            body: Body::Rendered(text.into()),
        });
    }
}

/// The frame of a tool response message to call `call_id`, and where its content goes.
fn tool_frame(call_id: &str) -> (Frame, u32) {
    const START: &str = r#"{"role":"tool","parts":[{"#;
    let split = START.len() + TOOL_ID_START.len() + call_id.len() + TOOL_ID_END.len();
    let mut frame = String::with_capacity(split + TOOL_SUFFIX.len());
    frame.push_str(START);
    frame.push_str(TOOL_ID_START);
    frame.push_str(call_id);
    frame.push_str(TOOL_ID_END);
    frame.push_str(TOOL_SUFFIX);
    (Frame::Own(frame.into()), small(split))
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

    #[test]
    fn written_messages_are_kept_as_what_wrote_them_and_come_back_identical() {
        let mut rng = super::super::rng(7);
        let facts = Facts::from_seed(7);
        let mut conversation = Conversation::default();
        conversation.set_topic_about(&facts, Some(ToolKind::Flights));
        let first =
            conversation.prompt_with(40_000, "Find me a flight to Zürich, façade", &mut rng);
        let request = first.content(0).to_owned();
        assert!(request.len() > 30_000 && request.starts_with("Find me a flight to Zürich"));
        let answer = conversation.answer_with(
            4_000,
            &[("call_1".to_owned(), "search_flights", "{}".to_owned())],
            "tool_call",
            "",
            &mut rng,
        );
        let answer_text = answer.output_json[answer.text.clone()].to_owned();
        // 40 kB of prompt and 4 kB of answer, kept as random states and lengths.
        assert!(conversation.kept_bytes() < 2_000, "{} bytes kept", conversation.kept_bytes());

        assert_eq!(conversation.first_user_text().as_deref(), Some(request.as_str()));
        assert_eq!(conversation.last_assistant_text().as_deref(), Some(answer_text.as_str()));
        for max in [0, 1, 27, 28, 400, HEAD_BYTES, HEAD_BYTES + 1, 1_500, 1_000_000] {
            let cut = conversation.first_user_text_cut(max);
            let expected = &request[..char_floor(&request, max)];
            assert_eq!(cut.as_deref(), Some(expected), "cut to {max}");
        }

        // The whole history again, then cut to ever smaller budgets: each message's content is
        // the same text, whole or cut short, never other text.
        let whole = conversation.prompt(60_000, &mut rng.clone());
        assert_eq!(whole.content(0), request);
        assert_eq!(whole.content(1), answer_text);
        for budget in [30_000, 9_000, 3_000, 1_200, 700, 300, 100] {
            let prompt = conversation.prompt(budget, &mut rng.clone());
            assert!(prompt.json.len() <= budget.max(300) + 100, "{budget}: {}", prompt.json.len());
            parse(&prompt.json);
            for (index, (role, _)) in prompt.messages.iter().enumerate() {
                let content = prompt.content(index);
                match *role {
                    "user" if index + 1 < prompt.messages.len() => {
                        assert!(request.starts_with(content), "{budget}: {content}")
                    }
                    "assistant" => assert!(answer_text.starts_with(content), "{budget}"),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn a_cut_message_is_the_whole_message_cut_for_every_cut() {
        let facts = Facts::from_seed(11);
        for (seed, lead) in [(1, ""), (2, "Book the hotel in São Paulo"), (3, "x")] {
            let mut rng = super::super::rng(seed);
            let mut conversation = Conversation::default();
            conversation.set_topic_about(&facts, None);
            let request = conversation.prompt_with(3_000, lead, &mut rng).content(0).to_owned();
            for cap in (0..request.len()).step_by(7) {
                let mut out = String::new();
                let range = conversation.entries[0].render_cut(&mut out, cap);
                assert_eq!(&out[range], &request[..char_floor(&request, cap)], "cap {cap}");
            }
        }
    }

    #[test]
    fn an_entry_stays_small() {
        // A trace in flight keeps a few dozen entries; their size is most of what it holds.
        assert!(std::mem::size_of::<Entry>() <= 104, "{}", std::mem::size_of::<Entry>());
    }
}
