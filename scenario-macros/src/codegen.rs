//! Code generation: the scenario's module, written from the model alone.
//!
//! The expansion names everything by absolute path (`#krate::__private::..`, where `krate` is
//! the runtime's `$crate`), so it works without imports, under `#![no_implicit_prelude]` and with
//! the runtime renamed. Output depends only on the model (vectors, no hash maps), so it is the
//! same on every build.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

use crate::model::{
    Branch, CreateAgent, Embed, Llm, Mcp, Retrieve, Scenario, Step, StepKind, Tool,
};
use crate::shape::Range;

/// The module `pub mod <name> { SHAPE, constants, Tree, SCENARIO, scenario() }`.
pub fn expand(krate: &TokenStream, model: &Scenario) -> TokenStream {
    let p = quote!(#krate::__private);
    let module = Ident::new(&model.name, Span::call_site());
    let shape = &model.shape;
    let range = |r: Range| {
        let (min, max) = (Literal::u64_unsuffixed(r.min), Literal::u64_unsuffixed(r.max));
        quote!(#p::Range { min: #min, max: #max })
    };
    let (spans, bytes, llm_calls, tool_calls, tokens) = (
        range(shape.spans),
        range(shape.payload_bytes),
        range(shape.llm_calls),
        range(shape.tool_calls),
        range(shape.tokens),
    );
    let depth = Literal::u32_unsuffixed(shape.depth);
    let exact_spans = shape.spans.min == shape.spans.max;
    let spans_const = exact_spans.then(|| {
        quote! {
            /// Spans per trace (every run emits the same number).
            pub const SPANS: u64 = SHAPE.spans.min;
        }
    });
    let tree_type = block_type(&p, &model.steps);
    let tree = block_value(&p, &model.steps);
    let (name, description, agent, llm_model, provider) = (
        Literal::string(&model.name),
        Literal::string(&model.description),
        Literal::string(&model.agent),
        Literal::string(&model.model),
        Literal::string(&model.provider),
    );
    let workflow = match &model.workflow {
        Some(name) => {
            let name = Literal::string(name);
            quote!(::core::option::Option::Some(#name))
        }
        None => quote!(::core::option::Option::None),
    };
    let session = match &model.session {
        Some(session) => {
            let (min, max) = (
                Literal::u32_unsuffixed(session.min_turns),
                Literal::u32_unsuffixed(session.max_turns),
            );
            let think = latency(&p, session.think);
            quote!(::core::option::Option::Some(#p::Session {
                min_turns: #min,
                max_turns: #max,
                think: #think,
            }))
        }
        None => quote!(::core::option::Option::None),
    };
    // Doc comments start with a space; `#[doc]` text is used as is.
    let doc = Literal::string(&format!(" {}", model.description));
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case, dead_code, missing_docs, unreachable_pub)]
        pub mod #module {
            /// The shape of one run, computed at build time.
            pub const SHAPE: #p::Shape = #p::Shape {
                spans: #spans,
                depth: #depth,
                payload_bytes: #bytes,
                llm_calls: #llm_calls,
                tool_calls: #tool_calls,
                tokens: #tokens,
            };
            /// Fewest spans one trace emits.
            pub const SPANS_MIN: u64 = SHAPE.spans.min;
            /// Most spans one trace emits.
            pub const SPANS_MAX: u64 = SHAPE.spans.max;
            #spans_const
            /// Deepest nesting; the root span is depth 1.
            pub const DEPTH: u32 = SHAPE.depth;
            /// Declared content bytes per trace (message text and tool results).
            pub const BYTES_MIN: u64 = SHAPE.payload_bytes.min;
            pub const BYTES_MAX: u64 = SHAPE.payload_bytes.max;
            /// `llm` steps executed per trace.
            pub const LLM_CALLS_MIN: u64 = SHAPE.llm_calls.min;
            pub const LLM_CALLS_MAX: u64 = SHAPE.llm_calls.max;
            /// `tool` steps executed per trace.
            pub const TOOL_CALLS_MIN: u64 = SHAPE.tool_calls.min;
            pub const TOOL_CALLS_MAX: u64 = SHAPE.tool_calls.max;
            /// Input plus output tokens per trace.
            pub const TOKENS_MIN: u64 = SHAPE.tokens.min;
            pub const TOKENS_MAX: u64 = SHAPE.tokens.max;

            /// The step tree's type.
            pub type Tree = #tree_type;

            /// The scenario: metadata and step tree.
            pub static SCENARIO: #p::Scenario<Tree> = #p::Scenario {
                meta: #p::Meta {
                    name: #name,
                    description: #description,
                    agent: #agent,
                    model: #llm_model,
                    provider: #provider,
                    workflow: #workflow,
                    session: #session,
                    shape: SHAPE,
                },
                tree: #tree,
            };

            /// The scenario, whatever its tree type (for registries).
            pub fn scenario() -> &'static dyn #p::AnyScenario {
                &SCENARIO
            }
        }
    }
}

