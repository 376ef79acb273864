//! Syntax: what the author wrote, token by token, before anything is checked.
//!
//! Parsing only establishes structure (which step, which option, which literal) and keeps every
//! token's span so later stages can point at it. Units, ranges and rules are checked in
//! [`crate::model`] and [`crate::check`]. Mistakes that leave the structure readable (an unknown
//! step, option, header key or metric) are recorded in the [`Ctxt`] and parsing goes on, so one
//! compile reports all of them.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, Lit, LitStr, Token, braced, parenthesized};

use crate::ctxt::Ctxt;

/// The words of the language, matched as tokens rather than strings.
pub mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(description);
    syn::custom_keyword!(agent);
    syn::custom_keyword!(model);
    syn::custom_keyword!(provider);
    syn::custom_keyword!(expect);
    syn::custom_keyword!(workflow);
    syn::custom_keyword!(session);
    syn::custom_keyword!(think);
    syn::custom_keyword!(turns);

    syn::custom_keyword!(llm);
    syn::custom_keyword!(tool);
    syn::custom_keyword!(delegate);
    syn::custom_keyword!(parallel);
    syn::custom_keyword!(route);
    syn::custom_keyword!(repeat);
    syn::custom_keyword!(mcp);
    syn::custom_keyword!(embed);
    syn::custom_keyword!(retrieve);
    syn::custom_keyword!(create_agent);

    syn::custom_keyword!(input);
    syn::custom_keyword!(output);
    syn::custom_keyword!(latency);
    syn::custom_keyword!(fail);
    syn::custom_keyword!(reasoning);
    syn::custom_keyword!(cached);
    syn::custom_keyword!(stream);
    syn::custom_keyword!(ttft);
    syn::custom_keyword!(top_k);
    syn::custom_keyword!(dimensions);
    syn::custom_keyword!(server_span);

    syn::custom_keyword!(spans);
    syn::custom_keyword!(depth);
    syn::custom_keyword!(bytes);
    syn::custom_keyword!(llm_calls);
    syn::custom_keyword!(tool_calls);
    syn::custom_keyword!(tokens);
}

const HEADER_KEYS: &str =
    "`name`, `description`, `agent`, `model`, `provider`, `workflow`, `session`, `think`, `expect`";
const STEP_KINDS: &str = "`llm`, `tool`, `mcp`, `embed`, `retrieve`, `create_agent`, `delegate`, `parallel`, `route`, `repeat`";
const METRICS: &str = "`spans`, `depth`, `bytes`, `llm_calls`, `tool_calls`, `tokens`";

/// A whole `scenario! { .. }` invocation.
#[derive(Debug)]
pub struct ScenarioAst {
    /// The first token, where mistakes about the whole scenario (no `name`) are reported.
    pub first_span: Span,
    pub header: Vec<Header>,
    pub steps: Vec<Step>,
}

/// One `key: value` entry before the steps.
#[derive(Debug)]
pub struct Header {
    pub key: Ident,
    pub value: HeaderValue,
}

#[derive(Debug)]
pub enum HeaderValue {
    Name(Ident),
    Description(LitStr),
    Agent(NameLit),
    Model(LitStr),
    Provider(NameLit),
    Expect(Vec<Expectation>),
    /// `workflow: name`: the root agent runs inside an `invoke_workflow <name>` span.
    Workflow(NameLit),
    /// `session: 3..8 turns`: runs are turns of conversations of that many turns.
    Session(Amount),
    /// `think: 5..30s`: the user's time between two turns of a session.
    Think(Amount),
}

/// A name written as an identifier or a string (`openai` or `"openai"`).
#[derive(Debug)]
pub struct NameLit {
    pub value: String,
    pub span: Span,
}

/// The metrics `expect:` can assert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    Spans,
    Depth,
    Bytes,
    LlmCalls,
    ToolCalls,
    Tokens,
}

