//! The KQL syntax tree. Every node carries the byte span of the text it came from.
//!
//! The tree is syntactic: names are not resolved and types are not checked (that is the binder's
//! job). Parentheses are kept as [`ExprKind::Paren`] so that printing reproduces the grouping.

use crate::span::Span;
use serde::Serialize;

/// A whole query text: statements separated by `;`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    /// The statements in order; the last one is usually the query expression.
    pub statements: Vec<Statement>,
    /// The whole text.
    pub span: Span,
}

/// A name as written (`Name`, `['name with spaces']`, `$left`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ident {
    /// The name, unquoted.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// One statement of a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "statement", rename_all = "snake_case")]
pub enum Statement {
    /// `let name = …`
    Let {
        /// The bound name.
        name: Ident,
        /// What it is bound to.
        value: LetValue,
        /// The statement text.
        span: Span,
    },
    /// `declare query_parameters(name:type = default, …)`
    DeclareQueryParameters {
        /// The declared parameters.
        parameters: Vec<Parameter>,
        /// The statement text.
        span: Span,
    },
    /// `set option [= value]`
    Set {
        /// The option name (may be dotted).
        name: Ident,
        /// The value, if one is given.
        value: Option<Expr>,
        /// The statement text.
        span: Span,
    },
    /// `alias database name = cluster(…).database(…)`
    Alias {
        /// The alias.
        name: Ident,
        /// The aliased entity.
        value: Expr,
        /// The statement text.
        span: Span,
    },
    /// A query expression, tabular or scalar.
    Query(Expr),
}

impl Statement {
    /// The text the statement covers.
    pub fn span(&self) -> Span {
        match self {
            Statement::Let { span, .. }
            | Statement::DeclareQueryParameters { span, .. }
            | Statement::Set { span, .. }
            | Statement::Alias { span, .. } => *span,
            Statement::Query(expr) => expr.span,
        }
    }
}

/// The right-hand side of a `let`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LetValue {
    /// A scalar or tabular expression.
    Expr {
        /// The expression.
        expr: Expr,
    },
    /// A user-defined function `(params) { body }`.
    Function {
        /// The function.
        function: FunctionDef,
    },
    /// A view `view (params) { body }`.
    View {
        /// The view's function.
        function: FunctionDef,
    },
}

/// A function literal: `(a:string, b:long = 5) { let c = …; body }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionDef {
    /// The parameters in order.
    pub parameters: Vec<Parameter>,
    /// The statements of the body; the last one is the result.
    pub body: Vec<Statement>,
    /// The text from the opening parenthesis to the closing brace.
    pub span: Span,
}

/// A declared parameter of a function or of `declare query_parameters`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    /// The parameter name.
    pub name: Ident,
    /// Its declared type.
    pub ty: ParameterType,
    /// A default value, for optional parameters.
    pub default: Option<Expr>,
    /// The declaration text.
    pub span: Span,
}

/// The type of a parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParameterType {
    /// A scalar type such as `string`.
    Scalar {
        /// The type name as written.
        name: Ident,
    },
    /// A tabular parameter `(col:type, …, *)`.
    Tabular {
        /// The columns it must have.
        columns: Vec<ColumnDecl>,
        /// True when `*` allows any other columns.
        open: bool,
    },
}

/// A column declaration `Name:type`, as in `datatable`, `externaldata`, `parse-kv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDecl {
    /// The column name.
    pub name: Ident,
    /// The type name.
    pub ty: Ident,
    /// The declaration text.
    pub span: Span,
}

/// An expression together with its span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What kind of expression.
    #[serde(flatten)]
    pub kind: ExprKind,
    /// The text it covers.
    pub span: Span,
}

