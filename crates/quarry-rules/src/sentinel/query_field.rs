//! The `query:` value of a rule and the map from offsets in it back to offsets in the file.
//!
//! A literal block scalar (`query: |`) keeps its lines one for one, so every byte of the query is
//! mapped exactly: query line `k` is file line `first + k` with the block's indentation removed.
//! Other styles fold or unescape their lines; for those each source line is looked up in the query
//! text in order and mapped where it is found verbatim, and everything else falls back to the
//! nearest mapped position (at worst the start of the value).

/// How the `query:` value is written in the YAML file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStyle {
    /// A literal block scalar (`|`, `|-`, `|+`, `|2`, …): the mapping is exact.
    Literal,
    /// A folded block scalar (`>`): lines found verbatim are mapped, the rest approximately.
    Folded,
    /// A plain scalar, on the key's line or below it: lines are mapped where found verbatim.
    Plain,
    /// A `'single-quoted'` scalar: mapped up to the first line with an escape.
    SingleQuoted,
    /// A `"double-quoted"` scalar: mapped up to the first line with an escape.
    DoubleQuoted,
}

/// The `query:` of an Azure-Sentinel YAML rule, with a map from query offsets back to file offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleQuery {
    /// The query text as the YAML reader delivers it (line breaks are always `\n`).
    pub text: String,
    style: QueryStyle,
    /// Pieces of the query found verbatim in the file, in query order (never empty).
    segments: Vec<Segment>,
}

/// `len` bytes of the query from `query_start` are the same bytes of the file from `file_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    query_start: usize,
    file_start: usize,
    len: usize,
}

impl RuleQuery {
    /// Builds the query and its map; `value_start`/`value_len` locate the scalar in `yaml`, and
    /// `shift` is what to add to offsets in `yaml` to get offsets in the file (a skipped BOM).
    pub(crate) fn new(
        text: String,
        yaml: &str,
        value_start: usize,
        value_len: usize,
        shift: usize,
    ) -> Self {
        let style = detect_style(yaml, value_start);
        let mut segments = match style {
            QueryStyle::Literal => literal_segments(&text, yaml, value_start),
            _ => Vec::new(),
        };
        if segments.is_empty() {
            segments = verbatim_segments(&text, yaml, value_start, value_len, style);
        }
        if segments.is_empty() {
            segments.push(Segment {
                query_start: 0,
                file_start: value_start,
                len: 0,
            });
        }
        for segment in &mut segments {
            segment.file_start += shift;
        }
        RuleQuery {
            text,
            style,
            segments,
        }
    }

    /// How the value is written in the file (which tells how exact [`Self::file_offset`] is).
    pub fn style(&self) -> QueryStyle {
        self.style
    }

    /// The byte offset in the file of the byte at `query_offset` in [`Self::text`].
    ///
    /// Exact for literal block scalars; for the other styles, offsets that cannot be placed map
    /// to the nearest earlier position that can (at worst the start of the value). Offsets at or
    /// past the end of the text map to the end of the last mapped line.
    pub fn file_offset(&self, query_offset: usize) -> usize {
        let after = self
            .segments
            .partition_point(|s| s.query_start <= query_offset);
        match after.checked_sub(1).and_then(|i| self.segments.get(i)) {
            Some(s) => s.file_start + (query_offset - s.query_start).min(s.len),
            None => self.segments.first().map_or(0, |s| s.file_start),
        }
    }
}

/// Tells the scalar style from the text around the value's first character.
fn detect_style(yaml: &str, value_start: usize) -> QueryStyle {
    match yaml.as_bytes().get(value_start) {
        Some(b'\'') => return QueryStyle::SingleQuoted,
        Some(b'"') => return QueryStyle::DoubleQuoted,
        _ => {}
    }
    let before = yaml.get(..value_start).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    if !before[line_start..].trim().is_empty() {
        // The value starts on the key's line: a block scalar never does.
        return QueryStyle::Plain;
    }
    // The header is the nearest non-blank line above the first content line.
    let header = before[..line_start]
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let header = match header.find(" #").or_else(|| header.find("\t#")) {
        Some(comment) => &header[..comment],
        None => header,
    };
    let indicator = header.trim_end().rsplit([' ', '\t']).next().unwrap_or("");
    if indicator.starts_with('|') {
        QueryStyle::Literal
    } else if indicator.starts_with('>') {
        QueryStyle::Folded
    } else {
        QueryStyle::Plain
    }
}

/// Lines of `text` split on `\n`, each with its byte offset.
fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split('\n').map(move |line| {
        let start = offset;
        offset += line.len() + 1;
        (start, line)
    })
}

/// The exact map of a literal block scalar whose first non-blank content line starts its content
/// (after the indentation) at `value_start`. Stops at the first line that does not match; returns
/// nothing if the first line does not.
fn literal_segments(text: &str, yaml: &str, value_start: usize) -> Vec<Segment> {
    let line_start = yaml[..value_start].rfind('\n').map_or(0, |i| i + 1);
    let indent = value_start - line_start;
    if !yaml[line_start..value_start].bytes().all(|b| b == b' ') {
        return Vec::new();
    }
    let file_lines: Vec<(usize, &str)> = lines_with_offsets(yaml)
        .map(|(start, line)| (start, line.strip_suffix('\r').unwrap_or(line)))
        .collect();
    let Some(first_content_line) = file_lines.iter().position(|&(s, _)| s == line_start) else {
        return Vec::new();
    };
    let query_lines: Vec<(usize, &str)> = lines_with_offsets(text).collect();
    // The reader points at the first content line, after any leading empty lines; whether a
    // leading line of spaces counts as content depends on the indentation, so try both.
    let empty = query_lines
        .iter()
        .position(|(_, line)| !line.is_empty())
        .unwrap_or(0);
    let blank = query_lines
        .iter()
        .position(|(_, line)| !line.trim_start_matches(' ').is_empty())
        .unwrap_or(0);
    let mut best = Vec::new();
    for leading in [empty, blank] {
        if let Some(first_file_line) = first_content_line.checked_sub(leading) {
            let segments =
                match_literal_lines(&query_lines, &file_lines[first_file_line..], indent);
            if segments.len() > best.len() {
                best = segments;
            }
        }
    }
    best
}