impl Metric {
    /// How the metric reads in messages ("25 spans").
    pub fn noun(self) -> &'static str {
        match self {
            Metric::Spans => "spans",
            Metric::Depth => "depth",
            Metric::Bytes => "payload bytes",
            Metric::LlmCalls => "llm calls",
            Metric::ToolCalls => "tool calls",
            Metric::Tokens => "tokens",
        }
    }
}

/// `metric: value` inside `expect: { .. }`.
#[derive(Debug)]
pub struct Expectation {
    pub key: Ident,
    pub metric: Metric,
    pub value: Amount,
}

/// A numeric literal as written: `400ms`, `1.5s`, `40kb`, `0.9`, `90%`, `-0.1`.
#[derive(Debug)]
pub struct Number {
    pub negative: bool,
    pub lit: Lit,
    pub percent: bool,
}

impl Number {
    /// The literal's span, where errors about the value go.
    pub fn span(&self) -> Span {
        self.lit.span()
    }

    /// The literal's unit suffix (`"ms"` in `400ms`), empty if none.
    pub fn suffix(&self) -> &str {
        match &self.lit {
            Lit::Int(lit) => lit.suffix(),
            Lit::Float(lit) => lit.suffix(),
            _ => "",
        }
    }

    /// The digits without the suffix, as written (`"1.5"` in `1.5s`).
    pub fn digits(&self) -> &str {
        match &self.lit {
            Lit::Int(lit) => lit.base10_digits(),
            Lit::Float(lit) => lit.base10_digits(),
            _ => "",
        }
    }

    /// Whether the literal is an integer literal (`40kb`, not `1.5mb`).
    pub fn is_integer(&self) -> bool {
        matches!(self.lit, Lit::Int(_))
    }
}

/// A single value or an inclusive range `a..b` (the unit of `b` applies to `a` if `a` has none).
#[derive(Debug)]
pub enum Amount {
    One(Number),
    Range(Number, Number),
}

impl Amount {
    /// An error covering the whole value (both ends of a range).
    pub fn error(&self, message: impl std::fmt::Display) -> syn::Error {
        match self {
            Amount::One(n) => syn::Error::new(n.span(), message),
            Amount::Range(a, b) => {
                let (a, b) = (&a.lit, &b.lit);
                syn::Error::new_spanned(quote::quote!(#a #b), message)
            }
        }
    }
}

/// One step of a block.
#[derive(Debug)]
pub enum Step {
    Llm(LlmAst),
    Tool(ToolAst),
    Delegate(DelegateAst),
    Parallel(ParallelAst),
    Route(RouteAst),
    Repeat(RepeatAst),
    Mcp(McpAst),
    Embed(EmbedAst),
    Retrieve(RetrieveAst),
    CreateAgent(CreateAgentAst),
}

/// `mcp(server, tool, SIZE, options..);`: a tool called through an MCP server.
#[derive(Debug)]
pub struct McpAst {
    pub server: Ident,
    pub tool: Ident,
    pub size: Option<Number>,
    pub options: Vec<StepOption>,
}

/// `embed(name, options..);`: an embeddings request.
#[derive(Debug)]
pub struct EmbedAst {
    pub name: Ident,
    pub options: Vec<StepOption>,
}

/// `retrieve(store, SIZE, options..);`: a query to a vector store or search index.
#[derive(Debug)]
pub struct RetrieveAst {
    pub store: Ident,
    pub size: Option<Number>,
    pub options: Vec<StepOption>,
}

/// `create_agent(agent, options..);`: the agent a later `delegate agent { .. }` invokes is
/// created first.
#[derive(Debug)]
pub struct CreateAgentAst {
    pub agent: Ident,
    pub options: Vec<StepOption>,
}

/// `llm(name, options..);`
#[derive(Debug)]
pub struct LlmAst {
    pub name: Ident,
    pub options: Vec<StepOption>,
}

/// `tool(name, SIZE, options..);`
#[derive(Debug)]
pub struct ToolAst {
    pub name: Ident,
    pub size: Option<Number>,
    pub options: Vec<StepOption>,
}

/// `delegate agent { .. }`
#[derive(Debug)]
pub struct DelegateAst {
    pub agent: Ident,
    pub body: Block,
}

/// `parallel { .. }`
#[derive(Debug)]
pub struct ParallelAst {
    pub keyword: Span,
    pub body: Block,
}

/// `route { weight => { .. } .. }`
#[derive(Debug)]
pub struct RouteAst {
    pub keyword: Span,
    pub branches: Vec<BranchAst>,
}

/// `weight => { .. }`
#[derive(Debug)]
pub struct BranchAst {
    pub weight: Number,
    pub body: Block,
}

/// `repeat N { .. }`
#[derive(Debug)]
pub struct RepeatAst {
    pub times: Number,
    pub body: Block,
}

/// `{ steps.. }`
#[derive(Debug)]
pub struct Block {
    /// The braces, where "empty block" is reported.
    pub span: Span,
    pub steps: Vec<Step>,
}

/// The options of `llm` and `tool` steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    Input,
    Output,
    Latency,
    Model,
    Provider,
    Fail,
    Reasoning,
    Cached,
    Stream,
    Ttft,
    TopK,
    Dimensions,
    ServerSpan,
}

impl OptionKind {
    pub fn keyword(self) -> &'static str {
        match self {
            OptionKind::Input => "input",
            OptionKind::Output => "output",
            OptionKind::Latency => "latency",
            OptionKind::Model => "model",
            OptionKind::Provider => "provider",
            OptionKind::Fail => "fail",
            OptionKind::Reasoning => "reasoning",
            OptionKind::Cached => "cached",
            OptionKind::Stream => "stream",
            OptionKind::Ttft => "ttft",
            OptionKind::TopK => "top_k",
            OptionKind::Dimensions => "dimensions",
            OptionKind::ServerSpan => "server_span",
        }
    }

