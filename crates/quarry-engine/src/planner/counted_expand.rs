//! `mv-expand … | summarize …` with the rows counted before they are expanded.
//!
//! Hunting queries expand a dynamic column and count its elements (`mv-expand Tag =
//! parse_json(AdditionalFields).Tags | summarize count() by tostring(Tag)`). Telemetry repeats
//! itself, so most rows expand exactly like many others: the planner groups the input by the
//! columns the expansion and the summarize read, counts each group once, expands one row per
//! group, and lets the summarize add the counts up (`count()` becomes a sum of the counts,
//! `countif(p)` a sum of the counts where `p` holds). Aggregates that ignore how often a value
//! occurs (`dcount`, `min`, `make_set`, …) are unchanged. When the values never repeat the
//! grouping costs a hash of each row, which is small next to expanding it.

use super::summarize::is_aggregate;
use super::{aggregate_plan, column, column_names, Planner, Relation};
use crate::error::Result;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::lit;
use quarry_kql::ast::{ColumnExpr, Expr as KqlExpr, ExprKind, Operator, OperatorKind};

/// Aggregates whose result depends on how many rows hold a value: they are summed over the
/// counts.
const COUNTING: &[&str] = &["count", "countif"];

/// Aggregates whose result is the same however many rows hold each value.
const MULTIPLICITY_FREE: &[&str] = &[
    "dcount",
    "dcountif",
    "min",
    "max",
    "minif",
    "maxif",
    "make_set",
    "makeset",
    "make_set_if",
    "take_any",
    "take_anyif",
    "any",
    "anyif",
];

/// Functions that read columns without naming them.
const READS_EVERY_COLUMN: &[&str] = &["pack_all", "bag_pack_columns"];

/// The name of a call's function when it is a plain name.
fn call_name(expr: &KqlExpr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Call { function, .. } => match &function.kind {
            ExprKind::Name { name } => Some(name.name.as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// True when `expr` is built only from counting and multiplicity-free aggregates, scalar
/// functions, operators, names and literals.
fn counts_can_be_weighted(expr: &KqlExpr) -> bool {
    match &expr.kind {
        ExprKind::Call { args, .. } => {
            let Some(name) = call_name(expr) else {
                return false;
            };
            if READS_EVERY_COLUMN.contains(&name) {
                return false;
            }
            if !is_aggregate(name) {
                // A scalar function over aggregates (`tostring(make_set(x))`).
                return args.iter().all(|arg| counts_can_be_weighted(&arg.value));
            }
            if !COUNTING.contains(&name) && !MULTIPLICITY_FREE.contains(&name) {
                return false;
            }
            // An aggregate's own arguments are evaluated per row.
            args.iter().all(|arg| match &arg.value.kind {
                ExprKind::Star => name == "count",
                _ => reads_no_hidden_columns(&arg.value),
            })
        }
        ExprKind::Binary { left, right, .. } => {
            counts_can_be_weighted(left) && counts_can_be_weighted(right)
        }
        ExprKind::Paren { inner } => counts_can_be_weighted(inner),
        ExprKind::Literal { .. } | ExprKind::Name { .. } => true,
        _ => false,
    }
}

/// True when `expr` names every column it reads (no `*`, no `pack_all()`).
fn reads_no_hidden_columns(expr: &KqlExpr) -> bool {
    let text = quarry_kql::printer::print_expr(expr);
    if READS_EVERY_COLUMN.iter().any(|f| text.contains(f)) {
        return false;
    }
    !matches!(expr.kind, ExprKind::Star)
}

/// The input columns whose names appear in the text of `expr` (a superset of what it reads).
fn named_columns<'a>(expr: &KqlExpr, columns: &'a [String]) -> impl Iterator<Item = &'a String> {
    let text = quarry_kql::printer::print_expr(expr);
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_string)
        .collect();
    columns.iter().filter(move |c| words.contains(c))
}

