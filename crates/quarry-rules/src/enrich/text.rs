//! Facts read from the rule's text that the analysis does not keep: the query's code without
//! comments (for "does the query mention X" questions), its comments, its string literals, URLs,
//! sentences and identifier-looking words of the description.

use quarry_kql::lexer::{decode_string, tokenize};
use quarry_kql::token::TokenKind;
use regex::Regex;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The query's text split into what enrichment asks about.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryText {
    /// The tokens joined by single spaces: comments and layout do not count, so two queries that
    /// differ only there compare equal.
    pub normalised: String,
    /// `normalised`, lower-case, for case-insensitive "is it mentioned" checks.
    pub code_lower: String,
    /// Names (identifiers and keywords), lower-case.
    pub identifiers: BTreeSet<String>,
    /// Decoded string literals, lower-case, in query order.
    pub strings: Vec<String>,
    /// `strings` joined by NUL characters, so one search covers them all without matching
    /// across two strings.
    strings_blob: String,
    /// Integer literals as written, and string literals that hold only digits (`"4625"`).
    pub numbers: BTreeSet<String>,
    /// Comment lines, without the `//`, trimmed, in query order.
    pub comments: Vec<String>,
}

impl QueryText {
    /// Reads the query through the KQL lexer, which knows where strings end (a `//` inside
    /// `"http://…"` is not a comment).
    pub fn read(query: &str) -> QueryText {
        let (tokens, _) = tokenize(query);
        let mut out = QueryText::default();
        let mut previous_end = 0;
        let mut parts: Vec<&str> = Vec::with_capacity(tokens.len());
        for token in &tokens {
            let start = token.span.start.min(query.len());
            let end = token.span.end.min(query.len()).max(start);
            if let Some(gap) = query.get(previous_end..start) {
                collect_comments(gap, &mut out.comments);
            }
            previous_end = end;
            if token.kind == TokenKind::Eof {
                break;
            }
            let Some(text) = query.get(start..end) else {
                continue;
            };
            parts.push(text);
            match token.kind {
                TokenKind::Ident | TokenKind::BangWord => {
                    out.identifiers.insert(text.to_ascii_lowercase());
                }
                TokenKind::Long => {
                    out.numbers.insert(text.to_string());
                }
                TokenKind::String => {
                    let (value, _) = decode_string(text);
                    let value = value.to_lowercase();
                    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                        out.numbers.insert(value.clone());
                    }
                    out.strings.push(value);
                }
                _ => {}
            }
        }
        if let Some(rest) = query.get(previous_end..) {
            collect_comments(rest, &mut out.comments);
        }
        out.normalised = parts.join(" ");
        out.strings_blob = out.strings.join("\0");
        // ASCII only, so that offsets in `code_lower` are offsets in `normalised`.
        out.code_lower = out.normalised.to_ascii_lowercase();
        out
    }

    /// Whether the code (comments excluded) mentions `word`, ignoring case, anywhere: as a name,
    /// inside a longer name or inside a string.
    pub fn mentions(&self, word: &str) -> bool {
        !word.is_empty() && self.code_lower.contains(&word.to_ascii_lowercase())
    }

    /// A name in the code that `word` may be a misspelling of (one edit apart, any case), as
    /// the code spells it.
    pub fn near_name(&self, word: &str) -> Option<&str> {
        let lower = word.to_ascii_lowercase();
        if lower.len() < 6 {
            return None;
        }
        let found = self
            .identifiers
            .iter()
            .find(|i| *i != &lower && within_one_edit(i.as_bytes(), lower.as_bytes()))?;
        let at = self.code_lower.find(found.as_str())?;
        self.normalised.get(at..at + found.len())
    }

    /// Whether some string literal contains `needle` (lower-case).
    pub fn string_contains(&self, needle: &str) -> bool {
        !needle.is_empty() && self.strings_blob.contains(needle)
    }

    /// A short, stable digest of the normalised query: equal for queries that differ only in
    /// comments and layout.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.normalised.as_bytes());
        digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
    }
}

