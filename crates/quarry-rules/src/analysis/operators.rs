//! Tabular operators: what each one reads, names and filters, walked in pipeline order.

use super::facts::Role;
use super::scope::{Binding, Bound};
use super::walk::{Ctx, Walker, MAX_DEPTH};
use quarry_kql::ast::{
    Expr, ExprKind, FindProject, Operator, OperatorKind, PartitionBody, SeriesRange,
};

/// The canonical KQL name of an operator, used when its text does not start with its keyword.
fn canonical_operator(kind: &OperatorKind) -> &'static str {
    match kind {
        OperatorKind::Where { .. } => "where",
        OperatorKind::Project { .. } => "project",
        OperatorKind::ProjectAway { .. } => "project-away",
        OperatorKind::ProjectKeep { .. } => "project-keep",
        OperatorKind::ProjectRename { .. } => "project-rename",
        OperatorKind::ProjectReorder { .. } => "project-reorder",
        OperatorKind::Extend { .. } => "extend",
        OperatorKind::Summarize { .. } => "summarize",
        OperatorKind::Count { .. } => "count",
        OperatorKind::Distinct { .. } => "distinct",
        OperatorKind::Take { .. } => "take",
        OperatorKind::Top { .. } => "top",
        OperatorKind::TopNested { .. } => "top-nested",
        OperatorKind::TopHitters { .. } => "top-hitters",
        OperatorKind::Sort { .. } => "sort",
        OperatorKind::Join { .. } => "join",
        OperatorKind::Lookup { .. } => "lookup",
        OperatorKind::Union { .. } => "union",
        OperatorKind::MvExpand { .. } => "mv-expand",
        OperatorKind::MvApply { .. } => "mv-apply",
        OperatorKind::Parse { filter: true, .. } => "parse-where",
        OperatorKind::Parse { .. } => "parse",
        OperatorKind::ParseKv { .. } => "parse-kv",
        OperatorKind::MakeSeries { .. } => "make-series",
        OperatorKind::Evaluate { .. } => "evaluate",
        OperatorKind::Invoke { .. } => "invoke",
        OperatorKind::As { .. } => "as",
        OperatorKind::Serialize { .. } => "serialize",
        OperatorKind::Render { .. } => "render",
        OperatorKind::GetSchema => "getschema",
        OperatorKind::Search { .. } => "search",
        OperatorKind::Find { .. } => "find",
        OperatorKind::Fork { .. } => "fork",
        OperatorKind::Facet { .. } => "facet",
        OperatorKind::Partition { .. } => "partition",
        OperatorKind::Scan { .. } => "scan",
        OperatorKind::Sample { .. } => "sample",
        OperatorKind::SampleDistinct { .. } => "sample-distinct",
        OperatorKind::Reduce { .. } => "reduce",
        OperatorKind::Consume { .. } => "consume",
        OperatorKind::Print { .. } => "print",
        OperatorKind::Range { .. } => "range",
        OperatorKind::DataTable { .. } => "datatable",
        OperatorKind::ExternalData { .. } => "externaldata",
        OperatorKind::Error => "",
    }
}

/// Spellings an operator's text may start with (aliases and legacy forms included).
const OPERATOR_SPELLINGS: &[&str] = &[
    "where",
    "filter",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "extend",
    "summarize",
    "count",
    "distinct",
    "take",
    "limit",
    "top",
    "top-nested",
    "top-hitters",
    "sort",
    "order",
    "join",
    "lookup",
    "union",
    "mv-expand",
    "mvexpand",
    "mv-apply",
    "mvapply",
    "parse",
    "parse-where",
    "parse-kv",
    "make-series",
    "evaluate",
    "invoke",
    "as",
    "serialize",
    "render",
    "getschema",
    "search",
    "find",
    "fork",
    "facet",
    "partition",
    "scan",
    "sample",
    "sample-distinct",
    "reduce",
    "consume",
    "print",
    "range",
    "datatable",
    "externaldata",
    "external_data",
];

