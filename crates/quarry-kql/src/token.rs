//! Tokens produced by the lexer.

use crate::span::Span;

/// What a token is. Text-bearing tokens (names, literals) are read back from the source through
/// the token's span, which keeps tokens small and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A name or keyword: `where`, `Timestamp`, `$left`, `project-away`, `in~`.
    Ident,
    /// A negated word operator: `!has`, `!contains_cs`, `!in`, `!in~`, `!between`.
    BangWord,
    /// An integer literal (decimal or `0x` hexadecimal).
    Long,
    /// A real literal: `1.5`, `1e3`.
    Real,
    /// A timespan literal: `1d`, `30m`, `1.5h`.
    Timespan,
    /// A string literal in any of its forms.
    String,
    /// A typed literal whose content is raw text: `datetime(…)`, `timespan(…)`, `guid(…)`.
    TypedRaw,
    /// A rule template placeholder `{{Name}}`.
    Template,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `,`
    Comma,
    /// `;`
    Semicolon,
    /// `|`
    Pipe,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `:`
    Colon,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `<>`
    LtGt,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=~`
    EqTilde,
    /// `!~`
    BangTilde,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `=>`
    FatArrow,
    /// `->`
    Arrow,
    /// `?`
    Question,
    /// A character or sequence the lexer could not read (a diagnostic was reported).
    Error,
    /// End of input.
    Eof,
}

/// A token and where it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// The kind of token.
    pub kind: TokenKind,
    /// Its text.
    pub span: Span,
    /// True when whitespace or a comment comes right before it.
    pub space_before: bool,
}

impl TokenKind {
    /// How the token kind is described in diagnostics.
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "a name",
            TokenKind::BangWord => "a negated operator",
            TokenKind::Long => "an integer",
            TokenKind::Real => "a real number",
            TokenKind::Timespan => "a timespan",
            TokenKind::String => "a string",
            TokenKind::TypedRaw => "a typed literal",
            TokenKind::Template => "a template placeholder",
            TokenKind::LParen => "`(`",
            TokenKind::RParen => "`)`",
            TokenKind::LBracket => "`[`",
            TokenKind::RBracket => "`]`",
            TokenKind::LBrace => "`{`",
            TokenKind::RBrace => "`}`",
            TokenKind::Comma => "`,`",
            TokenKind::Semicolon => "`;`",
            TokenKind::Pipe => "`|`",
            TokenKind::Dot => "`.`",
            TokenKind::DotDot => "`..`",
            TokenKind::Colon => "`:`",
            TokenKind::Assign => "`=`",
            TokenKind::EqEq => "`==`",
            TokenKind::NotEq => "`!=`",
            TokenKind::LtGt => "`<>`",
            TokenKind::Lt => "`<`",
            TokenKind::Le => "`<=`",
            TokenKind::Gt => "`>`",
            TokenKind::Ge => "`>=`",
            TokenKind::EqTilde => "`=~`",
            TokenKind::BangTilde => "`!~`",
            TokenKind::Plus => "`+`",
            TokenKind::Minus => "`-`",
            TokenKind::Star => "`*`",
            TokenKind::Slash => "`/`",
            TokenKind::Percent => "`%`",
            TokenKind::FatArrow => "`=>`",
            TokenKind::Arrow => "`->`",
            TokenKind::Question => "`?`",
            TokenKind::Error => "an unreadable token",
            TokenKind::Eof => "the end of the query",
        }
    }
}