    fn peek(input: ParseStream<'_>) -> Option<Self> {
        if input.peek(kw::input) {
            Some(OptionKind::Input)
        } else if input.peek(kw::output) {
            Some(OptionKind::Output)
        } else if input.peek(kw::latency) {
            Some(OptionKind::Latency)
        } else if input.peek(kw::model) {
            Some(OptionKind::Model)
        } else if input.peek(kw::provider) {
            Some(OptionKind::Provider)
        } else if input.peek(kw::fail) {
            Some(OptionKind::Fail)
        } else if input.peek(kw::reasoning) {
            Some(OptionKind::Reasoning)
        } else if input.peek(kw::cached) {
            Some(OptionKind::Cached)
        } else if input.peek(kw::stream) {
            Some(OptionKind::Stream)
        } else if input.peek(kw::ttft) {
            Some(OptionKind::Ttft)
        } else if input.peek(kw::top_k) {
            Some(OptionKind::TopK)
        } else if input.peek(kw::dimensions) {
            Some(OptionKind::Dimensions)
        } else if input.peek(kw::server_span) {
            Some(OptionKind::ServerSpan)
        } else {
            None
        }
    }
}

/// The options each step accepts, in the order error messages list them.
pub const LLM_OPTIONS: &[OptionKind] = &[
    OptionKind::Input,
    OptionKind::Output,
    OptionKind::Latency,
    OptionKind::Model,
    OptionKind::Provider,
    OptionKind::Fail,
    OptionKind::Reasoning,
    OptionKind::Cached,
    OptionKind::Stream,
    OptionKind::Ttft,
];
pub const TOOL_OPTIONS: &[OptionKind] = &[OptionKind::Latency, OptionKind::Fail];
pub const MCP_OPTIONS: &[OptionKind] =
    &[OptionKind::Latency, OptionKind::Fail, OptionKind::ServerSpan];
pub const EMBED_OPTIONS: &[OptionKind] = &[
    OptionKind::Input,
    OptionKind::Model,
    OptionKind::Provider,
    OptionKind::Dimensions,
    OptionKind::Latency,
    OptionKind::Fail,
];
pub const RETRIEVE_OPTIONS: &[OptionKind] =
    &[OptionKind::TopK, OptionKind::Latency, OptionKind::Fail];
