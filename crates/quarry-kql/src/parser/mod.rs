//! The recursive-descent parser: tokens to [`Query`], with error recovery.
//!
//! Errors are recorded as diagnostics and the parser resynchronises at the next pipe, statement
//! separator or closing bracket, so one parse reports every independent problem of a query.

mod expr;
mod operators;
mod statements;

use crate::ast::{Ident, Query};
use crate::diagnostic::Diagnostic;
use crate::lexer::{decode_string, tokenize};
use crate::span::Span;
use crate::token::{Token, TokenKind};
use crate::Parsed;

/// Deepest nesting of expressions and subqueries the parser follows before giving up; it keeps
/// hostile input from exhausting the stack.
const MAX_DEPTH: usize = 64;

/// Marker for a failed parse step whose diagnostic has already been recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failed;

pub(crate) type PResult<T> = Result<T, Failed>;

/// Parses a whole query text.
pub(crate) fn parse_query(text: &str) -> Parsed {
    let (tokens, lex_diagnostics) = tokenize(text);
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        depth: 0,
        assign_is_equality: false,
        in_search: false,
        diagnostics: lex_diagnostics,
    };
    let statements = parser.parse_statements(false);
    let mut diagnostics = parser.diagnostics;
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    diagnostics.dedup_by(|a, b| a.span == b.span && a.message == b.message);
    Parsed {
        query: Query {
            statements,
            span: Span::new(0, text.len()),
        },
        diagnostics,
    }
}

