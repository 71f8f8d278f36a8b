//! Filters on columns with literal values, read from `where` conditions: comparisons, string
//! predicates, `in`/`has_any` lists (with `let`-bound lists resolved), `between`, and negation
//! by `!` forms and `not(…)`.

use super::walk::{call_name, unparen, Walker, MAX_CHAIN};
use super::Predicate;
use quarry_kql::ast::{
    BinaryOp, DynamicValue, Expr, ExprKind, ListOp, Literal, OperatorKind, StringPredicate,
};

/// Deepest chain of `let` names followed to find a literal value.
const MAX_RESOLVE_DEPTH: usize = 16;

fn string_predicate_name(predicate: StringPredicate) -> &'static str {
    match predicate {
        StringPredicate::Has => "has",
        StringPredicate::HasPrefix => "hasprefix",
        StringPredicate::HasSuffix => "hassuffix",
        StringPredicate::Contains => "contains",
        StringPredicate::StartsWith => "startswith",
        StringPredicate::EndsWith => "endswith",
    }
}

/// The canonical spelling of a comparison, used when the text between operands is unusable.
fn canonical_binary(op: BinaryOp) -> Option<String> {
    let text = match op {
        BinaryOp::Eq => "==",
        BinaryOp::NotEq => "!=",
        BinaryOp::EqCi => "=~",
        BinaryOp::NotEqCi => "!~",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::MatchesRegex => "matches regex",
        BinaryOp::String {
            predicate,
            case_sensitive,
            negated,
        } => {
            return Some(format!(
                "{}{}{}",
                if negated { "!" } else { "" },
                string_predicate_name(predicate),
                if case_sensitive { "_cs" } else { "" }
            ))
        }
        _ => return None,
    };
    Some(text.to_string())
}

fn canonical_list(op: ListOp) -> &'static str {
    match op {
        ListOp::In => "in",
        ListOp::NotIn => "!in",
        ListOp::InCi => "in~",
        ListOp::NotInCi => "!in~",
        ListOp::HasAny => "has_any",
        ListOp::HasAll => "has_all",
    }
}

fn binary_negated(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::NotEq | BinaryOp::NotEqCi | BinaryOp::String { negated: true, .. }
    )
}

/// An operator's text as written, whitespace collapsed; `None` when it is not a plain operator.
fn operator_text(text: &str) -> Option<String> {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let plain = !collapsed.is_empty()
        && collapsed.len() <= 24
        && collapsed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _!=~<>-".contains(c));
    plain.then_some(collapsed)
}

/// The text of a literal in a dynamic value.
fn dynamic_values(value: &DynamicValue, out: &mut Vec<String>) -> Option<()> {
    match value {
        DynamicValue::Null => {}
        DynamicValue::Scalar { literal, negative } => {
            let text = scalar_literal_text(literal)?;
            out.push(if *negative { format!("-{text}") } else { text });
        }
        DynamicValue::Array { items } => {
            for item in items {
                dynamic_values(item, out)?;
            }
        }
        DynamicValue::Object { .. } => return None,
    }
    Some(())
}

fn scalar_literal_text(literal: &Literal) -> Option<String> {
    Some(match literal {
        Literal::Bool { value } => value.to_string(),
        Literal::Long { value } => value.to_string(),
        Literal::Real { text } | Literal::Timespan { text } => text.clone(),
        Literal::String { value, .. } => value.clone(),
        Literal::Typed { text, .. } => text.clone(),
        Literal::Dynamic { .. } => return None,
    })
}