/// A block's type: its step's, or a `Seq` tree of its steps.
///
/// The tree is balanced (`Seq(Seq(a, b), Seq(c, d))`; for three steps `Seq(a, Seq(b, c))`)
/// rather than a right-nested chain: the async state machines of a chain nest once per step,
/// and a scenario of 80 steps then overflows the compiler's query depth limit. Steps still run
/// in their written order, and descriptions list them in that order.
fn block_type(p: &TokenStream, steps: &[Step]) -> TokenStream {
    tree(steps, &|step| step_type(p, step), &|a, b| quote!(#p::Seq<#a, #b>))
}

fn block_value(p: &TokenStream, steps: &[Step]) -> TokenStream {
    tree(steps, &|step| step_value(p, step), &|a, b| quote!(#p::Seq(#a, #b)))
}

/// The branches of a `parallel` block: a balanced `Join` tree, for the same reason.
fn join_type(p: &TokenStream, steps: &[Step]) -> TokenStream {
    tree(steps, &|step| step_type(p, step), &|a, b| quote!(#p::Join<#a, #b>))
}

fn join_value(p: &TokenStream, steps: &[Step]) -> TokenStream {
    tree(steps, &|step| step_value(p, step), &|a, b| quote!(#p::Join(#a, #b)))
}

/// Combines `steps` in order into a balanced binary tree with `pair` (the left half has the
/// smaller half when the count is odd).
fn tree(
    steps: &[Step],
    leaf: &dyn Fn(&Step) -> TokenStream,
    pair: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
) -> TokenStream {
    match steps {
        [] => quote!(()),
        [only] => leaf(only),
        _ => {
            let (left, right) = steps.split_at(steps.len() / 2);
            pair(tree(left, leaf, pair), tree(right, leaf, pair))
        }
    }
}

fn step_type(p: &TokenStream, step: &Step) -> TokenStream {
    match &step.kind {
        StepKind::Llm(llm) if has_details(llm) => quote!(#p::LlmWith),
        StepKind::Llm(_) => quote!(#p::Llm),
        StepKind::Tool(_) => quote!(#p::Tool),
        StepKind::Delegate { body, .. } => {
            let body = block_type(p, body);
            quote!(#p::Delegate<#body>)
        }
        StepKind::Parallel { body } => {
            let branches = join_type(p, body);
            quote!(#p::Parallel<#branches>)
        }
        StepKind::Route { branches, .. } => route_type(p, branches),
        StepKind::Repeat { body, .. } => {
            let body = block_type(p, body);
            quote!(#p::Repeat<#body>)
        }
        StepKind::Mcp(_) => quote!(#p::Mcp),
        StepKind::Embed(_) => quote!(#p::Embed),
        StepKind::Retrieve(_) => quote!(#p::Retrieve),
        StepKind::CreateAgent(_) => quote!(#p::CreateAgent),
    }
}

fn step_value(p: &TokenStream, step: &Step) -> TokenStream {
    let id = Literal::u32_unsuffixed(step.id);
    match &step.kind {
        StepKind::Llm(llm) => llm_value(p, id, llm),
        StepKind::Tool(tool) => tool_value(p, id, tool),
        StepKind::Delegate { agent, body } => {
            let body = block_value(p, body);
            quote!(#p::Delegate { id: #id, agent: #agent, body: #body })
        }
        StepKind::Parallel { body } => {
            let branches = join_value(p, body);
            quote!(#p::Parallel { id: #id, branches: #branches })
        }
        StepKind::Route { branches, nested_ids } => {
            let ids: Vec<u32> =
                std::iter::once(step.id).chain(nested_ids.iter().copied()).collect();
            route_value(p, branches, &ids)
        }
        StepKind::Repeat { times, body } => {
            let times = Literal::u32_unsuffixed(*times);
            let body = block_value(p, body);
            quote!(#p::Repeat { id: #id, times: #times, body: #body })
        }
        StepKind::Mcp(mcp) => mcp_value(p, id, mcp),
        StepKind::Embed(embed) => embed_value(p, id, embed),
        StepKind::Retrieve(retrieve) => retrieve_value(p, id, retrieve),
        StepKind::CreateAgent(create) => create_agent_value(p, id, create),
    }
}

/// A route of n branches: `Route<B1, Route<B2, .. Branch<Bn>>>`.
fn route_type(p: &TokenStream, branches: &[Branch]) -> TokenStream {
    match branches {
        [] => quote!(()),
        [last] => {
            let body = block_type(p, &last.body);
            quote!(#p::Branch<#body>)
        }
        [first, rest @ ..] => {
            let (first, rest) = (block_type(p, &first.body), route_type(p, rest));
            quote!(#p::Route<#first, #rest>)
        }
    }
}

/// Each binary route takes its first branch with the probability of that branch among the
/// branches left (`w_i / (w_i + .. + w_n)`), so that every branch is taken with its weight.
fn route_value(p: &TokenStream, branches: &[Branch], ids: &[u32]) -> TokenStream {
    match branches {
        [] => quote!(()),
        [last] => {
            let weight = float(last.weight);
            let body = block_value(p, &last.body);
            quote!(#p::Branch { weight: #weight, body: #body })
        }
        [first, rest @ ..] => {
            let remaining: f64 = branches.iter().map(|b| b.weight).sum();
            let probability = if remaining > 0.0 { first.weight / remaining } else { 0.0 };
            let id = Literal::u32_unsuffixed(ids.first().copied().unwrap_or(0));
            let (probability, weight) = (float(probability), float(first.weight));
            let body = block_value(p, &first.body);
            let rest = route_value(p, rest, ids.get(1..).unwrap_or(&[]));
            quote! {
                #p::Route {
                    id: #id,
                    first_probability: #probability,
                    first_weight: #weight,
                    first: #body,
                    rest: #rest,
                }
            }
        }
    }
}

fn float(value: f64) -> Literal {
    Literal::f64_unsuffixed(if value.is_finite() { value } else { 0.0 })
}

fn latency(p: &TokenStream, latency: crate::model::Latency) -> TokenStream {
    let (min, max) =
        (Literal::u64_unsuffixed(latency.min_micros), Literal::u64_unsuffixed(latency.max_micros));
    quote!(#p::Latency { min_micros: #min, max_micros: #max })
}

fn llm_value(p: &TokenStream, id: Literal, llm: &Llm) -> TokenStream {
    let Llm {
        name,
        input_tokens,
        output_tokens,
        model,
        provider,
        fail,
        tool_calls,
        reasoning_tokens,
        cached_tokens,
        ttft,
        ..
    } = llm;
    let with_details = has_details(llm);
    let reasoning = Literal::u32_unsuffixed(*reasoning_tokens);
    let cached = match cached_tokens {
        Some(n) => {
            let n = Literal::u32_unsuffixed(*n);
            quote!(::core::option::Option::Some(#n))
        }
        None => quote!(::core::option::Option::None),
    };
    let ttft = match ttft {
        Some(t) => {
            let t = latency(p, *t);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    };
    let (input, output) =
        (Literal::u32_unsuffixed(*input_tokens), Literal::u32_unsuffixed(*output_tokens));
    let latency = latency(p, llm.latency);
    let fail = float(*fail);
    let calls = tool_calls.iter().map(|call| {
        let (step_id, name) = (Literal::u32_unsuffixed(call.step_id), &call.name);
        quote!(#p::ToolRef { step_id: #step_id, name: #name })
    });
    let call = quote! {
        #p::Llm {
            id: #id,
            name: #name,
            input_tokens: #input,
            output_tokens: #output,
            latency: #latency,
            model: #model,
            provider: #provider,
            fail: #fail,
            tool_calls: &[#(#calls),*],
        }
    };
    if !with_details {
        return call;
    }
    quote! {
        #p::LlmWith {
            call: #call,
            details: #p::LlmDetails {
                reasoning_tokens: #reasoning,
                cached_tokens: #cached,
                ttft: #ttft,
            },
        }
    }
}

/// Whether an `llm` step declares reasoning, cached tokens or streaming (then its type is
/// `LlmWith`, and plain calls keep the smaller `Llm`).
fn has_details(llm: &Llm) -> bool {
    llm.reasoning_tokens > 0 || llm.cached_tokens.is_some() || llm.ttft.is_some()
}

fn tool_value(p: &TokenStream, id: Literal, tool: &Tool) -> TokenStream {
    let Tool { name, result_bytes, fail, .. } = tool;
    let bytes = Literal::u32_unsuffixed(*result_bytes);
    let latency = latency(p, tool.latency);
    let fail = float(*fail);
    quote! {
        #p::Tool { id: #id, name: #name, result_bytes: #bytes, latency: #latency, fail: #fail }
    }
}

fn mcp_value(p: &TokenStream, id: Literal, mcp: &Mcp) -> TokenStream {
    let Mcp { server, tool, result_bytes, fail, server_span, .. } = mcp;
    let bytes = Literal::u32_unsuffixed(*result_bytes);
    let latency = latency(p, mcp.latency);
    let fail = float(*fail);
    quote! {
        #p::Mcp {
            id: #id,
            server: #server,
            name: #tool,
            result_bytes: #bytes,
            latency: #latency,
            fail: #fail,
            server_span: #server_span,
        }
    }
}

fn embed_value(p: &TokenStream, id: Literal, embed: &Embed) -> TokenStream {
    let Embed { name, model, provider, input_tokens, dimensions, fail, .. } = embed;
    let (input, dimensions) =
        (Literal::u32_unsuffixed(*input_tokens), Literal::u32_unsuffixed(*dimensions));
    let latency = latency(p, embed.latency);
    let fail = float(*fail);
    quote! {
        #p::Embed {
            id: #id,
            name: #name,
            model: #model,
            provider: #provider,
            input_tokens: #input,
            dimensions: #dimensions,
            latency: #latency,
            fail: #fail,
        }
    }
}

fn retrieve_value(p: &TokenStream, id: Literal, retrieve: &Retrieve) -> TokenStream {
    let Retrieve { store, top_k, result_bytes, fail, .. } = retrieve;
    let (top_k, bytes) = (Literal::u32_unsuffixed(*top_k), Literal::u32_unsuffixed(*result_bytes));
    let latency = latency(p, retrieve.latency);
    let fail = float(*fail);
    quote! {
        #p::Retrieve {
            id: #id,
            store: #store,
            top_k: #top_k,
            result_bytes: #bytes,
            latency: #latency,
            fail: #fail,
        }
    }
}

fn create_agent_value(p: &TokenStream, id: Literal, create: &CreateAgent) -> TokenStream {
    let CreateAgent { agent, model, provider, fail, .. } = create;
    let latency = latency(p, create.latency);
    let fail = float(*fail);
    quote! {
        #p::CreateAgent {
            id: #id,
            agent: #agent,
            model: #model,
            provider: #provider,
            latency: #latency,
            fail: #fail,
        }
    }
}