/// Maps query line `k` to `file_lines[k]` minus `indent` bytes, as long as the lines match.
fn match_literal_lines(
    query_lines: &[(usize, &str)],
    file_lines: &[(usize, &str)],
    indent: usize,
) -> Vec<Segment> {
    let last = query_lines.len().saturating_sub(1);
    let mut segments = Vec::with_capacity(query_lines.len());
    for (k, &(query_start, query_line)) in query_lines.iter().enumerate() {
        if k == last && query_line.is_empty() && k > 0 {
            // After the final line break: the end maps to the end of the previous line.
            break;
        }
        let Some(&(file_line_start, file_line)) = file_lines.get(k) else {
            break;
        };
        let content = if file_line.len() >= indent {
            file_line.get(indent..)
        } else if file_line.bytes().all(|b| b == b' ') {
            Some("")
        } else {
            None
        };
        if content != Some(query_line) {
            break;
        }
        segments.push(Segment {
            query_start,
            file_start: file_line_start + indent.min(file_line.len()),
            len: query_line.len(),
        });
    }
    segments
}

/// A best-effort map for folded, plain and quoted scalars: every source line of the value
/// (`value_len` bytes from `value_start`) that appears verbatim, in order, in the query text.
fn verbatim_segments(
    text: &str,
    yaml: &str,
    value_start: usize,
    value_len: usize,
    style: QueryStyle,
) -> Vec<Segment> {
    let quote = match style {
        QueryStyle::SingleQuoted => Some('\''),
        QueryStyle::DoubleQuoted => Some('"'),
        _ => None,
    };
    let end = value_start.saturating_add(value_len).min(yaml.len());
    let Some(region) = yaml.get(value_start..end) else {
        return Vec::new();
    };
    let mut segments = Vec::new();
    let mut cursor = 0;
    let raw_lines: Vec<(usize, &str)> = lines_with_offsets(region).collect();
    let last = raw_lines.len().saturating_sub(1);
    for (i, &(offset, raw)) in raw_lines.iter().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let (mut lead, mut content) = if i == 0 {
            (0, line)
        } else {
            let trimmed = line.trim_start_matches([' ', '\t']);
            (line.len() - trimmed.len(), trimmed)
        };
        if let Some(q) = quote {
            if i == 0 {
                content = content.strip_prefix(q).unwrap_or(content);
                lead += q.len_utf8();
            }
            if i == last {
                content = content.strip_suffix(q).unwrap_or(content);
            }
            let escaped = match q {
                '"' => content.contains('\\'),
                _ => content.contains("''"),
            };
            if escaped {
                break;
            }
        }
        let content = content.trim_end_matches([' ', '\t']);
        if content.is_empty() {
            continue;
        }
        let Some(rest) = text.get(cursor..) else {
            break;
        };
        let skipped = if i == 0 {
            0
        } else {
            rest.len() - rest.trim_start_matches([' ', '\t', '\n']).len()
        };
        if !rest[skipped..].starts_with(content) {
            break;
        }
        segments.push(Segment {
            query_start: cursor + skipped,
            file_start: value_start + offset + lead,
            len: content.len(),
        });
        cursor += skipped + content.len();
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_before_between_and_after_segments() {
        let q = RuleQuery {
            text: "ab cd".to_string(),
            style: QueryStyle::Plain,
            segments: vec![
                Segment {
                    query_start: 0,
                    file_start: 10,
                    len: 2,
                },
                Segment {
                    query_start: 3,
                    file_start: 20,
                    len: 2,
                },
            ],
        };
        assert_eq!(q.file_offset(0), 10);
        assert_eq!(q.file_offset(1), 11);
        assert_eq!(q.file_offset(2), 12);
        assert_eq!(q.file_offset(3), 20);
        assert_eq!(q.file_offset(4), 21);
        assert_eq!(q.file_offset(5), 22);
        assert_eq!(q.file_offset(99), 22);
    }

    #[test]
    fn styles() {
        assert_eq!(detect_style("query: |\n  T\n", 11), QueryStyle::Literal);
        assert_eq!(
            detect_style("query: |2- # c\n   T\n", 17),
            QueryStyle::Literal
        );
        assert_eq!(detect_style("query: >\n  T\n", 11), QueryStyle::Folded);
        assert_eq!(detect_style("query:\n  T\n", 9), QueryStyle::Plain);
        assert_eq!(detect_style("query: T\n", 7), QueryStyle::Plain);
        assert_eq!(detect_style("query: 'T'\n", 7), QueryStyle::SingleQuoted);
        assert_eq!(detect_style("query: \"T\"\n", 7), QueryStyle::DoubleQuoted);
    }
}
