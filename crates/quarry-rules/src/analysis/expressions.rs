//! Scalar expressions: columns, function calls, string literals (with what they are compared
//! with and used for), templates and lookbacks.

use super::facts::{LetUse, Role, StringSite, TemplateSite};
use super::time_window::{eval_seconds, whole_seconds, Lookback};
use super::walk::{call_name, range, unparen, Ctx, Walker, MAX_CHAIN, MAX_DEPTH};
use quarry_kql::ast::{Arg, BinaryOp, Expr, ExprKind, Ident, Literal};
use quarry_kql::lexer::{decode_string, tokenize};
use quarry_kql::token::TokenKind;
use quarry_kql::Span;

impl<'a> Walker<'a, '_> {
    /// A scalar expression.
    pub(super) fn scalar(&mut self, expr: &'a Expr, ctx: Ctx<'a>) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.scalar_inner(expr, ctx);
        self.depth -= 1;
    }

    fn scalar_inner(&mut self, expr: &'a Expr, ctx: Ctx<'a>) {
        match &expr.kind {
            ExprKind::Literal { value } => self.literal(expr, value, ctx),
            ExprKind::Name { name } => self.scalar_name(name, ctx),
            ExprKind::Pattern { .. } | ExprKind::Star | ExprKind::Error => {}
            ExprKind::Template { name } => self.facts.templates.push(TemplateSite {
                span: range(expr.span),
                name: name.clone(),
                role: ctx.role,
                column: ctx.column.map(str::to_string),
                numeric: ctx.numeric,
            }),
            ExprKind::Unary { operand, .. } => self.scalar(operand, ctx),
            ExprKind::Binary { op, left, right } => self.binary(expr, *op, left, right, ctx),
            ExprKind::Between {
                expr: tested,
                low,
                high,
                ..
            } => {
                self.scalar(
                    tested,
                    Ctx {
                        column: None,
                        ..ctx
                    },
                );
                let column = self.column_name(tested);
                for bound in [low, high] {
                    self.scalar(bound, Ctx { column, ..ctx });
                }
            }
            ExprKind::List {
                expr: tested,
                items,
                ..
            } => {
                self.scalar(
                    tested,
                    Ctx {
                        column: None,
                        ..ctx
                    },
                );
                let column = self.column_name(tested);
                for item in items {
                    if let ExprKind::Name { name } = &unparen(item).kind {
                        if let Some(id) = self.scope.lookup(&name.name).and_then(|b| b.id) {
                            self.facts.let_uses.push(LetUse {
                                id,
                                column: column.map(str::to_string),
                                in_list: true,
                                role: Role::Plain,
                            });
                            continue;
                        }
                    }
                    if self.is_subquery(item) {
                        self.source(item);
                    } else {
                        self.scalar(item, Ctx { column, ..ctx });
                    }
                }
            }
            ExprKind::Member { target, name } => match &target.kind {
                ExprKind::Name { name: side } if side.name == "$left" || side.name == "$right" => {
                    self.column(name)
                }
                _ => self.scalar(target, ctx),
            },
            ExprKind::Index { target, index } => {
                self.scalar(target, ctx);
                self.scalar(index, Ctx::default());
            }
            ExprKind::Call { function, args } => self.call(expr, function, args, ctx),
            ExprKind::Paren { inner } => self.scalar(inner, ctx),
            ExprKind::Pipeline { .. } | ExprKind::Source { .. } => self.source(expr),
        }
    }

    fn scalar_name(&mut self, name: &'a Ident, ctx: Ctx<'a>) {
        match self.scope.lookup(&name.name) {
            Some(binding) => {
                // Items of `in (…)` lists are recorded by the list itself; a name inside
                // `pack_array(…)` is not a filter.
                if let Some(id) = binding.id {
                    if ctx.column.is_some() || ctx.role == Role::Regex {
                        self.facts.let_uses.push(LetUse {
                            id,
                            column: ctx.column.map(str::to_string),
                            in_list: false,
                            role: ctx.role,
                        });
                    }
                }
            }
            None if name.name.starts_with('$') => {}
            None => self.column(name),
        }
    }

    fn literal(&mut self, expr: &'a Expr, value: &'a Literal, ctx: Ctx<'a>) {
        match value {
            Literal::String { value, .. } => self.facts.strings.push(StringSite {
                span: range(expr.span),
                value: value.clone(),
                binding: ctx.binding,
                column: ctx.column.map(str::to_string),
                role: ctx.role,
            }),
            Literal::Dynamic { .. } => self.dynamic_strings(expr.span, ctx),
            Literal::Typed { type_name, .. }
                if type_name.eq_ignore_ascii_case("datetime")
                    || type_name.eq_ignore_ascii_case("date") =>
            {
                self.typed_datetime(expr.span, ctx)
            }
            _ => {}
        }
    }

    /// The strings inside `dynamic(…)`, found by lexing its text (the tree keeps no spans there).
    fn dynamic_strings(&mut self, span: Span, ctx: Ctx<'a>) {
        let text = self.text(span);
        let (tokens, _) = tokenize(text);
        for token in tokens {
            if token.kind != TokenKind::String {
                continue;
            }
            let Some(token_text) = text.get(token.span.start..token.span.end) else {
                continue;
            };
            let (value, _) = decode_string(token_text);
            self.facts.strings.push(StringSite {
                span: span.start + token.span.start..span.start + token.span.end,
                value,
                binding: ctx.binding,
                column: ctx.column.map(str::to_string),
                role: ctx.role,
            });
        }
    }

    /// The text inside `datetime(…)`, quotes kept when it has them, as a date string.
    fn typed_datetime(&mut self, span: Span, ctx: Ctx<'a>) {
        let text = self.text(span);
        let (Some(open), Some(close)) = (text.find('('), text.rfind(')')) else {
            return;
        };
        if close <= open + 1 {
            return;
        }
        let inner = &text[open + 1..close];
        let lead = inner.len() - inner.trim_start().len();
        let trimmed = inner.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("null") {
            return;
        }
        let start = span.start + open + 1 + lead;
        let value = match trimmed.chars().next() {
            Some('"' | '\'') => decode_string(trimmed).0,
            _ => trimmed.to_string(),
        };
        self.facts.strings.push(StringSite {
            span: start..start + trimmed.len(),
            value,
            binding: ctx.binding,
            column: ctx.column.map(str::to_string),
            role: Role::DateTime,
        });
    }

    fn binary(
        &mut self,
        expr: &'a Expr,
        op: BinaryOp,
        left: &'a Expr,
        right: &'a Expr,
        ctx: Ctx<'a>,
    ) {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // Long `or` chains lean left; walk them with a loop, not one frame per term.
                let mut operands = vec![right];
                let mut current = left;
                while let ExprKind::Binary {
                    op: inner,
                    left,
                    right,
                } = &current.kind
                {
                    if *inner != op {
                        break;
                    }
                    operands.push(right);
                    current = left;
                }
                operands.push(current);
                let ctx = Ctx {
                    column: None,
                    ..ctx
                };
                for operand in operands.into_iter().rev() {
                    self.scalar(operand, ctx);
                }
            }
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::EqCi
            | BinaryOp::NotEqCi
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::String { .. }
            | BinaryOp::MatchesRegex => {
                let numeric = matches!(
                    op,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                );
                let (mut left_column, right_column) =
                    (self.column_name(left), self.column_name(right));
                let base = Ctx { numeric, ..ctx };
                match self.shadowed_column(left, right) {
                    Some(name) => {
                        left_column = Some(&name.name);
                        self.column(name);
                    }
                    None => self.scalar(
                        left,
                        Ctx {
                            column: right_column,
                            ..base
                        },
                    ),
                }
                let right_role = if op == BinaryOp::MatchesRegex {
                    Role::Regex
                } else {
                    ctx.role
                };
                self.scalar(
                    right,
                    Ctx {
                        column: left_column,
                        role: right_role,
                        ..base
                    },
                );
            }
            BinaryOp::Sub if ctx.time && call_name(unparen(left)) == Some("now") => {
                if let ExprKind::Call { args, .. } = &unparen(left).kind {
                    if args.is_empty() {
                        self.lookback(expr, right, false);
                    }
                }
                self.scalar(left, ctx);
                self.scalar(right, ctx);
            }
            _ => {
                self.scalar(left, ctx);
                self.scalar(right, ctx);
            }
        }
    }

    /// In `where DeviceId == DeviceId` under `let DeviceId = "…"`, the left name is the column
    /// the author meant (the `let` only shadows it on the right).
    pub(super) fn shadowed_column(&self, left: &'a Expr, right: &'a Expr) -> Option<&'a Ident> {
        match (&left.kind, &right.kind) {
            (ExprKind::Name { name: l }, ExprKind::Name { name: r })
                if l.name == r.name && self.scope.lookup(&l.name).is_some() =>
            {
                Some(l)
            }
            _ => None,
        }
    }

    /// The column an operand stands for (`Col`, `Col.field`, `tolower(Col)`, `$left.Col`).
    pub(super) fn column_name(&self, expr: &'a Expr) -> Option<&'a str> {
        let mut current = expr;
        // A loop, not recursion: member chains lean left and can be long.
        for _ in 0..MAX_CHAIN {
            current = match &current.kind {
                ExprKind::Name { name } => {
                    return (self.scope.lookup(&name.name).is_none() && !name.name.starts_with('$'))
                        .then_some(name.name.as_str())
                }
                ExprKind::Member { target, name } => match &target.kind {
                    ExprKind::Name { name: side }
                        if side.name == "$left" || side.name == "$right" =>
                    {
                        return Some(&name.name)
                    }
                    _ => target,
                },
                ExprKind::Index { target, .. } => target,
                ExprKind::Paren { inner } => inner,
                ExprKind::Call { function, args } => {
                    let ExprKind::Name { name } = &function.kind else {
                        return None;
                    };
                    if self.scope.lookup(&name.name).is_some() {
                        return None;
                    }
                    &args.get(wrapped_argument(&name.name)?)?.value
                }
                _ => return None,
            };
        }
        None
    }

    fn call(&mut self, expr: &'a Expr, function: &'a Expr, args: &'a [Arg], ctx: Ctx<'a>) {
        let ExprKind::Name { name } = &function.kind else {
            self.scalar(function, Ctx::default());
            self.arguments(args, Ctx::default());
            return;
        };
        let n = name.name.as_str();
        if self.scope.lookup(n).is_some() {
            self.user_function_call(n, args);
            return;
        }
        if self.library.get(n).is_some() {
            self.stored_function(n);
            self.arguments(args, Ctx::default());
            return;
        }
        self.facts.functions.insert(n.to_string());
        let keep = Ctx {
            binding: ctx.binding,
            column: ctx.column,
            time: ctx.time,
            ..Ctx::default()
        };
        match n {
            "ago" => {
                if let [arg] = args {
                    if ctx.time {
                        self.lookback(expr, &arg.value, false);
                    }
                }
                self.arguments(args, keep);
            }
            "now" => {
                if let [arg] = args {
                    if ctx.time {
                        self.lookback(expr, &arg.value, true);
                    }
                }
                self.arguments(args, keep);
            }
            "todatetime" | "todate" => {
                let ctx = Ctx {
                    role: Role::DateTime,
                    ..keep
                };
                self.arguments(args, ctx);
            }
            "typeof" => {}
            "column_ifexists" | "columnifexists" => {
                if let Some(ExprKind::Literal {
                    value: Literal::String { value, .. },
                }) = args.first().map(|a| &a.value.kind)
                {
                    self.facts.columns.insert(value.clone());
                }
                self.arguments(args.get(1..).unwrap_or_default(), keep);
            }
            _ => {
                for (i, arg) in args.iter().enumerate() {
                    let role = argument_role(n, i, args.len());
                    let arg_ctx = Ctx { role, ..keep };
                    if self.is_subquery(&arg.value) {
                        self.source(&arg.value);
                    } else {
                        self.scalar(&arg.value, arg_ctx);
                    }
                }
            }
        }
    }

    /// Records a lookback: `ago(arg)`, `now(-arg)` (`negate`) or `now() - arg`.
    fn lookback(&mut self, whole: &'a Expr, arg: &'a Expr, negate: bool) {
        let scope = &self.scope;
        let seconds = eval_seconds(arg, &|name| scope.value_of(name));
        let seconds = match seconds {
            Some(s) => {
                let s = if negate { -s } else { s };
                match whole_seconds(s) {
                    Some(whole) => Some(whole),
                    // A constant that looks forward (`ago(-1d)`) is no lookback.
                    None => return,
                }
            }
            None if negate => return,
            None => None,
        };
        self.facts.lookbacks.push(Lookback {
            seconds,
            text: self.text(whole.span).to_string(),
            span: range(whole.span),
        });
    }
}

