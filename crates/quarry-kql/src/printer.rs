//! Canonical KQL text from a syntax tree.
//!
//! The printer writes exactly the structure it is given: parentheses come only from
//! [`ExprKind::Paren`] nodes, names are bracket-quoted only when they must be, and strings use the
//! simplest literal form that can hold their value. Parsing the printed text gives back the same
//! tree (spans aside). A top-level pipeline is printed one operator per line; every nested
//! pipeline stays on one line.

use crate::ast::{
    Arg, BinaryOp, ColumnDecl, ColumnExpr, DynamicValue, ExpandItem, Expr, ExprKind, FindProject,
    ForkBranch, FunctionDef, Ident, LetValue, ListOp, Literal, NullsOrder, Operator, OperatorKind,
    OperatorParam, Parameter, ParameterType, ParsePart, PartitionBody, Query, ScanDeclaration,
    ScanStep, SeriesAggregate, SeriesRange, SortKey, SortOrder, Statement, StringPredicate,
    TopNestedLevel, UnaryOp,
};
use std::fmt::Write as _;

/// Prints a whole query as canonical KQL: one statement per line, the top-level pipeline one
/// operator per line (`T\n| where …`), and no `;` after a final query statement.
pub fn print(query: &Query) -> String {
    let mut printer = Printer::default();
    printer.statements(&query.statements, true);
    printer.out
}

/// Prints one expression as canonical KQL on a single line (pipelines included).
pub fn print_expr(expr: &Expr) -> String {
    let mut printer = Printer::default();
    printer.expr(expr);
    printer.out
}

/// Words that must be bracket-quoted when used as a name.
const KEYWORDS: &str = "and or by on with in of to from step between has contains startswith \
    endswith hasprefix hassuffix matches asc desc nulls first last true false let set declare \
    alias typeof view where project extend summarize join union sort order top take limit as \
    kind like not null";