impl Expr {
    /// An expression of `kind` covering `span`.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}

/// The kinds of expression, scalar and tabular alike (KQL does not separate them syntactically).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExprKind {
    /// A literal value.
    Literal {
        /// The value.
        value: Literal,
    },
    /// A name: column, table, variable or function without arguments.
    Name {
        /// The name.
        name: Ident,
    },
    /// A name pattern with `*` wildcards, as in `union Device*` or `project-away Col*`.
    Pattern {
        /// The pattern text, `*` standing for any run of characters.
        pattern: String,
    },
    /// `*`, as in `search *`, `count(*)`, `arg_max(t, *)`.
    Star,
    /// A rule template placeholder `{{StartTimeISO}}`.
    Template {
        /// The placeholder's name.
        name: String,
    },
    /// `-x`, `+x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `x between (low .. high)` and `!between`.
    Between {
        /// True for `!between`.
        negated: bool,
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
    },
    /// `x in (…)`, `x has_any (…)` and the other operators that take a list.
    List {
        /// The operator.
        op: ListOp,
        /// The tested value.
        expr: Box<Expr>,
        /// The list items; one item may be a tabular expression or a dynamic array.
        items: Vec<Expr>,
    },
    /// `a.b`, `a['b']`.
    Member {
        /// The object.
        target: Box<Expr>,
        /// The member name.
        name: Ident,
    },
    /// `a[i]`.
    Index {
        /// The indexed value.
        target: Box<Expr>,
        /// The index expression.
        index: Box<Expr>,
    },
    /// `f(args)`.
    Call {
        /// The function (usually a name, may be a member such as `database("x").f`).
        function: Box<Expr>,
        /// The arguments.
        args: Vec<Arg>,
    },
    /// `(expr)`.
    Paren {
        /// The inner expression.
        inner: Box<Expr>,
    },
    /// `source | op | op …`.
    Pipeline {
        /// The input.
        source: Box<Expr>,
        /// The operators applied in order.
        operators: Vec<Operator>,
    },
    /// A tabular operator that starts a pipeline: `union`, `print`, `range`, `datatable`, …
    Source {
        /// The operator.
        operator: Box<Operator>,
    },
    /// A part of the text that could not be parsed (a diagnostic was reported for it).
    Error,
}

/// A function argument: positional or `name = value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arg {
    /// The name, for a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    /// `-x`
    Negate,
    /// `+x`
    Plus,
}

/// The string predicate families (`has`, `contains`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StringPredicate {
    /// Whole-term match.
    Has,
    /// A term starts with the needle.
    HasPrefix,
    /// A term ends with the needle.
    HasSuffix,
    /// Substring.
    Contains,
    /// Prefix of the whole string.
    StartsWith,
    /// Suffix of the whole string.
    EndsWith,
}

/// Binary operators, in KQL's precedence classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=` or `<>`
    NotEq,
    /// `=~`
    EqCi,
    /// `!~`
    NotEqCi,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `has`, `!contains_cs` and the rest of the string predicates.
    String {
        /// Which predicate.
        predicate: StringPredicate,
        /// The `_cs` form.
        case_sensitive: bool,
        /// The `!` form.
        negated: bool,
    },
    /// `matches regex`
    MatchesRegex,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// Operators whose right side is a parenthesised list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListOp {
    /// `in`
    In,
    /// `!in`
    NotIn,
    /// `in~`
    InCi,
    /// `!in~`
    NotInCi,
    /// `has_any`
    HasAny,
    /// `has_all`
    HasAll,
}

/// A literal value as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "literal", rename_all = "snake_case")]
pub enum Literal {
    /// `true` / `false`.
    Bool {
        /// The value.
        value: bool,
    },
    /// An integer literal (a `long`).
    Long {
        /// The value.
        value: i64,
    },
    /// A real literal, kept as written so that no precision is lost.
    Real {
        /// The text, e.g. `1.5e3`.
        text: String,
    },
    /// A string literal (adjacent literals already concatenated).
    String {
        /// The decoded value.
        value: String,
        /// Written as `h"…"` (obfuscated in logs).
        obfuscated: bool,
    },
    /// A timespan literal such as `1d`, `30m`, `1.5h`, `100ms`.
    Timespan {
        /// The text as written.
        text: String,
    },
    /// A typed literal `type(text)`: `datetime(2020-01-01)`, `timespan(1d)`, `guid(…)`,
    /// `int(null)`, `real(nan)`, `decimal(1.5)`, `bool(true)`, …
    Typed {
        /// The type name as written (`datetime`, `int`, …).
        type_name: String,
        /// The text between the parentheses, trimmed.
        text: String,
    },
    /// `dynamic(…)`.
    Dynamic {
        /// The value.
        value: DynamicValue,
    },
}

/// The value inside `dynamic(…)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "dynamic", rename_all = "snake_case")]
pub enum DynamicValue {
    /// `null`
    Null,
    /// A scalar literal (bool, number, string, datetime, timespan, guid).
    Scalar {
        /// The literal.
        literal: Box<Literal>,
        /// True when written with a leading minus sign.
        negative: bool,
    },
    /// `[a, b, …]`
    Array {
        /// The elements.
        items: Vec<DynamicValue>,
    },
    /// `{"k": v, …}`
    Object {
        /// Keys and values in the order written.
        entries: Vec<(String, DynamicValue)>,
    },
}

/// A tabular operator applied in a pipeline (`| where …`) or starting one (`union …`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operator {
    /// Which operator and its arguments.
    #[serde(flatten)]
    pub kind: OperatorKind,
    /// The operator's text, from its keyword to its last token.
    pub span: Span,
}

