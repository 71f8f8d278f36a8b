//! Robustness properties of the KQL front end.
//!
//! * (a) random "token soups" built from KQL-ish fragments and (b) arbitrary Unicode strings:
//!   `parse` never panics, every diagnostic span lies inside the text on character boundaries,
//!   and a query that parses without errors prints to text that parses without errors again;
//! * (c) pathologically deep nesting is reported as an error instead of overflowing the stack;
//! * (d) random valid pipelines from a small grammar round-trip exactly through
//!   `print` (`parse(print(ast)) == ast`, spans aside).
//!
//! `known_parser_bugs` at the end holds regression tests for the parser bugs these properties
//! found.

use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use quarry_kql::{parse, print, Parsed};
use serde_json::Value;

// ----- shared checks ----------------------------------------------------------------------------

/// Removes every `"span"` key, recursively, so that trees parsed from differently formatted
/// texts can be compared.
fn strip_spans(value: Value) -> Value {
    match value {
        Value::Object(map) => map
            .into_iter()
            .filter(|(key, _)| key != "span")
            .map(|(key, value)| (key, strip_spans(value)))
            .collect(),
        Value::Array(items) => items.into_iter().map(strip_spans).collect(),
        other => other,
    }
}

/// The tree as JSON without spans.
fn shape(parsed: &Parsed) -> Value {
    strip_spans(serde_json::to_value(&parsed.query).expect("the AST serialises"))
}

/// Checks that `start..end` is a valid char range of `text`.
fn check_span(text: &str, start: usize, end: usize, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        start <= end,
        "{what}: span {start}..{end} is reversed in {text:?}"
    );
    prop_assert!(
        end <= text.len(),
        "{what}: span {start}..{end} ends past the text ({} bytes) in {text:?}",
        text.len()
    );
    prop_assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "{what}: span {start}..{end} is not on char boundaries in {text:?}"
    );
    Ok(())
}