/// Whether two byte strings are at most one insertion, deletion, substitution or swap of
/// neighbours apart.
pub(crate) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if prefix >= short.len() {
        return true;
    }
    if short.len() == long.len() {
        let swapped = prefix + 1 < short.len()
            && short[prefix] == long[prefix + 1]
            && short[prefix + 1] == long[prefix]
            && short[prefix + 2..] == long[prefix + 2..];
        swapped || short[prefix + 1..] == long[prefix + 1..]
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// Adds the `//` comments found in text between two tokens (nothing else can be there).
fn collect_comments(gap: &str, comments: &mut Vec<String>) {
    for line in gap.lines() {
        if let Some(i) = line.find("//") {
            let comment = line[i + 2..].trim_start_matches('/').trim();
            if !comment.is_empty() {
                comments.push(comment.to_string());
            }
        }
    }
}

fn url_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"https?://[^\s"'<>\[\]{}|\\^`]+"#).expect("the URL pattern is valid")
    })
}

/// URLs in `text`, in order, with trailing punctuation (and a closing bracket that was not
/// opened inside the URL) removed.
pub(crate) fn urls(text: &str) -> Vec<String> {
    url_regex()
        .find_iter(text)
        .filter_map(|m| {
            let url = trim_url(m.as_str());
            // A bare scheme is not a link.
            (url.len() > "https://".len() && url.contains('.')).then(|| url.to_string())
        })
        .collect()
}

fn trim_url(mut url: &str) -> &str {
    loop {
        let before = url.len();
        url = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"', '*']);
        if url.ends_with(')') && url.matches('(').count() < url.matches(')').count() {
            url = &url[..url.len() - 1];
        }
        if url.len() == before {
            return url;
        }
    }
}

/// The sentences of a text: split after `.`, `!` or `?` followed by white space, and at blank
/// lines and line breaks that start a list item; trimmed, empty ones dropped.
pub(crate) fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut current = String::new();
        let chars: Vec<char> = block.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c == '\n'
                && chars
                    .get(i + 1)
                    .is_some_and(|n| matches!(n, '-' | '*' | '•'))
            {
                push_sentence(&mut current, &mut out);
                continue;
            }
            current.push(if c == '\n' || c == '\r' { ' ' } else { c });
            let next_is_space = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
            if matches!(c, '.' | '!' | '?') && next_is_space && !ends_with_abbreviation(&current) {
                push_sentence(&mut current, &mut out);
            }
        }
        push_sentence(&mut current, &mut out);
    }
    out
}

fn push_sentence(current: &mut String, out: &mut Vec<String>) {
    let sentence = current.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = sentence
        .trim_start_matches(['-', '*', '•', ' '])
        .to_string();
    if sentence.chars().any(char::is_alphanumeric) {
        out.push(sentence);
    }
    current.clear();
}

/// `e.g.`, `i.e.` and `etc.` do not end a sentence.
fn ends_with_abbreviation(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["e.g.", "i.e.", "etc.", "vs.", "ex."]
        .iter()
        .any(|a| lower.ends_with(a))
}

/// Words of a text made of letters, digits and `_` (the shape of KQL names), with their byte
/// offsets.
pub(crate) fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = None;
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        let in_word = c.is_ascii_alphanumeric() || c == '_';
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out.into_iter()
}

/// Whether a word is written like a column or variable name: `RemoteIP`, `FileOriginUrl`,
/// `accountName`, `Account_Name` — an upper-case letter after a lower-case one, or an
/// underscore between letters.
pub(crate) fn is_identifier_shaped(word: &str) -> bool {
    let bytes = word.as_bytes();
    if bytes.len() < 4 || !bytes[0].is_ascii_alphabetic() {
        return false;
    }
    let hump = bytes
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    let snake =
        word.trim_matches('_').contains('_') && word.bytes().any(|b| b.is_ascii_alphabetic());
    hump || snake
}