/// An operator parameter written `name=value` before the operator's arguments:
/// `kind=inner`, `withsource=T`, `hint.strategy=shuffle`, `bagexpansion=array`, …
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorParam {
    /// The parameter name (dotted names such as `hint.strategy` as one string).
    pub name: Ident,
    /// The value; a bare word is a [`ExprKind::Name`].
    pub value: Expr,
}

/// A column-producing expression: `expr`, `Name = expr`, or `(A, B) = expr`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnExpr {
    /// The names given to the result: none, one, or several for a tuple.
    pub names: Vec<Ident>,
    /// The expression.
    pub expr: Expr,
    /// The whole text.
    pub span: Span,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}

/// Null placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NullsOrder {
    /// `nulls first`
    First,
    /// `nulls last`
    Last,
}

/// A sort key of `sort`, `order`, `top`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SortKey {
    /// The sorted expression.
    pub expr: Expr,
    /// `asc`/`desc` if written (KQL's default is descending).
    pub order: Option<SortOrder>,
    /// `nulls first`/`nulls last` if written.
    pub nulls: Option<NullsOrder>,
}

/// A column of `project-reorder` with its optional ordering keyword.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReorderColumn {
    /// The column name or pattern.
    pub column: Expr,
    /// `asc`, `desc`, `granny-asc`, `granny-desc` if written.
    pub order: Option<Ident>,
}

/// `project-rename New = Old`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rename {
    /// The new name.
    pub new_name: Ident,
    /// The existing column (syntactically any expression; the binder requires a column name).
    pub source: Expr,
}

/// An item of `mv-expand` / `mv-apply`: `[Name =] expr [to typeof(type)]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpandItem {
    /// The result column name if given.
    pub name: Option<Ident>,
    /// The expanded expression.
    pub expr: Expr,
    /// The `to typeof(type)` target type if given.
    pub to_type: Option<Ident>,
}

/// One element of a `parse` pattern.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "part", rename_all = "snake_case")]
pub enum ParsePart {
    /// A string literal to match (a regex fragment under `kind=regex`).
    Text {
        /// The literal value.
        value: String,
        /// Where it was written.
        span: Span,
    },
    /// `*`: skip any text.
    Wildcard {
        /// Where it was written.
        span: Span,
    },
    /// `Name[:type]`: capture into a column.
    Column {
        /// The column.
        name: Ident,
        /// The type, `string` if omitted.
        ty: Option<Ident>,
    },
}

/// An aggregate of `make-series` with its `default=` value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesAggregate {
    /// The aggregate, optionally named.
    pub column: ColumnExpr,
    /// The value for empty bins.
    pub default: Option<Expr>,
}

/// The axis range of `make-series`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum SeriesRange {
    /// `[from a] [to b] step s`
    FromTo {
        /// Start, if given.
        from: Option<Expr>,
        /// End, if given.
        to: Option<Expr>,
        /// Bin size.
        step: Expr,
    },
    /// `in range(start, stop, step)`
    InRange {
        /// Start.
        start: Expr,
        /// Stop.
        stop: Expr,
        /// Step.
        step: Expr,
    },
}

/// One level of `top-nested`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopNestedLevel {
    /// How many values to keep (all if omitted).
    pub count: Option<Expr>,
    /// The grouping expression, optionally named.
    pub of: ColumnExpr,
    /// `with others = value`.
    pub others: Option<Expr>,
    /// The aggregate that ranks the values, optionally named.
    pub by: ColumnExpr,
    /// `asc`/`desc`.
    pub order: Option<SortOrder>,
}

/// A branch of `fork`: `[name =] (subquery)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForkBranch {
    /// The branch's result name if given.
    pub name: Option<Ident>,
    /// The operators applied to the input.
    pub operators: Vec<Operator>,
}

/// What `partition` runs for each partition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum PartitionBody {
    /// `( operator | … )`: operators applied to the partition's rows.
    Subquery {
        /// The operators.
        operators: Vec<Operator>,
    },
    /// `{ query }`: a query run once per partition.
    Query {
        /// The query.
        query: Box<Expr>,
    },
}

/// A step of `scan`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanStep {
    /// The step name.
    pub name: Ident,
    /// `optional` was written.
    pub optional: bool,
    /// `output=all|last|none` if written.
    pub output: Option<Ident>,
    /// The condition.
    pub predicate: Expr,
    /// Assignments after `=>`.
    pub assignments: Vec<ColumnExpr>,
}

