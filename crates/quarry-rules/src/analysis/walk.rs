//! The traversal of a query's syntax tree: the walker, statements and `let`s, and tabular
//! sources (tables, `let` names, stored functions). Operators are walked in `operators`, scalar
//! expressions in `expressions`, filters read in `predicates`, stored functions resolved in
//! `sources`; everything lands in one [`Facts`].

use super::facts::{Facts, LetInfo, LetKind, Role};
use super::scope::{Binding, Bound, Scope};
use super::sources::Memo;
use crate::model::FunctionLibrary;
use quarry_kql::ast::{
    Arg, ColumnDecl, ColumnExpr, DynamicValue, Expr, ExprKind, FunctionDef, Ident, LetValue,
    Literal, OperatorKind, Parameter, ParameterType, SortKey, Statement,
};
use quarry_kql::Span;
use std::collections::HashMap;
use std::ops::Range;

/// How deep the walk follows nested expressions; deeper parts of a pathological tree are skipped
/// rather than risking the stack (the parser bounds nesting, but not left-leaning chains).
pub(super) const MAX_DEPTH: usize = 256;

/// Longest member chain (`a.b.c`) followed to find the column or entity at its root.
pub(super) const MAX_CHAIN: usize = 64;

/// Deepest chain of names followed to decide whether an expression is tabular.
const MAX_RESOLVE_DEPTH: usize = 16;

/// The context a scalar expression is walked in; it travels down to the literals.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ctx<'a> {
    /// The `let` whose value this is part of.
    pub binding: Option<usize>,
    /// The column the expression is compared with.
    pub column: Option<&'a str>,
    /// What a string here is used for.
    pub role: Role,
    /// Where `ago(…)` sets the query's window (filters, `let`s, ranges).
    pub time: bool,
    /// Compared with `<`, `>`, `<=`, `>=`.
    pub numeric: bool,
}

/// One walk over one query text (the analysed query, or a stored function's body).
pub(crate) struct Walker<'a, 'm> {
    pub(super) src: &'a str,
    pub(super) library: &'a FunctionLibrary,
    pub(super) memo: &'m mut Memo,
    pub(super) scope: Scope<'a>,
    pub(super) facts: Facts,
    /// How many stored-function bodies enclose this walk.
    pub(super) nesting: usize,
    /// A stored function's tables were cut short by a cycle.
    pub(super) incomplete: bool,
    pub(super) depth: usize,
    /// Parameters seen as `table(parameter)` while walking the current function bodies.
    table_parameters: Vec<&'a str>,
    /// For `let` functions that read `table(parameter)`: the parameters' positions and names,
    /// so that `f("SigninLogs")` reads the table `SigninLogs`.
    table_functions: HashMap<usize, Vec<(usize, &'a str)>>,
}

/// The byte range of a span.
pub(crate) fn range(span: Span) -> Range<usize> {
    span.start..span.end
}

/// Strips parentheses.
pub(crate) fn unparen(mut expr: &Expr) -> &Expr {
    while let ExprKind::Paren { inner } = &expr.kind {
        expr = inner;
    }
    expr
}

/// True for names KQL's own functions use (`ago`, `parse_json`, `ipv4_is_in_range`); parsers and
/// stored functions are spelled otherwise (`imProcessCreate`, `_GetWatchlist`).
pub(crate) fn looks_builtin(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The function name of a call written `name(…)`.
pub(crate) fn call_name(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Call { function, .. } => match &function.kind {
            ExprKind::Name { name } => Some(&name.name),
            _ => None,
        },
        _ => None,
    }
}

/// True for `cluster(…)`, `database(…)`, `workspace(…)`, `app(…)`: the prefix of a table
/// reference in another database.
pub(super) fn is_entity_call(mut expr: &Expr) -> bool {
    for _ in 0..MAX_CHAIN {
        if matches!(
            call_name(expr),
            Some("cluster" | "database" | "workspace" | "app")
        ) {
            return true;
        }
        match &expr.kind {
            ExprKind::Member { target, .. } => expr = target,
            _ => return false,
        }
    }
    false
}

/// What a `let` value is, for parameters.
fn let_kind(value: &Expr) -> LetKind {
    match &value.kind {
        ExprKind::Literal { value } => match value {
            Literal::String { .. } => LetKind::String,
            Literal::Typed { type_name, .. }
                if type_name.eq_ignore_ascii_case("datetime")
                    || type_name.eq_ignore_ascii_case("date") =>
            {
                LetKind::DateTime
            }
            Literal::Dynamic {
                value: DynamicValue::Array { items },
            } if items.is_empty() => LetKind::EmptyList,
            _ => LetKind::Other,
        },
        ExprKind::Source { operator } => match &operator.kind {
            OperatorKind::DataTable { values, .. } if values.is_empty() => LetKind::EmptyList,
            _ => LetKind::Other,
        },
        _ => LetKind::Other,
    }
}

impl<'a, 'm> Walker<'a, 'm> {
    /// A walker over `src`, whose names are looked up in `library`.
    pub fn new(src: &'a str, library: &'a FunctionLibrary, memo: &'m mut Memo) -> Self {
        Walker {
            src,
            library,
            memo,
            scope: Scope::new(),
            facts: Facts::default(),
            nesting: 0,
            incomplete: false,
            depth: 0,
            table_parameters: Vec::new(),
            table_functions: HashMap::new(),
        }
    }