impl<'a> Walker<'a, '_> {
    fn operator_name(&self, operator: &Operator) -> String {
        let text = self.src.get(operator.span.start..).unwrap_or("");
        let end = text
            .find(|c: char| !(c.is_ascii_alphabetic() || c == '-' || c == '_'))
            .unwrap_or(text.len());
        let word = text[..end].to_ascii_lowercase();
        if OPERATOR_SPELLINGS.contains(&word.as_str()) {
            word
        } else {
            canonical_operator(&operator.kind).to_string()
        }
    }

    /// A tabular operator applied to the current input.
    pub(super) fn operator(&mut self, operator: &'a Operator) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let name = self.operator_name(operator);
        if !name.is_empty() {
            self.facts.operators.insert(name);
        }
        let plain = Ctx::default();
        let time = Ctx {
            time: true,
            ..Ctx::default()
        };
        match &operator.kind {
            OperatorKind::Where { predicate } => {
                self.collect_predicates(predicate);
                self.scalar(predicate, time);
            }
            OperatorKind::Project { columns }
            | OperatorKind::Extend { columns }
            | OperatorKind::Serialize { columns }
            | OperatorKind::Print { columns } => self.column_exprs(columns, plain),
            OperatorKind::ProjectAway { columns }
            | OperatorKind::ProjectKeep { columns }
            | OperatorKind::Distinct { columns, .. }
            | OperatorKind::Facet { columns, .. } => {
                for column in columns {
                    self.scalar(column, plain);
                }
                if let OperatorKind::Facet { with, .. } = &operator.kind {
                    for op in with {
                        self.operator(op);
                    }
                }
            }
            OperatorKind::ProjectRename { renames } => {
                for rename in renames {
                    self.column(&rename.new_name);
                    self.scalar(&rename.source, plain);
                }
            }
            OperatorKind::ProjectReorder { columns } => {
                for column in columns {
                    self.scalar(&column.column, plain);
                }
            }
            OperatorKind::Summarize { aggregates, by, .. } => {
                self.column_exprs(aggregates, plain);
                self.column_exprs(by, plain);
            }
            OperatorKind::Count { name } => {
                if let Some(name) = name {
                    self.column(name);
                }
            }
            OperatorKind::Take { count } | OperatorKind::Sample { count } => {
                self.scalar(count, plain)
            }
            OperatorKind::Top { count, by } => {
                self.scalar(count, plain);
                self.sort_keys(by);
            }
            OperatorKind::Sort { by, .. } => self.sort_keys(by),
            OperatorKind::TopNested { levels } => {
                for level in levels {
                    if let Some(count) = &level.count {
                        self.scalar(count, plain);
                    }
                    self.column_exprs(std::slice::from_ref(&level.of), plain);
                    if let Some(others) = &level.others {
                        self.scalar(others, plain);
                    }
                    self.column_exprs(std::slice::from_ref(&level.by), plain);
                }
            }
            OperatorKind::TopHitters { count, of, by } => {
                self.scalar(count, plain);
                self.scalar(of, plain);
                if let Some(by) = by {
                    self.scalar(by, plain);
                }
            }
            OperatorKind::Join { right, on, .. } | OperatorKind::Lookup { right, on, .. } => {
                self.source(right);
                for condition in on {
                    self.scalar(condition, plain);
                }
            }
            OperatorKind::Union { params, tables } => {
                for param in params {
                    if param.name.name.eq_ignore_ascii_case("withsource") {
                        if let ExprKind::Name { name } = &param.value.kind {
                            self.column(name);
                        }
                    }
                }
                for table in tables {
                    self.source(table);
                }
            }
            OperatorKind::MvExpand { items, limit, .. } => {
                self.expand_items(items, limit.as_ref());
            }
            OperatorKind::MvApply {
                items,
                limit,
                subquery,
                ..
            } => {
                self.expand_items(items, limit.as_ref());
                for op in subquery {
                    self.operator(op);
                }
            }
            OperatorKind::Parse {
                source, pattern, ..
            } => {
                self.scalar(source, plain);
                for part in pattern {
                    if let quarry_kql::ast::ParsePart::Column { name, .. } = part {
                        self.column(name);
                    }
                }
            }
            OperatorKind::ParseKv {
                source, columns, ..
            } => {
                self.scalar(source, plain);
                self.column_decls(columns);
            }
            OperatorKind::MakeSeries {
                aggregates,
                on,
                range: series_range,
                by,
                ..
            } => {
                for aggregate in aggregates {
                    self.column_exprs(std::slice::from_ref(&aggregate.column), plain);
                    if let Some(default) = &aggregate.default {
                        self.scalar(default, plain);
                    }
                }
                self.scalar(on, plain);
                match series_range {
                    SeriesRange::FromTo { from, to, step } => {
                        for bound in [from, to].into_iter().flatten() {
                            self.scalar(bound, time);
                        }
                        self.scalar(step, plain);
                    }
                    SeriesRange::InRange { start, stop, step } => {
                        self.scalar(start, time);
                        self.scalar(stop, time);
                        self.scalar(step, plain);
                    }
                }
                self.column_exprs(by, plain);
            }
            OperatorKind::Evaluate { plugin, schema, .. } => {
                match &plugin.kind {
                    ExprKind::Call { function, args } => {
                        if let ExprKind::Name { name } = &function.kind {
                            self.facts.functions.insert(name.name.clone());
                        }
                        self.arguments(args, plain);
                    }
                    _ => self.scalar(plugin, plain),
                }
                if let Some(schema) = schema {
                    self.column_decls(schema);
                }
            }
            OperatorKind::Invoke { call } => match &call.kind {
                ExprKind::Call { function, args } => {
                    if let ExprKind::Name { name } = &function.kind {
                        self.source_name(&name.name, true);
                    }
                    self.arguments(args, plain);
                }
                _ => self.scalar(call, plain),
            },
            OperatorKind::As { name, .. } => {
                self.scope.bind(
                    &name.name,
                    Binding {
                        bound: Bound::Tabular,
                        id: None,
                    },
                );
            }
            OperatorKind::Search {
                tables, predicate, ..
            }
            | OperatorKind::Find {
                tables, predicate, ..
            } => {
                for table in tables {
                    self.source(table);
                }
                self.scalar(predicate, time);
                if let OperatorKind::Find {
                    project: FindProject::Columns { columns },
                    ..
                } = &operator.kind
                {
                    for column in columns {
                        self.scalar(column, plain);
                    }
                }
            }
            OperatorKind::Fork { branches } => {
                for branch in branches {
                    for op in &branch.operators {
                        self.operator(op);
                    }
                }
            }
            OperatorKind::Partition { by, body, .. } => {
                self.scalar(by, plain);
                match body {
                    PartitionBody::Subquery { operators } => {
                        for op in operators {
                            self.operator(op);
                        }
                    }
                    PartitionBody::Query { query } => self.source(query),
                }
            }
            OperatorKind::Scan {
                declarations,
                steps,
                ..
            } => {
                for declaration in declarations {
                    self.column(&declaration.column.name);
                    if let Some(default) = &declaration.default {
                        self.scalar(default, plain);
                    }
                }
                for step in steps {
                    self.scalar(&step.predicate, plain);
                    self.column_exprs(&step.assignments, plain);
                }
            }
            OperatorKind::SampleDistinct { count, of } => {
                self.scalar(count, plain);
                self.scalar(of, plain);
            }
            OperatorKind::Reduce { by, .. } => self.scalar(by, plain),
            OperatorKind::Range {
                name,
                from,
                to,
                step,
            } => {
                self.column(name);
                self.scalar(from, time);
                self.scalar(to, time);
                self.scalar(step, plain);
            }
            OperatorKind::DataTable { columns, values } => {
                self.column_decls(columns);
                for (i, value) in values.iter().enumerate() {
                    let column = columns
                        .get(i % columns.len().max(1))
                        .map(|c| c.name.name.as_str());
                    self.scalar(value, Ctx { column, ..plain });
                }
            }
            OperatorKind::ExternalData { columns, uris, .. } => {
                self.column_decls(columns);
                for uri in uris {
                    let ctx = Ctx {
                        role: Role::ExternalUri,
                        ..plain
                    };
                    self.scalar(uri, ctx);
                }
            }
            OperatorKind::Render { .. }
            | OperatorKind::GetSchema
            | OperatorKind::Consume { .. }
            | OperatorKind::Error => {}
        }
        self.depth -= 1;
    }

    fn expand_items(&mut self, items: &'a [quarry_kql::ast::ExpandItem], limit: Option<&'a Expr>) {
        for item in items {
            if let Some(name) = &item.name {
                self.column(name);
            }
            self.scalar(&item.expr, Ctx::default());
        }
        if let Some(limit) = limit {
            self.scalar(limit, Ctx::default());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::analyse;
    use crate::model::FunctionLibrary;

    #[test]
    fn operators_as_written_and_columns_they_name() {
        let analysis = analyse(
            "SecurityEvent\n\
             | filter EventID == 4688\n\
             | extend Cmd = tolower(CommandLine)\n\
             | mv-expand Item = Items to typeof(string)\n\
             | parse Cmd with * 'user ' User:string ' ' *\n\
             | summarize Count = count(), Hosts = dcount(Computer) by bin(TimeGenerated, 1h), Account\n\
             | project-away Hosts\n\
             | project-rename Who = Account\n\
             | order by Count desc\n\
             | evaluate bag_unpack(Extra)\n\
             | make-series Events = count() on TimeGenerated from ago(7d) to now() step 1d\n\
             | limit 10",
            &FunctionLibrary::new(),
        );
        assert_eq!(
            analysis.operators,
            vec![
                "evaluate",
                "extend",
                "filter",
                "limit",
                "make-series",
                "mv-expand",
                "order",
                "parse",
                "project-away",
                "project-rename",
                "summarize",
            ]
        );
        assert_eq!(
            analysis.columns,
            vec![
                "Account",
                "Cmd",
                "CommandLine",
                "Computer",
                "Count",
                "EventID",
                "Events",
                "Extra",
                "Hosts",
                "Item",
                "Items",
                "TimeGenerated",
                "User",
                "Who",
            ]
        );
        assert_eq!(
            analysis.functions,
            vec![
                "ago",
                "bag_unpack",
                "bin",
                "count",
                "dcount",
                "now",
                "tolower"
            ]
        );
        assert_eq!(
            analysis.time_window.map(|w| w.lookback_seconds),
            Some(Some(604_800)),
            "make-series ranges set the window"
        );
    }

    #[test]
    fn source_operators_count_as_operators() {
        let analysis = analyse(
            "union (datatable(a:string)['x']), (print b = 1), (range c from 1 to 2 step 1)",
            &FunctionLibrary::new(),
        );
        assert_eq!(
            analysis.operators,
            vec!["datatable", "print", "range", "union"]
        );
        assert_eq!(analysis.columns, vec!["a", "b", "c"]);
        assert!(analysis.tables.is_empty());
    }
}