impl<'a> Walker<'a, '_> {
    /// Records the filters of a `where` condition.
    pub(super) fn collect_predicates(&mut self, condition: &'a Expr) {
        let mut found = Vec::new();
        let mut stack = vec![(condition, false)];
        while let Some((expr, negated)) = stack.pop() {
            match &expr.kind {
                ExprKind::Paren { inner } => stack.push((inner, negated)),
                ExprKind::Binary {
                    op: BinaryOp::And | BinaryOp::Or,
                    left,
                    right,
                } => {
                    stack.push((right, negated));
                    stack.push((left, negated));
                }
                ExprKind::Call { args, .. }
                    if call_name(expr) == Some("not")
                        && args.len() == 1
                        && self.scope.lookup("not").is_none() =>
                {
                    stack.push((&args[0].value, !negated));
                }
                ExprKind::Binary { op, left, right } => {
                    if let Some(p) = self.comparison(*op, left, right, negated) {
                        found.push((expr.span.start, p));
                    }
                }
                ExprKind::List {
                    op,
                    expr: tested,
                    items,
                } => {
                    if let Some(p) = self.list_predicate(*op, tested, items, negated) {
                        found.push((expr.span.start, p));
                    }
                }
                ExprKind::Between {
                    negated: not_between,
                    expr: tested,
                    low,
                    high,
                } => {
                    let column = self.predicate_column(tested);
                    let low = self.single_value(low);
                    let high = self.single_value(high);
                    if let (Some(column), Some(low), Some(high)) = (column, low, high) {
                        found.push((
                            expr.span.start,
                            Predicate {
                                column,
                                operator: if *not_between { "!between" } else { "between" }
                                    .to_string(),
                                values: vec![low, high],
                                negated: negated ^ not_between,
                            },
                        ));
                    }
                }
                _ => {}
            }
        }
        self.facts.predicates.extend(found);
    }

    fn comparison(
        &self,
        op: BinaryOp,
        left: &'a Expr,
        right: &'a Expr,
        negated: bool,
    ) -> Option<Predicate> {
        let canonical = canonical_binary(op)?;
        let (column, values) = match self.shadowed_column(left, right) {
            Some(name) => (name.name.clone(), self.literal_values(right, 0)?),
            None => match (self.predicate_column(left), self.literal_values(right, 0)) {
                (Some(column), Some(values)) => (column, values),
                _ => (self.predicate_column(right)?, self.literal_values(left, 0)?),
            },
        };
        let (first, second) = if left.span.end <= right.span.start {
            (left, right)
        } else {
            (right, left)
        };
        let between = self.text(quarry_kql::Span::new(first.span.end, second.span.start));
        let operator = operator_text(between).unwrap_or(canonical);
        Some(Predicate {
            column,
            operator,
            values,
            negated: negated ^ binary_negated(op),
        })
    }

    fn list_predicate(
        &self,
        op: ListOp,
        tested: &'a Expr,
        items: &'a [Expr],
        negated: bool,
    ) -> Option<Predicate> {
        let column = self.predicate_column(tested)?;
        let mut values = Vec::new();
        for item in items {
            values.extend(self.literal_values(item, 0)?);
        }
        let operator = items
            .first()
            .and_then(|first| {
                let text = self.text(quarry_kql::Span::new(tested.span.end, first.span.start));
                operator_text(text.trim_end().trim_end_matches('('))
            })
            .unwrap_or_else(|| canonical_list(op).to_string());
        Some(Predicate {
            column,
            operator,
            values,
            negated: negated ^ matches!(op, ListOp::NotIn | ListOp::NotInCi),
        })
    }

    /// The column a filter tests, as a path (`Col`, `Col.field`, `tolower(Col)` → `Col`).
    fn predicate_column(&self, expr: &'a Expr) -> Option<String> {
        // Fields from the outside in (`A.b['c']` → c, b), then the root column.
        let mut fields: Vec<&str> = Vec::new();
        let mut current = expr;
        loop {
            if fields.len() > MAX_CHAIN {
                return None;
            }
            match &current.kind {
                ExprKind::Member { target, name } => match &target.kind {
                    ExprKind::Name { name: side }
                        if side.name == "$left" || side.name == "$right" =>
                    {
                        fields.push(&name.name);
                        break;
                    }
                    _ => {
                        fields.push(&name.name);
                        current = target;
                    }
                },
                ExprKind::Index { target, index } => {
                    if let ExprKind::Literal {
                        value: Literal::String { value, .. },
                    } = &index.kind
                    {
                        fields.push(value);
                    }
                    current = target;
                }
                _ => {
                    fields.push(self.column_name(current)?);
                    break;
                }
            }
        }
        fields.reverse();
        Some(fields.join("."))
    }

    fn single_value(&self, expr: &'a Expr) -> Option<String> {
        let mut values = self.literal_values(expr, 0)?;
        (values.len() == 1).then(|| values.remove(0))
    }

    /// The literal values an operand stands for, through `let`s, `dynamic([…])`,
    /// `pack_array(…)` and one-column `datatable`s; `None` when it is not literal.
    fn literal_values(&self, expr: &'a Expr, depth: usize) -> Option<Vec<String>> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match &expr.kind {
            ExprKind::Literal { value } => match value {
                Literal::Dynamic { value } => {
                    let mut out = Vec::new();
                    dynamic_values(value, &mut out)?;
                    Some(out)
                }
                literal => Some(vec![scalar_literal_text(literal)?]),
            },
            ExprKind::Paren { inner } => self.literal_values(inner, depth + 1),
            ExprKind::Unary {
                op: quarry_kql::ast::UnaryOp::Negate,
                operand,
            } => match &operand.kind {
                ExprKind::Literal {
                    value: Literal::Long { .. } | Literal::Real { .. },
                } => Some(vec![format!(
                    "-{}",
                    self.literal_values(operand, depth + 1)?.first()?
                )]),
                _ => None,
            },
            ExprKind::Template { .. } => Some(vec![self.text(expr.span).to_string()]),
            ExprKind::Name { name } => {
                let value = self.scope.value_of(&name.name)?;
                self.literal_values(value, depth + 1)
            }
            ExprKind::Call { args, .. }
                if call_name(expr) == Some("pack_array")
                    && self.scope.lookup("pack_array").is_none() =>
            {
                let mut out = Vec::new();
                for arg in args {
                    out.extend(self.literal_values(&arg.value, depth + 1)?);
                }
                Some(out)
            }
            ExprKind::Source { operator } => match &operator.kind {
                OperatorKind::DataTable { columns, values } if columns.len() == 1 => {
                    let mut out = Vec::new();
                    for value in values {
                        out.extend(self.literal_values(unparen(value), depth + 1)?);
                    }
                    Some(out)
                }
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::{analyse, Predicate};
    use crate::model::FunctionLibrary;

    fn predicates(query: &str) -> Vec<Predicate> {
        analyse(query, &FunctionLibrary::new()).predicates
    }

    fn p(column: &str, operator: &str, values: &[&str], negated: bool) -> Predicate {
        Predicate {
            column: column.into(),
            operator: operator.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            negated,
        }
    }

    #[test]
    fn comparisons_and_string_predicates_as_written() {
        let got = predicates(
            "T | where EventID == 4688 and A =~ 'x' or B !has \"y\" | where C  matches   regex @'a.b' \
             | filter D != 'z' and E startswith_cs 'p' and 5 < F and G > -2",
        );
        assert_eq!(
            got,
            vec![
                p("EventID", "==", &["4688"], false),
                p("A", "=~", &["x"], false),
                p("B", "!has", &["y"], true),
                p("C", "matches regex", &["a.b"], false),
                p("D", "!=", &["z"], true),
                p("E", "startswith_cs", &["p"], false),
                p("F", "<", &["5"], false),
                p("G", ">", &["-2"], false),
            ]
        );
    }

    #[test]
    fn lists_resolve_lets_and_not_negates() {
        let got = predicates(
            "let L = dynamic(['a', 'b']); let P = pack_array('c'); let D = datatable(x:string)['d', 'e']; \
             let E = dynamic([]); let S = 'one'; \
             T | where A in (L) and B has_any (P) and not(C in~ (D, 'f')) and F !in (E) \
             | where tolower(G) has_all ('g', S) and H.I == S and J between (1 .. 5) and K !between (2 .. 3)",
        );
        assert_eq!(
            got,
            vec![
                p("A", "in", &["a", "b"], false),
                p("B", "has_any", &["c"], false),
                p("C", "in~", &["d", "e", "f"], true),
                p("F", "!in", &[], true),
                p("G", "has_all", &["g", "one"], false),
                p("H.I", "==", &["one"], false),
                p("J", "between", &["1", "5"], false),
                p("K", "!between", &["2", "3"], true),
            ]
        );
    }

    #[test]
    fn not_literal_or_not_a_column_is_no_predicate() {
        let got = predicates(
            "let start = ago(1d); let X = toscalar(T | count); \
             T | where TimeGenerated > start and A == B and C in (U | project C) and D == X \
             and isnotempty(E) and F > ago(1h)",
        );
        assert_eq!(got, vec![]);
    }

    #[test]
    fn subqueries_and_join_sides_keep_query_order() {
        let got = predicates(
            "T | where A == 'a' | join (U | where B == 'b') on K | where C == 'c' \
             | where D in ((V | where E == 'e' | project D))",
        );
        let columns: Vec<&str> = got.iter().map(|p| p.column.as_str()).collect();
        assert_eq!(columns, vec!["A", "B", "C", "E"]);
    }

    #[test]
    fn a_let_named_like_the_column_it_filters() {
        let got = predicates("let DeviceId = \"abc\"; T | where DeviceId == DeviceId");
        assert_eq!(got, vec![p("DeviceId", "==", &["abc"], false)]);
    }
}