pub(crate) struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Inside a `where` predicate, where Kusto reads a single `=` as `==`.
    assign_is_equality: bool,
    /// Inside a `search` predicate, where `Column:"text"` means `Column has "text"`.
    in_search: bool,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Parser<'a> {
    // ----- token access -----

    fn peek(&self) -> Token {
        self.nth(0)
    }

    fn nth(&self, n: usize) -> Token {
        let index = (self.pos + n).min(self.tokens.len() - 1);
        self.tokens[index]
    }

    fn peek_kind(&self) -> TokenKind {
        self.peek().kind
    }

    fn nth_kind(&self, n: usize) -> TokenKind {
        self.nth(n).kind
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.peek_kind() == kind
    }

    fn token_text(&self, token: Token) -> &'a str {
        token.span.slice(self.text)
    }

    /// True when the next token is the word `word`.
    fn at_word(&self, word: &str) -> bool {
        self.nth_is_word(0, word)
    }

    fn nth_is_word(&self, n: usize, word: &str) -> bool {
        let token = self.nth(n);
        token.kind == TokenKind::Ident && self.token_text(token) == word
    }

    /// The text of the next token if it is a plain word.
    fn peek_word(&self) -> Option<&'a str> {
        let token = self.peek();
        (token.kind == TokenKind::Ident).then(|| self.token_text(token))
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.at_word(word) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// The end of the last consumed token.
    fn last_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].span.end
        }
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.last_end().max(start))
    }

    // ----- diagnostics -----

    fn error(&mut self, message: impl Into<String>, span: Span) -> Failed {
        self.diagnostics
            .push(Diagnostic::error("kql::syntax", message, span));
        Failed
    }

    fn error_with_help(
        &mut self,
        message: impl Into<String>,
        span: Span,
        help: impl Into<String>,
    ) -> Failed {
        self.diagnostics
            .push(Diagnostic::error("kql::syntax", message, span).with_help(help));
        Failed
    }

    /// Reports that `expected` was wanted where the next token stands.
    fn unexpected(&mut self, expected: &str) -> Failed {
        let token = self.peek();
        if token.kind == TokenKind::Error {
            // The lexer already explained this token.
            return Failed;
        }
        let found = self.describe(token);
        // When the missing piece belongs at the end of a line, point there rather than at the
        // first token of the next line.
        let previous_end = self.last_end();
        let (span, label) = match self.text.get(previous_end..token.span.start) {
            Some(gap) if self.pos > 0 && gap.contains('\n') => (
                Span::new(previous_end, previous_end),
                format!("expected {expected} after this"),
            ),
            _ => (token.span, format!("expected {expected} here")),
        };
        self.diagnostics.push(
            Diagnostic::error(
                "kql::syntax",
                format!("expected {expected}, found {found}"),
                span,
            )
            .with_label(label),
        );
        Failed
    }

    fn describe(&self, token: Token) -> String {
        match token.kind {
            TokenKind::Ident | TokenKind::BangWord => format!("`{}`", self.token_text(token)),
            TokenKind::Eof => "the end of the query".to_string(),
            TokenKind::Long
            | TokenKind::Real
            | TokenKind::Timespan
            | TokenKind::String
            | TokenKind::TypedRaw
            | TokenKind::Template => {
                let text = self.token_text(token);
                if text.chars().count() <= 24 && !text.contains('\n') {
                    format!("{} `{}`", token.kind.describe(), text)
                } else {
                    token.kind.describe().to_string()
                }
            }
            kind => kind.describe().to_string(),
        }
    }

    fn expect(&mut self, kind: TokenKind) -> PResult<Token> {
        if self.at(kind) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(kind.describe()))
        }
    }

    /// Expects a closing bracket, naming the opening one in the diagnostic.
    fn expect_closing(&mut self, kind: TokenKind, opened_at: Span) -> PResult<Token> {
        if self.at(kind) {
            return Ok(self.bump());
        }
        let token = self.peek();
        if token.kind == TokenKind::Error {
            return Err(Failed);
        }
        let found = self.describe(token);
        self.diagnostics.push(
            Diagnostic::error(
                "kql::syntax",
                format!(
                    "expected {} to close the one opened here, found {found}",
                    kind.describe()
                ),
                opened_at,
            )
            .with_label("opened here"),
        );
        if token.span.start != opened_at.start && token.kind != TokenKind::Eof {
            self.diagnostics.push(
                Diagnostic::error(
                    "kql::syntax",
                    format!("expected {}, found {found}", kind.describe()),
                    token.span,
                )
                .with_label("unexpected here"),
            );
        }
        Err(Failed)
    }

    fn expect_word(&mut self, word: &str) -> PResult<Token> {
        if self.at_word(word) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(&format!("`{word}`")))
        }
    }

    /// A name: a plain word or a bracketed name.
    fn parse_ident(&mut self, what: &str) -> PResult<Ident> {
        let token = self.peek();
        match token.kind {
            TokenKind::Ident => {
                self.bump();
                Ok(Ident {
                    name: self.token_text(token).to_string(),
                    span: token.span,
                })
            }
            TokenKind::LBracket if self.name_len_at(0) == 3 => {
                self.bump();
                let string = self.bump();
                let close = self.bump();
                Ok(Ident {
                    name: decode_string(self.token_text(string)).0,
                    span: token.span.to(close.span),
                })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// How many tokens the name `n` tokens ahead takes: 1 for a word, 3 for a bracketed name
    /// `['name']`, 0 when no name is there.
    fn name_len_at(&self, n: usize) -> usize {
        match self.nth_kind(n) {
            TokenKind::Ident => 1,
            TokenKind::LBracket
                if self.nth_kind(n + 1) == TokenKind::String
                    && self.nth_kind(n + 2) == TokenKind::RBracket =>
            {
                3
            }
            _ => 0,
        }
    }

    fn at_ident(&self) -> bool {
        self.name_len_at(0) > 0
    }

    /// True at `name =` (a single `=`), as in `extend Name = …` or `f(arg = …)`.
    fn at_name_assign(&self) -> bool {
        let len = self.name_len_at(0);
        len > 0 && self.nth_kind(len) == TokenKind::Assign
    }

    // ----- nesting and recovery -----

    fn enter(&mut self) -> PResult<()> {
        self.enter_weighted(1)
    }

    /// Enters a nesting level that costs `weight` units of the depth budget (operators take
    /// far more stack than expressions).
    fn enter_weighted(&mut self, weight: usize) -> PResult<()> {
        self.depth += weight;
        if self.depth > MAX_DEPTH {
            let span = self.peek().span;
            self.depth -= weight;
            return Err(self.error(
                format!("the query nests deeper than {MAX_DEPTH} levels"),
                span,
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.leave_weighted(1);
    }

    fn leave_weighted(&mut self, weight: usize) {
        self.depth = self.depth.saturating_sub(weight);
    }

    /// True at a token that ends a tabular operator.
    fn at_operator_end(&self) -> bool {
        matches!(
            self.peek_kind(),
            TokenKind::Pipe
                | TokenKind::Semicolon
                | TokenKind::RParen
                | TokenKind::RBrace
                | TokenKind::RBracket
                | TokenKind::Comma
                | TokenKind::Eof
        )
    }

    /// Skips tokens up to the next `|` (or `;` when `stop_at_pipe` is false) at the nesting level
    /// of token `from` (where the failed construct began), stopping before a closing bracket that
    /// belongs to an enclosing construct. Brackets opened between `from` and the current token
    /// are closed first, so an error deep inside a call does not end the whole statement.
    fn recover_from(&mut self, from: usize, stop_at_pipe: bool) {
        let mut depth = 0usize;
        let mut index = from.min(self.pos);
        loop {
            let kind = self.tokens[index].kind;
            if index >= self.pos {
                let stop = match kind {
                    TokenKind::Eof => true,
                    TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth == 0,
                    TokenKind::Pipe => depth == 0 && stop_at_pipe,
                    TokenKind::Semicolon => depth == 0,
                    _ => false,
                };
                if stop {
                    break;
                }
            }
            match kind {
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    depth = depth.saturating_sub(1)
                }
                _ => {}
            }
            index += 1;
        }
        self.pos = index.max(self.pos);
    }

    /// [`Self::recover_from`] the current token.
    fn recover(&mut self, stop_at_pipe: bool) {
        self.recover_from(self.pos, stop_at_pipe);
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(&word.to_lowercase(), c), *c))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}
