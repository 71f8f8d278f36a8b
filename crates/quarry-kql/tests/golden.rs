//! Golden tests for the KQL front end.
//!
//! * `ast_*`: tricky but valid queries; the whole syntax tree (spans included) is snapshotted
//!   as YAML and the parse must report no diagnostic at all.
//! * `diag_*`: invalid (or suspicious) queries; the diagnostics are rendered in a small plain
//!   text format defined here and snapshotted.
//!
//! Snapshots live in `tests/snapshots/`; the query text is stored as each snapshot's
//! description. Review changes with `cargo insta review` (or `INSTA_UPDATE=always` and git diff).

use quarry_kql::{line_col, parse, Diagnostic, Severity};
use std::fmt::Write as _;

// ----- AST snapshots -----------------------------------------------------------------------------

/// Parses `text`, requires a clean parse and snapshots the tree under `name`.
fn assert_ast(name: &str, text: &str) {
    let parsed = parse(text);
    assert!(
        parsed.diagnostics.is_empty(),
        "expected no diagnostics for {name}:\n{text}\n\n{}",
        render(text, &parsed.diagnostics)
    );
    insta::with_settings!({ description => text, omit_expression => true }, {
        insta::assert_yaml_snapshot!(name, &parsed.query);
    });
}

macro_rules! ast_cases {
    ($($name:ident => $text:expr;)+) => {
        $(
            #[test]
            fn $name() {
                assert_ast(stringify!($name), $text);
            }
        )+
    };
}

