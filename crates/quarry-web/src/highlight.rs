//! KQL syntax highlighting on the server, from the `quarry-kql` lexer: every piece of the text
//! is HTML-escaped, and spans (diagnostics, parameters) are wrapped in `<mark>`.

use quarry_kql::lexer::tokenize;
use quarry_kql::token::TokenKind;
use std::fmt;

/// HTML produced by [`highlight`]: safe to insert as it is, since every character of the
/// source went through [`escape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlighted(String);

impl fmt::Display for Highlighted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// The highlighter escapes everything itself; askama must not escape its markup again.
impl askama::filters::HtmlSafe for Highlighted {}

/// A span of the text to mark, with a CSS class (`error`, `warning`, `param`) and a tooltip.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset of the end.
    pub end: usize,
    /// CSS class of the `<mark>`.
    pub class: &'static str,
    /// Tooltip.
    pub title: String,
}

/// Words shown as keywords: tabular operators, clauses and word operators.
const KEYWORDS: &[&str] = &[
    "where",
    "filter",
    "project",
    "project-away",
    "project-rename",
    "project-reorder",
    "project-keep",
    "extend",
    "summarize",
    "by",
    "let",
    "join",
    "kind",
    "on",
    "union",
    "take",
    "limit",
    "top",
    "sort",
    "order",
    "asc",
    "desc",
    "count",
    "distinct",
    "render",
    "and",
    "or",
    "not",
    "has",
    "has_any",
    "has_all",
    "has_cs",
    "contains",
    "contains_cs",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "in",
    "in~",
    "between",
    "mv-expand",
    "mv-apply",
    "parse",
    "lookup",
    "evaluate",
    "make-series",
    "datatable",
    "print",
    "range",
    "as",
    "invoke",
    "materialize",
    "with",
    "step",
    "from",
    "to",
    "nulls",
    "first",
    "last",
    "isfuzzy",
    "withsource",
    "serialize",
    "facet",
    "sample",
    "search",
    "externaldata",
    "declare",
    "query_parameters",
    "true",
    "false",
    "null",
    "hint.strategy",
    "hint.shufflekey",
    "getschema",
];

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
}

fn floor(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The class of each piece of `text`: tokens by kind, comments in the gaps between them.
fn segments(text: &str) -> Vec<(usize, usize, Option<&'static str>)> {
    let (tokens, _) = tokenize(text);
    let mut out = Vec::new();
    let mut at = 0;
    let push_gap = |out: &mut Vec<_>, from: usize, to: usize| {
        let mut from = from;
        while from < to {
            let gap = &text[from..to];
            match gap.find("//") {
                None => {
                    out.push((from, to, None));
                    from = to;
                }
                Some(i) => {
                    if i > 0 {
                        out.push((from, from + i, None));
                    }
                    let start = from + i;
                    let end = text[start..to].find('\n').map_or(to, |n| start + n);
                    out.push((start, end, Some("c")));
                    from = end;
                }
            }
        }
    };
    for (i, token) in tokens.iter().enumerate() {
        let (start, end) = (floor(text, token.span.start), floor(text, token.span.end));
        if token.kind == TokenKind::Eof || start < at {
            continue;
        }
        push_gap(&mut out, at, start);
        let word = &text[start..end];
        let next_is_paren = tokens
            .get(i + 1)
            .is_some_and(|t| t.kind == TokenKind::LParen);
        let class = match token.kind {
            TokenKind::String | TokenKind::TypedRaw => Some("s"),
            TokenKind::Long | TokenKind::Real | TokenKind::Timespan => Some("n"),
            TokenKind::Template => Some("t"),
            TokenKind::BangWord => Some("k"),
            TokenKind::Pipe => Some("p"),
            TokenKind::Error => Some("e"),
            TokenKind::Ident if KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) => Some("k"),
            TokenKind::Ident if next_is_paren => Some("f"),
            TokenKind::Ident => None,
            _ => Some("o"),
        };
        out.push((start, end, class));
        at = end;
    }
    push_gap(&mut out, at, text.len());
    out
}

/// Highlights `text`, wrapping the `marks` in `<mark>` elements.
pub fn highlight(text: &str, marks: &[Mark]) -> Highlighted {
    let mut cuts: Vec<usize> = marks
        .iter()
        .flat_map(|m| [floor(text, m.start), floor(text, m.end)])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = String::with_capacity(text.len() * 2);
    for (start, end, class) in segments(text) {
        let mut pieces = vec![start];
        pieces.extend(cuts.iter().copied().filter(|&c| c > start && c < end));
        pieces.push(end);
        for window in pieces.windows(2) {
            let (from, to) = (window[0], window[1]);
            // A zero-width mark (an error at the end of the text) still shows as a caret.
            let mark = marks.iter().find(|m| {
                let (ms, me) = (floor(text, m.start), floor(text, m.end));
                ms <= from && to <= me.max(ms) && ms < me
            });
            if let Some(mark) = mark {
                out.push_str("<mark class=\"");
                out.push_str(mark.class);
                out.push_str("\" title=\"");
                escape(&mark.title, &mut out);
                out.push_str("\">");
            }
            match class {
                Some(class) => {
                    out.push_str("<span class=\"");
                    out.push_str(class);
                    out.push_str("\">");
                    escape(&text[from..to], &mut out);
                    out.push_str("</span>");
                }
                None => escape(&text[from..to], &mut out),
            }
            if mark.is_some() {
                out.push_str("</mark>");
            }
        }
    }
    for mark in marks {
        let (ms, me) = (floor(text, mark.start), floor(text, mark.end));
        if ms == me {
            out.push_str("<mark class=\"");
            out.push_str(mark.class);
            out.push_str(" caret\" title=\"");
            escape(&mark.title, &mut out);
            out.push_str("\"> </mark>");
        }
    }
    Highlighted(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped_and_classified() {
        let text = "T | where A == \"<script>alert(1)</script>\" // <b>x</b>\n| take 10";
        let html = highlight(text, &[]).to_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<span class=\"k\">where</span>"), "{html}");
        assert!(
            html.contains("<span class=\"c\">// &lt;b&gt;x&lt;/b&gt;</span>"),
            "{html}"
        );
        assert!(html.contains("<span class=\"n\">10</span>"), "{html}");
    }

    #[test]
    fn marks_wrap_their_span_and_escape_the_title() {
        let text = "T | where Bad == 1";
        let html = highlight(
            text,
            &[Mark {
                start: 10,
                end: 13,
                class: "error",
                title: "unknown column <Bad>".into(),
            }],
        )
        .to_string();
        assert!(
            html.contains("<mark class=\"error\" title=\"unknown column &lt;Bad&gt;\">Bad</mark>"),
            "{html}"
        );
        let caret = highlight(
            text,
            &[Mark {
                start: 99,
                end: 99,
                class: "error",
                title: "end".into(),
            }],
        )
        .to_string();
        assert!(caret.ends_with("<mark class=\"error caret\" title=\"end\"> </mark>"));
    }

    #[test]
    fn multibyte_text_and_odd_spans_do_not_panic() {
        let text = "T | where é == \"ü\" | where x";
        for start in 0..text.len() + 2 {
            let html = highlight(
                text,
                &[Mark {
                    start,
                    end: start + 3,
                    class: "error",
                    title: String::new(),
                }],
            );
            assert!(html.to_string().contains("é"));
        }
    }
}
