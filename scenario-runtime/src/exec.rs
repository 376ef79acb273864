//! Executing a step tree: one [`TraceRun`] per trace, the clock, ids and per-step randomness.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::content::{Facts, Turn};
use crate::emit::{Conversation, Emitter, SpanPlace};
use crate::latency::{Latency, LatencyScale};
use crate::span::{SpanId, SpanRecord, SpanSink, TraceId};
use crate::step::{CreateAgent, Embed, Llm, LlmDetails, Mcp, Retrieve, Tool};

/// Waits for real; supplied by the engine (tokio) so this crate needs no timer of its own.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// How simulated latencies pass.
#[derive(Clone, Copy)]
pub enum Clock<'a> {
    /// Timestamps are computed from the declared latencies; nothing waits.
    Synthetic,
    /// Latencies are really waited; timestamps are read from the system clock.
    Real(&'a dyn Sleeper),
}

impl Clock<'_> {
    /// When a step that may start at `planned` really starts.
    fn start(&self, planned: u64) -> u64 {
        match self {
            Clock::Synthetic => planned,
            Clock::Real(_) => unix_nanos_now(),
        }
    }

    /// Lets `latency` pass from `start` and returns the end time.
    async fn advance(&self, start: u64, latency: Duration) -> u64 {
        match self {
            Clock::Synthetic => start + latency.as_nanos() as u64,
            Clock::Real(sleeper) => {
                sleeper.sleep(latency).await;
                unix_nanos_now().max(start)
            }
        }
    }
}

/// Nanoseconds since the Unix epoch, now.
pub fn unix_nanos_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// One agent's scope: its name and the conversation its `llm` calls share.
#[derive(Debug)]
pub struct AgentScope {
    pub name: &'static str,
    /// The model and provider the agent runs on (the scenario's defaults), which its
    /// `invoke_agent` span names.
    pub model: &'static str,
    pub provider: &'static str,
    pub conversation: Mutex<Conversation>,
}

impl AgentScope {
    pub fn new(name: &'static str, model: &'static str, provider: &'static str) -> Self {
        Self { name, model, provider, conversation: Mutex::new(Conversation::default()) }
    }
}

/// Where a step runs: its parent span, when it may start, its agent, and a salt that tells
/// apart the iterations of enclosing `repeat` blocks (so each iteration gets its own content).
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub parent: SpanId,
    pub start: u64,
    pub salt: u64,
    pub agent: &'a AgentScope,
}

impl<'a> At<'a> {
    /// The same place, starting at `start`.
    pub fn after(&self, start: u64) -> Self {
        Self { start, ..*self }
    }

    /// The place of iteration `iteration` of the `repeat` step `step_id`.
    pub fn iteration(&self, step_id: u32, iteration: u32) -> Self {
        Self {
            salt: mix(self.salt ^ (u64::from(step_id) << 32), u64::from(iteration) + 1),
            ..*self
        }
    }
}

/// What a step reports when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    pub end: u64,
    /// Whether this step or one below it had an injected failure.
    pub failed: bool,
}

/// An `invoke_agent` span that has started and whose children are running.
///
/// If the trace is cancelled (its future dropped, e.g. when a run's drain time is over), the
/// span is still emitted on drop, marked failed, so every span already sent keeps its ancestors
/// and the backend never sees orphans the generator caused.
pub struct AgentSpan<'s> {
    run: &'s TraceRun<'s>,
    span_id: SpanId,
    parent: Option<(SpanId, &'s AgentScope)>,
    start: u64,
    salt: u64,
    scope: AgentScope,
    ended: bool,
    /// The root agent's `invoke_workflow` span, emitted after it: name and span id.
    workflow: Option<(&'static str, SpanId)>,
}

impl AgentSpan<'_> {
    /// Where the agent's first child runs.
    pub fn child_at(&self) -> At<'_> {
        At { parent: self.span_id, start: self.start, salt: self.salt, agent: &self.scope }
    }

    /// Emits the span, ending at `end`.
    fn finish(&mut self, end: u64, failed: bool) {
        self.ended = true;
        let run = self.run;
        let above = self.parent.map(|(id, _)| id).or(self.workflow.map(|(_, id)| id));
        let place = run.place(self.span_id, above, self.start, end.max(self.start), self.salt);
        let parent_scope = self.parent.map(|(_, scope)| scope);
        let emitter = run.settings.emitter;
        run.emit(emitter.agent(run, &place, &self.scope, parent_scope, failed));
        if let Some((name, span_id)) = self.workflow {
            // The workflow holds the root agent: it starts a moment before and ends after.
            let place = run.place(span_id, None, self.start, end.max(self.start), self.salt);
            run.emit(emitter.workflow(run, &place, name, &self.scope, failed));
        }
    }
}