ast_cases! {
    // --- statements ---
    ast_let_scalar_and_tabular_then_query =>
        "let threshold = 5;\nlet recent = SigninLogs | where TimeGenerated > ago(1d);\nrecent | where Count > threshold";
    ast_let_function_typed_params_defaults =>
        "let f = (T:(Account:string, *), n:long = 10, name:string = \"x\") { let m = n * 2; T | where Account == name | take m };\nf(SigninLogs, 5)";
    ast_let_view_materialize_toscalar =>
        "let v = view () { print x = 1 };\nlet m = materialize(T | summarize count() by a);\nlet s = toscalar(m | count);\nv | extend s";
    ast_declare_query_parameters_and_set =>
        "declare query_parameters(start:datetime = datetime(2020-01-01), name:string);\nset querytrace;\nset query_now = datetime(2021-01-01);\nT | where t > start";
    ast_multiple_query_statements =>
        "let a = 1; let b = 2;; T | take a; U | take b";
    ast_comments_and_newlines =>
        "T // the table\n// a comment line\n| where x > 1 // trailing comment\n\n| take 5";

    // --- literals ---
    ast_string_literal_forms =>
        r#"print a = 'single', b = "double \"esc\"\n\t", c = @"C:\Windows", d = h"secret", e = h@'x''y', f = '\u00e9\x41\101'"#;
    ast_multiline_and_adjacent_strings =>
        "print f = ```multi\nline \"quoted\" \\no escapes```, g = \"con\" 'cat' @\"enated\", t = ~~~tilde~~~";
    ast_datetime_and_timespan_literals =>
        "print d = datetime(2020-01-01 10:00), d2 = datetime(2021-03-04T05:06:07.123Z), t = timespan(1.02:03:04), a = 1d, b = 1.5h, c = 30m, e = 100ms, f = 1tick, g = 2min";
    ast_dynamic_nested_literals =>
        r#"print d = dynamic({"a": [1, -2, 3.5, [true, null]], "b": {"c": "x", "d": -1.5e3}}), e = dynamic([]), f = dynamic(null), g = dynamic({}), h = dynamic({"t": datetime(2020-01-01), "s": 1d})"#;
    ast_typed_literals_guid_and_nulls =>
        "print g = guid(74be27de-1e4e-49d9-b579-fe0b331d3642), i = int(null), r = real(nan), ri = real(+inf), l = long(-5), dec = decimal(1.5), b = bool(true)";
    ast_numeric_and_bool_literals =>
        "print l = 42, big = 9223372036854775807, min = -9223372036854775808, r = 1.5, e = 1e3, e2 = 2.5E-3, h = 0x1F, t = true, f = false";

    // --- names, member access, calls ---
    ast_quoted_names_members_and_indexes =>
        "T | project ['quoted name'], a.b, a['b'], a.[0], arr[-1], d.['key with space'], x.y.z, props.type";
    ast_named_args_and_star =>
        "T | summarize arg_max(TimeGenerated, *) by Account | extend s = f(n = 5, name = \"x\"), c = count(*)";
    ast_cross_cluster_table_reference =>
        "cluster(\"c\").database(\"db\").T | take 1";

    // --- predicates and precedence ---
    ast_between_and_not_between =>
        "T | where x between (1 .. 10) and y !between (datetime(2020-01-01) .. now())";
    ast_list_operators =>
        r#"T | where a in ("x", "y") and b !in (1, 2) and c in~ ("A") and d !in~ ("b") and e has_any ("p", "q") and f has_all ("r")"#;
    ast_in_with_subquery_and_dynamic =>
        r#"T | where Id in (T2 | where ok | project y) and Other !in (dynamic(["a", "b"]))"#;
    ast_string_operators_has_family =>
        r#"T | where a has "x" or a !has "x" or a has_cs "x" or a !has_cs "x" or a hasprefix "x" or a !hasprefix "x" or a hasprefix_cs "x" or a !hasprefix_cs "x" or a hassuffix "x" or a !hassuffix "x" or a hassuffix_cs "x" or a !hassuffix_cs "x""#;
    ast_string_operators_contains_family =>
        r#"T | where a contains "x" or a !contains "x" or a contains_cs "x" or a !contains_cs "x" or a startswith "x" or a !startswith "x" or a startswith_cs "x" or a !startswith_cs "x" or a endswith "x" or a !endswith "x" or a endswith_cs "x" or a !endswith_cs "x""#;
    ast_comparisons_regex_and_legacy_contains =>
        r#"T | where a == "x" or a != "x" or a <> "x" or a =~ "x" or a !~ "x" or a matches regex @"^\d+$" or a notcontains "x" or a containscs "x""#;
    ast_precedence_or_and =>
        "T | where a or b and c";
    ast_precedence_arithmetic_and_unary =>
        "print x = 1 + 2 * 3 > 4, y = -a * 2, z = -(a - 1) % 3, w = 10 - 4 - 3";

    // --- joins, lookup, union ---
    ast_join_left_right_with_kind_and_hint =>
        "T | join kind=leftouter hint.strategy=broadcast (T2 | where x > 1) on $left.a == $right.b, c";
    ast_lookup =>
        "T | lookup kind=leftouter (Dim | project Id, Name) on Id";
    ast_union_params_wildcards_subqueries =>
        "union withsource=SourceTable kind=outer isfuzzy=true Device*, (T | where x), SigninLogs";

    // --- expansion and parsing ---
    ast_mv_expand_params_and_legacy =>
        "T | mv-expand bagexpansion=array with_itemindex=Idx Item = Items to typeof(string), Other limit 100 | mvexpand Legacy | summarize makeset(x), make_set(y)";
    ast_mv_apply =>
        "T | mv-apply Value = Values to typeof(long) on (where Value > 1 | top 1 by Value desc)";
    ast_parse_simple_regex_relaxed =>
        r#"T | parse Message with "user=" User:string " id=" Id:long * | parse kind=regex flags=Ui Msg with @"(\w+)=" Key ":" Value | parse kind=relaxed Line with * "x" Rest"#;
    ast_parse_where_and_parse_kv =>
        r#"T | parse-where Msg with "a" A:int "b" * | parse-kv Text as (Key1:string, Key2:long) with (pair_delimiter=",", kv_delimiter="=")"#;

    // --- aggregation ---
    ast_make_series_from_to_step =>
        "T | make-series Count = count() default = 0, avg(x) on TimeGenerated from ago(7d) to now() step 1h by Computer";
    ast_make_series_in_range =>
        "T | make-series kind=nonempty sum(Bytes) on Timestamp in range(datetime(2020-01-01), datetime(2020-01-02), 1h)";
    ast_summarize_hint_bin_arg_max_and_by_only =>
        "T | summarize hint.shufflekey=Account Count = count(), dcount(IP) by Account, bin(TimeGenerated, 1h) | summarize arg_max(TimeGenerated, *) by Account | summarize by x";
    ast_top_and_sort_orders =>
        "T | top 10 by Count desc nulls last, Name asc | sort by a asc nulls first, b desc | order by c";
    ast_top_nested_and_top_hitters =>
        "T | top-nested 3 of Country with others = \"Other\" by Sales = sum(Amount) desc, top-nested 2 of City by count() | top-hitters 5 of Word by Weight";

    // --- column operators ---
    ast_project_family =>
        "T | project a, b = c + 1 | project-away Col*, Other | project-keep a*, b | project-rename New = Old, N2 = ['old name'] | project-reorder b asc, a*";
    ast_extend_tuple_assignment =>
        "T | extend (a, b) = f(x), c = 1";
    ast_count_distinct_take_sample =>
        "T | count | distinct * | take 10 | limit 5 | sample 3 | sample-distinct 2 of Name";

    // --- plugins and misc operators ---
    ast_evaluate_plugins =>
        "T | evaluate bag_unpack(Properties) | evaluate pivot(Key, sum(Value))";
    ast_invoke_as_serialize_render_getschema =>
        "T | invoke f() | as Result | serialize rn = row_number() | render timechart with (title=\"Logins\", ytitle=\"count\") | getschema";
    ast_search_simple =>
        "search \"error\"";
    ast_search_in_tables =>
        "search in (T1, T2) Message has \"fail\"";
    ast_find_in_where_project =>
        "find in (A, B) where x == 1 project a, b";
    ast_fork_branches =>
        "T | fork (where x > 1 | take 10) named = (summarize count())";
    ast_facet_with =>
        "T | facet by a, b with (take 3)";
    ast_partition_subquery_form =>
        "T | partition hint.strategy=native by x (top 1 by y)";
    ast_partition_query_form =>
        "T | partition by x { T | take 1 }";
    ast_scan_declare_steps =>
        "T | scan with_match_id=m declare (Total:long = 0) with (step s1 optional: x > 1 => Total = s1.Total + x; step s2 output=last: x < 0;)";
    ast_reduce_and_consume =>
        "T | reduce by Message with threshold=0.5, characters=\"-\" | consume decodeblocks=true";

    // --- source operators ---
    ast_print_source =>
        "print x = 1, \"y\"";
    ast_range_source =>
        "range i from 1 to 10 step 1";
    ast_datatable_source =>
        "datatable (a:long, b:string) [1, \"x\", 2, \"y\"]";
    ast_externaldata_source =>
        "externaldata (a:string, b:long) [\"https://x/y.csv\"] with (format=\"csv\", ignoreFirstRecord=true)";

    // --- rule templates ---
    ast_templates_inside_datetime =>
        "T | where TimeGenerated between (datetime({{StartTimeISO}}) .. datetime({{EndTimeISO}}))";
}