/// A filter as a short readable condition, with at most `max_values` values:
/// `ProcessCommandLine contains "-enc"`, `count_ > 10`, `FileName !in "a", "b" (+3 more)`.
pub(crate) fn describe_predicate(p: &crate::analysis::Predicate, max_values: usize) -> String {
    let values: Vec<String> = p
        .values
        .iter()
        .take(max_values)
        .map(|v| {
            if v.trim().parse::<f64>().is_ok() {
                v.trim().to_string()
            } else {
                format!("\"{}\"", clip(v, 60))
            }
        })
        .collect();
    let more = if p.values.len() > max_values {
        format!(" (+{} more)", p.values.len() - max_values)
    } else {
        String::new()
    };
    // `!in` and `!=` say it already.
    let op = if p.negated && !p.operator.starts_with('!') {
        format!("not {}", p.operator)
    } else {
        p.operator.clone()
    };
    format!("{} {op} {}{more}", p.column, values.join(", "))
}

/// Shortens a text to at most `max` characters, on a character boundary, marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Joins items as English: `a`, `a and b`, `a, b and c`.
pub(crate) fn and_list<S: AsRef<str>>(items: &[S], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} {conjunction} {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_not_code_and_urls_in_strings_are_not_comments() {
        let text = QueryText::read(
            "// Query 4 search\nT // trailing\n| where Url == \"http://a.example/x\" // note\n| where EventID == 4625",
        );
        assert_eq!(text.comments, ["Query 4 search", "trailing", "note"]);
        assert_eq!(
            text.normalised,
            "T | where Url == \"http://a.example/x\" | where EventID == 4625"
        );
        assert!(text.mentions("eventid"));
        assert!(!text.mentions("search"));
        assert!(text.numbers.contains("4625"));
        assert_eq!(text.strings, ["http://a.example/x"]);
    }

    #[test]
    fn layout_and_comments_do_not_change_the_fingerprint() {
        let a = QueryText::read("T\n| where A == 1 // x\n");
        let b = QueryText::read("// header\nT | where   A == 1");
        let c = QueryText::read("T | where A == 2");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint().len(), 8);
    }

    #[test]
    fn urls_lose_trailing_punctuation_and_unopened_brackets() {
        let found = urls("See https://a.example/x. And (https://b.example/y_(z)), http://");
        assert_eq!(found, ["https://a.example/x", "https://b.example/y_(z)"]);
    }

    #[test]
    fn sentences_split_on_stops_and_list_items_but_not_abbreviations() {
        let s = sentences("First one, e.g. this. Second!\n- item one\n- item two\n\nThird");
        assert_eq!(
            s,
            [
                "First one, e.g. this.",
                "Second!",
                "item one",
                "item two",
                "Third"
            ]
        );
    }

    #[test]
    fn identifier_shapes() {
        for yes in ["RemoteIP", "FileOriginUrl", "accountName", "Account_Name"] {
            assert!(is_identifier_shaped(yes), "{yes}");
        }
        for no in ["Remote", "URL", "IP", "the", "_x_", "A_B"] {
            assert!(!is_identifier_shaped(no), "{no}");
        }
        let w: Vec<_> = words("update RemoteIP, and x_y.").map(|(_, w)| w).collect();
        assert_eq!(w, ["update", "RemoteIP", "and", "x_y"]);
    }

    #[test]
    fn one_edit_apart() {
        assert!(within_one_edit(b"correlationid", b"corrleationid"));
        assert!(within_one_edit(
            b"processcommandline",
            b"processscommandline"
        ));
        assert!(within_one_edit(b"abc", b"abd"));
        assert!(!within_one_edit(b"abcd", b"badc"));
        assert!(!within_one_edit(b"abc", b"a"));
    }

    #[test]
    fn lists_and_clipping() {
        assert_eq!(and_list(&["a", "b", "c"], "and"), "a, b and c");
        assert_eq!(and_list(&["a"], "or"), "a");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
