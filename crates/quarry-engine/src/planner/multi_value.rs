//! Functions whose call makes several columns: `series_stats(x)` (seven columns named
//! `series_stats_x_min` … `series_stats_x_variance`), `series_decompose_anomalies`,
//! `series_decompose` and `series_fit_line` (one column per output), and `array_sort_asc/desc(a1, a2, …)` with
//! more than one array (one `a1_sorted` column per array).
//!
//! When such a call is unnamed, or assigned to a tuple `(a, b, …) = f(…)`, `print`, `extend`
//! and `project` see one column expression per output instead: the call indexed by the output's
//! key (`series_stats(x)["min"]`, `array_sort_asc(a, b)[0]`) and cast to its type. A call given a
//! single name keeps its one `dynamic` value.

use quarry_kql::ast::{Arg, ColumnExpr, Expr as KqlExpr, ExprKind, Ident, Literal};
use quarry_kql::Span;

use super::scalar::derived_name;

/// `series_stats` outputs: bag key and the conversion to its column type.
const SERIES_STATS: &[(&str, &str)] = &[
    ("min", "todouble"),
    ("min_idx", "tolong"),
    ("max", "todouble"),
    ("max_idx", "tolong"),
    ("avg", "todouble"),
    ("stdev", "todouble"),
    ("variance", "todouble"),
];

fn name_expr(name: &str, span: Span) -> KqlExpr {
    KqlExpr::new(
        ExprKind::Name {
            name: Ident {
                name: name.to_string(),
                span,
            },
        },
        span,
    )
}

fn call(function: &str, args: Vec<KqlExpr>, span: Span) -> KqlExpr {
    KqlExpr::new(
        ExprKind::Call {
            function: Box::new(name_expr(function, span)),
            args: args
                .into_iter()
                .map(|value| Arg { name: None, value })
                .collect(),
        },
        span,
    )
}

fn index(target: &KqlExpr, key: Literal, span: Span) -> KqlExpr {
    KqlExpr::new(
        ExprKind::Index {
            target: Box::new(target.clone()),
            index: Box::new(KqlExpr::new(ExprKind::Literal { value: key }, span)),
        },
        span,
    )
}

/// The outputs of a multi-column call: (default name, expression), or `None` for any other
/// expression.
fn outputs(expr: &KqlExpr) -> Option<Vec<(String, KqlExpr)>> {
    let ExprKind::Call { function, args } = &expr.kind else {
        return None;
    };
    let ExprKind::Name { name } = &function.kind else {
        return None;
    };
    let span = expr.span;
    match name.name.as_str() {
        "series_stats" => {
            let base = args
                .first()
                .and_then(|a| derived_name(&a.value))
                .unwrap_or_default();
            Some(
                SERIES_STATS
                    .iter()
                    .map(|(key, convert)| {
                        let member = index(
                            expr,
                            Literal::String {
                                value: key.to_string(),
                                obfuscated: false,
                            },
                            span,
                        );
                        (
                            format!("series_stats_{base}_{key}"),
                            call(convert, vec![member], span),
                        )
                    })
                    .collect(),
            )
        }
        "series_decompose_anomalies" | "series_decompose" | "series_fit_line" => {
            // The `_dynamic` form returns every output in one bag; each column reads its key.
            let keys: &[(&str, Option<&str>)] = match name.name.as_str() {
                "series_decompose_anomalies" => {
                    &[("ad_flag", None), ("ad_score", None), ("baseline", None)]
                }
                "series_decompose" => &[
                    ("baseline", None),
                    ("seasonal", None),
                    ("trend", None),
                    ("residual", None),
                ],
                _ => &[
                    ("rsquare", Some("todouble")),
                    ("slope", Some("todouble")),
                    ("variance", Some("todouble")),
                    ("rvariance", Some("todouble")),
                    ("interception", Some("todouble")),
                    ("line_fit", None),
                ],
            };
            let base = args
                .first()
                .and_then(|a| derived_name(&a.value))
                .unwrap_or_default();
            let bag = call(
                &format!("{}_dynamic", name.name),
                args.iter().map(|a| a.value.clone()).collect(),
                span,
            );
            Some(
                keys.iter()
                    .map(|(key, convert)| {
                        let member = index(
                            &bag,
                            Literal::String {
                                value: key.to_string(),
                                obfuscated: false,
                            },
                            span,
                        );
                        let value = match convert {
                            Some(function) => call(function, vec![member], span),
                            None => member,
                        };
                        (format!("{}_{base}_{key}", name.name), value)
                    })
                    .collect(),
            )
        }
        "array_sort_asc" | "array_sort_desc" => {
            // The trailing nulls_last flag is a bool literal; the other arguments are arrays.
            let arrays: Vec<&Arg> = args
                .iter()
                .filter(|a| {
                    !matches!(
                        a.value.kind,
                        ExprKind::Literal {
                            value: Literal::Bool { .. }
                        }
                    )
                })
                .collect();
            if arrays.len() < 2 {
                return None;
            }
            Some(
                arrays
                    .iter()
                    .enumerate()
                    .map(|(i, arg)| {
                        let base =
                            derived_name(&arg.value).unwrap_or_else(|| format!("array{}", i + 1));
                        (
                            format!("{base}_sorted"),
                            index(expr, Literal::Long { value: i as i64 }, span),
                        )
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// `columns` with every unnamed or tuple-assigned multi-column call spread into its columns.
pub(super) fn expand_multi_value(columns: &[ColumnExpr]) -> Vec<ColumnExpr> {
    let mut expanded = Vec::with_capacity(columns.len());
    for column in columns {
        let spread = (column.names.len() != 1)
            .then(|| outputs(&column.expr))
            .flatten();
        let Some(parts) = spread else {
            expanded.push(column.clone());
            continue;
        };
        for (i, (default, expr)) in parts.into_iter().enumerate() {
            let name = match column.names.get(i) {
                Some(given) => given.clone(),
                None if column.names.is_empty() => Ident {
                    name: default,
                    span: column.span,
                },
                // A tuple shorter than the outputs drops the rest.
                None => break,
            };
            expanded.push(ColumnExpr {
                names: vec![name],
                expr,
                span: column.span,
            });
        }
    }
    expanded
}