/// Every `{"span": {"start", "end"}}` in the serialised tree is a valid range of `text`.
fn check_tree_spans(text: &str, value: &Value) -> Result<(), TestCaseError> {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "span" {
                    let start = child["start"].as_u64().unwrap_or(u64::MAX) as usize;
                    let end = child["end"].as_u64().unwrap_or(u64::MAX) as usize;
                    check_span(text, start, end, "AST node")?;
                } else {
                    check_tree_spans(text, child)?;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                check_tree_spans(text, item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The robustness invariants for any input text.
fn check(text: &str) -> Result<Parsed, TestCaseError> {
    let parsed = parse(text);
    for diagnostic in &parsed.diagnostics {
        check_span(
            text,
            diagnostic.span.start,
            diagnostic.span.end,
            &format!("diagnostic {:?}", diagnostic.message),
        )?;
    }
    let tree = serde_json::to_value(&parsed.query).expect("the AST serialises");
    check_tree_spans(text, &tree)?;
    if parsed.is_ok() {
        let printed = print(&parsed.query);
        let again = parse(&printed);
        prop_assert!(
            again.is_ok(),
            "{text:?} parses, but its printed form {printed:?} does not: {:?}",
            again.diagnostics
        );
    }
    Ok(parsed)
}

// ----- (a) token soups -------------------------------------------------------------------------

#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    // operators and keywords
    "| where ", "| summarize ", "| project ", "| extend ", "| join ", "| mv-expand ", "| parse ",
    "| make-series ", "| scan ", "| fork ", "| partition ", "| render ", "| take ", "| top ",
    "| sort ", "| union ", "| lookup ", "| mv-apply ", "| evaluate ", "| search ", "| find ",
    "| facet ", "| parse-kv ", "| top-nested ", "| summerize ", "|", "by", " by ", "let ", "set ",
    "declare query_parameters", "print ", "union ", "range ", "datatable", "externaldata", "on ",
    "kind=inner ", "hint.strategy=", "with ", "step ", "from ", "to ", "of ", "asc", "desc",
    "nulls first", "view ", "typeof(", "=>",
    // names and literals
    "T", "x", "Account", "['a b']", "$left.", "$right.", "1", "42", "1.5", "1e3", "1d", "30m",
    "0x", "0x1F", "9999999999999999999999", "9223372036854775808", "\"a\"", "'b'", "\"str", "'",
    "@\"", "h\"", "```", "~~~", "\"\\n\"", "datetime(", "datetime(2020-01-01)", "dynamic(",
    "dynamic([1, -2])", "guid(", "int(", "int(null)", "real(nan)", "{{", "}}", "{{StartTimeISO}}",
    "true", "null",
    // punctuation and operator symbols
    "=", "==", "!=", "=~", "!~", "<", ">=", "(", ")", "[", "]", "{", "}", ",", ";", ":", "..", "-",
    "+", "*", "/", "%", ".", "\\", "!", "?", "!has", "has_any", "in~", "!in~", "in", "between",
    "!between", "matches regex", "and", "or", "contains_cs",
    // Unicode, whitespace, comments
    "é", "\u{200b}", "🙂", "\u{a0}", "\u{feff}", "\u{2028}", " ", " ", " ", "\t", "\n", "\r\n",
    "//comment\n", "//",
];

fn soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => "[ -~]{0,3}",
        1 => "\\PC{0,2}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

/// Valid queries that the mutation strategy starts from.
const SEEDS: &[&str] = &[
    "SigninLogs | where TimeGenerated > ago(1d) and ResultType != 0 | summarize count() by UserPrincipalName",
    "let f = (T:(a:string, *), n:long = 10) { T | take n }; f(SigninLogs)",
    "declare query_parameters(start:datetime = datetime(2020-01-01)); set querytrace; T | where t > start",
    "print a = 'x', b = @\"C:\\x\", c = h\"s\", d = ```m\nl```, e = dynamic({\"k\": [1, -2, null]}), f = guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
    "T | project ['a b'], c.d, e['f'], g.[0], h[-1] | extend (x, y) = f(z), w = -1 + 2 * 3",
    "T | where a in (\"x\") and b !in~ (1) and c has_any (U | project v) and d between (1 .. 2) and e matches regex \"x\"",
    "T | join kind=leftouter hint.strategy=broadcast (U | where x) on $left.a == $right.b | lookup (D) on k",
    "union withsource=S kind=outer isfuzzy=true Device*, (T | take 1) | mv-expand bagexpansion=array with_itemindex=i x = y to typeof(string) limit 5",
    "T | mv-apply v = vs on (where v > 1 | top 1 by v desc nulls last) | parse kind=regex flags=Ui m with \"a\" A:long * | parse-kv t as (k:string) with (pair_delimiter=\",\")",
    "T | make-series c = count() default = 0 on t from ago(1d) to now() step 1h by k | make-series sum(x) on t in range(0, 10, 1)",
    "T | top-nested 3 of a with others = \"o\" by s = sum(x) desc, top-nested of b by count() | top-hitters 2 of w by z",
    "T | project-away a*, b | project-keep c | project-rename n = o | project-reorder p asc | count | distinct * | sample 3 | sample-distinct 2 of n",
    "T | evaluate bag_unpack(p) | invoke f() | as R | serialize rn = row_number() | render timechart with (title=\"t\") | getschema",
    "search in (A, B) x has \"y\" | fork (take 1) n = (count) | facet by a with (take 3)",
    "find withsource=S in (C, D*) where z == 1 project a, b",
    "T | partition hint.strategy=native by x (top 1 by y) | partition by x { U | take 1 } | reduce by m with threshold=0.5 | consume",
    "T | scan with_match_id=m declare (c:long = 0) with (step s1 optional: x > 1 => c = s1.c + 1; step s2 output=last: x < 0;)",
    "range i from 1 to 10 step 1 | union (datatable (a:long, b:string) [1, \"x\"]), (print y = 2)",
    "externaldata (a:string) [\"https://x/y.csv\"] with (format=\"csv\") | where a =~ \"q\" | take 10",
    "T | where t between (datetime({{StartTimeISO}}) .. datetime({{EndTimeISO}})) | summarize hint.shufflekey=k arg_max(t, *) by k",
];

#[test]
fn mutation_seeds_are_valid() {
    for seed in SEEDS {
        let parsed = parse(seed);
        assert!(
            parsed.diagnostics.iter().all(|d| !d.is_error()),
            "{seed:?}: {:?}",
            parsed.diagnostics
        );
    }
}

/// A valid seed query (fixed or generated) with 1 to 4 random edits: a fragment inserted, a
/// range deleted, or a range replaced by a fragment. Many results stay valid, which exercises
/// the print-then-parse property far more than pure soups do.
fn mutated_query() -> impl Strategy<Value = String> {
    let seed = prop_oneof![
        prop::sample::select(SEEDS).prop_map(str::to_string),
        pipeline(),
    ];
    let edit = (
        0u8..3,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        prop::sample::select(FRAGMENTS),
    );
    (seed, prop::collection::vec(edit, 1..5)).prop_map(|(mut text, edits)| {
        for (kind, at, len, fragment) in edits {
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let start = boundaries[at.index(boundaries.len())];
            // Up to 12 bytes, rounded up to a char boundary.
            let limit = start + 1 + len.index(12);
            let end = boundaries
                .iter()
                .copied()
                .find(|b| *b >= limit)
                .unwrap_or(text.len());
            match kind {
                0 => text.insert_str(start, fragment),
                1 => text.replace_range(start..end, ""),
                _ => text.replace_range(start..end, fragment),
            }
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        max_global_rejects: 10_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn token_soup_never_breaks_the_parser(text in soup()) {
        check(&text)?;
    }

    #[test]
    fn mutated_valid_queries_never_break_the_parser(text in mutated_query()) {
        check(&text)?;
    }

    // ----- (b) arbitrary Unicode ---------------------------------------------------------------

    #[test]
    fn arbitrary_strings_never_break_the_parser(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn printable_unicode_never_breaks_the_parser(text in "\\PC*") {
        check(&text)?;
    }
}

// ----- (c) deep nesting --------------------------------------------------------------------------

/// Parses `text`, which nests far too deep, and requires an error rather than a crash.
fn assert_deep_input_is_rejected(text: &str) {
    let parsed = check(text).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !parsed.is_ok(),
        "deeply nested input was accepted: {:?}…",
        &text[..40.min(text.len())]
    );
}

#[test]
fn ten_thousand_open_parens_are_an_error() {
    assert_deep_input_is_rejected(&"(".repeat(10_000));
}

#[test]
fn ten_thousand_balanced_parens_are_an_error() {
    assert_deep_input_is_rejected(&format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)));
}

#[test]
fn five_thousand_minus_signs_are_an_error() {
    assert_deep_input_is_rejected(&"-".repeat(5_000));
    assert_deep_input_is_rejected(&format!("print {}1", "-".repeat(5_000)));
}

#[test]
fn three_thousand_nested_dynamic_arrays_are_an_error() {
    assert_deep_input_is_rejected(&format!("print {}", "dynamic([".repeat(3_000)));
    assert_deep_input_is_rejected(&format!("print dynamic({}", "[".repeat(3_000)));
}

#[test]
fn deeply_nested_calls_subqueries_and_functions_are_an_error() {
    assert_deep_input_is_rejected(&format!("print {}", "f(".repeat(5_000)));
    assert_deep_input_is_rejected(&format!("print {}", "x in (".repeat(5_000)));
    assert_deep_input_is_rejected(&"let f = () {".repeat(2_000));
}

// ----- (d) round trip of generated valid queries ------------------------------------------------

fn column() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "a",
            "b",
            "Count",
            "UserName",
            "x1",
            "_private",
            "['col name']",
            "['where']",
        ][..],
    )
    .prop_map(str::to_string)
}

