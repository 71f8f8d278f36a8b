//! The lexer: query text to tokens, with diagnostics for what cannot be read.
//!
//! A few KQL spellings are joined here so that the parser sees one token: dashed operator names
//! (`project-away`, `mv-expand`), negated word operators (`!has`, `!in~`), `in~`, and typed
//! literals whose content is free text (`datetime(2020-01-01 10:00)`, `guid(…)`).

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::token::{Token, TokenKind};

/// Operator and keyword names written with dashes, joined into one token.
const DASHED_WORDS: &[&str] = &[
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "project-by-names",
    "mv-expand",
    "mv-apply",
    "make-series",
    "make-graph",
    "top-nested",
    "top-hitters",
    "parse-where",
    "parse-kv",
    "sample-distinct",
    "granny-asc",
    "granny-desc",
    "graph-match",
    "graph-merge",
    "graph-to-table",
    "graph-shortest-paths",
    "graph-mark-components",
    "execute-and-cache",
    "assert-schema",
];

/// Type names whose literal `type(…)` holds raw text rather than tokens.
const RAW_LITERAL_TYPES: &[&str] = &["datetime", "date", "time", "timespan", "guid"];

/// Timespan units accepted after a number (`1d`, `30min`, `100ms`, `1tick`).
pub const TIMESPAN_UNITS: &[&str] = &[
    "d",
    "day",
    "days",
    "h",
    "hr",
    "hrs",
    "hour",
    "hours",
    "m",
    "min",
    "minute",
    "minutes",
    "s",
    "sec",
    "second",
    "seconds",
    "ms",
    "milli",
    "millis",
    "millisec",
    "millisecond",
    "milliseconds",
    "micro",
    "micros",
    "microsec",
    "microsecond",
    "microseconds",
    "nano",
    "nanos",
    "nanosec",
    "nanosecond",
    "nanoseconds",
    "tick",
    "ticks",
];