/// True when `name` has the shape of a plain identifier: `^[A-Za-z_$][A-Za-z0-9_]*$`.
fn is_identifier_shaped(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True when `name` reads as one word after a `.`, where keywords are plain names too: a letter or
/// `_` (or a leading `$`) followed by letters, digits and `_`.
fn is_word(name: &str) -> bool {
    let body = name.strip_prefix('$').unwrap_or(name);
    !body.is_empty() && body.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// True when `name` can be written without `['…']`.
fn is_bare_name(name: &str) -> bool {
    is_identifier_shaped(name) && !KEYWORDS.split_whitespace().any(|keyword| keyword == name)
}

/// Accumulates the printed text. Every method appends to it and returns the printer, so that
/// the pieces of one construct can be chained.
#[derive(Default)]
struct Printer {
    out: String,
}

impl Printer {
    fn push(&mut self, text: &str) -> &mut Self {
        self.out.push_str(text);
        self
    }

    /// Prints `items` separated by `sep`, each with `item`.
    fn join<T>(
        &mut self,
        items: &[T],
        sep: &str,
        mut item: impl for<'p> FnMut(&'p mut Self, &T) -> &'p mut Self,
    ) -> &mut Self {
        for (i, value) in items.iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            item(self, value);
        }
        self
    }

    /// Prints `open`, the `, `-separated `items` and `close`; nothing at all when `items` is empty.
    fn list<T>(
        &mut self,
        open: &str,
        items: &[T],
        close: &str,
        item: impl for<'p> FnMut(&'p mut Self, &T) -> &'p mut Self,
    ) -> &mut Self {
        if items.is_empty() {
            return self;
        }
        self.push(open).join(items, ", ", item).push(close)
    }

    /// Prints `prefix` and the value when there is one.
    fn opt<T>(
        &mut self,
        prefix: &str,
        value: Option<&T>,
        item: impl for<'p> FnOnce(&'p mut Self, &T) -> &'p mut Self,
    ) -> &mut Self {
        match value {
            Some(value) => item(self.push(prefix), value),
            None => self,
        }
    }

    // ----- statements -------------------------------------------------------------------------

    /// Prints statements: each `let`/`set`/… ends with `;`, a query gets one unless it is last.
    /// Top-level statements go one per line, a function body's on one line.
    fn statements(&mut self, statements: &[Statement], top_level: bool) -> &mut Self {
        for (i, statement) in statements.iter().enumerate() {
            if i > 0 {
                self.push(if top_level { "\n" } else { " " });
            }
            match statement {
                Statement::Query(expr) if top_level => self.top_level_expr(expr),
                Statement::Query(expr) => self.expr(expr),
                _ => self.statement(statement),
            };
            if !matches!(statement, Statement::Query(_)) || i + 1 < statements.len() {
                self.push(";");
            }
        }
        self
    }

    /// Prints a statement without its terminating `;`.
    fn statement(&mut self, statement: &Statement) -> &mut Self {
        match statement {
            Statement::Let { name, value, .. } => {
                self.push("let ").ident(name).push(" = ");
                match value {
                    LetValue::Expr { expr } => self.expr(expr),
                    LetValue::Function { function } => self.function_def(function),
                    LetValue::View { function } => self.push("view ").function_def(function),
                }
            }
            Statement::DeclareQueryParameters { parameters, .. } => self
                .push("declare query_parameters(")
                .join(parameters, ", ", Self::parameter)
                .push(")"),
            Statement::Set { name, value, .. } => {
                self.push("set ")
                    .push(&name.name)
                    .opt(" = ", value.as_ref(), Self::expr)
            }
            Statement::Alias { name, value, .. } => self
                .push("alias database ")
                .ident(name)
                .push(" = ")
                .expr(value),
            Statement::Query(expr) => self.expr(expr),
        }
    }

    /// `(a:string, b:long = 5) { let c = …; body }`
    fn function_def(&mut self, function: &FunctionDef) -> &mut Self {
        self.push("(")
            .join(&function.parameters, ", ", Self::parameter)
            .push(") {");
        if !function.body.is_empty() {
            self.push(" ").statements(&function.body, false);
        }
        self.push(" }")
    }

    /// `a:string = "x"`, `T:(a:string, *)`
    fn parameter(&mut self, parameter: &Parameter) -> &mut Self {
        self.ident(&parameter.name).push(":");
        match &parameter.ty {
            ParameterType::Scalar { name } => self.push(&name.name),
            ParameterType::Tabular { columns, open } => {
                self.push("(").join(columns, ", ", Self::column_decl);
                match (*open, columns.is_empty()) {
                    (true, true) => self.push("*"),
                    (true, false) => self.push(", *"),
                    (false, _) => self,
                }
                .push(")")
            }
        };
        self.opt(" = ", parameter.default.as_ref(), Self::expr)
    }

    /// `Name:type`
    fn column_decl(&mut self, decl: &ColumnDecl) -> &mut Self {
        self.ident(&decl.name).push(":").push(&decl.ty.name)
    }

    /// `(a:string, b:long)`
    fn column_decls(&mut self, decls: &[ColumnDecl]) -> &mut Self {
        self.push("(")
            .join(decls, ", ", Self::column_decl)
            .push(")")
    }

    // ----- names and literals -----------------------------------------------------------------

    /// A name, bare when possible, otherwise `['…']`.
    fn ident(&mut self, ident: &Ident) -> &mut Self {
        if is_bare_name(&ident.name) {
            self.push(&ident.name)
        } else {
            self.bracketed_name(&ident.name)
        }
    }

    /// A name where the grammar expects a name and reads any word as one (a callee, a parameter
    /// value, a `parse` column, the `range` column): bare even when it is a keyword such as
    /// `not`, `true` or `kind`, so it reads back as the word the source had.
    fn word(&mut self, ident: &Ident) -> &mut Self {
        if is_identifier_shaped(&ident.name) {
            self.push(&ident.name)
        } else {
            self.bracketed_name(&ident.name)
        }
    }

    /// `['…']` with `'` and `\` escaped.
    fn bracketed_name(&mut self, name: &str) -> &mut Self {
        self.push("['");
        for c in name.chars() {
            match c {
                '\'' | '\\' => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.push("']")
    }

    fn literal(&mut self, literal: &Literal) -> &mut Self {
        match literal {
            Literal::Bool { value } => self.push(if *value { "true" } else { "false" }),
            Literal::Long { value } => {
                // The parser makes negative longs only from `-9223372036854775808` and from hex
                // past i64::MAX; hex reads back as the same value.
                if *value < 0 {
                    let _ = write!(self.out, "0x{:x}", *value as u64);
                } else {
                    let _ = write!(self.out, "{value}");
                }
                self
            }
            Literal::Real { text } | Literal::Timespan { text } => self.push(text),
            Literal::String { value, obfuscated } => self.string(value, *obfuscated),
            Literal::Typed { type_name, text } => {
                self.push(type_name).push("(").push(text).push(")")
            }
            Literal::Dynamic { value } => self.push("dynamic(").dynamic(value).push(")"),
        }
    }

    /// A string literal: `"…"` when nothing needs escaping, `@"…"` when there is no control
    /// character, otherwise `"…"` with backslash escapes. `h` prefix when obfuscated.
    fn string(&mut self, value: &str, obfuscated: bool) -> &mut Self {
        if obfuscated {
            self.push("h");
        }
        let has_control = value.chars().any(|c| c < ' ');
        if !has_control && !value.contains(['"', '\\']) {
            return self.push("\"").push(value).push("\"");
        }
        if !has_control {
            return self
                .push("@\"")
                .push(&value.replace('"', "\"\""))
                .push("\"");
        }
        self.push("\"");
        for c in value.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '"' => self.out.push_str("\\\""),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                c if c < ' ' => {
                    let _ = write!(self.out, "\\u{:04x}", u32::from(c));
                }
                c => self.out.push(c),
            }
        }
        self.push("\"")
    }

    /// The content of `dynamic(…)`.
    fn dynamic(&mut self, value: &DynamicValue) -> &mut Self {
        match value {
            DynamicValue::Null => self.push("null"),
            DynamicValue::Scalar { literal, negative } => {
                self.push(if *negative { "-" } else { "" }).literal(literal)
            }
            DynamicValue::Array { items } => {
                self.push("[").join(items, ", ", Self::dynamic).push("]")
            }
            DynamicValue::Object { entries } => self
                .push("{")
                .join(entries, ", ", |p, (key, value)| {
                    p.string(key, false).push(": ").dynamic(value)
                })
                .push("}"),
        }
    }

    // ----- expressions ------------------------------------------------------------------------

    /// A statement-level expression: a pipeline goes one operator per line.
    fn top_level_expr(&mut self, expr: &Expr) -> &mut Self {
        match &expr.kind {
            ExprKind::Pipeline { source, operators } => {
                self.expr(source);
                for operator in operators {
                    self.push("\n| ").operator(operator);
                }
                self
            }
            _ => self.expr(expr),
        }
    }

    fn expr(&mut self, expr: &Expr) -> &mut Self {
        match &expr.kind {
            ExprKind::Literal { value } => self.literal(value),
            ExprKind::Name { name } => self.ident(name),
            ExprKind::Pattern { pattern } => self.push(pattern),
            ExprKind::Star => self.push("*"),
            ExprKind::Template { name } => self.push("{{").push(name).push("}}"),
            ExprKind::Unary { op, operand } => self
                .push(match op {
                    UnaryOp::Negate => "-",
                    UnaryOp::Plus => "+",
                })
                .expr(operand),
            ExprKind::Binary { op, left, right } => self
                .expr(left)
                .push(" ")
                .binary_op(*op)
                .push(" ")
                .expr(right),
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => self
                .expr(expr)
                .push(if *negated {
                    " !between ("
                } else {
                    " between ("
                })
                .expr(low)
                .push(" .. ")
                .expr(high)
                .push(")"),
            ExprKind::List { op, expr, items } => {
                let op = match op {
                    ListOp::In => " in (",
                    ListOp::NotIn => " !in (",
                    ListOp::InCi => " in~ (",
                    ListOp::NotInCi => " !in~ (",
                    ListOp::HasAny => " has_any (",
                    ListOp::HasAll => " has_all (",
                };
                self.expr(expr).push(op).exprs(items).push(")")
            }
            ExprKind::Member { target, name } => {
                self.expr(target);
                if self.out.ends_with('.') {
                    // A real written `1.` must not run into the member dot and read as `..`.
                    self.push(" ");
                }
                if is_word(&name.name) {
                    self.push(".").push(&name.name)
                } else {
                    self.bracketed_name(&name.name)
                }
            }
            ExprKind::Index { target, index } => self.expr(target).push("[").expr(index).push("]"),
            ExprKind::Call { function, args } => self
                .word_or_expr(function)
                .push("(")
                .join(args, ", ", Self::arg)
                .push(")"),
            ExprKind::Paren { inner } => self.push("(").expr(inner).push(")"),
            ExprKind::Pipeline { source, operators } => {
                self.expr(source);
                for operator in operators {
                    self.push(" | ").operator(operator);
                }
                self
            }
            ExprKind::Source { operator } => self.operator(operator),
            ExprKind::Error => self.push("__error__"),
        }
    }

    fn binary_op(&mut self, op: BinaryOp) -> &mut Self {
        let text = match op {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::EqCi => "=~",
            BinaryOp::NotEqCi => "!~",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::MatchesRegex => "matches regex",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::String {
                predicate,
                case_sensitive,
                negated,
            } => {
                // `[!]word[_cs]`: the prefix and the word now, the suffix below.
                self.push(if negated { "!" } else { "" })
                    .push(match predicate {
                        StringPredicate::Has => "has",
                        StringPredicate::HasPrefix => "hasprefix",
                        StringPredicate::HasSuffix => "hassuffix",
                        StringPredicate::Contains => "contains",
                        StringPredicate::StartsWith => "startswith",
                        StringPredicate::EndsWith => "endswith",
                    });
                if case_sensitive {
                    "_cs"
                } else {
                    ""
                }
            }
        };
        self.push(text)
    }

    /// Expressions separated by `, `.
    fn exprs(&mut self, exprs: &[Expr]) -> &mut Self {
        self.join(exprs, ", ", Self::expr)
    }

    /// `value` or `name = value`.
    fn arg(&mut self, arg: &Arg) -> &mut Self {
        self.opt("", arg.name.as_ref(), |p, name| p.ident(name).push(" = "))
            .expr(&arg.value)
    }

    // ----- operator pieces --------------------------------------------------------------------

    /// `expr`, `Name = expr` or `(A, B) = expr`.
    fn column_expr(&mut self, column: &ColumnExpr) -> &mut Self {
        match column.names.as_slice() {
            [] => self,
            [name] => self.ident(name).push(" = "),
            names => self.push("(").join(names, ", ", Self::ident).push(") = "),
        }
        .expr(&column.expr)
    }

    /// ` name=value` for each parameter.
    fn params(&mut self, params: &[OperatorParam]) -> &mut Self {
        for param in params {
            self.push(" ").param(param);
        }
        self
    }

    /// `name=value`; a bare-word value (`kind=inner`, `isfuzzy=true`) is a name printed as is.
    fn param(&mut self, param: &OperatorParam) -> &mut Self {
        self.push(&param.name.name)
            .push("=")
            .word_or_expr(&param.value)
    }

    /// A callee or a parameter value: a name as a [`Self::word`], anything else as an expression.
    fn word_or_expr(&mut self, expr: &Expr) -> &mut Self {
        match &expr.kind {
            ExprKind::Name { name } => self.word(name),
            _ => self.expr(expr),
        }
    }

    /// `(op | op)`
    fn subquery(&mut self, operators: &[Operator]) -> &mut Self {
        self.push("(")
            .join(operators, " | ", Self::operator)
            .push(")")
    }

    /// ` asc` / ` desc`.
    fn sort_order(&mut self, order: Option<SortOrder>) -> &mut Self {
        self.push(match order {
            Some(SortOrder::Asc) => " asc",
            Some(SortOrder::Desc) => " desc",
            None => "",
        })
    }

    /// `expr [asc|desc] [nulls first|last]`
    fn sort_key(&mut self, key: &SortKey) -> &mut Self {
        self.expr(&key.expr)
            .sort_order(key.order)
            .push(match key.nulls {
                Some(NullsOrder::First) => " nulls first",
                Some(NullsOrder::Last) => " nulls last",
                None => "",
            })
    }

    /// `[Name =] expr [to typeof(type)]`
    fn expand_item(&mut self, item: &ExpandItem) -> &mut Self {
        self.opt("", item.name.as_ref(), |p, name| p.ident(name).push(" = "))
            .expr(&item.expr)
            .opt(" to typeof(", item.to_type.as_ref(), |p, ty| {
                p.push(&ty.name).push(")")
            })
    }

    /// `[params] items [limit n]` of `mv-expand` / `mv-apply`.
    fn expand(
        &mut self,
        params: &[OperatorParam],
        items: &[ExpandItem],
        limit: Option<&Expr>,
    ) -> &mut Self {
        self.params(params)
            .push(" ")
            .join(items, ", ", Self::expand_item)
            .opt(" limit ", limit, Self::expr)
    }

    fn parse_part(&mut self, part: &ParsePart) -> &mut Self {
        match part {
            ParsePart::Text { value, .. } => self.string(value, false),
            ParsePart::Wildcard { .. } => self.push("*"),
            ParsePart::Column { name, ty } => self
                .word(name)
                .opt(":", ty.as_ref(), |p, ty| p.push(&ty.name)),
        }
    }

    /// `[Name =] aggregate [default = value]`
    fn series_aggregate(&mut self, aggregate: &SeriesAggregate) -> &mut Self {
        self.column_expr(&aggregate.column).opt(
            " default = ",
            aggregate.default.as_ref(),
            Self::expr,
        )
    }

    /// ` from a to b step s` or ` in range(a, b, s)`.
    fn series_range(&mut self, range: &SeriesRange) -> &mut Self {
        match range {
            SeriesRange::FromTo { from, to, step } => self
                .opt(" from ", from.as_ref(), Self::expr)
                .opt(" to ", to.as_ref(), Self::expr)
                .push(" step ")
                .expr(step),
            SeriesRange::InRange { start, stop, step } => self
                .push(" in range(")
                .expr(start)
                .push(", ")
                .expr(stop)
                .push(", ")
                .expr(step)
                .push(")"),
        }
    }

    /// `top-nested [n] of [Name =] expr [with others = v] by [Name =] aggregate [asc|desc]`
    fn top_nested_level(&mut self, level: &TopNestedLevel) -> &mut Self {
        self.push("top-nested")
            .opt(" ", level.count.as_ref(), Self::expr)
            .push(" of ")
            .column_expr(&level.of)
            .opt(" with others = ", level.others.as_ref(), Self::expr)
            .push(" by ")
            .column_expr(&level.by)
            .sort_order(level.order)
    }

    /// `[name =] (op | op)`
    fn fork_branch(&mut self, branch: &ForkBranch) -> &mut Self {
        self.opt("", branch.name.as_ref(), |p, name| {
            p.ident(name).push(" = ")
        })
        .subquery(&branch.operators)
    }

    /// `Name:type [= default]`
    fn scan_declaration(&mut self, declaration: &ScanDeclaration) -> &mut Self {
        self.column_decl(&declaration.column)
            .opt(" = ", declaration.default.as_ref(), Self::expr)
    }

    /// `step s1 [optional] [output=last]: pred [=> A = x, …];`
    fn scan_step(&mut self, step: &ScanStep) -> &mut Self {
        self.push("step ")
            .ident(&step.name)
            .push(if step.optional { " optional" } else { "" })
            .opt(" output=", step.output.as_ref(), |p, output| {
                p.push(&output.name)
            })
            .push(": ")
            .expr(&step.predicate)
            .list(" => ", &step.assignments, "", Self::column_expr)
            .push(";")
    }

    // ----- operators --------------------------------------------------------------------------

    /// Prints an operator without the `| ` before it.
    fn operator(&mut self, operator: &Operator) -> &mut Self {
        use OperatorKind as K;
        match &operator.kind {
            K::Where { predicate } => self.push("where ").expr(predicate),
            K::Project { columns } => {
                self.push("project")
                    .list(" ", columns, "", Self::column_expr)
            }
            K::ProjectAway { columns } => self.push("project-away ").exprs(columns),
            K::ProjectKeep { columns } => self.push("project-keep ").exprs(columns),
            K::ProjectRename { renames } => {
                self.push("project-rename ").join(renames, ", ", |p, r| {
                    p.ident(&r.new_name).push(" = ").expr(&r.source)
                })
            }
            K::ProjectReorder { columns } => {
                self.push("project-reorder ").join(columns, ", ", |p, c| {
                    p.expr(&c.column)
                        .opt(" ", c.order.as_ref(), |p, order| p.push(&order.name))
                })
            }
            K::Extend { columns } => self
                .push("extend")
                .list(" ", columns, "", Self::column_expr),
            K::Summarize {
                params,
                aggregates,
                by,
            } => self
                .push("summarize")
                .params(params)
                .list(" ", aggregates, "", Self::column_expr)
                .list(" by ", by, "", Self::column_expr),
            K::Count { name } => self.push("count").opt(" as ", name.as_ref(), Self::ident),
            K::Distinct { params, columns } => self
                .push("distinct")
                .params(params)
                .push(" ")
                .exprs(columns),
            K::Take { count } => self.push("take ").expr(count),
            K::Top { count, by } => {
                self.push("top ")
                    .expr(count)
                    .list(" by ", by, "", Self::sort_key)
            }
            K::TopNested { levels } => self.join(levels, ", ", Self::top_nested_level),
            K::TopHitters { count, of, by } => self
                .push("top-hitters ")
                .expr(count)
                .push(" of ")
                .expr(of)
                .opt(" by ", by.as_ref(), Self::expr),
            K::Sort { params, by } => {
                self.push("sort")
                    .params(params)
                    .list(" by ", by, "", Self::sort_key)
            }
            K::Join { params, right, on } => self.join_like("join", params, right, on),
            K::Lookup { params, right, on } => self.join_like("lookup", params, right, on),
            K::Union { params, tables } => {
                self.push("union").params(params).push(" ").exprs(tables)
            }
            K::MvExpand {
                params,
                items,
                limit,
            } => self.push("mv-expand").expand(params, items, limit.as_ref()),
            K::MvApply {
                params,
                items,
                limit,
                subquery,
            } => self
                .push("mv-apply")
                .expand(params, items, limit.as_ref())
                .push(" on ")
                .subquery(subquery),
            K::Parse {
                filter,
                params,
                source,
                pattern,
            } => {
                self.push(if *filter { "parse-where" } else { "parse" })
                    .params(params)
                    .push(" ")
                    .expr(source)
                    .push(" with");
                for part in pattern {
                    self.push(" ").parse_part(part);
                }
                self
            }
            K::ParseKv {
                source,
                columns,
                options,
            } => self
                .push("parse-kv ")
                .expr(source)
                .push(" as ")
                .column_decls(columns)
                .list(" with (", options, ")", Self::param),
            K::MakeSeries {
                params,
                aggregates,
                on,
                range,
                by,
            } => self
                .push("make-series")
                .params(params)
                .push(" ")
                .join(aggregates, ", ", Self::series_aggregate)
                .push(" on ")
                .expr(on)
                .series_range(range)
                .list(" by ", by, "", Self::column_expr),
            K::Evaluate {
                params,
                plugin,
                schema,
                schema_open,
            } => self
                .push("evaluate")
                .params(params)
                .push(" ")
                .expr(plugin)
                .opt(" : ", schema.as_ref(), |p, schema| {
                    p.push("(").join(schema, ", ", Self::column_decl);
                    if *schema_open {
                        p.push(if schema.is_empty() { "*" } else { ", *" });
                    }
                    p.push(")")
                }),
            K::Invoke { call } => self.push("invoke ").expr(call),
            K::As { params, name } => self.push("as").params(params).push(" ").ident(name),
            K::Serialize { columns } => {
                self.push("serialize")
                    .list(" ", columns, "", Self::column_expr)
            }
            K::Render { chart, properties } => {
                self.push("render ")
                    .ident(chart)
                    .list(" with (", properties, ")", Self::param)
            }
            K::GetSchema => self.push("getschema"),
            K::Search {
                params,
                tables,
                predicate,
            } => self
                .push("search")
                .params(params)
                .list(" in (", tables, ")", Self::expr)
                .push(" ")
                .expr(predicate),
            K::Find {
                params,
                tables,
                predicate,
                project,
            } => {
                self.push("find")
                    .params(params)
                    .list(" in (", tables, ")", Self::expr)
                    .push(" where ")
                    .expr(predicate);
                match project {
                    FindProject::Default => self,
                    FindProject::Smart => self.push(" project-smart"),
                    FindProject::Columns { columns } => self.push(" project ").exprs(columns),
                }
            }
            K::Fork { branches } => self.push("fork ").join(branches, " ", Self::fork_branch),
            K::Facet { columns, with } => self.push("facet by ").exprs(columns).opt(
                " with ",
                (!with.is_empty()).then_some(with),
                |p, with| p.subquery(with),
            ),
            K::Partition { params, by, body } => {
                self.push("partition")
                    .params(params)
                    .push(" by ")
                    .expr(by)
                    .push(" ");
                match body {
                    PartitionBody::Subquery { operators } => self.subquery(operators),
                    PartitionBody::Query { query } => self.push("{ ").expr(query).push(" }"),
                }
            }
            K::Scan {
                params,
                declarations,
                steps,
            } => self
                .push("scan")
                .params(params)
                .list(" declare (", declarations, ")", Self::scan_declaration)
                .push(" with (")
                .join(steps, " ", Self::scan_step)
                .push(")"),
            K::Sample { count } => self.push("sample ").expr(count),
            K::SampleDistinct { count, of } => self
                .push("sample-distinct ")
                .expr(count)
                .push(" of ")
                .expr(of),
            K::Reduce {
                params,
                by,
                options,
            } => self
                .push("reduce")
                .params(params)
                .push(" by ")
                .expr(by)
                .list(" with ", options, "", Self::param),
            K::Consume { params } => self.push("consume").params(params),
            K::Print { columns } => self.push("print").list(" ", columns, "", Self::column_expr),
            K::Range {
                name,
                from,
                to,
                step,
            } => self
                .push("range ")
                .word(name)
                .push(" from ")
                .expr(from)
                .push(" to ")
                .expr(to)
                .push(" step ")
                .expr(step),
            K::DataTable { columns, values } => self
                .push("datatable ")
                .column_decls(columns)
                .push(" [")
                .exprs(values)
                .push("]"),
            K::ExternalData {
                columns,
                uris,
                properties,
            } => self
                .push("externaldata ")
                .column_decls(columns)
                .push(" [")
                .exprs(uris)
                .push("]")
                .list(" with (", properties, ")", Self::param),
            K::Error => self.push("__error__"),
        }
    }

    /// `join`/`lookup`: `keyword [params] right [on a, b]`.
    fn join_like(
        &mut self,
        keyword: &str,
        params: &[OperatorParam],
        right: &Expr,
        on: &[Expr],
    ) -> &mut Self {
        self.push(keyword)
            .params(params)
            .push(" ")
            .expr(right)
            .list(" on ", on, "", Self::expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Rename;
    use crate::span::Span;

    fn id(name: &str) -> Ident {
        Ident {
            name: name.to_string(),
            span: Span::default(),
        }
    }

    fn e(kind: ExprKind) -> Expr {
        Expr::new(kind, Span::default())
    }

    #[test]
    fn source_operator_words_alone_stay_names() {
        // Found by cargo fuzz: a statement `search` alone printed and re-read as the operator.
        for text in ["x;\nsearch", "search;", "find", "union"] {
            let parsed = crate::parse(text);
            assert!(parsed.is_ok(), "{text}: {:?}", parsed.diagnostics);
            let printed = print(&parsed.query);
            assert_eq!(
                crate::parse(&printed).query.statements.len(),
                parsed.query.statements.len()
            );
            assert!(crate::parse(&printed).is_ok(), "{printed}");
        }
    }

    #[test]
    fn member_of_a_trailing_dot_real_does_not_print_as_range_dots() {
        // Found by cargo fuzz: `0000.` then `.to` printed as `0000..to`.
        let parsed = crate::parse("0000.\n.to");
        assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
        let printed = print(&parsed.query);
        let reparsed = crate::parse(&printed);
        assert!(reparsed.is_ok(), "{printed}: {:?}", reparsed.diagnostics);
    }

    fn lit(value: Literal) -> Expr {
        e(ExprKind::Literal { value })
    }

    fn name(n: &str) -> Expr {
        e(ExprKind::Name { name: id(n) })
    }

    fn long(value: i64) -> Expr {
        lit(Literal::Long { value })
    }

    fn string(value: &str) -> Expr {
        lit(Literal::String {
            value: value.to_string(),
            obfuscated: false,
        })
    }

    fn timespan(text: &str) -> Expr {
        lit(Literal::Timespan {
            text: text.to_string(),
        })
    }

    fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        e(ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        })
    }

    fn member(target: Expr, n: &str) -> Expr {
        e(ExprKind::Member {
            target: Box::new(target),
            name: id(n),
        })
    }

    fn call(function: &str, args: Vec<Expr>) -> Expr {
        let args = args
            .into_iter()
            .map(|value| Arg { name: None, value })
            .collect();
        e(ExprKind::Call {
            function: Box::new(name(function)),
            args,
        })
    }

    fn paren(inner: Expr) -> Expr {
        e(ExprKind::Paren {
            inner: Box::new(inner),
        })
    }

    fn op(kind: OperatorKind) -> Operator {
        Operator {
            kind,
            span: Span::default(),
        }
    }

    fn pipe(source: Expr, operators: Vec<OperatorKind>) -> Expr {
        let operators = operators.into_iter().map(op).collect();
        e(ExprKind::Pipeline {
            source: Box::new(source),
            operators,
        })
    }

    fn col(names: &[&str], expr: Expr) -> ColumnExpr {
        ColumnExpr {
            names: names.iter().map(|n| id(n)).collect(),
            expr,
            span: Span::default(),
        }
    }

    fn param(n: &str, value: Expr) -> OperatorParam {
        OperatorParam { name: id(n), value }
    }

    fn decl(n: &str, ty: &str) -> ColumnDecl {
        ColumnDecl {
            name: id(n),
            ty: id(ty),
            span: Span::default(),
        }
    }

    fn scalar_param(n: &str, ty: &str, default: Option<Expr>) -> Parameter {
        let ty = ParameterType::Scalar { name: id(ty) };
        Parameter {
            name: id(n),
            ty,
            default,
            span: Span::default(),
        }
    }

    fn let_(n: &str, value: LetValue) -> Statement {
        Statement::Let {
            name: id(n),
            value,
            span: Span::default(),
        }
    }

    fn query(statements: Vec<Statement>) -> Query {
        Query {
            statements,
            span: Span::default(),
        }
    }

    /// Prints `operators` applied to `T`, on one line.
    fn on_t(operators: Vec<OperatorKind>) -> String {
        print_expr(&pipe(name("T"), operators))
    }

    #[test]
    fn strings_use_the_simplest_form() {
        assert_eq!(print_expr(&string("abc")), r#""abc""#);
        assert_eq!(print_expr(&string(r#"say "hi""#)), r#"@"say ""hi""""#);
        assert_eq!(print_expr(&string(r"C:\Windows")), r#"@"C:\Windows""#);
        assert_eq!(
            print_expr(&string("a\"\\\n\t\r\u{1}")),
            r#""a\"\\\n\t\r\u0001""#
        );
        let obfuscated = lit(Literal::String {
            value: r"p\w".to_string(),
            obfuscated: true,
        });
        assert_eq!(print_expr(&obfuscated), r#"h@"p\w""#);
    }

    #[test]
    fn names_are_quoted_when_needed() {
        assert_eq!(print_expr(&name("Account")), "Account");
        assert_eq!(print_expr(&name("by")), "['by']");
        assert_eq!(print_expr(&name("null")), "['null']");
        assert_eq!(print_expr(&name("My Column")), "['My Column']");
        assert_eq!(print_expr(&name(r"it's\")), r"['it\'s\\']");
        assert_eq!(print_expr(&name("1st")), "['1st']");
        assert_eq!(print_expr(&name("$left")), "$left");
        assert_eq!(print_expr(&member(name("a"), "b")), "a.b");
        assert_eq!(print_expr(&member(name("a"), "b-c")), "a['b-c']");
        assert_eq!(print_expr(&member(name("a"), "kind")), "a.kind");
        // A keyword used as a function name stays as written.
        assert_eq!(print_expr(&call("not", vec![name("x")])), "not(x)");
    }

    #[test]
    fn operators_inside_expressions() {
        let not_contains = BinaryOp::String {
            predicate: StringPredicate::Contains,
            case_sensitive: true,
            negated: true,
        };
        assert_eq!(
            print_expr(&binary(not_contains, name("a"), string("x"))),
            r#"a !contains_cs "x""#
        );
        let (x, low, high) = (Box::new(name("x")), Box::new(long(1)), Box::new(long(5)));
        let between = e(ExprKind::Between {
            negated: true,
            expr: x.clone(),
            low,
            high,
        });
        assert_eq!(print_expr(&between), "x !between (1 .. 5)");
        let items = vec![string("a"), string("b")];
        let list = e(ExprKind::List {
            op: ListOp::NotInCi,
            expr: x,
            items,
        });
        assert_eq!(print_expr(&list), r#"x !in~ ("a", "b")"#);
        let operand = Box::new(paren(binary(BinaryOp::Sub, name("a"), long(1))));
        let negated = e(ExprKind::Unary {
            op: UnaryOp::Negate,
            operand,
        });
        assert_eq!(print_expr(&negated), "-(a - 1)");
    }

    #[test]
    fn dynamic_values() {
        let scalar = |literal, negative| DynamicValue::Scalar {
            literal: Box::new(literal),
            negative,
        };
        let text = Literal::String {
            value: "x".to_string(),
            obfuscated: false,
        };
        let array = vec![
            scalar(Literal::Long { value: 1 }, true),
            DynamicValue::Null,
            scalar(text, false),
        ];
        let value = DynamicValue::Object {
            entries: vec![
                ("a\"b".to_string(), DynamicValue::Array { items: array }),
                ("c".to_string(), DynamicValue::Object { entries: vec![] }),
            ],
        };
        let printed = print_expr(&lit(Literal::Dynamic { value }));
        assert_eq!(printed, r#"dynamic({@"a""b": [-1, null, "x"], "c": {}})"#);
    }

    #[test]
    fn statements_and_top_level_pipeline() {
        let nested = paren(pipe(
            name("T"),
            vec![OperatorKind::Where {
                predicate: name("ok"),
            }],
        ));
        let recent = binary(
            BinaryOp::Ge,
            name("TimeGenerated"),
            call("ago", vec![name("lookback")]),
        );
        let main = pipe(
            name("SigninLogs"),
            vec![
                OperatorKind::Where { predicate: recent },
                OperatorKind::Union {
                    params: vec![param("kind", name("outer"))],
                    tables: vec![
                        nested,
                        e(ExprKind::Pattern {
                            pattern: "Device*".to_string(),
                        }),
                    ],
                },
                OperatorKind::Count {
                    name: Some(id("N")),
                },
            ],
        );
        let statements = vec![
            let_(
                "lookback",
                LetValue::Expr {
                    expr: timespan("1h"),
                },
            ),
            Statement::Query(main),
            Statement::Query(name("U")),
        ];
        assert_eq!(
            print(&query(statements)),
            "let lookback = 1h;\nSigninLogs\n| where TimeGenerated >= ago(lookback)\n\
             | union kind=outer (T | where ok), Device*\n| count as N;\nU"
        );
    }

    #[test]
    fn functions_and_parameters() {
        let tabular = ParameterType::Tabular {
            columns: vec![decl("x", "long")],
            open: true,
        };
        let function = FunctionDef {
            parameters: vec![
                scalar_param("a", "string", None),
                Parameter {
                    name: id("T"),
                    ty: tabular,
                    default: None,
                    span: Span::default(),
                },
                scalar_param("b", "long", Some(long(5))),
            ],
            body: vec![
                let_("c", LetValue::Expr { expr: long(1) }),
                Statement::Query(pipe(
                    name("T"),
                    vec![OperatorKind::Take { count: name("c") }],
                )),
            ],
            span: Span::default(),
        };
        let any_table = ParameterType::Tabular {
            columns: vec![],
            open: true,
        };
        let statements = vec![
            let_("f", LetValue::Function { function }),
            Statement::Set {
                name: id("query_now"),
                value: Some(long(10)),
                span: Span::default(),
            },
            Statement::DeclareQueryParameters {
                parameters: vec![
                    Parameter {
                        name: id("p"),
                        ty: any_table,
                        default: None,
                        span: Span::default(),
                    },
                    scalar_param("q", "string", Some(string("x"))),
                ],
                span: Span::default(),
            },
        ];
        assert_eq!(
            print(&query(statements)),
            "let f = (a:string, T:(x:long, *), b:long = 5) { let c = 1; T | take c };\n\
             set query_now = 10;\ndeclare query_parameters(p:(*), q:string = \"x\");"
        );
    }

    #[test]
    fn join_with_params_and_conditions() {
        let columns = vec![
            col(&[], name("DeviceId")),
            col(&["Name"], name("DeviceName")),
        ];
        let right = paren(pipe(
            name("DeviceInfo"),
            vec![OperatorKind::Project { columns }],
        ));
        let join = OperatorKind::Join {
            params: vec![
                param("kind", name("inner")),
                param("hint.strategy", name("broadcast")),
            ],
            right,
            on: vec![
                name("DeviceId"),
                binary(
                    BinaryOp::Eq,
                    member(name("$left"), "a"),
                    member(name("$right"), "b"),
                ),
            ],
        };
        assert_eq!(
            on_t(vec![join]),
            "T | join kind=inner hint.strategy=broadcast \
             (DeviceInfo | project DeviceId, Name = DeviceName) on DeviceId, $left.a == $right.b"
        );
    }

    #[test]
    fn summarize_and_column_names() {
        let summarize = |params, aggregates, by| OperatorKind::Summarize {
            params,
            aggregates,
            by,
        };
        let shuffled = summarize(
            vec![param("hint.strategy", name("shuffle"))],
            vec![
                col(&["Count"], call("count", vec![])),
                col(&[], call("dcount", vec![name("x")])),
            ],
            vec![
                col(&[], name("Account")),
                col(&["bin"], call("bin", vec![name("t"), timespan("1h")])),
            ],
        );
        assert_eq!(
            on_t(vec![shuffled]),
            "T | summarize hint.strategy=shuffle Count = count(), dcount(x) by Account, bin = bin(t, 1h)"
        );
        assert_eq!(
            on_t(vec![summarize(vec![], vec![], vec![col(&[], name("a"))])]),
            "T | summarize by a"
        );
        assert_eq!(
            on_t(vec![summarize(vec![], vec![col(&["on"], long(1))], vec![])]),
            "T | summarize ['on'] = 1"
        );
        let tuple = OperatorKind::Extend {
            columns: vec![col(&["A", "B"], call("f", vec![]))],
        };
        assert_eq!(on_t(vec![tuple]), "T | extend (A, B) = f()");
    }

    #[test]
    fn make_series_forms() {
        let make_series = |range| {
            let aggregates = vec![
                SeriesAggregate {
                    column: col(&["Name"], call("count", vec![])),
                    default: Some(long(0)),
                },
                SeriesAggregate {
                    column: col(&[], call("avg", vec![name("x")])),
                    default: None,
                },
            ];
            let params = vec![param("kind", name("nonempty"))];
            let by = vec![col(&[], name("c"))];
            e(ExprKind::Source {
                operator: Box::new(op(OperatorKind::MakeSeries {
                    params,
                    aggregates,
                    on: name("Ts"),
                    range,
                    by,
                })),
            })
        };
        let from_to = SeriesRange::FromTo {
            from: Some(name("a")),
            to: None,
            step: timespan("1h"),
        };
        assert_eq!(
            print_expr(&make_series(from_to)),
            "make-series kind=nonempty Name = count() default = 0, avg(x) on Ts from a step 1h by c"
        );
        let in_range = SeriesRange::InRange {
            start: name("a"),
            stop: name("b"),
            step: timespan("1d"),
        };
        assert!(print_expr(&make_series(in_range)).ends_with(" on Ts in range(a, b, 1d) by c"));
    }

    #[test]
    fn subqueries_parse_and_render() {
        let top = OperatorKind::Top {
            count: long(1),
            by: vec![SortKey {
                expr: name("x"),
                order: Some(SortOrder::Desc),
                nulls: Some(NullsOrder::Last),
            }],
        };
        let mv_apply = OperatorKind::MvApply {
            params: vec![param("with_itemindex", name("I"))],
            items: vec![ExpandItem {
                name: Some(id("Item")),
                expr: name("Items"),
                to_type: Some(id("dynamic")),
            }],
            limit: Some(long(10)),
            subquery: vec![
                op(OperatorKind::Where {
                    predicate: name("ok"),
                }),
                op(top),
            ],
        };
        let parse = OperatorKind::Parse {
            filter: true,
            params: vec![param("kind", name("regex")), param("flags", name("Ui"))],
            source: name("Msg"),
            pattern: vec![
                ParsePart::Text {
                    value: "user=".to_string(),
                    span: Span::default(),
                },
                ParsePart::Column {
                    name: id("User"),
                    ty: Some(id("string")),
                },
                ParsePart::Wildcard {
                    span: Span::default(),
                },
                ParsePart::Column {
                    name: id("Rest"),
                    ty: None,
                },
            ],
        };
        let rename = OperatorKind::ProjectRename {
            renames: vec![Rename {
                new_name: id("New"),
                source: Expr::new(ExprKind::Name { name: id("from") }, Span::default()),
            }],
        };
        let render = OperatorKind::Render {
            chart: id("timechart"),
            properties: vec![param("title", string("x"))],
        };
        assert_eq!(
            on_t(vec![mv_apply, parse, rename, render]),
            "T | mv-apply with_itemindex=I Item = Items to typeof(dynamic) limit 10 \
             on (where ok | top 1 by x desc nulls last) \
             | parse-where kind=regex flags=Ui Msg with \"user=\" User:string * Rest \
             | project-rename New = ['from'] | render timechart with (title=\"x\")"
        );
    }

    #[test]
    fn scan_top_nested_and_datatable() {
        let step =
            |n: &str, optional, output: Option<&str>, predicate: &str, assignments| ScanStep {
                name: id(n),
                optional,
                output: output.map(id),
                predicate: name(predicate),
                assignments,
            };
        let scan = OperatorKind::Scan {
            params: vec![param("with_match_id", name("Id"))],
            declarations: vec![ScanDeclaration {
                column: decl("A", "long"),
                default: Some(long(0)),
            }],
            steps: vec![
                step("s1", true, Some("last"), "p", vec![col(&["A"], name("x"))]),
                step("s2", false, None, "q", vec![]),
            ],
        };
        let level = |count, of, others, by, order| TopNestedLevel {
            count,
            of,
            others,
            by,
            order,
        };
        let top_nested = OperatorKind::TopNested {
            levels: vec![
                level(
                    Some(long(3)),
                    col(&["Name"], name("n")),
                    Some(string("Other")),
                    col(&["Agg"], call("sum", vec![name("x")])),
                    Some(SortOrder::Desc),
                ),
                level(
                    None,
                    col(&[], name("m")),
                    None,
                    col(&[], call("count", vec![])),
                    None,
                ),
            ],
        };
        let datatable = OperatorKind::DataTable {
            columns: vec![decl("a", "long"), decl("b", "string")],
            values: vec![long(1), string("x")],
        };
        let source = e(ExprKind::Source {
            operator: Box::new(op(datatable)),
        });
        assert_eq!(
            print(&query(vec![Statement::Query(pipe(
                source,
                vec![scan, top_nested]
            ))])),
            "datatable (a:long, b:string) [1, \"x\"]\n\
             | scan with_match_id=Id declare (A:long = 0) with \
             (step s1 optional output=last: p => A = x; step s2: q;)\n\
             | top-nested 3 of Name = n with others = \"Other\" by Agg = sum(x) desc, \
             top-nested of m by count()"
        );
    }

    #[test]
    fn find_search_facet_and_evaluate() {
        let find = OperatorKind::Find {
            params: vec![param("withsource", name("Table"))],
            tables: vec![name("A"), name("B")],
            predicate: binary(BinaryOp::Gt, name("x"), long(1)),
            project: FindProject::Smart,
        };
        let search = OperatorKind::Search {
            params: vec![param("kind", name("case_sensitive"))],
            tables: vec![],
            predicate: string("err"),
        };
        let facet = OperatorKind::Facet {
            columns: vec![name("a"), name("b")],
            with: vec![],
        };
        let evaluate = OperatorKind::Evaluate {
            params: vec![param("hint.distribution", name("per_node"))],
            plugin: call("bag_unpack", vec![name("x")]),
            schema: Some(vec![decl("a", "string")]),
            schema_open: false,
        };
        assert_eq!(
            on_t(vec![find, search, facet, evaluate]),
            "T | find withsource=Table in (A, B) where x > 1 project-smart \
             | search kind=case_sensitive \"err\" | facet by a, b \
             | evaluate hint.distribution=per_node bag_unpack(x) : (a:string)"
        );
    }
}