// ----- diagnostic snapshots ----------------------------------------------------------------------

/// Renders diagnostics as plain text:
///
/// ```text
/// error[kql::syntax]: message
///  --> 1:5
///   | T | summerize count()
///   |     ^^^^^^^^^ label
/// help: did you mean `summarize`?
/// ```
///
/// Only the first line of a multi-line span is underlined; an empty span gets one caret.
fn render(text: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let severity = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            "{severity}[{}]: {}",
            diagnostic.code, diagnostic.message
        );
        let start = diagnostic.span.start.min(text.len());
        let (line, column) = line_col(text, start);
        let _ = writeln!(out, " --> {line}:{column}");
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let source_line = text[line_start..line_end].trim_end_matches('\r');
        let underlined_end = diagnostic.span.end.clamp(start, line_end);
        let width = text
            .get(start..underlined_end)
            .map_or(1, |s| s.chars().count())
            .max(1);
        let _ = writeln!(out, "  | {source_line}");
        let label = diagnostic
            .label
            .as_deref()
            .map(|label| format!(" {label}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  | {}{}{label}",
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        if let Some(help) = &diagnostic.help {
            let _ = writeln!(out, "help: {help}");
        }
    }
    out
}

/// What a diagnostic case must report besides its snapshot.
#[derive(Clone, Copy)]
enum Expect {
    /// At least this many errors.
    Errors(usize),
    /// Warnings only (at least one), so the query still counts as parsed.
    WarningsOnly,
}