pub const CREATE_AGENT_OPTIONS: &[OptionKind] =
    &[OptionKind::Model, OptionKind::Provider, OptionKind::Latency, OptionKind::Fail];

/// `key: value` inside `llm(..)` or `tool(..)`.
#[derive(Debug)]
pub struct StepOption {
    pub key: Ident,
    pub kind: OptionKind,
    pub value: OptionValue,
}

#[derive(Debug)]
pub enum OptionValue {
    Amount(Amount),
    Str(LitStr),
    Name(NameLit),
    Bool(syn::LitBool),
}

/// Parses a scenario's tokens (after the `$crate ;` prefix). Returns `None` only when the
/// structure is too broken to go on; every error is in `cx`.
pub fn parse(tokens: TokenStream, cx: &Ctxt) -> Option<ScenarioAst> {
    let parser = |input: ParseStream<'_>| parse_scenario(input, cx);
    match parser.parse2(tokens) {
        Ok(ast) => Some(ast),
        Err(error) => {
            cx.push(error);
            None
        }
    }
}

fn parse_scenario(input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<ScenarioAst> {
    let first_span = input.span();
    let mut header = Vec::new();
    while input.peek(Ident::peek_any) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
        match parse_header(input) {
            Ok(entry) => header.push(entry),
            Err(error) => {
                cx.push(error);
                skip_until_comma(input);
            }
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else if !(input.is_empty() || starts_step(input)) {
            return Err(input.error("expected `,` after this header entry"));
        }
    }
    let steps = parse_steps(input, cx);
    Ok(ScenarioAst { first_span, header, steps })
}

/// The header keys, recognised as keywords.
#[derive(Clone, Copy)]
enum HeaderKey {
    Name,
    Description,
    Agent,
    Model,
    Provider,
    Expect,
    Workflow,
    Session,
    Think,
}

impl HeaderKey {
    fn peek(input: ParseStream<'_>) -> Option<Self> {
        if input.peek(kw::name) {
            Some(HeaderKey::Name)
        } else if input.peek(kw::description) {
            Some(HeaderKey::Description)
        } else if input.peek(kw::agent) {
            Some(HeaderKey::Agent)
        } else if input.peek(kw::model) {
            Some(HeaderKey::Model)
        } else if input.peek(kw::provider) {
            Some(HeaderKey::Provider)
        } else if input.peek(kw::expect) {
            Some(HeaderKey::Expect)
        } else if input.peek(kw::workflow) {
            Some(HeaderKey::Workflow)
        } else if input.peek(kw::session) {
            Some(HeaderKey::Session)
        } else if input.peek(kw::think) {
            Some(HeaderKey::Think)
        } else {
            None
        }
    }
}

fn parse_header(input: ParseStream<'_>) -> syn::Result<Header> {
    let known = HeaderKey::peek(input);
    let key = input.call(Ident::parse_any)?;
    let Some(known) = known else {
        return Err(syn::Error::new(
            key.span(),
            format!("unknown header key `{key}`: expected one of {HEADER_KEYS}"),
        ));
    };
    input.parse::<Token![:]>()?;
    let value = match known {
        HeaderKey::Name => HeaderValue::Name(input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the scenario's name as an identifier, like `name: simple_query`",
            )
        })?),
        HeaderKey::Description => HeaderValue::Description(input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected a string, like `description: \"Book a hotel\"`")
        })?),
        HeaderKey::Agent => HeaderValue::Agent(parse_name_lit(input)?),
        HeaderKey::Model => HeaderValue::Model(input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the model as a string, like `model: \"gpt-4o\"`")
        })?),
        HeaderKey::Provider => HeaderValue::Provider(parse_name_lit(input)?),
        HeaderKey::Expect => HeaderValue::Expect(parse_expectations(input)?),
        HeaderKey::Workflow => HeaderValue::Workflow(parse_name_lit(input)?),
        HeaderKey::Session => {
            let turns = parse_amount(input, "a number of turns, like `session: 3..8 turns`")?;
            if input.peek(kw::turns) {
                input.parse::<kw::turns>()?;
            } else {
                return Err(input.error(
                    "expected `turns` after the number of turns, like `session: 3..8 turns`",
                ));
            }
            HeaderValue::Session(turns)
        }
        HeaderKey::Think => HeaderValue::Think(parse_amount(
            input,
            "a think time between turns, like `think: 5..30s`",
        )?),
    };
    Ok(Header { key, value })
}

