//! The `scenario!` macro. Use it through `scenario_runtime::scenario!`.
use proc_macro::TokenStream;

#[doc(hidden)]
#[proc_macro]
pub fn scenario_impl(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
