//! Collects the mistakes found in a scenario so that all of them are reported in one compile.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;

/// The error collector threaded through parsing, lowering and checking.
///
/// Every stage records what it finds and carries on where it can; [`Ctxt::finish`] combines the
/// errors, in the order they were found, into one `syn::Error` (one `compile_error!` each).
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error at `span`.
    pub fn error(&self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error produced by syn (a syntax error).
    pub fn push(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// Whether any error has been recorded so far.
    pub fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    /// All recorded errors combined, or `Ok` if there were none.
    pub fn finish(self) -> syn::Result<()> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}