fn parse_name_lit(input: ParseStream<'_>) -> syn::Result<NameLit> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        Ok(NameLit { value: lit.value(), span: lit.span() })
    } else if input.peek(Ident::peek_any) {
        let ident = input.call(Ident::parse_any)?;
        Ok(NameLit { value: ident.to_string(), span: ident.span() })
    } else {
        Err(input.error("expected a name, as an identifier or a string"))
    }
}

fn parse_expectations(input: ParseStream<'_>) -> syn::Result<Vec<Expectation>> {
    let content;
    braced!(content in input);
    let result = parse_expectation_list(&content);
    skip_rest(&content);
    result
}

fn parse_expectation_list(content: ParseStream<'_>) -> syn::Result<Vec<Expectation>> {
    let mut entries = Vec::new();
    let mut errors: Option<syn::Error> = None;
    while !content.is_empty() {
        match parse_expectation(content) {
            Ok(entry) => entries.push(entry),
            Err(error) => {
                match &mut errors {
                    Some(all) => all.combine(error),
                    None => errors = Some(error),
                }
                skip_until_comma(content);
            }
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(entries),
    }
}

fn parse_expectation(input: ParseStream<'_>) -> syn::Result<Expectation> {
    let metric = if input.peek(kw::spans) {
        Metric::Spans
    } else if input.peek(kw::depth) {
        Metric::Depth
    } else if input.peek(kw::bytes) {
        Metric::Bytes
    } else if input.peek(kw::llm_calls) {
        Metric::LlmCalls
    } else if input.peek(kw::tool_calls) {
        Metric::ToolCalls
    } else if input.peek(kw::tokens) {
        Metric::Tokens
    } else if input.peek(Ident::peek_any) {
        let key = input.call(Ident::parse_any)?;
        return Err(syn::Error::new(
            key.span(),
            format!("unknown metric `{key}` in `expect`: expected one of {METRICS}"),
        ));
    } else {
        return Err(input.error(format!("expected a metric: one of {METRICS}")));
    };
    let key = input.call(Ident::parse_any)?;
    input.parse::<Token![:]>()?;
    let value = parse_amount(input, "a value or a range, like `25` or `20..30`")?;
    Ok(Expectation { key, metric, value })
}

fn starts_step(input: ParseStream<'_>) -> bool {
    input.peek(kw::llm)
        || input.peek(kw::tool)
        || input.peek(kw::delegate)
        || input.peek(kw::parallel)
        || input.peek(kw::route)
        || input.peek(kw::repeat)
        || input.peek(kw::mcp)
        || input.peek(kw::embed)
        || input.peek(kw::retrieve)
        || input.peek(kw::create_agent)
}

/// Parses steps until the end of `input`, recording broken ones and going on after them.
fn parse_steps(input: ParseStream<'_>, cx: &Ctxt) -> Vec<Step> {
    let mut steps = Vec::new();
    while !input.is_empty() {
        match parse_step(input, cx) {
            Ok(Some(step)) => steps.push(step),
            Ok(None) => {}
            Err(error) => {
                cx.push(error);
                recover(input);
            }
        }
    }
    steps
}

/// Parses one step. `Ok(None)` means the step was broken inside its parentheses: the error is
/// recorded and the step's tokens consumed.
fn parse_step(input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<Option<Step>> {
    let lookahead = input.lookahead1();
    if lookahead.peek(kw::llm) {
        let keyword: kw::llm = input.parse()?;
        let args = parse_call_args(input, cx, "llm", |content| {
            let name = parse_step_name(content, "llm")?;
            let options = parse_options(content, "llm", LLM_OPTIONS, cx)?;
            Ok(LlmAst { name, options })
        })?;
        let _ = keyword;
        Ok(args.map(Step::Llm))
    } else if lookahead.peek(kw::tool) {
        input.parse::<kw::tool>()?;
        let args = parse_call_args(input, cx, "tool", |content| {
            let name = parse_step_name(content, "tool")?;
            let size = parse_size(content, "the size of the tool's result, like `40kb`")?;
            let options = parse_options(content, "tool", TOOL_OPTIONS, cx)?;
            Ok(ToolAst { name, size, options })
        })?;
        Ok(args.map(Step::Tool))
    } else if lookahead.peek(kw::mcp) {
        input.parse::<kw::mcp>()?;
        let args = parse_call_args(input, cx, "mcp", |content| {
            let server: Ident = content.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the MCP server's name first, like `mcp(github, search_issues, 8kb)`",
                )
            })?;
            content.parse::<Token![,]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `,` and the tool's name after the server, like `mcp(github, search_issues, 8kb)`",
                )
            })?;
            let tool: Ident = content.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the tool's name after the server, like `mcp(github, search_issues, 8kb)`",
                )
            })?;
            let size = parse_size(content, "the size of the tool's result, like `8kb`")?;
            let options = parse_options(content, "mcp", MCP_OPTIONS, cx)?;
            Ok(McpAst { server, tool, size, options })
        })?;
        Ok(args.map(Step::Mcp))
    } else if lookahead.peek(kw::embed) {
        input.parse::<kw::embed>()?;
        let args = parse_call_args(input, cx, "embed", |content| {
            let name = parse_step_name(content, "embed")?;
            let options = parse_options(content, "embed", EMBED_OPTIONS, cx)?;
            Ok(EmbedAst { name, options })
        })?;
        Ok(args.map(Step::Embed))
    } else if lookahead.peek(kw::retrieve) {
        input.parse::<kw::retrieve>()?;
        let args = parse_call_args(input, cx, "retrieve", |content| {
            let store: Ident = content.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the store's name first, like `retrieve(product_docs, 24kb, top_k: 8)`",
                )
            })?;
            let size = parse_size(content, "the size of the documents returned, like `24kb`")?;
            let options = parse_options(content, "retrieve", RETRIEVE_OPTIONS, cx)?;
            Ok(RetrieveAst { store, size, options })
        })?;
        Ok(args.map(Step::Retrieve))
    } else if lookahead.peek(kw::create_agent) {
        input.parse::<kw::create_agent>()?;
        let args = parse_call_args(input, cx, "create_agent", |content| {
            let agent: Ident = content.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the name of the agent to create first, like `create_agent(report_writer)`",
                )
            })?;
            let options = parse_options(content, "create_agent", CREATE_AGENT_OPTIONS, cx)?;
            Ok(CreateAgentAst { agent, options })
        })?;
        Ok(args.map(Step::CreateAgent))
    } else if lookahead.peek(kw::delegate) {
        input.parse::<kw::delegate>()?;
        let agent: Ident = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the sub-agent's name, like `delegate hotel { .. }`")
        })?;
        let body = parse_block(input, cx)?;
        Ok(Some(Step::Delegate(DelegateAst { agent, body })))
    } else if lookahead.peek(kw::parallel) {
        let keyword: kw::parallel = input.parse()?;
        let body = parse_block(input, cx)?;
        Ok(Some(Step::Parallel(ParallelAst { keyword: keyword.span, body })))
    } else if lookahead.peek(kw::route) {
        let keyword: kw::route = input.parse()?;
        let content;
        braced!(content in input);
        let branches = parse_branches(&content, cx);
        Ok(Some(Step::Route(RouteAst { keyword: keyword.span, branches })))
    } else if lookahead.peek(kw::repeat) {
        input.parse::<kw::repeat>()?;
        let times = parse_number(input, "a repeat count, like `repeat 3 { .. }`")?;
        let body = parse_block(input, cx)?;
        Ok(Some(Step::Repeat(RepeatAst { times, body })))
    } else if input.peek(Ident::peek_any) && input.peek2(Token![:]) {
        // A header entry among the steps: report it and skip just the entry.
        let word = input.call(Ident::parse_any)?;
        cx.error(
            word.span(),
            format!("`{word}:` after the first step: header entries come before the steps"),
        );
        skip_until_comma(input);
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        Ok(None)
    } else if input.peek(Ident::peek_any) {
        let word = input.call(Ident::parse_any)?;
        Err(syn::Error::new(
            word.span(),
            format!("unknown step `{word}`: expected one of {STEP_KINDS}"),
        ))
    } else {
        Err(lookahead.error())
    }
}