    /// The facts recorded so far.
    pub fn into_facts(self) -> Facts {
        self.facts
    }

    pub(super) fn text(&self, span: Span) -> &'a str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    /// Walks statements in order, each `let` visible to the ones after it.
    pub fn statements(&mut self, statements: &'a [Statement]) {
        for statement in statements {
            match statement {
                Statement::Let { name, value, span } => self.let_statement(name, value, *span),
                Statement::DeclareQueryParameters { parameters, .. } => {
                    self.bind_parameters(parameters)
                }
                Statement::Query(expr) => self.result(expr),
                Statement::Set { .. } | Statement::Alias { .. } => {}
            }
        }
    }

    fn let_statement(&mut self, name: &'a Ident, value: &'a LetValue, span: Span) {
        let id = self.facts.lets.len();
        match value {
            LetValue::Expr { expr } => {
                let inner = unparen(expr);
                self.facts.lets.push(LetInfo {
                    name: name.name.clone(),
                    statement_span: range(span),
                    value_span: range(inner.span),
                    kind: let_kind(inner),
                });
                if self.is_tabular(expr, 0) {
                    self.source(expr);
                } else {
                    let ctx = Ctx {
                        binding: Some(id),
                        time: true,
                        ..Ctx::default()
                    };
                    self.scalar(expr, ctx);
                }
                // Bound after its value: a `let` cannot refer to itself.
                self.scope.bind(
                    &name.name,
                    Binding {
                        bound: Bound::Value(expr),
                        id: Some(id),
                    },
                );
            }
            LetValue::Function { function } | LetValue::View { function } => {
                self.facts.lets.push(LetInfo {
                    name: name.name.clone(),
                    statement_span: range(span),
                    value_span: range(function.span),
                    kind: LetKind::Other,
                });
                let mark = self.table_parameters.len();
                self.function_body(function);
                let read: Vec<(usize, &'a str)> = function
                    .parameters
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| self.table_parameters[mark..].contains(&p.name.name.as_str()))
                    .map(|(i, p)| (i, p.name.name.as_str()))
                    .collect();
                self.table_parameters.truncate(mark);
                if !read.is_empty() {
                    self.table_functions.insert(id, read);
                }
                self.scope.bind(
                    &name.name,
                    Binding {
                        bound: Bound::Function(function),
                        id: Some(id),
                    },
                );
            }
        }
    }

    fn function_body(&mut self, function: &'a FunctionDef) {
        self.scope.push();
        self.bind_parameters(&function.parameters);
        self.statements(&function.body);
        self.scope.pop();
    }

    fn bind_parameters(&mut self, parameters: &'a [Parameter]) {
        for parameter in parameters {
            if let Some(default) = &parameter.default {
                let ctx = Ctx {
                    time: true,
                    ..Ctx::default()
                };
                self.scalar(default, ctx);
            }
            let tabular = matches!(parameter.ty, ParameterType::Tabular { .. });
            self.scope.bind(
                &parameter.name.name,
                Binding {
                    bound: Bound::Parameter { tabular },
                    id: None,
                },
            );
        }
    }

    /// Binds the parameters of a stored function before its body is walked.
    pub fn bind_stored_parameters(&mut self, parameters: &'a [crate::model::FunctionParameter]) {
        for parameter in parameters {
            let tabular = parameter.kusto_type.trim_start().starts_with('(');
            self.scope.bind(
                &parameter.name,
                Binding {
                    bound: Bound::Parameter { tabular },
                    id: None,
                },
            );
        }
    }