/// Splits `text` into tokens (always ending with [`TokenKind::Eof`]) and the diagnostics for
/// anything that could not be read.
pub fn tokenize(text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        tokens: Vec::with_capacity(text.len() / 4 + 1),
        diagnostics: Vec::new(),
    };
    lexer.run();
    (lexer.tokens, lexer.diagnostics)
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'a> Lexer<'a> {
    fn peek_byte(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn peek_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.text.get(pos..).and_then(|s| s.chars().next())
    }

    fn push(&mut self, kind: TokenKind, start: usize, space_before: bool) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
            space_before,
        });
    }

    fn error(&mut self, message: impl Into<String>, span: Span) {
        self.diagnostics
            .push(Diagnostic::error("kql::lex", message, span));
    }

    /// Skips whitespace and `//` comments; returns whether anything was skipped.
    fn skip_trivia(&mut self) -> bool {
        let start = self.pos;
        loop {
            match self.peek_byte(0) {
                b' ' | b'\t' | b'\r' | b'\n' | 0x0c | 0x0b => self.pos += 1,
                b'/' if self.peek_byte(1) == b'/' => {
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                0xC2 if self.peek_byte(1) == 0xA0 => self.pos += 2, // no-break space
                0xEF if self.peek_byte(1) == 0xBB && self.peek_byte(2) == 0xBF => self.pos += 3, // BOM
                0xE2 if self.peek_byte(1) == 0x80
                    && matches!(self.peek_byte(2), 0x8B | 0xAF | 0xA8 | 0xA9) =>
                {
                    self.pos += 3 // zero-width, narrow no-break, line and paragraph separators
                }
                _ => break,
            }
        }
        self.pos > start
    }

    fn run(&mut self) {
        loop {
            let space_before = self.skip_trivia() || self.pos == 0;
            let start = self.pos;
            let Some(c) = self.peek_char() else {
                self.push(TokenKind::Eof, start, space_before);
                return;
            };
            self.lex_token(c, start, space_before);
        }
    }

    fn lex_token(&mut self, c: char, start: usize, space_before: bool) {
        use TokenKind as K;
        let two = (self.peek_byte(0), self.peek_byte(1));
        let kind = match c {
            '\'' | '"' => {
                self.lex_quoted_string(start, space_before);
                return;
            }
            '@' if matches!(self.peek_byte(1), b'\'' | b'"') => {
                self.pos += 1;
                self.lex_verbatim_string(start, space_before);
                return;
            }
            '`' if self.text[self.pos..].starts_with("```") => {
                self.lex_fenced_string(start, "```", space_before);
                return;
            }
            '~' if self.text[self.pos..].starts_with("~~~") => {
                self.lex_fenced_string(start, "~~~", space_before);
                return;
            }
            '{' if two.1 == b'{' => {
                self.lex_template(start, space_before);
                return;
            }
            '$' if self.char_at(self.pos + 1).is_some_and(is_ident_continue) => {
                self.pos += 1;
                self.eat_ident_chars();
                K::Ident
            }
            c if c.is_ascii_digit() => {
                self.lex_number(start, space_before);
                return;
            }
            c if is_ident_start(c) => {
                self.lex_word(start, space_before);
                return;
            }
            '!' if self.char_at(self.pos + 1).is_some_and(is_ident_start) => {
                self.pos += 1;
                self.eat_ident_chars();
                if self.text[start..self.pos].eq_ignore_ascii_case("!in")
                    && self.peek_byte(0) == b'~'
                {
                    self.pos += 1;
                }
                K::BangWord
            }
            _ => {
                let (kind, len) = match two {
                    (b'(', _) => (K::LParen, 1),
                    (b')', _) => (K::RParen, 1),
                    (b'[', _) => (K::LBracket, 1),
                    (b']', _) => (K::RBracket, 1),
                    (b'{', _) => (K::LBrace, 1),
                    (b'}', _) => (K::RBrace, 1),
                    (b',', _) => (K::Comma, 1),
                    (b';', _) => (K::Semicolon, 1),
                    (b'|', _) => (K::Pipe, 1),
                    (b'.', b'.') => (K::DotDot, 2),
                    (b'.', _) => (K::Dot, 1),
                    (b':', _) => (K::Colon, 1),
                    (b'=', b'=') => (K::EqEq, 2),
                    (b'=', b'~') => (K::EqTilde, 2),
                    (b'=', b'>') => (K::FatArrow, 2),
                    (b'=', _) => (K::Assign, 1),
                    (b'!', b'=') => (K::NotEq, 2),
                    (b'!', b'~') => (K::BangTilde, 2),
                    (b'<', b'>') => (K::LtGt, 2),
                    (b'<', b'=') => (K::Le, 2),
                    (b'<', _) => (K::Lt, 1),
                    (b'>', b'=') => (K::Ge, 2),
                    (b'>', _) => (K::Gt, 1),
                    (b'+', _) => (K::Plus, 1),
                    (b'-', b'>') => (K::Arrow, 2),
                    (b'-', _) => (K::Minus, 1),
                    (b'*', _) => (K::Star, 1),
                    (b'/', _) => (K::Slash, 1),
                    (b'%', _) => (K::Percent, 1),
                    (b'?', _) => (K::Question, 1),
                    _ => {
                        self.pos += c.len_utf8();
                        let span = Span::new(start, self.pos);
                        self.error(format!("unexpected character `{c}`"), span);
                        self.push(K::Error, start, space_before);
                        return;
                    }
                };
                self.pos += len;
                kind
            }
        };
        self.push(kind, start, space_before);
    }

    fn eat_ident_chars(&mut self) {
        while let Some(c) = self.peek_char() {
            if is_ident_continue(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn lex_word(&mut self, start: usize, space_before: bool) {
        self.eat_ident_chars();
        let word = &self.text[start..self.pos];
        // Obfuscated strings: h"…", H'…', h@"…".
        if matches!(word, "h" | "H") {
            match (self.peek_byte(0), self.peek_byte(1)) {
                (b'\'' | b'"', _) => return self.lex_quoted_string(start, space_before),
                (b'@', b'\'' | b'"') => {
                    self.pos += 1;
                    return self.lex_verbatim_string(start, space_before);
                }
                _ => {}
            }
        }
        if word == "in" && self.peek_byte(0) == b'~' {
            self.pos += 1;
            return self.push(TokenKind::Ident, start, space_before);
        }
        if self.peek_byte(0) == b'-' && self.extend_dashed_word(start) {
            return self.push(TokenKind::Ident, start, space_before);
        }
        if RAW_LITERAL_TYPES.contains(&word) && self.lex_raw_literal_body() {
            return self.push(TokenKind::TypedRaw, start, space_before);
        }
        self.push(TokenKind::Ident, start, space_before);
    }

    /// Extends the word at `start` over `-word` parts when the result is a dashed keyword.
    fn extend_dashed_word(&mut self, start: usize) -> bool {
        let mut end = self.pos;
        let mut best = None;
        while self.bytes.get(end) == Some(&b'-')
            && self
                .char_at(end + 1)
                .is_some_and(|c| c.is_ascii_alphabetic())
        {
            end += 1;
            while self
                .char_at(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                end += 1;
            }
            if DASHED_WORDS.contains(&&self.text[start..end]) {
                best = Some(end);
            }
        }
        match best {
            Some(end) => {
                self.pos = end;
                true
            }
            None => false,
        }
    }

    /// After a raw-literal type name: if `(` follows, consumes up to the matching `)`.
    fn lex_raw_literal_body(&mut self) -> bool {
        let mut p = self.pos;
        while matches!(self.bytes.get(p), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            p += 1;
        }
        if self.bytes.get(p) != Some(&b'(') {
            return false;
        }
        let open = p;
        let mut depth = 0usize;
        while p < self.bytes.len() {
            match self.bytes[p] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = p + 1;
                        return true;
                    }
                }
                b'\n' | b';' | b'|' => break,
                _ => {}
            }
            p += 1;
        }
        self.pos = p;
        self.error(
            "this literal is missing its closing `)`",
            Span::new(open, p.max(open + 1)),
        );
        true
    }

    fn lex_quoted_string(&mut self, start: usize, space_before: bool) {
        self.scan_quoted_body(start);
        self.push(TokenKind::String, start, space_before);
    }

    /// Scans `'…'` or `"…"` starting at the opening quote (at `self.pos`).
    fn scan_quoted_body(&mut self, start: usize) {
        let quote = self.bytes[self.pos];
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if b == b'\\' {
                self.check_escape();
                continue;
            }
            if b == quote {
                self.pos += 1;
                return;
            }
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
        self.pos = self.pos.min(self.bytes.len());
        self.error(
            "this string is not closed before the end of the line",
            Span::new(start, self.pos),
        );
    }

    /// Validates the escape sequence at `self.pos` (a backslash) and steps over it.
    fn check_escape(&mut self) {
        let at = self.pos;
        let (valid, len) = match self.peek_byte(1) {
            b'\\' | b'\'' | b'"' | b'n' | b't' | b'r' | b'a' | b'b' | b'f' | b'v' => (true, 2),
            b'0'..=b'7' => {
                let digits = (1..=3)
                    .take_while(|i| matches!(self.peek_byte(*i), b'0'..=b'7'))
                    .count();
                (true, 1 + digits)
            }
            b'x' if self.hex_digits_at(2, 2) => (true, 4),
            b'u' if self.hex_digits_at(2, 4) => (true, 6),
            b'U' if self.hex_digits_at(2, 8) => (true, 10),
            b'\n' | b'\r' | 0 => (false, 1),
            _ => (false, 2),
        };
        let mut end = (at + len).min(self.bytes.len());
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        if !valid {
            let shown = self.text.get(at..end).unwrap_or("\\");
            self.diagnostics.push(
                Diagnostic::error(
                    "kql::lex",
                    format!("`{shown}` is not a valid escape sequence"),
                    Span::new(at, end),
                )
                .with_help(
                    "write `\\\\` for a backslash, or use a verbatim string such as @\"C:\\Windows\"",
                ),
            );
        }
        self.pos = end;
    }

    fn hex_digits_at(&self, offset: usize, count: usize) -> bool {
        (offset..offset + count).all(|i| self.peek_byte(i).is_ascii_hexdigit())
    }

    fn lex_verbatim_string(&mut self, start: usize, space_before: bool) {
        self.scan_verbatim_body(start);
        self.push(TokenKind::String, start, space_before);
    }

    /// Scans `'…'`/`"…"` with doubled quotes as escapes (the `@` is already consumed).
    fn scan_verbatim_body(&mut self, start: usize) {
        let quote = self.bytes[self.pos];
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if b == quote {
                if self.peek_byte(1) == quote {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return;
            }
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
        self.error(
            "this verbatim string is not closed before the end of the line",
            Span::new(start, self.pos),
        );
    }

    fn lex_fenced_string(&mut self, start: usize, fence: &str, space_before: bool) {
        self.pos += fence.len();
        match self.text[self.pos..].find(fence) {
            Some(offset) => self.pos += offset + fence.len(),
            None => {
                self.pos = self.text.len();
                self.error(
                    format!("this multi-line string has no closing {fence}"),
                    Span::new(start, start + fence.len()),
                );
            }
        }
        self.push(TokenKind::String, start, space_before);
    }

    fn lex_template(&mut self, start: usize, space_before: bool) {
        let rest = &self.text[self.pos + 2..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        match rest[..line_end].find("}}") {
            Some(offset) if !rest[..offset].contains('{') => {
                self.pos += 2 + offset + 2;
                self.push(TokenKind::Template, start, space_before);
            }
            _ => {
                self.pos += 1;
                self.push(TokenKind::LBrace, start, space_before);
            }
        }
    }

    fn eat_digits(&mut self) -> bool {
        let from = self.pos;
        while self.peek_byte(0).is_ascii_digit() {
            self.pos += 1;
        }
        self.pos > from
    }

    fn lex_number(&mut self, start: usize, space_before: bool) {
        if self.peek_byte(0) == b'0' && matches!(self.peek_byte(1), b'x' | b'X') {
            self.pos += 2;
            while self.peek_byte(0).is_ascii_hexdigit() {
                self.pos += 1;
            }
            return self.push(TokenKind::Long, start, space_before);
        }
        let mut kind = TokenKind::Long;
        self.eat_digits();
        if self.peek_byte(0) == b'.' && self.peek_byte(1).is_ascii_digit() {
            self.pos += 1;
            self.eat_digits();
            kind = TokenKind::Real;
        } else if self.peek_byte(0) == b'.'
            && self.peek_byte(1) != b'.'
            && !self.char_at(self.pos + 1).is_some_and(is_ident_start)
        {
            self.pos += 1; // `1.` is a real
            kind = TokenKind::Real;
        }
        let exponent_digit_at = match (self.peek_byte(0), self.peek_byte(1)) {
            (b'e' | b'E', b'+' | b'-') => Some(2),
            (b'e' | b'E', d) if d.is_ascii_digit() => Some(1),
            _ => None,
        };
        if let Some(offset) = exponent_digit_at {
            if self.peek_byte(offset).is_ascii_digit() {
                self.pos += offset;
                self.eat_digits();
                kind = TokenKind::Real;
            }
        }
        if self.peek_char().is_some_and(is_ident_start) {
            let unit_start = self.pos;
            self.eat_ident_chars();
            let unit = &self.text[unit_start..self.pos];
            if TIMESPAN_UNITS.iter().any(|u| u.eq_ignore_ascii_case(unit)) {
                kind = TokenKind::Timespan;
            } else {
                // KQL names may start with digits (`5Minutebin`); what is not a timespan unit makes
                // the whole run a name, which the binder resolves or rejects.
                kind = TokenKind::Ident;
            }
        }
        self.push(kind, start, space_before);
    }
}

/// Decodes a string token's text (any form: `'…'`, `"…"`, `@"…"`, `h"…"`, fenced) into its value.
/// Returns the value and whether it was obfuscated (`h` prefix).
pub fn decode_string(token_text: &str) -> (String, bool) {
    let (obfuscated, rest) = match token_text.as_bytes().first() {
        Some(b'h' | b'H') => (true, &token_text[1..]),
        _ => (false, token_text),
    };
    (decode_unprefixed(rest), obfuscated)
}

fn decode_unprefixed(text: &str) -> String {
    if let Some(body) = text
        .strip_prefix("```")
        .or_else(|| text.strip_prefix("~~~"))
    {
        return body
            .get(..body.len().saturating_sub(3))
            .unwrap_or("")
            .to_string();
    }
    if let Some(rest) = text.strip_prefix('@') {
        let Some(quote) = rest.chars().next() else {
            return String::new();
        };
        let body = strip_closing(&rest[1..], quote);
        let doubled: String = [quote, quote].iter().collect();
        return body.replace(&doubled, &quote.to_string());
    }
    let Some(quote) = text.chars().next() else {
        return String::new();
    };
    let body = strip_closing(&text[1..], quote);
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(backslash) = rest.find('\\') {
        out.push_str(&rest[..backslash]);
        let escape = &rest[backslash + 1..];
        let Some(kind) = escape.chars().next() else {
            out.push('\\');
            break;
        };
        let (decoded, used) = match kind {
            'n' => (Some('\n'), 1),
            't' => (Some('\t'), 1),
            'r' => (Some('\r'), 1),
            'a' => (Some('\u{7}'), 1),
            'b' => (Some('\u{8}'), 1),
            'f' => (Some('\u{c}'), 1),
            'v' => (Some('\u{b}'), 1),
            '0'..='7' => {
                let digits = escape
                    .bytes()
                    .take(3)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .count();
                let code = u32::from_str_radix(&escape[..digits], 8).ok();
                (code.and_then(char::from_u32), digits)
            }
            'x' => hex_escape(escape, 2),
            'u' => hex_escape(escape, 4),
            'U' => hex_escape(escape, 8),
            other => (Some(other), other.len_utf8()),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(escape.get(..used).unwrap_or(escape)),
        }
        rest = escape.get(used..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Decodes `x41`-style escapes: the letter then `digits` hex digits. An escape without enough
/// hex digits (already reported by the lexer) decodes as the bare letter.
fn hex_escape(escape: &str, digits: usize) -> (Option<char>, usize) {
    let hex = &escape.as_bytes()[1..];
    if hex.len() < digits || !hex[..digits].iter().all(u8::is_ascii_hexdigit) {
        return (escape.chars().next(), 1);
    }
    // The digits are ASCII, so this slice is on character boundaries.
    let decoded = u32::from_str_radix(&escape[1..1 + digits], 16)
        .ok()
        .and_then(char::from_u32);
    (decoded, 1 + digits)
}

fn strip_closing(body: &str, quote: char) -> &str {
    body.strip_suffix(quote).unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        let (tokens, diagnostics) = tokenize(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Eof)
            .map(|t| (t.kind, t.span.slice(text)))
            .collect()
    }

    #[test]
    fn dashed_keywords_and_negations_are_one_token() {
        use TokenKind::*;
        assert_eq!(
            kinds("T | project-away a | where x !has_cs 'y' and z !in~ (1) and q in~ (2)"),
            vec![
                (Ident, "T"),
                (Pipe, "|"),
                (Ident, "project-away"),
                (Ident, "a"),
                (Pipe, "|"),
                (Ident, "where"),
                (Ident, "x"),
                (BangWord, "!has_cs"),
                (String, "'y'"),
                (Ident, "and"),
                (Ident, "z"),
                (BangWord, "!in~"),
                (LParen, "("),
                (Long, "1"),
                (RParen, ")"),
                (Ident, "and"),
                (Ident, "q"),
                (Ident, "in~"),
                (LParen, "("),
                (Long, "2"),
                (RParen, ")"),
            ]
        );
    }

    #[test]
    fn subtraction_is_not_a_dashed_word() {
        use TokenKind::*;
        assert_eq!(
            kinds("project-x"),
            vec![(Ident, "project"), (Minus, "-"), (Ident, "x")]
        );
    }

    #[test]
    fn numbers_timespans_and_ranges() {
        use TokenKind::*;
        assert_eq!(
            kinds("1d 1.5h 30m 100ms 1e3 2.5 0x1F 1..2 10tick"),
            vec![
                (Timespan, "1d"),
                (Timespan, "1.5h"),
                (Timespan, "30m"),
                (Timespan, "100ms"),
                (Real, "1e3"),
                (Real, "2.5"),
                (Long, "0x1F"),
                (Long, "1"),
                (DotDot, ".."),
                (Long, "2"),
                (Timespan, "10tick"),
            ]
        );
    }

    #[test]
    fn raw_literals_and_templates() {
        use TokenKind::*;
        assert_eq!(
            kinds("datetime(2020-01-01 10:00) {{StartTimeISO}} ['a b'] guid(74be27de-1e4e-49d9-b579-fe0b331d3642)"),
            vec![
                (TypedRaw, "datetime(2020-01-01 10:00)"),
                (Template, "{{StartTimeISO}}"),
                (LBracket, "["),
                (String, "'a b'"),
                (RBracket, "]"),
                (TypedRaw, "guid(74be27de-1e4e-49d9-b579-fe0b331d3642)"),
            ]
        );
    }

    #[test]
    fn short_hex_escapes_before_multibyte_text_do_not_panic() {
        // Found by cargo fuzz: `\u` followed by non-ASCII text.
        let (tokens, diagnostics) = tokenize("\"\\u\u{fffd}\u{fffd}\"");
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        let text = tokens[0].span.slice("\"\\u\u{fffd}\u{fffd}\"");
        assert_eq!(decode_string(text).0, "u\u{fffd}\u{fffd}");
        assert_eq!(decode_string("'\\x4g'").0, "x4g");
    }

    #[test]
    fn string_forms_decode() {
        assert_eq!(
            decode_string(r#""a\"b\\n\n""#),
            ("a\"b\\n\n".to_string(), false)
        );
        assert_eq!(
            decode_string(r#"@"C:\x ""q""""#),
            ("C:\\x \"q\"".to_string(), false)
        );
        assert_eq!(decode_string("h'secret'"), ("secret".to_string(), true));
        assert_eq!(decode_string("```a\nb```"), ("a\nb".to_string(), false));
    }

    #[test]
    fn unreadable_input_is_reported_not_panicked() {
        let (tokens, diagnostics) = tokenize("where x == 'open\n| 12abc ¤");
        assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
        assert_eq!(tokens.last().map(|t| t.kind), Some(TokenKind::Eof));
    }
}