/// Parses `( .. ) ;` with `args` for the inside. A mistake inside the parentheses is recorded
/// and gives `Ok(None)`, so the steps after it are still parsed.
fn parse_call_args<T>(
    input: ParseStream<'_>,
    cx: &Ctxt,
    step: &str,
    args: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<Option<T>> {
    let content;
    let paren = parenthesized!(content in input);
    let parsed = args(&content);
    skip_rest(&content);
    let parsed = match parsed {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            cx.push(error);
            None
        }
    };
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
    } else {
        cx.error(paren.span.close(), format!("expected `;` after `{step}(..)`"));
    }
    Ok(parsed)
}

fn parse_step_name(content: ParseStream<'_>, step: &str) -> syn::Result<Ident> {
    content.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected the step's name first, like `{step}(search_flights, ..)`"),
        )
    })
}

/// Parses the `, SIZE` after a step's name, if there is one (options start with a name).
fn parse_size(content: ParseStream<'_>, what: &str) -> syn::Result<Option<Number>> {
    if content.is_empty() || (content.peek(Token![,]) && content.peek2(Ident::peek_any)) {
        Ok(None)
    } else {
        content.parse::<Token![,]>()?;
        Ok(Some(parse_number(content, what)?))
    }
}

/// Parses `, key: value` options until the end of the parentheses. An unknown option or a
/// broken value is recorded and skipped up to the next comma.
fn parse_options(
    content: ParseStream<'_>,
    step: &str,
    allowed: &[OptionKind],
    cx: &Ctxt,
) -> syn::Result<Vec<StepOption>> {
    let mut options = Vec::new();
    while !content.is_empty() {
        content.parse::<Token![,]>()?;
        if content.is_empty() {
            break;
        }
        match parse_option(content, step, allowed) {
            Ok(option) => options.push(option),
            Err(error) => {
                cx.push(error);
                skip_until_comma(content);
            }
        }
    }
    Ok(options)
}