fn assert_diagnostics(name: &str, text: &str, expect: Expect) {
    let parsed = parse(text);
    let rendered = render(text, &parsed.diagnostics);
    let errors = parsed.diagnostics.iter().filter(|d| d.is_error()).count();
    match expect {
        Expect::Errors(at_least) => assert!(
            errors >= at_least && !parsed.is_ok(),
            "{name}: expected at least {at_least} errors, got:\n{rendered}"
        ),
        Expect::WarningsOnly => assert!(
            parsed.is_ok() && !parsed.diagnostics.is_empty(),
            "{name}: expected only warnings, got:\n{rendered}"
        ),
    }
    insta::with_settings!({ description => text, omit_expression => true }, {
        insta::assert_snapshot!(name, rendered);
    });
}

macro_rules! diagnostic_cases {
    ($($name:ident => $text:expr, $expect:expr;)+) => {
        $(
            #[test]
            fn $name() {
                assert_diagnostics(stringify!($name), $text, $expect);
            }
        )+
    };
}

diagnostic_cases! {
    diag_unknown_operator_typo => "SigninLogs\n| summerize count() by User", Expect::Errors(1);
    diag_missing_closing_paren => "T | where f(x > 1", Expect::Errors(1);
    diag_unterminated_string => "T\n| where Name == \"abc\n| take 1", Expect::Errors(1);
    diag_invalid_escape => r#"T | where Path == "C:\Windows""#, Expect::Errors(1);
    diag_where_without_predicate => "T | where", Expect::Errors(1);
    diag_two_independent_errors_are_both_reported =>
        "T | whre x == 1 | extend y = (1 + ) | take 10", Expect::Errors(2);
    diag_errors_in_two_statements => "let a = ;\nT | summerize count()", Expect::Errors(2);
    diag_garbage_after_operator => "T | take 10 rows please", Expect::Errors(1);
    diag_stray_closing_paren => "T | where x > 1) | take 5", Expect::Errors(1);
    diag_let_without_equals => "let x 5;\nT | take x", Expect::Errors(1);
    diag_join_subquery_unclosed => "T | join kind=inner (T2", Expect::Errors(1);
    diag_integer_too_large => "print 99999999999999999999", Expect::Errors(1);
    diag_empty_in_list => "T | where x in ()", Expect::Errors(1);
    diag_dynamic_unquoted_key => "print dynamic({a:1})", Expect::Errors(1);
    diag_between_without_dotdot => "T | where x between (1, 10)", Expect::Errors(1);
    diag_source_operator_after_pipe => "T | project x = 1 | print y", Expect::Errors(1);
    diag_template_placeholder_warning =>
        "SigninLogs | where TimeGenerated > {{StartTimeISO}}", Expect::WarningsOnly;
    diag_single_equals_warning => "T | where a = 1", Expect::WarningsOnly;
    diag_unsupported_operator => "T | make-graph a --> b with N on Id", Expect::Errors(1);
    diag_control_command => ".show tables", Expect::Errors(1);
}