/// For a function that passes a column through (`tolower(Col)`), the argument holding it.
fn wrapped_argument(function: &str) -> Option<usize> {
    match function {
        "tolower" | "toupper" | "tostring" | "toint" | "tolong" | "todouble" | "toreal"
        | "tobool" | "todatetime" | "toguid" | "todecimal" | "totimespan" | "parse_json"
        | "todynamic" => Some(0),
        "trim" | "trim_start" | "trim_end" => Some(1),
        _ => None,
    }
}

/// What argument `index` of `function` (called with `count` arguments) is used for.
fn argument_role(function: &str, index: usize, count: usize) -> Role {
    match (function, index) {
        (
            "extract" | "extract_all" | "matches_regex" | "replace" | "trim" | "trim_start"
            | "trim_end",
            0,
        ) => Role::Regex,
        ("replace_regex", 1) => Role::Regex,
        ("replace", 1) | ("replace_regex", 2) | ("replace_string", 2) => Role::Rewrite,
        ("countof", 1) if count == 3 => Role::Regex,
        _ => Role::Plain,
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::{analyse, QueryAnalysis};
    use crate::model::FunctionLibrary;

    fn run(query: &str) -> QueryAnalysis {
        analyse(query, &FunctionLibrary::new())
    }

    #[test]
    fn columns_leave_out_lets_parameters_and_functions() {
        let analysis = run(
            "let threshold = 3; let f = (x:string) { strcat(x, Suffix) };\n\
             T | join (U) on $left.Account == $right.UserName\n\
             | where Count > threshold and parse_json(Extra).field == 'a' and Col['k'] == 1\n\
             | extend N = f(Name), C = column_ifexists('Maybe', ''), t = typeof(long)",
        );
        assert_eq!(
            analysis.columns,
            vec![
                "Account", "C", "Col", "Count", "Extra", "Maybe", "N", "Name", "Suffix",
                "UserName", "t"
            ]
        );
        assert_eq!(
            analysis.functions,
            vec!["column_ifexists", "parse_json", "strcat", "typeof"]
        );
    }

    #[test]
    fn lookbacks_through_lets_and_the_largest_wins() {
        let query = "let lookback = 14d;\nlet short = 1h;\nT | where TimeGenerated > ago(lookback)\n| join (U | where TimeGenerated > ago(short)) on A";
        let window = run(query).time_window.unwrap();
        assert_eq!(window.lookback_seconds, Some(1_209_600));
        assert_eq!(window.text, "ago(lookback)");
        assert_eq!(&query[window.span.clone()], "ago(lookback)");
        assert!(!window.templated);

        let between = run("T | where TimeGenerated between (ago(7d) .. now())").time_window;
        assert_eq!(between.unwrap().lookback_seconds, Some(604_800));
        let minus = run("let w = 2d; T | where Timestamp > now() - w").time_window;
        assert_eq!(minus.unwrap().text, "now() - w");
        let now_arg = run("T | where Timestamp > now(-3h)").time_window;
        assert_eq!(now_arg.unwrap().lookback_seconds, Some(10_800));
        let sum = run("let a = 1d; let b = 12h; T | where X > ago(a + b)").time_window;
        assert_eq!(sum.unwrap().lookback_seconds, Some(129_600));
        let in_let = run("let start = startofday(ago(30d)); T | where X > start").time_window;
        assert_eq!(in_let.unwrap().lookback_seconds, Some(2_592_000));
        assert_eq!(
            run("T | extend Age = ago(1d) | project Age").time_window,
            None,
            "an ago outside filters and lets sets no window"
        );
        assert_eq!(run("T | where X > ago(-1d)").time_window, None);
        let arguments = "let f = (start:datetime, end:datetime) { T | where X between (start .. end) };\nf(ago(7d), now()) | join (f(ago(30d), ago(2d))) on A";
        let window = run(arguments).time_window.unwrap();
        assert_eq!(
            window.lookback_seconds,
            Some(2_592_000),
            "user-function time bounds"
        );
        assert_eq!(window.text, "ago(30d)");
    }

    #[test]
    fn templates_set_a_window_the_caller_fills() {
        let query = "let starttime = todatetime('{{StartTimeISO}}');\nlet endtime = todatetime('{{EndTimeISO}}');\nlet lookback = totimespan((endtime - starttime) * 10);\nT | where TimeGenerated > ago(lookback)";
        let window = run(query).time_window.unwrap();
        assert_eq!(window.lookback_seconds, None);
        assert!(window.templated);
        assert_eq!(window.text, "{{StartTimeISO}}");
        assert_eq!(&query[window.span.clone()], "{{StartTimeISO}}");
        let both = run(&format!("{query} | where X > ago(1d)"))
            .time_window
            .unwrap();
        assert_eq!(
            (both.lookback_seconds, both.templated),
            (Some(86_400), true)
        );
        let variable = run("let f = (w:timespan) { T | where X > ago(w) }; f(1d)").time_window;
        let variable = variable.unwrap();
        assert_eq!(
            (variable.lookback_seconds, variable.templated),
            (None, false)
        );
        assert_eq!(variable.text, "ago(w)");
    }
}