fn parse_option(
    input: ParseStream<'_>,
    step: &str,
    allowed: &[OptionKind],
) -> syn::Result<StepOption> {
    let kind = OptionKind::peek(input).filter(|kind| allowed.contains(kind));
    let key = input.call(Ident::parse_any).map_err(|e| {
        syn::Error::new(e.span(), format!("expected an option of `{step}`: {}", list(allowed)))
    })?;
    let Some(kind) = kind else {
        return Err(syn::Error::new(
            key.span(),
            format!("unknown option `{key}` for `{step}`: expected one of {}", list(allowed)),
        ));
    };
    input.parse::<Token![:]>()?;
    let value = match kind {
        OptionKind::Input | OptionKind::Output | OptionKind::Reasoning | OptionKind::Cached => {
            OptionValue::Amount(Amount::One(parse_number(input, "a token count, like `1200`")?))
        }
        OptionKind::TopK => OptionValue::Amount(Amount::One(parse_number(
            input,
            "a number of documents, like `top_k: 8`",
        )?)),
        OptionKind::Dimensions => OptionValue::Amount(Amount::One(parse_number(
            input,
            "a number of dimensions, like `dimensions: 1536`",
        )?)),
        OptionKind::Ttft => OptionValue::Amount(parse_amount(
            input,
            "a time to first token, like `ttft: 300ms` or `ttft: 200..600ms`",
        )?),
        OptionKind::Stream => OptionValue::Bool(input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected `true` or `false`, like `stream: true`")
        })?),
        OptionKind::ServerSpan => OptionValue::Bool(input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected `true` or `false`, like `server_span: true`")
        })?),
        OptionKind::Fail => OptionValue::Amount(Amount::One(parse_number(
            input,
            "a failure probability, like `2%` or `0.02`",
        )?)),
        OptionKind::Latency => {
            OptionValue::Amount(parse_amount(input, "a latency, like `400ms` or `200..800ms`")?)
        }
        OptionKind::Model => OptionValue::Str(input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected the model as a string, like `model: \"gpt-4o\"`")
        })?),
        OptionKind::Provider => OptionValue::Name(parse_name_lit(input)?),
    };
    Ok(StepOption { key, kind, value })
}

