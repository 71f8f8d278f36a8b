//! Calls of user-defined functions — a query's own `let` functions and the session's stored
//! functions — and `_GetWatchlist`.
//!
//! A stored function's body was parsed from its own text: its spans point into that text, not
//! into the query. Errors leaving a stored body are therefore moved onto the call in the caller's
//! text, with the place in the body added to the message, and warnings raised inside one point at
//! the outermost stored call in the query.

use super::{Binding, Bound, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::output::QueryWarning;
use crate::stored::CompiledFunction;
use crate::watchlist;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use quarry_kql::ast::{Arg, FunctionDef};
use quarry_kql::Span;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// Deeper nesting than this is taken for recursion that the identity check missed (a function
/// redefined at every level); far beyond the three or four levels real parsers use.
pub(super) const MAX_CALL_DEPTH: usize = 64;

/// A callable function.
#[derive(Clone)]
pub(crate) enum Callable {
    /// Defined by a `let` in the query (or in a function body).
    Local(Rc<FunctionDef>),
    /// One of the session's stored functions.
    Stored(Arc<CompiledFunction>),
}

impl Callable {
    /// Identifies the definition, so that a call of a function already being called is found.
    fn identity(&self) -> *const FunctionDef {
        &**self as *const FunctionDef
    }
}

impl std::ops::Deref for Callable {
    type Target = FunctionDef;

    fn deref(&self) -> &FunctionDef {
        match self {
            Callable::Local(def) => def,
            Callable::Stored(compiled) => compiled.definition(),
        }
    }
}

/// A function call being planned.
pub(crate) struct ActiveCall {
    name: String,
    identity: *const FunctionDef,
    /// For a stored function: its name and the span of the call in the caller's text.
    stored: Option<(String, Span)>,
}

impl Planner<'_> {
    /// Calls a user-defined function: binds the parameters in a new scope and plans the body.
    /// `piped` is the input of `invoke`, bound to the first (tabular) parameter.
    pub(super) fn call_function(
        &mut self,
        name: &str,
        function: &Callable,
        args: &[Arg],
        span: Span,
        piped: Option<Relation>,
    ) -> Result<Bound> {
        let identity = function.identity();
        if let Some(first) = self.calls.iter().position(|c| c.identity == identity) {
            let chain: Vec<String> = self.calls[first..]
                .iter()
                .map(|c| format!("`{}`", c.name))
                .chain([format!("`{name}`")])
                .collect();
            return Err(EngineError::bind(
                format!(
                    "`{name}` calls itself ({}); KQL functions cannot be recursive",
                    chain.join(" → ")
                ),
                span,
            ));
        }
        if self.calls.len() >= MAX_CALL_DEPTH {
            return Err(EngineError::bind(
                format!("`{name}` is called more than {MAX_CALL_DEPTH} function calls deep"),
                span,
            ));
        }
        let scope = self.bind_arguments(name, function, args, span, piped)?;
        self.calls.push(ActiveCall {
            name: name.to_string(),
            identity,
            stored: matches!(function, Callable::Stored(_)).then(|| (name.to_string(), span)),
        });
        let result = match function {
            Callable::Local(_) => {
                self.scopes.push(scope);
                let result = self.plan_statements(&function.body, function.span);
                self.scopes.pop();
                result
            }
            Callable::Stored(compiled) => {
                // The body sees its parameters, stored functions and tables, never the caller's
                // names.
                let caller_scopes = std::mem::replace(&mut self.scopes, vec![scope]);
                let result = self.plan_statements(&function.body, function.span);
                self.scopes = caller_scopes;
                result.map_err(|error| in_stored_body(error, compiled, span))
            }
        };
        self.calls.pop();
        result?.ok_or_else(|| EngineError::bind(format!("`{name}` has no result"), span))
    }

    /// The scope of a call: each parameter bound to its argument (named, else the next
    /// positional one) or its default.
    fn bind_arguments(
        &mut self,
        name: &str,
        function: &Callable,
        args: &[Arg],
        span: Span,
        piped: Option<Relation>,
    ) -> Result<HashMap<String, Binding>> {
        let mut scope = HashMap::new();
        let mut positional = args.iter().filter(|a| a.name.is_none());
        let mut parameters = function.parameters.iter();
        if let Some(input) = piped {
            let Some(first) = parameters.next() else {
                return Err(EngineError::bind(
                    format!("`{name}` takes no tabular input to invoke with"),
                    span,
                ));
            };
            scope.insert(first.name.name.clone(), Binding::Tabular(input));
        }
        for parameter in parameters {
            let named = args.iter().find(|a| {
                a.name
                    .as_ref()
                    .is_some_and(|n| n.name == parameter.name.name)
            });
            let arg = named.or_else(|| positional.next());
            let binding = match (arg, &parameter.default) {
                (Some(arg), _) if self.is_tabular(&arg.value) => {
                    Binding::Tabular(self.plan_tabular(&arg.value)?)
                }
                // A scalar argument may refer to the caller's columns (`f(x)` inside `extend`).
                (Some(arg), _) => Binding::Scalar(match self.row_schema.clone() {
                    Some(schema) => self.plan_scalar(&arg.value, &schema)?,
                    None => self.plan_constant(&arg.value)?,
                }),
                (None, Some(default)) => Binding::Scalar(match function {
                    Callable::Local(_) => self.plan_constant(default)?,
                    Callable::Stored(compiled) => {
                        // Defaults are constants: nothing of the caller's is in scope.
                        let caller_scopes =
                            std::mem::replace(&mut self.scopes, vec![HashMap::new()]);
                        let value = self.plan_constant(default);
                        self.scopes = caller_scopes;
                        value.map_err(|error| {
                            in_stored_default(error, compiled, &parameter.name.name, span)
                        })?
                    }
                }),
                (None, None) => {
                    return Err(EngineError::bind(
                        format!(
                            "`{name}` needs a value for parameter `{}`",
                            parameter.name.name
                        ),
                        span,
                    ))
                }
            };
            scope.insert(parameter.name.name.clone(), binding);
        }
        if positional.next().is_some() {
            return Err(EngineError::bind(
                format!("too many arguments for `{name}`"),
                span,
            ));
        }
        let unknown: Vec<_> = args
            .iter()
            .filter_map(|a| a.name.as_ref())
            .filter(|n| !function.parameters.iter().any(|p| p.name.name == n.name))
            .cloned()
            .collect();
        // A warning rather than an error: the planner has always ignored such arguments, and a
        // shipped ASIM parser (vimDnsInfobloxNIOS) passes `startime=` to its inner function;
        // failing would drop that parser's rows from every `imDns` over a mere typo.
        for argument in unknown {
            self.warn(
                format!(
                    "`{name}` has no parameter `{}`; the argument is ignored",
                    argument.name
                ),
                argument.span,
            );
        }
        Ok(scope)
    }

    /// Records a warning at `span`, or at the outermost stored-function call when `span` is in
    /// a stored body (and so not in the query text).
    pub(super) fn warn(&mut self, message: String, span: Span) {
        let outermost = self.calls.iter().find_map(|c| c.stored.as_ref());
        let innermost = self.calls.iter().rev().find_map(|c| c.stored.as_ref());
        let warning = match (outermost, innermost) {
            (Some((_, call)), Some((function, _))) => QueryWarning {
                message: format!("{message} (in stored function `{function}`)"),
                span: Some(*call),
            },
            _ => QueryWarning {
                message,
                span: Some(span),
            },
        };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// `_GetWatchlist('name')`: the watchlist's rows from the session's watchlist folder.
    pub(super) fn plan_watchlist(&mut self, args: &[Arg], span: Span) -> Result<Relation> {
        let function = watchlist::WATCHLIST_FUNCTION;
        let [arg] = args else {
            return Err(EngineError::bind(
                format!("{function}() takes one argument, the watchlist name"),
                span,
            ));
        };
        let name = match self.plan_constant(&arg.value)? {
            Expr::Literal(ScalarValue::Utf8(Some(name)), _) => name,
            _ => {
                return Err(EngineError::bind(
                    format!("{function}() takes the watchlist name as a string"),
                    arg.value.span,
                ))
            }
        };
        let config = self.session.config();
        let loaded = match &config.watchlist_dir {
            Some(dir) => watchlist::load(dir, &name)
                .map_err(|e| EngineError::bind(e.to_string(), arg.value.span))?,
            None => {
                watchlist::validate_name(&name)
                    .map_err(|e| EngineError::bind(e.to_string(), arg.value.span))?;
                None
            }
        };
        if loaded.is_none() {
            let place = match &config.watchlist_dir {
                Some(dir) => format!(
                    "there is no file {}",
                    watchlist::watchlist_path(dir, &name).display()
                ),
                None => "no watchlist folder is configured".to_string(),
            };
            if config.strict_watchlists {
                return Err(EngineError::bind_with_help(
                    format!("unknown watchlist `{name}`: {place}"),
                    arg.value.span,
                    "put the watchlist there as a CSV file with a header row",
                ));
            }
            self.warn(
                format!("watchlist `{name}` does not exist ({place}); it is read as empty"),
                arg.value.span,
            );
        }
        let batch = watchlist::batch(loaded.as_ref())?;
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        let plan = LogicalPlanBuilder::scan(
            TableReference::bare(function),
            provider_as_source(Arc::new(table)),
            None,
        )?
        .build()?;
        self.unqualified(Relation::unordered(plan))
    }
}

/// `error`, raised in the body of `function`, moved onto the call at `call`.
fn in_stored_body(error: EngineError, function: &CompiledFunction, call: Span) -> EngineError {
    let at = |span: Span| {
        let (line, column) = quarry_kql::line_col(function.body(), span.start);
        format!("line {line}, column {column}")
    };
    match error {
        EngineError::Bind {
            message,
            span,
            help,
        } => {
            // Errors from nested stored calls already say where they started; add the caller.
            let message = if message.contains(" — in stored function `") {
                format!(
                    "{message}, called from `{}` at {}",
                    function.name(),
                    at(span)
                )
            } else {
                format!(
                    "{message} — in stored function `{}` at {}",
                    function.name(),
                    at(span)
                )
            };
            EngineError::Bind {
                message,
                span: call,
                help,
            }
        }
        EngineError::NotSupported { feature, .. } => EngineError::NotSupported {
            feature,
            span: call,
        },
        other => other,
    }
}

/// `error`, raised planning the default of `parameter` of `function`, moved onto the call.
fn in_stored_default(
    error: EngineError,
    function: &CompiledFunction,
    parameter: &str,
    call: Span,
) -> EngineError {
    match error {
        EngineError::Bind { message, help, .. } => EngineError::Bind {
            message: format!(
                "{message} — in the default of parameter `{parameter}` of stored function `{}`",
                function.name()
            ),
            span: call,
            help,
        },
        EngineError::NotSupported { feature, .. } => EngineError::NotSupported {
            feature,
            span: call,
        },
        other => other,
    }
}