    /// A statement's result or an argument: tabular or scalar, whichever it is.
    fn result(&mut self, expr: &'a Expr) {
        if self.is_tabular(expr, 0) {
            self.source(expr);
        } else {
            self.scalar(expr, Ctx::default());
        }
    }

    /// Whether `expr` is a tabular expression, as far as syntax and the names in scope tell.
    pub(super) fn is_tabular(&self, expr: &Expr, depth: usize) -> bool {
        if depth > MAX_RESOLVE_DEPTH {
            return false;
        }
        match &expr.kind {
            ExprKind::Pipeline { .. } | ExprKind::Source { .. } => true,
            ExprKind::Paren { inner } => self.is_tabular(inner, depth + 1),
            // At statement level no column is in scope, so an unknown name is a table.
            ExprKind::Name { name } => match self.scope.lookup(&name.name) {
                Some(binding) => self.bound_is_tabular(binding.bound, depth),
                None => true,
            },
            ExprKind::Call { function, .. } => match &function.kind {
                ExprKind::Name { name } => match name.name.as_str() {
                    "materialize" | "table" | "view" => true,
                    "toscalar" => false,
                    n => match self.scope.lookup(n) {
                        Some(binding) => match binding.bound {
                            Bound::Function(f) => f.body.last().is_some_and(|last| {
                                matches!(last, Statement::Query(e) if self.is_tabular(e, depth + 1))
                            }),
                            Bound::Value(_) => false,
                            bound => self.bound_is_tabular(bound, depth),
                        },
                        None => self.library.get(n).is_some() || !looks_builtin(n),
                    },
                },
                ExprKind::Member { target, .. } => is_entity_call(target),
                _ => false,
            },
            ExprKind::Member { target, .. } => is_entity_call(target),
            _ => false,
        }
    }

    fn bound_is_tabular(&self, bound: Bound<'a>, depth: usize) -> bool {
        match bound {
            Bound::Value(value) => self.is_tabular(value, depth + 1),
            Bound::Function(_) => false,
            Bound::Parameter { tabular } => tabular,
            Bound::Tabular => true,
        }
    }

    /// True for a list item that is a subquery rather than a value.
    pub(super) fn is_subquery(&self, expr: &Expr) -> bool {
        match &unparen(expr).kind {
            ExprKind::Pipeline { .. } | ExprKind::Source { .. } => true,
            ExprKind::Call { .. } | ExprKind::Member { .. } => self.is_tabular(expr, 0),
            _ => false,
        }
    }

    /// A tabular expression: its source names are tables, stored functions or `let`s.
    pub(super) fn source(&mut self, expr: &'a Expr) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        match &expr.kind {
            ExprKind::Name { name } => self.source_name(&name.name, false),
            ExprKind::Pattern { pattern } => {
                self.facts.tables.insert(pattern.clone());
            }
            ExprKind::Star => {
                self.facts.tables.insert("*".to_string());
            }
            ExprKind::Call { function, args } => self.source_call(function, args),
            ExprKind::Member { target, name } if is_entity_call(target) => {
                self.scalar(target, Ctx::default());
                self.facts.tables.insert(name.name.clone());
            }
            ExprKind::Paren { inner } => self.source(inner),
            ExprKind::Pipeline { source, operators } => {
                self.source(source);
                for operator in operators {
                    self.operator(operator);
                }
            }
            ExprKind::Source { operator } => self.operator(operator),
            _ => self.scalar(expr, Ctx::default()),
        }
        self.depth -= 1;
    }

    pub(super) fn source_name(&mut self, name: &'a str, called: bool) {
        if self.scope.lookup(name).is_some() {
            return;
        }
        if self.library.get(name).is_some() {
            self.stored_function(name);
        } else if called {
            self.facts.stored_functions.insert(name.to_string());
        } else {
            self.facts.tables.insert(name.to_string());
        }
    }