fn list(options: &[OptionKind]) -> String {
    options.iter().map(|o| format!("`{}`", o.keyword())).collect::<Vec<_>>().join(", ")
}

fn parse_amount(input: ParseStream<'_>, what: &str) -> syn::Result<Amount> {
    let first = parse_number(input, what)?;
    if input.peek(Token![..]) && !input.peek(Token![..=]) && !input.peek(Token![...]) {
        input.parse::<Token![..]>()?;
        let second = parse_number(input, what)?;
        Ok(Amount::Range(first, second))
    } else {
        Ok(Amount::One(first))
    }
}

fn parse_number(input: ParseStream<'_>, what: &str) -> syn::Result<Number> {
    let negative = if input.peek(Token![-]) {
        input.parse::<Token![-]>()?;
        true
    } else {
        false
    };
    if !(input.peek(syn::LitInt) || input.peek(syn::LitFloat)) {
        return Err(input.error(format!("expected {what}")));
    }
    let lit: Lit = input.parse()?;
    let percent = if input.peek(Token![%]) {
        input.parse::<Token![%]>()?;
        true
    } else {
        false
    };
    Ok(Number { negative, lit, percent })
}

fn parse_block(input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<Block> {
    let content;
    let brace = braced!(content in input);
    let steps = parse_steps(&content, cx);
    Ok(Block { span: brace.span.join(), steps })
}

fn parse_branches(content: ParseStream<'_>, cx: &Ctxt) -> Vec<BranchAst> {
    let mut branches = Vec::new();
    while !content.is_empty() {
        let branch = (|| -> syn::Result<BranchAst> {
            let weight = parse_number(content, "a branch weight, like `0.9 => { .. }`")?;
            content.parse::<Token![=>]>()?;
            let body = parse_block(content, cx)?;
            Ok(BranchAst { weight, body })
        })();
        match branch {
            Ok(branch) => branches.push(branch),
            Err(error) => {
                cx.push(error);
                recover(content);
            }
        }
        if content.peek(Token![,]) {
            let _ = content.parse::<Token![,]>();
        }
    }
    branches
}

/// Skips what is left of a broken step: up to and including the next `;` or `{ .. }` group.
fn recover(input: ParseStream<'_>) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            rest = next;
            match tree {
                TokenTree::Punct(p) if p.as_char() == ';' => break,
                TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => break,
                _ => {}
            }
        }
        Ok(((), rest))
    });
}

/// Skips to the next top-level `,` (not consumed).
fn skip_until_comma(input: ParseStream<'_>) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

/// Consumes whatever is left in a delimited group, so that syn does not report it a second
/// time after an error has already been recorded for it.
fn skip_rest(input: ParseStream<'_>) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((_, next)) = rest.token_tree() {
            rest = next;
        }
        Ok(((), rest))
    });
}