impl Drop for AgentSpan<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.finish(unix_nanos_now(), true);
        }
    }
}

/// What one trace needs to run: where spans go, the clock, how long latencies last and how
/// spans are built.
#[derive(Clone, Copy)]
pub struct RunSettings<'a> {
    pub sink: &'a dyn SpanSink,
    pub clock: Clock<'a>,
    pub latency_scale: LatencyScale,
    pub emitter: &'a Emitter,
}

/// The state of one trace being executed.
pub struct TraceRun<'a> {
    settings: RunSettings<'a>,
    trace_id: TraceId,
    content_seed: u64,
    span_base: u64,
    /// Decides the conversation id (and the ids derived from it); see [`Self::in_conversation`].
    conversation_seed: u64,
    spans: AtomicU64,
    /// JSON-RPC requests sent to MCP servers so far, for their request ids.
    mcp_requests: AtomicU64,
    failed_steps: AtomicU32,
    /// The earlier turns of this trace's conversation, replayed into the root agent's history.
    history: Vec<Turn>,
    /// This turn, once the root agent has ended: what the user said and the agent answered.
    turn: Mutex<Option<Turn>>,
    /// What the trace is about (see [`crate::content::Facts`]).
    facts: Facts,
    /// The offer of each tool kind the trace settles on, computed once.
    chosen: [std::sync::OnceLock<Option<String>>; 8],
}

/// At most this much of a turn's user message and answer is kept as history for the next
/// turns (chat applications keep the messages; scaletest's first prompt of a turn is sized by
/// tokens and can be long, so it is cut to what a user types).
const TURN_HISTORY_BYTES: usize = 1_500;

/// Salt of the default conversation seed, derived from the trace id.
const CONVERSATION_SEED_SALT: u64 = 0xC0_4E_55_10_4E;

impl<'a> TraceRun<'a> {
    /// A run with a fresh `trace_id`; `content_seed` alone decides the content (the same seed
    /// gives byte-identical text), the trace id decides the span ids and, unless
    /// [`Self::in_conversation`] says otherwise, the conversation id: runs with the same
    /// `--seed` repeat their content but never share a conversation.
    pub fn new(settings: RunSettings<'a>, trace_id: TraceId, content_seed: u64) -> Self {
        let span_base = u64::from_le_bytes(trace_id[..8].try_into().unwrap_or([0; 8]))
            ^ u64::from_le_bytes(trace_id[8..].try_into().unwrap_or([0; 8]));
        Self {
            settings,
            trace_id,
            content_seed,
            span_base,
            conversation_seed: mix(span_base, CONVERSATION_SEED_SALT),
            spans: AtomicU64::new(0),
            mcp_requests: AtomicU64::new(0),
            failed_steps: AtomicU32::new(0),
            history: Vec::new(),
            turn: Mutex::new(None),
            facts: Facts::from_seed(content_seed),
            chosen: Default::default(),
        }
    }

    /// Makes the trace about the facts `seed` draws (by default its content seed's): the
    /// turns of one conversation share their first turn's.
    pub fn about(mut self, seed: u64) -> Self {
        self.facts = Facts::from_seed(seed);
        self.chosen = Default::default();
        self
    }