/// A column declared by `scan … declare (…)`, with its default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanDeclaration {
    /// The column.
    pub column: ColumnDecl,
    /// Its default value.
    pub default: Option<Expr>,
}

/// What `find` projects.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "project", rename_all = "snake_case")]
pub enum FindProject {
    /// No project clause.
    Default,
    /// `project-smart`
    Smart,
    /// `project c1, c2, pack_all()`
    Columns {
        /// The projected columns.
        columns: Vec<Expr>,
    },
}

/// The tabular operators and their arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "operator", rename_all = "snake_case")]
pub enum OperatorKind {
    /// `where` / `filter`
    Where {
        /// The condition.
        predicate: Expr,
    },
    /// `project`
    Project {
        /// The output columns.
        columns: Vec<ColumnExpr>,
    },
    /// `project-away`
    ProjectAway {
        /// Names or patterns removed.
        columns: Vec<Expr>,
    },
    /// `project-keep`
    ProjectKeep {
        /// Names or patterns kept.
        columns: Vec<Expr>,
    },
    /// `project-rename`
    ProjectRename {
        /// The renames.
        renames: Vec<Rename>,
    },
    /// `project-reorder`
    ProjectReorder {
        /// Columns moved to the front.
        columns: Vec<ReorderColumn>,
    },
    /// `extend`
    Extend {
        /// Columns added or replaced.
        columns: Vec<ColumnExpr>,
    },
    /// `summarize`
    Summarize {
        /// `hint.*` parameters.
        params: Vec<OperatorParam>,
        /// The aggregates.
        aggregates: Vec<ColumnExpr>,
        /// The grouping keys after `by`.
        by: Vec<ColumnExpr>,
    },
    /// `count [as Name]`
    Count {
        /// The result column name.
        name: Option<Ident>,
    },
    /// `distinct`
    Distinct {
        /// `hint.*` parameters.
        params: Vec<OperatorParam>,
        /// The columns, or `*`.
        columns: Vec<Expr>,
    },
    /// `take` / `limit`
    Take {
        /// The row count.
        count: Expr,
    },
    /// `top N by …`
    Top {
        /// The row count.
        count: Expr,
        /// The ranking keys.
        by: Vec<SortKey>,
    },
    /// `top-nested …, top-nested …`
    TopNested {
        /// The levels, outermost first.
        levels: Vec<TopNestedLevel>,
    },
    /// `top-hitters N of expr [by expr]`
    TopHitters {
        /// How many.
        count: Expr,
        /// The counted value.
        of: Expr,
        /// The weight, if given.
        by: Option<Expr>,
    },
    /// `sort by` / `order by`
    Sort {
        /// `hint.*` parameters.
        params: Vec<OperatorParam>,
        /// The keys.
        by: Vec<SortKey>,
    },
    /// `join`
    Join {
        /// `kind=`, `hint.*`.
        params: Vec<OperatorParam>,
        /// The right side.
        right: Expr,
        /// The `on` conditions: column names or `$left.a == $right.b`, joined by `,`/`and`.
        on: Vec<Expr>,
    },
    /// `lookup`
    Lookup {
        /// `kind=`.
        params: Vec<OperatorParam>,
        /// The dimension table.
        right: Expr,
        /// The keys.
        on: Vec<Expr>,
    },
    /// `union`
    Union {
        /// `kind=`, `withsource=`, `isfuzzy=`, `hint.*`.
        params: Vec<OperatorParam>,
        /// The tables: names, patterns or subqueries.
        tables: Vec<Expr>,
    },
    /// `mv-expand` (and the legacy `mvexpand`)
    MvExpand {
        /// `bagexpansion=`, `with_itemindex=`, `kind=`.
        params: Vec<OperatorParam>,
        /// The expanded columns.
        items: Vec<ExpandItem>,
        /// `limit N`.
        limit: Option<Expr>,
    },
    /// `mv-apply … on (subquery)`
    MvApply {
        /// `with_itemindex=`, `hint.*`.
        params: Vec<OperatorParam>,
        /// The expanded columns.
        items: Vec<ExpandItem>,
        /// `limit N`.
        limit: Option<Expr>,
        /// The subquery applied to each record's expansion.
        subquery: Vec<Operator>,
    },
    /// `parse` and `parse-where`
    Parse {
        /// True for `parse-where` (rows that do not match are dropped).
        filter: bool,
        /// `kind=`, `flags=`.
        params: Vec<OperatorParam>,
        /// The parsed string expression.
        source: Expr,
        /// The pattern.
        pattern: Vec<ParsePart>,
    },
    /// `parse-kv expr as (cols) with (options)`
    ParseKv {
        /// The parsed expression.
        source: Expr,
        /// The extracted columns.
        columns: Vec<ColumnDecl>,
        /// `pair_delimiter=`, `kv_delimiter=`, `quote=`, `regex=`, ….
        options: Vec<OperatorParam>,
    },
    /// `make-series`
    MakeSeries {
        /// `kind=`, `hint.*`.
        params: Vec<OperatorParam>,
        /// The aggregates.
        aggregates: Vec<SeriesAggregate>,
        /// The axis column.
        on: Expr,
        /// The axis range.
        range: SeriesRange,
        /// The grouping keys.
        by: Vec<ColumnExpr>,
    },
    /// `evaluate plugin(args)`
    Evaluate {
        /// `hint.*`.
        params: Vec<OperatorParam>,
        /// The plugin call.
        plugin: Expr,
        /// An explicit output schema `: (cols)` if given.
        schema: Option<Vec<ColumnDecl>>,
        /// The schema ends with `*` (other columns allowed).
        schema_open: bool,
    },
    /// `invoke f(args)`
    Invoke {
        /// The function call.
        call: Expr,
    },
    /// `as Name`
    As {
        /// `hint.materialized=`.
        params: Vec<OperatorParam>,
        /// The name.
        name: Ident,
    },
    /// `serialize [cols]`
    Serialize {
        /// Columns added while serialising.
        columns: Vec<ColumnExpr>,
    },
    /// `render chart [with (…)]`
    Render {
        /// The visualisation (`timechart`, `barchart`, …).
        chart: Ident,
        /// Its properties.
        properties: Vec<OperatorParam>,
    },
    /// `getschema`
    GetSchema,
    /// `search`
    Search {
        /// `kind=`.
        params: Vec<OperatorParam>,
        /// `in (T1, T2)`.
        tables: Vec<Expr>,
        /// The search predicate.
        predicate: Expr,
    },
    /// `find`
    Find {
        /// `withsource=`, `datascope=`.
        params: Vec<OperatorParam>,
        /// `in (T1, T2)`.
        tables: Vec<Expr>,
        /// The `where` predicate.
        predicate: Expr,
        /// The `project` clause.
        project: FindProject,
    },
    /// `fork (…) (…)`
    Fork {
        /// The branches.
        branches: Vec<ForkBranch>,
    },
    /// `facet by cols [with (…)]`
    Facet {
        /// The facet columns.
        columns: Vec<Expr>,
        /// The operators applied to the input in the `with` clause.
        with: Vec<Operator>,
    },
    /// `partition by col (subquery)` or `partition by col { query }`
    Partition {
        /// `hint.*`.
        params: Vec<OperatorParam>,
        /// The partitioning column.
        by: Expr,
        /// What runs for each partition.
        body: PartitionBody,
    },
    /// `scan`
    Scan {
        /// `with_match_id=`.
        params: Vec<OperatorParam>,
        /// `declare (…)`.
        declarations: Vec<ScanDeclaration>,
        /// The steps.
        steps: Vec<ScanStep>,
    },
    /// `sample N`
    Sample {
        /// The row count.
        count: Expr,
    },
    /// `sample-distinct N of col`
    SampleDistinct {
        /// The value count.
        count: Expr,
        /// The column.
        of: Expr,
    },
    /// `reduce by col [with …]`
    Reduce {
        /// `kind=`.
        params: Vec<OperatorParam>,
        /// The reduced column.
        by: Expr,
        /// `threshold=`, `characters=`.
        options: Vec<OperatorParam>,
    },
    /// `consume`
    Consume {
        /// `decodeblocks=`.
        params: Vec<OperatorParam>,
    },
    /// `print cols`
    Print {
        /// The printed columns.
        columns: Vec<ColumnExpr>,
    },
    /// `range Name from a to b step s`
    Range {
        /// The column name.
        name: Ident,
        /// First value.
        from: Expr,
        /// Last value (inclusive).
        to: Expr,
        /// Increment.
        step: Expr,
    },
    /// `datatable (cols) [values]`
    DataTable {
        /// The columns.
        columns: Vec<ColumnDecl>,
        /// The values, row by row.
        values: Vec<Expr>,
    },
    /// `externaldata (cols) [uris] [with (…)]`
    ExternalData {
        /// The columns.
        columns: Vec<ColumnDecl>,
        /// The storage URIs.
        uris: Vec<Expr>,
        /// `format=`, `ignoreFirstRecord=`, ….
        properties: Vec<OperatorParam>,
    },
    /// An operator that could not be parsed (a diagnostic was reported for it).
    Error,
}