/// A new column name for `extend`/`project`.
fn new_column() -> impl Strategy<Value = String> {
    prop::sample::select(&["n", "Total", "Score", "['new col']"][..]).prop_map(str::to_string)
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..100_000).prop_map(|n| n.to_string()),
        Just("1.5".to_string()),
        Just("2e3".to_string()),
    ]
}

fn scalar_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        "[a-z ]{0,6}".prop_map(|s| format!("\"{s}\"")),
        "[a-z]{0,4}".prop_map(|s| format!("'{s}'")),
        Just("1d".to_string()),
        Just("30m".to_string()),
        Just("datetime(2020-01-01)".to_string()),
        Just("true".to_string()),
        Just("dynamic([1, -2, \"x\"])".to_string()),
    ]
}

fn string_literal() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ]{0,6}".prop_map(|s| format!("\"{s}\""))
}

/// Arithmetic over columns and numbers: `+ - * / %`, unary minus, parentheses, calls.
fn arithmetic() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![column(), number()];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["+", "-", "*", "/", "%"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("max_of({a}, {b})")),
        ]
    })
}

fn comparison() -> impl Strategy<Value = String> {
    let comparison_op = prop::sample::select(&["==", "!=", "<", "<=", ">", ">="][..]);
    let string_op = prop::sample::select(
        &[
            "=~",
            "!~",
            "has",
            "!has",
            "has_cs",
            "contains",
            "!contains_cs",
            "startswith",
            "endswith_cs",
            "hasprefix",
            "!hassuffix",
            "matches regex",
        ][..],
    );
    let list_op = prop::sample::select(&["in", "!in", "in~", "!in~", "has_any", "has_all"][..]);
    prop_oneof![
        (arithmetic(), comparison_op, arithmetic()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (column(), string_op, string_literal()).prop_map(|(c, op, s)| format!("{c} {op} {s}")),
        (
            column(),
            list_op,
            prop::collection::vec(scalar_literal(), 1..4)
        )
            .prop_map(|(c, op, items)| format!("{c} {op} ({})", items.join(", "))),
        (column(), any::<bool>(), number(), number()).prop_map(|(c, negated, low, high)| {
            let op = if negated { "!between" } else { "between" };
            format!("{c} {op} ({low} .. {high})")
        }),
        column(),
        Just("isnotempty(UserName)".to_string()),
    ]
}

/// Comparisons combined with `and`, `or` and parentheses.
fn predicate() -> impl Strategy<Value = String> {
    comparison().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["and", "or"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.prop_map(|p| format!("({p})")),
        ]
    })
}

