//! A scanner for the plainest JSON lines: one object of scalar values. It reads a line in one
//! pass, checks its UTF-8 once, and borrows every name and string without escapes from the
//! line. It gives up (returns `None`) on anything it does not read exactly as `serde_json`
//! does — nesting, numbers it does not parse itself, surrogate escapes, control characters,
//! any syntax error — and the caller then reads the line with `serde_json`, so that values,
//! reject reasons and reject texts stay what that reader gives.

use crate::coerce::Scalar;
use std::borrow::Cow;

/// A field name met before, and whether it can be matched against a line's bytes as they are
/// (no quote, backslash or control character, which would need escapes in JSON).
pub(crate) type KnownName = (String, bool);

/// A known name as [`KnownName`] holds it.
pub(crate) fn known_name(name: &str) -> KnownName {
    let plain = !name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
    (name.to_string(), plain)
}

/// The fields of a flat JSON object read from `line` (names in the line's order, possibly
/// repeated) into `fields`, which is cleared first; `None` when the line must be read by
/// `serde_json` instead, else whether its names are exactly the `known` ones, in order.
pub(crate) fn scan_flat_object<'a>(
    line: &'a [u8],
    fields: &mut Vec<(Cow<'a, str>, Scalar<'a>)>,
    known: &[KnownName],
) -> Option<bool> {
    fields.clear();
    let text = std::str::from_utf8(line).ok()?;
    let mut scanner = Scanner { text, at: 0 };
    let matched = scanner.object(fields, known)?;
    Some(matched == known.len() && fields.len() == known.len())
}

