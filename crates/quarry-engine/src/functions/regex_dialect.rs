//! Kusto's regular expressions are RE2's; the `regex` crate reads nearly the same syntax, but
//! rejects a `{` that does not start a counted repetition, which RE2 takes as a literal brace
//! (rules match user agents such as `SIMBAR={7DB0F6DE-…}` and PowerShell's `${`). This module
//! rewrites those braces as escaped literals before a pattern is compiled.

use std::borrow::Cow;

/// `pattern` with every `{` that does not open a counted repetition (`{n}`, `{n,}`, `{n,m}`)
/// escaped, so that the `regex` crate reads it as RE2 (and so Kusto) does.
pub fn kusto_regex(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains('{') {
        return Cow::Borrowed(pattern);
    }
    let bytes = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                // `\p{L}`, `\P{..}` and `\x{..}` carry their own braces.
                let named = matches!(bytes.get(i + 1), Some(b'p' | b'P' | b'x'))
                    && bytes.get(i + 2) == Some(&b'{');
                i += 2;
                if named {
                    i += pattern[i..]
                        .find('}')
                        .map_or(pattern.len() - i, |end| end + 1);
                }
                continue;
            }
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'{' if !in_class && !opens_repetition(&pattern[i..]) => {
                out.push_str(&pattern[start..i]);
                out.push_str("\\{");
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start == 0 {
        return Cow::Borrowed(pattern);
    }
    out.push_str(&pattern[start..]);
    Cow::Owned(out)
}

/// True when `text` (which starts with `{`) starts with `{n}`, `{n,}` or `{n,m}`.
fn opens_repetition(text: &str) -> bool {
    let Some(end) = text.find('}') else {
        return false;
    };
    let inner = &text[1..end];
    let (low, high) = match inner.split_once(',') {
        Some((low, high)) => (low, Some(high)),
        None => (inner, None),
    };
    let is_number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    is_number(low) && high.is_none_or(|h| h.is_empty() || is_number(h))
}

#[cfg(test)]
mod tests {
    use super::kusto_regex;

    #[test]
    fn literal_braces_are_escaped_and_repetitions_kept() {
        let cases = [
            ("a{2}", "a{2}"),
            ("a{2,}b{1,3}", "a{2,}b{1,3}"),
            ("SIMBAR={7DB0}", "SIMBAR=\\{7DB0}"),
            ("(\\$|%24)(\\{|%7B)", "(\\$|%24)(\\{|%7B)"),
            ("\\\\{x", "\\\\\\{x"),
            ("[{]{2}", "[{]{2}"),
            ("a{,2}", "a\\{,2}"),
            ("trailing{", "trailing\\{"),
            ("no braces", "no braces"),
            (r"\p{L}+\x{41}", r"\p{L}+\x{41}"),
        ];
        for (pattern, expected) in cases {
            assert_eq!(kusto_regex(pattern), expected, "pattern {pattern:?}");
            assert!(
                regex::Regex::new(&kusto_regex(pattern)).is_ok(),
                "{pattern:?}"
            );
        }
    }
}