fn operator() -> impl Strategy<Value = String> {
    prop_oneof![
        predicate().prop_map(|p| format!("where {p}")),
        (new_column(), arithmetic()).prop_map(|(n, e)| format!("extend {n} = {e}")),
        prop::collection::vec(
            (proptest::option::of(new_column()), column()).prop_map(|(n, c)| match n {
                Some(n) => format!("{n} = {c}"),
                None => c,
            }),
            1..4
        )
        .prop_map(|columns| format!("project {}", columns.join(", "))),
        column().prop_map(|c| format!("summarize count() by {c}")),
        (column(), column()).prop_map(|(a, b)| format!(
            "summarize Total = count(), dcount({a}) by {b}, bin(Time, 1h)"
        )),
        (column(), prop::sample::select(&["asc", "desc"][..]))
            .prop_map(|(c, o)| format!("sort by {c} {o}")),
        (0u32..1000).prop_map(|n| format!("take {n}")),
        column().prop_map(|c| format!("mv-expand {c}")),
        (
            prop::sample::select(
                &["inner", "leftouter", "innerunique", "leftanti", "fullouter"][..]
            ),
            predicate(),
            column()
        )
            .prop_map(|(kind, p, c)| format!("join kind={kind} (T2 | where {p}) on {c}")),
    ]
}

fn pipeline() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["SigninLogs", "T", "['My Table']", "DeviceEvents"][..]),
        prop::collection::vec(operator(), 1..7),
    )
        .prop_map(|(table, operators)| format!("{table} | {}", operators.join(" | ")))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_queries_round_trip_through_print(text in pipeline()) {
        let parsed = parse(&text);
        prop_assert!(
            parsed.diagnostics.is_empty(),
            "generated query {text:?} has diagnostics: {:?}",
            parsed.diagnostics
        );
        let printed = print(&parsed.query);
        let again = parse(&printed);
        prop_assert!(
            again.diagnostics.is_empty(),
            "printed form {printed:?} of {text:?} has diagnostics: {:?}",
            again.diagnostics
        );
        prop_assert_eq!(
            shape(&parsed),
            shape(&again),
            "the tree changed through print: {:?} -> {:?}",
            text,
            printed
        );
        // Printing is a fixed point after one round.
        prop_assert_eq!(print(&again.query), printed);
    }
}

// ----- known parser bugs ---------------------------------------------------------------------------

/// Regression tests for parser bugs these properties found (all fixed).
mod known_parser_bugs {
    use super::*;