    /// What the trace is about: its traveller, trip, order, ticket and chosen offers.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The id of the offer of `kind` the trace settles on ([`crate::content::chosen_offer`]),
    /// computed once per trace: every call acting on it passes it.
    pub fn chosen_offer(&self, kind: crate::content::ToolKind) -> Option<&str> {
        let slot = &self.chosen
            [crate::content::ToolKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)];
        slot.get_or_init(|| crate::content::chosen_offer(kind, &self.facts)).as_deref()
    }

    /// Makes this trace a later turn of its conversation: `history` (the earlier turns,
    /// oldest first) is replayed at the start of the root agent's messages.
    pub fn with_history(mut self, history: Vec<Turn>) -> Self {
        self.history = history;
        self
    }

    /// This turn as the next turns replay it: the user's first message and the root agent's
    /// last answer, once the trace has run (`None` before, or if it had neither).
    pub fn take_turn(&self) -> Option<Turn> {
        self.turn.lock().unwrap_or_else(|poison| poison.into_inner()).take()
    }

    /// Makes this trace a turn of the conversation `conversation_seed` names: every trace given
    /// the same seed carries the same `gen_ai.conversation.id` (and the platforms' session
    /// keys, and the MCP session ids). A scheduler running multi-turn sessions picks one seed
    /// per conversation, fresh per run (e.g. from the first turn's trace id), and passes it to
    /// each turn.
    pub fn in_conversation(mut self, conversation_seed: u64) -> Self {
        self.conversation_seed = conversation_seed;
        self
    }

    /// The seed of this trace's conversation id.
    pub fn conversation_seed(&self) -> u64 {
        self.conversation_seed
    }

    /// The next JSON-RPC request id of this trace's MCP calls (1, 2, ...).
    pub fn next_mcp_request(&self) -> u64 {
        self.mcp_requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    pub fn emitter(&self) -> &'a Emitter {
        self.settings.emitter
    }

    /// Spans emitted so far.
    pub fn spans_emitted(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }

    /// Steps whose injected failure fired so far.
    pub fn failed_steps(&self) -> u32 {
        self.failed_steps.load(Ordering::Relaxed)
    }

    /// A fresh span id, unique within the trace (a bijective mix of a per-trace base and a
    /// counter), never zero.
    pub fn next_span_id(&self) -> SpanId {
        let sequence = self.spans.fetch_add(1, Ordering::Relaxed);
        let id = splitmix64(self.span_base.wrapping_add(sequence));
        (if id == 0 { 1 } else { id }).to_be_bytes()
    }

    /// The deterministic random source of step `step_id` at `salt`.
    pub fn rng(&self, step_id: u32, salt: u64) -> SmallRng {
        SmallRng::seed_from_u64(mix(mix(self.content_seed, u64::from(step_id)), salt))
    }

    /// A deterministic number in `0.0..1.0` for decisions such as route branches.
    pub fn chance(&self, step_id: u32, at: &At<'_>) -> f64 {
        self.rng(step_id, at.salt).random::<f64>()
    }

    /// When a step planned for `planned` starts.
    pub fn start_time(&self, planned: u64) -> u64 {
        self.settings.clock.start(planned)
    }

    fn emit(&self, span: SpanRecord) {
        self.settings.sink.emit(span);
    }

    fn place(
        &self,
        span_id: SpanId,
        parent: Option<SpanId>,
        start: u64,
        end: u64,
        salt: u64,
    ) -> SpanPlace {
        SpanPlace { trace_id: self.trace_id, span_id, parent_span_id: parent, start, end, salt }
    }

    pub(crate) async fn run_llm(&self, step: &Llm, details: &LlmDetails, at: At<'_>) -> Done {
        let emitter = self.settings.emitter;
        let Some(ttft) = details.ttft else {
            let (place, failed, mut rng) =
                self.wait_out(step.id, step.latency, step.fail, &at).await;
            let span = emitter.llm(self, &place, step, details, at.agent, failed, None, &mut rng);
            self.emit(span);
            return Done { end: place.end, failed };
        };
        // A streamed answer: the first chunk arrives after the time to first token, the rest
        // until the call's latency is over. The real clock waits both and measures the first.
        let span_id = self.next_span_id();
        let mut rng = self.rng(step.id, at.salt);
        let start = self.start_time(at.start);
        let scale = self.settings.latency_scale;
        let total = scale.apply(step.latency.sample(&mut rng));
        let first = scale.apply(ttft.sample(&mut rng)).min(total);
        let first_chunk = self.settings.clock.advance(start, first).await;
        let rest = total.saturating_sub(Duration::from_nanos(first_chunk - start));
        let end = self.settings.clock.advance(first_chunk, rest).await;
        let failed = self.roll_failure(step.fail, &mut rng);
        let place = self.place(span_id, Some(at.parent), start, end, at.salt);
        let ttft_nanos = Some(first_chunk - start);
        let span = emitter.llm(self, &place, step, details, at.agent, failed, ttft_nanos, &mut rng);
        self.emit(span);
        Done { end, failed }
    }

    pub(crate) async fn run_mcp(&self, step: &Mcp, at: At<'_>) -> Done {
        let client_id = self.next_span_id();
        // Numbered when the call is sent, so parallel calls keep their order on any clock.
        let request_id = self.next_mcp_request();
        let (place, failed, mut rng) = self.wait_out(step.id, step.latency, step.fail, &at).await;
        // The client span covers the JSON-RPC round trip, inside the tool execution: the agent
        // spends a little before (argument checks) and after (decoding the result).
        let length = place.end - place.start;
        let client = SpanPlace {
            span_id: client_id,
            parent_span_id: Some(place.span_id),
            start: place.start + length / 50,
            end: place.end - length / 100,
            ..place
        };
        let emitter = self.settings.emitter;
        // The server's span, when it reports one, covers its handling of the request: inside
        // the client's, less the network on each side.
        let client_length = client.end - client.start;
        let server = step.server_span.then(|| SpanPlace {
            span_id: self.next_span_id(),
            parent_span_id: Some(client.span_id),
            start: client.start + client_length / 10,
            end: client.end - client_length / 10,
            ..client
        });
        let (tool, client, server) = emitter.mcp(
            self,
            &place,
            &client,
            server.as_ref(),
            step,
            request_id,
            at.agent,
            failed,
            &mut rng,
        );
        if let Some(server) = server {
            self.emit(server);
        }
        self.emit(client);
        self.emit(tool);
        Done { end: place.end, failed }
    }

    pub(crate) async fn run_embed(&self, step: &Embed, at: At<'_>) -> Done {
        let (place, failed, mut rng) = self.wait_out(step.id, step.latency, step.fail, &at).await;
        self.emit(self.settings.emitter.embed(self, &place, step, at.agent, failed, &mut rng));
        Done { end: place.end, failed }
    }

    pub(crate) async fn run_retrieve(&self, step: &Retrieve, at: At<'_>) -> Done {
        let (place, failed, mut rng) = self.wait_out(step.id, step.latency, step.fail, &at).await;
        self.emit(self.settings.emitter.retrieve(self, &place, step, at.agent, failed, &mut rng));
        Done { end: place.end, failed }
    }

    pub(crate) async fn run_create_agent(&self, step: &CreateAgent, at: At<'_>) -> Done {
        let (place, failed, mut rng) = self.wait_out(step.id, step.latency, step.fail, &at).await;
        self.emit(self.settings.emitter.create_agent(self, &place, step, failed, &mut rng));
        Done { end: place.end, failed }
    }

    pub(crate) async fn run_tool(&self, step: &Tool, at: At<'_>) -> Done {
        let (place, failed, mut rng) = self.wait_out(step.id, step.latency, step.fail, &at).await;
        self.emit(self.settings.emitter.tool(self, &place, step, at.agent, failed, &mut rng));
        Done { end: place.end, failed }
    }

    /// What `llm` and `tool` steps share: a span id, the step's latency passed on the clock,
    /// the failure roll. Returns the span's place, whether it failed, and the step's random
    /// source for its content.
    async fn wait_out(
        &self,
        step_id: u32,
        latency: Latency,
        fail: f64,
        at: &At<'_>,
    ) -> (SpanPlace, bool, SmallRng) {
        let span_id = self.next_span_id();
        let mut rng = self.rng(step_id, at.salt);
        let start = self.start_time(at.start);
        let latency = self.settings.latency_scale.apply(latency.sample(&mut rng));
        let end = self.settings.clock.advance(start, latency).await;
        let failed = self.roll_failure(fail, &mut rng);
        (self.place(span_id, Some(at.parent), start, end, at.salt), failed, rng)
    }

    fn roll_failure(&self, probability: f64, rng: &mut SmallRng) -> bool {
        let failed = probability > 0.0 && rng.random::<f64>() < probability;
        if failed {
            self.failed_steps.fetch_add(1, Ordering::Relaxed);
        }
        failed
    }

    /// Starts a sub-agent's `invoke_agent` span under `at`.
    pub fn begin_agent<'s>(&'s self, agent: &'static str, at: &At<'s>) -> AgentSpan<'s> {
        AgentSpan {
            run: self,
            span_id: self.next_span_id(),
            parent: Some((at.parent, at.agent)),
            start: self.start_time(at.start),
            salt: at.salt,
            scope: AgentScope::new(agent, at.agent.model, at.agent.provider),
            ended: false,
            workflow: None,
        }
    }

    /// Ends a sub-agent's span once its children are done; a failure below marks it failed.
    pub fn end_agent(&self, mut span: AgentSpan<'_>, done: Done) -> Done {
        span.finish(done.end, done.failed);
        done
    }

    /// Runs a whole tree under the root agent's `invoke_agent` span starting at `start`, itself
    /// inside an `invoke_workflow <workflow>` span when a workflow is named.
    pub async fn run_root<T: crate::Step>(
        &self,
        root: AgentScope,
        tree: &T,
        start: u64,
        workflow: Option<&'static str>,
    ) -> Done {
        let workflow = workflow.map(|name| (name, self.next_span_id()));
        if !self.history.is_empty() {
            lock(&root.conversation).replay_turns(&self.history);
        }
        let mut root = AgentSpan {
            run: self,
            span_id: self.next_span_id(),
            parent: None,
            start: self.start_time(start),
            salt: 0,
            scope: root,
            ended: false,
            workflow,
        };
        let done = tree.run(self, root.child_at()).await;
        root.finish(done.end, done.failed);
        let turn = {
            let conversation = lock(&root.scope.conversation);
            let user = conversation.first_user_text_cut(TURN_HISTORY_BYTES);
            match (user, conversation.last_assistant_text()) {
                (Some(user), Some(assistant)) => Some(Turn {
                    user: cut(&user, TURN_HISTORY_BYTES).to_owned(),
                    assistant: cut(&assistant, TURN_HISTORY_BYTES).to_owned(),
                }),
                _ => None,
            }
        };
        *lock(&self.turn) = turn;
        done
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The first `max` bytes of `text`, cut at a character boundary and never inside a JSON
/// escape (texts here are the insides of JSON strings).
fn cut(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = &text[..end];
    // An odd run of backslashes at the end would leave an escape open.
    while cut.ends_with('\\') && (cut.len() - cut.trim_end_matches('\\').len()) % 2 == 1 {
        cut = &cut[..cut.len() - 1];
    }
    cut
}

/// A 64-bit mixing function (splitmix64's finaliser).
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Combines two values into one well-mixed seed.
pub fn mix(a: u64, b: u64) -> u64 {
    splitmix64(a ^ splitmix64(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Recorder;
    use crate::span::Status;
    use crate::step::{Delegate, Tool};
    use futures_util::FutureExt;

    /// A sleeper whose sleeps never end, to catch a trace in the middle.
    struct Forever;

    impl Sleeper for Forever {
        fn sleep(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
            Box::pin(std::future::pending())
        }
    }

    #[test]
    fn a_cancelled_trace_still_emits_every_started_ancestor() {
        let tree = Delegate {
            id: 0,
            agent: "specialist",
            body: Tool {
                id: 1,
                name: "search",
                result_bytes: 100,
                latency: Latency::fixed_micros(1000),
                fail: 0.0,
            },
        };
        let recorder = Recorder::new();
        let emitter = Emitter::default();
        let settings = RunSettings {
            sink: &recorder,
            clock: Clock::Real(&Forever),
            latency_scale: Default::default(),
            emitter: &emitter,
        };
        let run = TraceRun::new(settings, [7; 16], 1);
        // Poll once (the tool's sleep never ends), then drop the trace mid-way.
        assert!(
            run.run_root(
                AgentScope::new("assistant", "gpt-4o", "openai"),
                &tree,
                unix_nanos_now(),
                None
            )
            .now_or_never()
            .is_none()
        );
        let spans = recorder.take();
        assert_eq!(spans.len(), 2, "{spans:#?}");
        let (sub, root) = (&spans[0], &spans[1]);
        assert_eq!(sub.name, "invoke_agent specialist");
        assert_eq!(root.name, "invoke_agent assistant");
        assert_eq!(sub.parent_span_id, Some(root.span_id));
        assert_eq!(root.parent_span_id, None);
        assert!(matches!(sub.status, Status::Error(_)) && matches!(root.status, Status::Error(_)));
        assert!(sub.end_unix_nanos >= sub.start_unix_nanos);
    }

    #[test]
    fn span_ids_are_unique_and_never_zero() {
        let recorder = Recorder::new();
        let emitter = Emitter::default();
        let settings = RunSettings {
            sink: &recorder,
            clock: Clock::Synthetic,
            latency_scale: Default::default(),
            emitter: &emitter,
        };
        let run = TraceRun::new(settings, [0; 16], 0);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = run.next_span_id();
            assert_ne!(id, [0; 8]);
            assert!(seen.insert(id));
        }
    }
}
