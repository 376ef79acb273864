//! The `scenario!` macro. Use it through `scenario_runtime::scenario!`, which documents the
//! language (`scenario_runtime::language`).
//!
//! Four stages, each in its module: `ast` parses the tokens (syntax only, keeping every
//! token's span), `model` resolves values and builds the validated model, `check` holds the
//! rules that span several tokens, and `codegen` writes the step tree from the model alone.
//! Every mistake is collected in a `ctxt::Ctxt` and all are reported together.

use proc_macro::TokenStream;
use proc_macro2::{TokenStream as TokenStream2, TokenTree};

mod ast;
mod check;
mod codegen;
mod ctxt;
mod model;
mod shape;
mod units;

#[cfg(test)]
mod tests;

/// The entry the runtime's `scenario!` forwards to, as `scenario_impl! { $crate; .. }`.
#[doc(hidden)]
#[proc_macro]
pub fn scenario_impl(input: TokenStream) -> TokenStream {
    expand(input.into()).into()
}

/// Expands `krate ; scenario tokens` into the scenario's module, or into `compile_error!`s
/// listing every mistake (and nothing else, so no follow-up errors drown them).
fn expand(input: TokenStream2) -> TokenStream2 {
    let (krate, tokens) = split_krate(input);
    let cx = ctxt::Ctxt::new();
    let model = ast::parse(tokens, &cx).and_then(|ast| model::lower(&ast, &cx));
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => codegen::expand(&krate, &model),
        (Err(errors), _) => errors.to_compile_error(),
        (Ok(()), None) => {
            syn::Error::new(proc_macro2::Span::call_site(), "this scenario could not be read")
                .to_compile_error()
        }
    }
}

/// Splits the runtime's path (everything before the first `;`) from the scenario.
fn split_krate(input: TokenStream2) -> (TokenStream2, TokenStream2) {
    let mut krate = TokenStream2::new();
    let mut tokens = input.into_iter();
    for token in tokens.by_ref() {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ';' => break,
            _ => krate.extend([token]),
        }
    }
    (krate, tokens.collect())
}