    fn source_call(&mut self, function: &'a Expr, args: &'a [Arg]) {
        match &function.kind {
            ExprKind::Name { name } => match name.name.as_str() {
                "materialize" => {
                    self.facts.functions.insert("materialize".to_string());
                    for arg in args {
                        self.result(&arg.value);
                    }
                }
                "table" => match args.first().map(|a| &unparen(&a.value).kind) {
                    Some(ExprKind::Literal {
                        value: Literal::String { value, .. },
                    }) => {
                        self.facts.tables.insert(value.clone());
                    }
                    Some(ExprKind::Name { name }) => {
                        if let Some(Bound::Parameter { .. }) =
                            self.scope.lookup(&name.name).map(|b| b.bound)
                        {
                            self.table_parameters.push(&name.name);
                        }
                    }
                    _ => self.arguments(args, Ctx::default()),
                },
                n if self.scope.lookup(n).is_some() => self.user_function_call(n, args),
                n => {
                    self.source_name(n, true);
                    self.arguments(args, Ctx::default());
                }
            },
            ExprKind::Member { target, name } => {
                self.scalar(target, Ctx::default());
                self.facts.stored_functions.insert(name.name.clone());
                self.arguments(args, Ctx::default());
            }
            _ => {
                self.scalar(function, Ctx::default());
                self.arguments(args, Ctx::default());
            }
        }
    }

    /// A call of a `let` function: string arguments it passes to `table(…)` are tables read.
    pub(super) fn user_function_call(&mut self, name: &str, args: &'a [Arg]) {
        let id = self.scope.lookup(name).and_then(|b| b.id);
        if let Some(read) = id.and_then(|id| self.table_functions.get(&id)) {
            let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
            for (index, parameter) in read {
                let arg = args
                    .iter()
                    .find(|a| a.name.as_ref().is_some_and(|n| n.name == *parameter))
                    .or_else(|| positional.get(*index).copied());
                if let Some(ExprKind::Literal {
                    value: Literal::String { value, .. },
                }) = arg.map(|a| &unparen(&a.value).kind)
                {
                    self.facts.tables.insert(value.clone());
                }
            }
        }
        // Arguments of a user function are mostly its time bounds (`f(ago(7d), now())`).
        let ctx = Ctx {
            time: true,
            ..Ctx::default()
        };
        self.arguments(args, ctx);
    }

    pub(super) fn arguments(&mut self, args: &'a [Arg], ctx: Ctx<'a>) {
        for arg in args {
            if self.is_subquery(&arg.value) {
                self.source(&arg.value);
            } else {
                self.scalar(&arg.value, ctx);
            }
        }
    }

    pub(super) fn column(&mut self, name: &Ident) {
        self.facts.columns.insert(name.name.clone());
    }

    pub(super) fn column_exprs(&mut self, columns: &'a [ColumnExpr], ctx: Ctx<'a>) {
        for column in columns {
            for name in &column.names {
                self.column(name);
            }
            self.scalar(&column.expr, ctx);
        }
    }

    pub(super) fn column_decls(&mut self, columns: &[ColumnDecl]) {
        for column in columns {
            self.column(&column.name);
        }
    }