/// A position in a line known to be UTF-8.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    /// The whole line: an object, then only whitespace. Yields how many names were the known
    /// name at their place, matched without scanning them.
    fn object(
        &mut self,
        fields: &mut Vec<(Cow<'a, str>, Scalar<'a>)>,
        known: &[KnownName],
    ) -> Option<usize> {
        let mut matched = 0;
        self.skip_space();
        self.expect(b'{')?;
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                self.expect(b'"')?;
                let name = match known.get(fields.len()) {
                    Some((name, true)) if self.known_name(name) => {
                        matched += 1;
                        Cow::Borrowed(&self.text[self.at - name.len() - 1..self.at - 1])
                    }
                    other => {
                        let name = self.string()?;
                        if other.is_some_and(|(known, _)| *known == name) {
                            matched += 1;
                        }
                        name
                    }
                };
                self.skip_space();
                self.expect(b':')?;
                self.skip_space();
                let value = self.scalar()?;
                fields.push((name, value));
                self.skip_space();
                match self.next()? {
                    b',' => self.skip_space(),
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        self.skip_space();
        (self.at == self.text.len()).then_some(matched)
    }

    /// Moves past `name` and its closing quote when the line has exactly them here (`name`
    /// needing no escapes, its bytes are its JSON text).
    fn known_name(&mut self, name: &str) -> bool {
        let bytes = self.text.as_bytes();
        let end = self.at + name.len();
        let found =
            bytes.get(self.at..end) == Some(name.as_bytes()) && bytes.get(end) == Some(&b'"');
        if found {
            self.at = end + 1;
        }
        found
    }

    /// A scalar value; `None` for nested values and whatever is left to `serde_json`.
    fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => {
                self.at += 1;
                self.string().map(Scalar::Text)
            }
            b't' => self.literal("true", Scalar::Bool(true)),
            b'f' => self.literal("false", Scalar::Bool(false)),
            b'n' => self.literal("null", Scalar::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// `word` at the current position, as `value`.
    fn literal(&mut self, word: &str, value: Scalar<'a>) -> Option<Scalar<'a>> {
        let rest = self.text.as_bytes().get(self.at..)?;
        if !rest.starts_with(word.as_bytes()) {
            return None;
        }
        self.at += word.len();
        Some(value)
    }

    /// A number: integers as `serde_json` types them (`u64` when not negative, `i64` when
    /// negative), numbers with a fraction or exponent parsed by `serde_json` itself.
    fn number(&mut self) -> Option<Scalar<'a>> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut end = start;
        while end < bytes.len()
            && matches!(bytes[end], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        {
            end += 1;
        }
        let token = &self.text[start..end];
        self.at = end;
        let (negative, digits) = match token.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, token),
        };
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            // One leading zero at most, no empty digits; longer numbers may overflow and
            // are left to `serde_json`, as are `-0` and its kin (read as floats there).
            let valid = !digits.is_empty()
                && digits.len() <= 18
                && (digits == "0" || !digits.starts_with('0'));
            if !valid {
                return None;
            }
            let value: u64 = digits.parse().ok()?;
            return match (negative, value) {
                (false, v) => Some(Scalar::UInt(v)),
                (true, 0) => None,
                (true, v) => i64::try_from(v).ok().map(|v| Scalar::Int(-v)),
            };
        }
        serde_json::from_str::<f64>(token).ok().map(Scalar::Real)
    }

    /// A string's contents after its opening quote, up to and past its closing quote:
    /// borrowed from the line unless it has escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        // The string's end or first escape, found a vector at a time; a control character
        // before it (which `serde_json` rejects) is looked for in one pass over the run.
        let stop = start + memchr::memchr2(b'"', b'\\', bytes.get(start..)?)?;
        if bytes[start..stop].iter().any(|&b| b < 0x20) {
            return None;
        }
        if bytes[stop] == b'"' {
            self.at = stop + 1;
            return Some(Cow::Borrowed(&self.text[start..stop]));
        }
        let mut owned = String::with_capacity(stop - start + 16);
        owned.push_str(&self.text[start..stop]);
        self.at = stop;
        self.escaped(owned).map(Cow::Owned)
    }

    /// The rest of a string with escapes, appended to `owned`, up to and past its closing quote.
    fn escaped(&mut self, mut owned: String) -> Option<String> {
        let bytes = self.text.as_bytes();
        loop {
            let start = self.at;
            let i = start + memchr::memchr2(b'"', b'\\', bytes.get(start..)?)?;
            if bytes[start..i].iter().any(|&b| b < 0x20) {
                return None;
            }
            owned.push_str(&self.text[start..i]);
            match bytes.get(i)? {
                b'"' => {
                    self.at = i + 1;
                    return Some(owned);
                }
                b'\\' => {
                    let escaped = match *bytes.get(i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = self.text.get(i + 2..i + 6)?;
                            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return None;
                            }
                            // Surrogates (pairs, and lone ones `serde_json` rejects) are
                            // left to `serde_json`.
                            let code = u32::from_str_radix(hex, 16).ok()?;
                            self.at = i + 6;
                            owned.push(char::from_u32(code)?);
                            continue;
                        }
                        _ => return None,
                    };
                    owned.push(escaped);
                    self.at = i + 2;
                }
                _ => return None,
            }
        }
    }

    /// Skips JSON whitespace.
    fn skip_space(&mut self) {
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() && matches!(bytes[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    /// The byte at the current position.
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// The byte at the current position, moving past it.
    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    /// Moves past `byte`, which must be at the current position.
    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::flat_json::FlatReader;

    fn scan(line: &str) -> Option<Vec<(Cow<'_, str>, Scalar<'_>)>> {
        let mut fields = Vec::new();
        scan_flat_object(line.as_bytes(), &mut fields, &[]).map(|_| fields)
    }

    #[test]
    fn flat_objects_are_read_with_their_strings_borrowed_unless_escaped() {
        let fields = scan(
            "\t{\"a\": \"x\\\\y\\u00e9\\n\", \"b\" :3,\"c\": -12, \"d\": 1.5e2, \"e\": null, \"f\": true, \"g\": false, \"h\": \"plain\", \"\": 0}\r\n",
        )
        .unwrap();
        assert_eq!(fields.len(), 9);
        assert_eq!(
            fields[0],
            (Cow::Borrowed("a"), Scalar::Text("x\\y\u{e9}\n".into()))
        );
        assert!(matches!(fields[0].1, Scalar::Text(Cow::Owned(_))));
        assert_eq!(fields[1].1, Scalar::UInt(3));
        assert_eq!(fields[2].1, Scalar::Int(-12));
        assert_eq!(fields[3].1, Scalar::Real(150.0));
        assert_eq!(fields[4].1, Scalar::Null);
        assert_eq!(fields[5].1, Scalar::Bool(true));
        assert_eq!(fields[6].1, Scalar::Bool(false));
        assert!(matches!(fields[7].1, Scalar::Text(Cow::Borrowed("plain"))));
        assert_eq!(fields[8], (Cow::Borrowed(""), Scalar::UInt(0)));
        assert_eq!(scan("{}").unwrap().len(), 0);
        assert_eq!(scan(" { } \n").unwrap().len(), 0);
    }

    #[test]
    fn anything_unusual_is_left_to_serde_json() {
        for line in [
            "[1]",
            "{\"a\": [1]}",
            "{\"a\": {\"b\": 1}}",
            "{\"a\": 1,}",
            "{\"a\": 1} x",
            "{\"a\" 1}",
            "{a: 1}",
            "{\"a\": 01}",
            "{\"a\": -0}",
            "{\"a\": 1234567890123456789}",
            "{\"a\": -}",
            "{\"a\": 1.}",
            "{\"a\": tru}",
            "{\"a\": \"\\ud83d\\ude00\"}",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": \"open",
            "{\"a\": 1",
            "",
        ] {
            assert!(scan(line).is_none(), "{line}");
        }
        let mut fields = Vec::new();
        assert!(scan_flat_object(b"{\"a\": \"\xff\"}", &mut fields, &[]).is_none());
    }

    #[test]
    fn known_names_are_matched_as_they_are_and_others_scanned() {
        let known = [known_name("a"), known_name("b\\c"), known_name("d")];
        assert_eq!(known[1], ("b\\c".to_string(), false));
        let mut fields = Vec::new();
        let line = br#"{"a": 1, "b\\c": 2, "d": "x"}"#;
        assert_eq!(scan_flat_object(line, &mut fields, &known), Some(true));
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["a", "b\\c", "d"]);
        assert_eq!(fields[2].1, Scalar::Text("x".into()));
        // Fewer, more or other names are read too, but are not the known ones.
        let line = br#"{"a": 1, "b\\c": 2}"#;
        assert_eq!(scan_flat_object(line, &mut fields, &known), Some(false));
        let line = br#"{"a": 1, "b\\c": 2, "d": 3, "e": 4}"#;
        assert_eq!(scan_flat_object(line, &mut fields, &known), Some(false));
        assert_eq!(fields.len(), 4);
        let line = br#"{"ab": 1, "b\\c": 2, "d": 3}"#;
        assert_eq!(scan_flat_object(line, &mut fields, &known), Some(false));
        assert_eq!(fields[0].0, "ab");
        // A known name with a backslash is never matched raw: `b\c` here is a bad escape.
        let line = br#"{"a": 1, "b\c": 2, "d": 3}"#;
        assert_eq!(scan_flat_object(line, &mut fields, &known), None);
    }

    #[test]
    fn scanned_fields_equal_the_serde_reader() {
        let mut reader = FlatReader::default();
        for line in [
            "{\"Timestamp\": \"2024-05-01T00:00:00Z\", \"DeviceName\": \"a\\\\b\", \"ProcessId\": 35219, \"X\": -7, \"R\": 0.25, \"N\": null}\n",
            "{\"a\": \"\\u0041\\/\\\"\", \"b\": 18446744073, \"c\": 1E3, \"d\": -2.5e-3}",
        ] {
            let from_serde = reader.read_with_serde(line.as_bytes()).unwrap();
            assert_eq!(scan(line).unwrap(), from_serde, "{line}");
        }
    }
}
