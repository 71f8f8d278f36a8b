//! What one walk of a query's syntax tree records: the raw material the parameter, indicator
//! and time-window passes read, so that the tree is walked once.

use super::time_window::Lookback;
use super::Predicate;
use std::collections::BTreeSet;
use std::ops::Range;

/// What a string literal is used for, where that changes what it can mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Role {
    /// An ordinary value.
    #[default]
    Plain,
    /// A regular expression (`matches regex`, `extract`, the lookup of `replace_regex`).
    Regex,
    /// The replacement text of `replace*` (`"<guid>"` there is output, not a placeholder).
    Rewrite,
    /// A date and time (`todatetime('…')`, the text of `datetime(…)`).
    DateTime,
    /// A storage URI of `externaldata` (where data comes from, not an indicator).
    ExternalUri,
}

/// A string literal of the analysed query (items of `dynamic(…)` each count as one).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StringSite {
    /// The literal as written, quotes included (for `datetime(…)` text: the text inside).
    pub span: Range<usize>,
    /// The decoded value.
    pub value: String,
    /// The `let` (index into [`Facts::lets`]) whose value contains it.
    pub binding: Option<usize>,
    /// The column it is compared with or assigned to, when it is an operand of one.
    pub column: Option<String>,
    /// What it is used for.
    pub role: Role,
}

/// A `{{Name}}` rule template written as an expression (outside any string).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateSite {
    /// The template as written.
    pub span: Range<usize>,
    /// The name between the braces.
    pub name: String,
    /// What it is used for.
    pub role: Role,
    /// The column it is compared with.
    pub column: Option<String>,
    /// True when compared with `<`, `>`, … or a number.
    pub numeric: bool,
}

/// What a `let` binds, as far as parameters care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LetKind {
    /// A single string literal.
    String,
    /// A `datetime(…)` literal.
    DateTime,
    /// `dynamic([])` or `datatable(…)[]`.
    EmptyList,
    /// Anything else.
    Other,
}

/// A `let` statement of the analysed query (function bodies included).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LetInfo {
    /// The bound name.
    pub name: String,
    /// The whole statement.
    pub statement_span: Range<usize>,
    /// The value, parentheses stripped.
    pub value_span: Range<usize>,
    /// What the value is.
    pub kind: LetKind,
}

/// A `let` name used as a filter operand (`Col == name`, `Col in (name)`, `matches regex name`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LetUse {
    /// Index into [`Facts::lets`].
    pub id: usize,
    /// The column it is compared with.
    pub column: Option<String>,
    /// True when it is an item of an `in`/`has_any` list.
    pub in_list: bool,
    /// What the value is used for.
    pub role: Role,
}

/// Everything one walk records.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// Tables read, directly or through stored functions.
    pub tables: BTreeSet<String>,
    /// Stored functions and parsers called as tabular sources.
    pub stored_functions: BTreeSet<String>,
    /// Column names.
    pub columns: BTreeSet<String>,
    /// Tabular operators as written.
    pub operators: BTreeSet<String>,
    /// Scalar, aggregate and plugin functions called.
    pub functions: BTreeSet<String>,
    /// String literals in query order.
    pub strings: Vec<StringSite>,
    /// Rule templates written as expressions.
    pub templates: Vec<TemplateSite>,
    /// `let` statements, indexed by [`StringSite::binding`] and [`LetUse::id`].
    pub lets: Vec<LetInfo>,
    /// `let` names used as filter operands.
    pub let_uses: Vec<LetUse>,
    /// Lookbacks (`ago(…)`, `now() - …`) found in filters, `let`s and ranges.
    pub lookbacks: Vec<Lookback>,
    /// Filters with literal values, each with the offset it starts at (for ordering).
    pub predicates: Vec<(usize, Predicate)>,
}