    pub(super) fn sort_keys(&mut self, keys: &'a [SortKey]) {
        for key in keys {
            self.scalar(&key.expr, Ctx::default());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::analyse;
    use crate::model::{FunctionLibrary, Provenance, StoredFunction};

    fn tables(query: &str) -> (Vec<String>, Vec<String>) {
        let analysis = analyse(query, &FunctionLibrary::new());
        (analysis.tables, analysis.stored_functions)
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn let_bound_tabular_values_are_not_tables_but_their_bodies_are() {
        let (t, f) = tables(
            "let lookback = 14d;\n\
             let Recent = SigninLogs | where TimeGenerated > ago(lookback);\n\
             let Alias = AuditLogs;\n\
             let Fn = (since:timespan) { SecurityEvent | where TimeGenerated > ago(since) };\n\
             let V = view () { Syslog };\n\
             Recent | join (Alias) on UserId | union Fn(1d), V, (Fn(2d))",
        );
        assert_eq!(
            t,
            strings(&["AuditLogs", "SecurityEvent", "SigninLogs", "Syslog"])
        );
        assert_eq!(f, Vec::<String>::new());
    }

    #[test]
    fn union_patterns_join_and_lookup_sides_and_subqueries() {
        let (t, _) = tables(
            "union isfuzzy=true withsource=T Device*, (OfficeActivity | where A == 1), Syslog\n\
             | join kind=inner (AzureActivity | project X) on $left.X == $right.X\n\
             | lookup kind=leftouter IdentityInfo on AccountUpn\n\
             | where IP in ((ThreatIntelligenceIndicator | project NetworkIP))\n\
             | extend Total = toscalar(Heartbeat | count)\n\
             | where User !in (materialize(Watch | distinct User))",
        );
        assert_eq!(
            t,
            strings(&[
                "AzureActivity",
                "Device*",
                "Heartbeat",
                "IdentityInfo",
                "OfficeActivity",
                "Syslog",
                "ThreatIntelligenceIndicator",
                "Watch",
            ])
        );
    }

    #[test]
    fn generated_tables_are_not_tables_and_unknown_calls_are_functions() {
        let (t, f) = tables(
            "let D = datatable(a:string)['x'];\n\
             let E = externaldata(u:string)[@'https://example.org/list.csv'];\n\
             union (print x = 1), (range i from 1 to 3 step 1), D, E\n\
             | join (_GetWatchlist('HighValue') | project SearchKey) on $left.x == $right.SearchKey\n\
             | join (ASimDns(starttime=ago(1d))) on y\n\
             | join (table('Perf')) on z\n\
             | join (imProcessCreate) on w",
        );
        assert_eq!(t, strings(&["Perf", "imProcessCreate"]));
        assert_eq!(f, strings(&["ASimDns", "_GetWatchlist"]));
    }

    #[test]
    fn library_functions_bare_or_called_are_stored_functions() {
        let mut library = FunctionLibrary::new();
        library.insert(StoredFunction {
            name: "imProcessCreate".into(),
            parameters: vec![],
            body: "DeviceProcessEvents | where A == 1".into(),
            description: String::new(),
            provenance: Provenance::default(),
        });
        for query in ["imProcessCreate | take 1", "imProcessCreate() | take 1"] {
            let analysis = analyse(query, &library);
            assert_eq!(
                analysis.tables,
                strings(&["DeviceProcessEvents"]),
                "{query}"
            );
            assert_eq!(analysis.stored_functions, strings(&["imProcessCreate"]));
            assert!(
                analysis.predicates.is_empty(),
                "a stored function's filters are not the query's"
            );
        }
    }

    #[test]
    fn functions_reading_table_of_a_parameter_read_the_tables_they_are_given() {
        let (t, f) = tables(
            "let aadFunc = (tableName:string){ table(tableName) | where ResultType == 500121 };\n\
             let aadSignin = aadFunc(\"SigninLogs\");\n\
             let aadNonInt = aadFunc(tableName = 'AADNonInteractiveUserSignInLogs');\n\
             union isfuzzy=true aadSignin, aadNonInt, (aadFunc(Other))",
        );
        assert_eq!(
            t,
            strings(&["AADNonInteractiveUserSignInLogs", "SigninLogs"])
        );
        assert!(f.is_empty());
    }

    #[test]
    fn scalar_lets_and_parameters_are_not_tables() {
        let (t, _) = tables(
            "declare query_parameters(Source:string = 'x');\n\
             let threshold = 5;\n\
             let start = ago(1d);\n\
             let f = (T:(*)) { T | where A > threshold };\n\
             SecurityEvent | where TimeGenerated > start | invoke f() | as Step | join (Step) on A",
        );
        assert_eq!(t, strings(&["SecurityEvent"]));
    }

    #[test]
    fn syntax_errors_and_deep_chains_do_not_stop_the_walk() {
        let broken = analyse(
            "SecurityEvent | where (A == | project B",
            &FunctionLibrary::new(),
        );
        assert_eq!(broken.tables, strings(&["SecurityEvent"]));
        assert!(broken.diagnostics.iter().any(|d| d.severity == "error"));
        let chain: Vec<String> = (0..3000).map(|i| format!("A == '{i}'")).collect();
        let query = format!("T | where {}", chain.join(" or "));
        let long = analyse(&query, &FunctionLibrary::new());
        assert_eq!(long.predicates.len(), 3000);
        assert_eq!(long.columns, strings(&["A"]));
        let nested = format!("T | where {}1{}", "(".repeat(500), ")".repeat(500));
        let _ = analyse(&nested, &FunctionLibrary::new());
        let sum = format!("T | extend x = {}", vec!["A"; 20_000].join(" + "));
        assert_eq!(
            analyse(&sum, &FunctionLibrary::new()).tables,
            strings(&["T"])
        );
        let members = format!("T | where A{} == 'x'", ".b".repeat(20_000));
        let _ = analyse(&members, &FunctionLibrary::new());
        let indexes = format!("T | where A{} == 'x' | union U", "[0]".repeat(20_000));
        assert_eq!(
            analyse(&indexes, &FunctionLibrary::new()).tables,
            strings(&["T", "U"])
        );
    }
}