impl Planner<'_> {
    /// Plans `expand` (an `mv-expand`) followed by `summarize` with the input rows counted first,
    /// when the summarize allows it; `Ok(None)` when it does not (then the two operators are
    /// planned one by one).
    pub(super) fn counted_expand(
        &mut self,
        input: &Relation,
        expand: &Operator,
        summarize: &Operator,
    ) -> Result<Option<Relation>> {
        let OperatorKind::MvExpand { params, items, .. } = &expand.kind else {
            return Ok(None);
        };
        let OperatorKind::Summarize { aggregates, by, .. } = &summarize.kind else {
            return Ok(None);
        };
        // The item index numbers elements per input row; keep it simple and leave it alone.
        if params.iter().any(|p| p.name.name == "with_itemindex") {
            return Ok(None);
        }
        if !aggregates.iter().all(|a| counts_can_be_weighted(&a.expr))
            || !by.iter().all(|k| reads_no_hidden_columns(&k.expr))
            || !items.iter().all(|i| reads_no_hidden_columns(&i.expr))
        {
            return Ok(None);
        }
        let keys = Self::expand_keys(input, items.iter().map(|i| &i.expr), aggregates, by);
        if keys.is_empty() {
            // Grouping by nothing gives a row even for an empty input.
            return Ok(None);
        }
        let weight = self.next_alias("rows");
        let counted = aggregate_plan(
            input.plan.clone(),
            keys.iter().map(|k| column(k)).collect(),
            vec![count(lit(1)).alias(&weight)],
        )?;
        let expanded = self.apply_operator(Relation::unordered(counted), expand)?;
        self.summarize_weighted(
            expanded,
            aggregates,
            by,
            summarize.span,
            Some(column(&weight)),
        )
        .map(Some)
    }

    /// The input columns the expansion and the summarize after it may read, in input order.
    fn expand_keys<'e>(
        input: &Relation,
        items: impl Iterator<Item = &'e KqlExpr>,
        aggregates: &'e [ColumnExpr],
        by: &'e [ColumnExpr],
    ) -> Vec<String> {
        let columns = column_names(input.schema());
        let mut used: Vec<&String> = Vec::new();
        let exprs = items
            .chain(aggregates.iter().map(|a| &a.expr))
            .chain(by.iter().map(|k| &k.expr));
        for expr in exprs {
            used.extend(named_columns(expr, &columns));
        }
        columns
            .iter()
            .filter(|c| used.contains(c))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregate(text: &str) -> KqlExpr {
        let parsed = quarry_kql::parse(&format!("T | summarize {text}"));
        assert!(parsed.is_ok(), "{text} does not parse");
        let quarry_kql::ast::Statement::Query(expr) = &parsed.query.statements[0] else {
            panic!("not an expression statement");
        };
        let ExprKind::Pipeline { operators, .. } = &expr.kind else {
            panic!("not a pipeline");
        };
        let OperatorKind::Summarize { aggregates, .. } = &operators[0].kind else {
            panic!("not a summarize");
        };
        aggregates[0].expr.clone()
    }

    #[test]
    fn counts_and_multiplicity_free_aggregates_can_be_weighted() {
        for text in [
            "count()",
            "count(*)",
            "countif(Size > 10)",
            "dcount(DeviceName)",
            "count() * 100 / dcount(DeviceName)",
            "tostring(make_set(Tag))",
            "round(count() * 1.0 / 3, 2)",
            "min(Timestamp)",
        ] {
            assert!(counts_can_be_weighted(&aggregate(text)), "{text}");
        }
    }

    #[test]
    fn aggregates_that_see_every_row_cannot_be_weighted() {
        for text in [
            "sum(Size)",
            "avg(Size)",
            "make_list(Tag)",
            "percentile(Size, 50)",
            "arg_max(Timestamp, *)",
            "count() + sum(Size)",
            "tostring(sum(Size))",
            "round(avg(Size), 2)",
            "make_set(pack_all())",
        ] {
            assert!(!counts_can_be_weighted(&aggregate(text)), "{text}");
        }
    }
}
