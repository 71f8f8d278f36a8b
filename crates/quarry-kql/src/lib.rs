//! `quarry-kql`: the Kusto Query Language front end.
//!
//! [`parse`] turns query text into a [`ast::Query`] whose nodes carry byte spans, together with
//! every syntax [`Diagnostic`] found (the parser recovers and keeps going, so one call reports
//! several problems). [`print`] writes a tree back as canonical KQL text.

pub mod ast;
pub mod diagnostic;
pub mod lexer;
mod parser;
pub mod printer;
pub mod span;
pub mod token;

pub use diagnostic::{line_col, Diagnostic, Severity};
pub use printer::print;
pub use span::Span;

/// The result of parsing a query text: the tree (with error nodes where the text could not be
/// parsed) and the diagnostics.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The syntax tree.
    pub query: ast::Query,
    /// Every problem found, in text order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// True when no error was found.
    pub fn is_ok(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses a KQL query text (statements separated by `;`).
pub fn parse(text: &str) -> Parsed {
    parser::parse_query(text)
}
