//! Names in scope while walking a query: `let` bindings, function and query parameters, and
//! names given by `as`, innermost first.

use quarry_kql::ast::{Expr, FunctionDef};
use std::collections::HashMap;

/// What a name stands for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound<'a> {
    /// `let name = expr`.
    Value(&'a Expr),
    /// `let name = (…) { … }` or a view.
    Function(&'a FunctionDef),
    /// A function or query parameter; `tabular` for a table parameter `T:(*)`.
    Parameter { tabular: bool },
    /// A name given to an intermediate result by `as`.
    Tabular,
}

/// One name in scope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding<'a> {
    /// What the name stands for.
    pub bound: Bound<'a>,
    /// Index into the walk's list of `let` bindings, for `let`s of the analysed query.
    pub id: Option<usize>,
}

/// Bindings by name with nested frames (a function body opens one).
///
/// A map of stacks rather than a list of frames, so that a lookup costs the same however many
/// names a large parser body binds.
#[derive(Debug, Default)]
pub(crate) struct Scope<'a> {
    by_name: HashMap<&'a str, Vec<Binding<'a>>>,
    frames: Vec<Vec<&'a str>>,
}

impl<'a> Scope<'a> {
    /// An empty scope with one open frame.
    pub fn new() -> Self {
        Scope {
            by_name: HashMap::new(),
            frames: vec![Vec::new()],
        }
    }

    /// Opens a frame (a function body).
    pub fn push(&mut self) {
        self.frames.push(Vec::new());
    }

    /// Closes the innermost frame, forgetting the names bound in it; the outermost frame stays.
    pub fn pop(&mut self) {
        if self.frames.len() <= 1 {
            return;
        }
        for name in self.frames.pop().unwrap_or_default() {
            if let Some(stack) = self.by_name.get_mut(name) {
                stack.pop();
            }
        }
    }

    /// Binds `name` in the innermost frame, shadowing any outer binding.
    pub fn bind(&mut self, name: &'a str, binding: Binding<'a>) {
        self.by_name.entry(name).or_default().push(binding);
        if let Some(frame) = self.frames.last_mut() {
            frame.push(name);
        }
    }

    /// The innermost binding of `name`.
    pub fn lookup(&self, name: &str) -> Option<&Binding<'a>> {
        self.by_name.get(name).and_then(|stack| stack.last())
    }

    /// The expression `name` is bound to by `let`, if it is bound to one.
    pub fn value_of(&self, name: &str) -> Option<&'a Expr> {
        match self.lookup(name)?.bound {
            Bound::Value(expr) => Some(expr),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_frames_shadow_and_forget() {
        let mut scope = Scope::new();
        scope.bind(
            "x",
            Binding {
                bound: Bound::Tabular,
                id: Some(0),
            },
        );
        scope.push();
        scope.bind(
            "x",
            Binding {
                bound: Bound::Parameter { tabular: false },
                id: None,
            },
        );
        assert!(matches!(
            scope.lookup("x").unwrap().bound,
            Bound::Parameter { .. }
        ));
        scope.pop();
        assert_eq!(scope.lookup("x").unwrap().id, Some(0));
        scope.pop();
        scope.pop();
        assert!(scope.lookup("x").is_some(), "the outermost frame stays");
        assert!(scope.lookup("y").is_none());
    }
}