    /// `check_escape` steps over a fixed number of bytes after `\`, so the diagnostic for an
    /// invalid escape followed by a multi-byte character (`\é`, `\x1é`, `\u12é`) ends inside
    /// that character. (An earlier version of `decode_unprefixed` also panicked on `"\x1é"`,
    /// slicing at the same non-boundary; the panic check stays here as a regression test.)
    #[test]
    fn escape_diagnostic_span_is_on_char_boundaries() {
        for text in [
            r#"print "\é""#,
            r#"print "\x1é""#,
            r#"print "\u12é""#,
            r#"print "\U1234567é""#,
        ] {
            let parsed = std::panic::catch_unwind(|| parse(text));
            let parsed = parsed.unwrap_or_else(|_| panic!("parse panicked on {text:?}"));
            for d in &parsed.diagnostics {
                assert!(
                    text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end),
                    "{text:?}: span {:?} of {:?}",
                    d.span,
                    d.message
                );
            }
        }
    }

    /// A hex literal above `i64::MAX` is stored as a negative long, which prints as `-1`, and
    /// `-1` parses back as a unary minus applied to `1`.
    #[test]
    fn large_hex_literal_round_trips() {
        let parsed = parse("print 0xFFFFFFFFFFFFFFFF");
        assert!(parsed.is_ok());
        let again = parse(&print(&parsed.query));
        assert_eq!(shape(&parsed), shape(&again));
    }

    /// `a.12abc` parses as a member access whose name is a digit-led word, which prints as
    /// `a['12abc']`, which parses back as an index expression; called (`c1.5ount()`), the
    /// printed form `c1['5ount']()` does not parse at all.
    #[test]
    fn digit_led_member_name_round_trips() {
        for text in ["print a.12abc", "print c1.5ount()"] {
            let parsed = parse(text);
            assert!(parsed.is_ok(), "{text:?}: {:?}", parsed.diagnostics);
            let printed = print(&parsed.query);
            let again = parse(&printed);
            assert!(again.is_ok(), "{printed:?}: {:?}", again.diagnostics);
            assert_eq!(shape(&parsed), shape(&again), "{text:?} -> {printed:?}");
        }
    }

    /// `parse_param` reads a value that is not a plain word with `parse_unary`, so a bracketed
    /// name followed by the join's right side is taken as a call: `kind=['x y'] (T2)` becomes
    /// `['x y'](T2)`. The printer brackets bare words it cannot print bare (`é`, `1x`), so
    /// `T | join kind=é (T2) on a` prints to a query that no longer parses.
    #[test]
    fn bracketed_param_value_before_subquery() {
        assert!(parse("T | join kind=['x y'] (T2) on a").is_ok());
        for text in ["T | join kind=é (T2) on a", "T | join kind=1x (T2) on a"] {
            let parsed = parse(text);
            assert!(parsed.is_ok(), "{text:?}: {:?}", parsed.diagnostics);
            let printed = print(&parsed.query);
            let again = parse(&printed);
            assert!(again.is_ok(), "{printed:?}: {:?}", again.diagnostics);
        }
    }

    /// The printer writes a name's control characters raw inside `['…']`, so a name holding a
    /// newline prints as an unterminated string.
    #[test]
    fn name_with_control_character_round_trips() {
        for text in [r"print ['a\nb'] = 1", r"T | project ['tab\there']"] {
            let parsed = parse(text);
            assert!(parsed.is_ok(), "{text:?}: {:?}", parsed.diagnostics);
            let printed = print(&parsed.query);
            let again = parse(&printed);
            assert!(again.is_ok(), "{printed:?}: {:?}", again.diagnostics);
            assert_eq!(shape(&parsed), shape(&again));
        }
    }

    /// An invalid escape `\` at the end of a line steps over the newline, so an unterminated
    /// string runs on into the next line.
    #[test]
    fn backslash_newline_does_not_continue_a_string() {
        let text = "T | where a == \"x\\\n| take 1";
        let parsed = parse(text);
        for d in &parsed.diagnostics {
            assert!(
                !d.span.slice(text).contains('\n'),
                "diagnostic {:?} spans the newline: {:?}",
                d.message,
                d.span.slice(text)
            );
        }
    }

    /// Recursion through `a[…]` and `x between (…)` has no depth limit.
    #[test]
    fn deeply_nested_index_is_an_error() {
        assert_deep_input_is_rejected(&format!("print {}", "a[".repeat(20_000)));
    }

    #[test]
    fn deeply_nested_between_is_an_error() {
        assert_deep_input_is_rejected(&format!("print {}", "x between (".repeat(20_000)));
    }

    /// The depth limit (96) is higher than a 2 MiB test thread can follow through `fork` and
    /// `partition` subqueries in a debug build: 65 levels already overflow (release builds cope).
    #[test]
    fn deeply_nested_fork_is_an_error() {
        assert_deep_input_is_rejected(&format!("T | fork ({}", "fork (".repeat(100)));
    }

    #[test]
    fn deeply_nested_partition_is_an_error() {
        assert_deep_input_is_rejected(&format!(
            "T | partition by x {{{}",
            "T | partition by x {".repeat(100)
        ));
    }

    /// `summarize` needs at least one aggregate or a `by` clause.
    #[test]
    fn empty_summarize_is_an_error() {
        assert!(!parse("T | summarize").is_ok());
    }

    /// The open-schema `*` of `evaluate plugin() : (a:string, *)` is dropped from the tree, so
    /// printing loses it.
    #[test]
    fn evaluate_open_schema_is_kept() {
        let parsed = parse("T | evaluate bag_unpack(x) : (a:string, *)");
        assert!(parsed.is_ok());
        assert!(
            print(&parsed.query).contains('*'),
            "{}",
            print(&parsed.query)
        );
    }
}

#[test]
fn zz_stats() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut ok, mut n) = (0, 0);
    for i in 0..5000 {
        let t = mutated_query().new_tree(&mut runner).unwrap().current();
        n += 1;
        if parse(&t).is_ok() {
            ok += 1;
            if i % 300 == 0 {
                println!("OK MUT: {t:?}");
            }
        }
    }
    println!("mutated ok {ok}/{n}");
}
