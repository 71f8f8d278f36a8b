//! Stored functions: KQL functions defined outside the query that calls them, such as the ASIM
//! parsers (`imProcessCreate`, `_Im_Dns(starttime=…)`) and other Azure-Sentinel parsers.
//!
//! A [`StoredFunction`] is plain text (name, parameters, body) as a rule repository gives it.
//! [`Session::register_function`] parses it once into a [`CompiledFunction`]; queries of the
//! session then call it exactly like a function defined by a `let` before the query: `f(args)`
//! with positional or named arguments and defaults, or bare (`imProcessCreate`) when every
//! parameter has a default.
//!
//! Name resolution, innermost first:
//!
//! 1. names bound in the query itself (`let`, function parameters, `as`);
//! 2. stored functions;
//! 3. tables.
//!
//! So a query's own `let` hides a stored function of the same name, and a stored function hides a
//! table of the same name (Kusto does not let a database hold a table and a function under one
//! name, so real content never depends on the last rule). A stored function's body sees its own
//! `let`s and parameters, stored functions and tables, never the `let`s of the query that calls
//! it: bodies are written without knowing their callers.

use crate::session::Session;
use quarry_kql::ast::{ExprKind, FunctionDef, LetValue, OperatorKind, Parameter, Statement};
use quarry_kql::{line_col, Diagnostic, Span};
use std::sync::Arc;
use thiserror::Error;

/// A KQL function as text, before it is parsed: what a rule repository or catalog holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredFunction {
    /// The name queries call it by (case-sensitive), e.g. `imDns` or `_Im_Dns`.
    pub name: String,
    /// The parameters, in order.
    pub parameters: Vec<StoredParameter>,
    /// The body: KQL statements ending in an expression (`let x = …; Table | where …`).
    pub body: String,
}

/// One parameter of a [`StoredFunction`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredParameter {
    /// The parameter name.
    pub name: String,
    /// The Kusto type as written: `bool`, `string`, `datetime`, `dynamic`, `int`, … or a tabular
    /// schema such as `(*)` or `(TimeGenerated:datetime, *)`.
    pub kusto_type: String,
    /// The default value as KQL text (`datetime(null)`, `dynamic([])`, `false`, `'*'`).
    ///
    /// A `string` parameter's default may also be the bare value (`*`, `lookup`), which is what
    /// ASIM YAML files hold once YAML has removed the quotes; such a default is read as that
    /// string rather than as a column or variable name.
    pub default: Option<String>,
}

/// Why a [`StoredFunction`] could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoredFunctionError {
    /// The name is empty.
    #[error("a stored function needs a name")]
    EmptyName,
    /// A parameter declaration does not parse.
    #[error(
        "stored function `{function}`: parameter `{parameter}` ({declaration}) does not parse: {message}"
    )]
    Parameter {
        /// The function.
        function: String,
        /// The parameter.
        parameter: String,
        /// The declaration as Quarry read it, `name:type = default`.
        declaration: String,
        /// What the parser reported.
        message: String,
        /// Where in `declaration`.
        span: Span,
    },
    /// The body does not parse.
    #[error(
        "stored function `{function}`: the body does not parse: {message} (line {line}, column {column} of the body)"
    )]
    Body {
        /// The function.
        function: String,
        /// The first error's message.
        message: String,
        /// The first error's span in the body text.
        span: Span,
        /// Its line in the body text (1-based).
        line: usize,
        /// Its column in the body text (1-based, in characters).
        column: usize,
        /// Every diagnostic of the body, spans into the body text.
        diagnostics: Vec<Diagnostic>,
    },
    /// The body parses but has no expression that gives the function's value.
    #[error("stored function `{function}`: the body has no result (it must end with an expression, not a `let`)")]
    NoResult {
        /// The function.
        function: String,
    },
}

impl StoredFunctionError {
    /// The name of the function the error is about (empty for [`StoredFunctionError::EmptyName`]).
    pub fn function(&self) -> &str {
        match self {
            StoredFunctionError::EmptyName => "",
            StoredFunctionError::Parameter { function, .. }
            | StoredFunctionError::Body { function, .. }
            | StoredFunctionError::NoResult { function } => function,
        }
    }
}

/// A parsed stored function, ready to be called by the planner.
#[derive(Debug, Clone)]
pub struct CompiledFunction {
    source: StoredFunction,
    definition: FunctionDef,
}

impl CompiledFunction {
    /// Parses the parameters and the body of `source`.
    pub fn compile(source: StoredFunction) -> Result<Self, StoredFunctionError> {
        let name = source.name.trim();
        if name.is_empty() {
            return Err(StoredFunctionError::EmptyName);
        }
        let name = name.to_string();
        let mut parameters = Vec::with_capacity(source.parameters.len());
        for parameter in &source.parameters {
            parameters.push(compile_parameter(&name, parameter)?);
        }
        let parsed = quarry_kql::parse(&source.body);
        if let Some(first) = parsed.diagnostics.iter().find(|d| d.is_error()) {
            let (line, column) = line_col(&source.body, first.span.start);
            return Err(StoredFunctionError::Body {
                function: name,
                message: first.message.clone(),
                span: first.span,
                line,
                column,
                diagnostics: parsed.diagnostics,
            });
        }
        if !matches!(parsed.query.statements.last(), Some(Statement::Query(_))) {
            return Err(StoredFunctionError::NoResult { function: name });
        }
        let definition = FunctionDef {
            parameters,
            body: parsed.query.statements,
            span: parsed.query.span,
        };
        Ok(CompiledFunction {
            source: StoredFunction { name, ..source },
            definition,
        })
    }

    /// The name queries call it by.
    pub fn name(&self) -> &str {
        &self.source.name
    }

    /// The text it was compiled from.
    pub fn source(&self) -> &StoredFunction {
        &self.source
    }

    /// The body text; the spans of [`CompiledFunction::definition`]'s body point into it.
    pub fn body(&self) -> &str {
        &self.source.body
    }

    /// The parsed function, as a `let f = (…) { … }` would define it.
    pub fn definition(&self) -> &FunctionDef {
        &self.definition
    }

    /// True when it can be called without arguments (every parameter has a default).
    pub fn callable_bare(&self) -> bool {
        self.definition
            .parameters
            .iter()
            .all(|p| p.default.is_some())
    }
}

/// The KQL text of a name: bare when it is an identifier, else `['quoted']`.
fn name_text(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        name.to_string()
    } else {
        format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A KQL string literal holding `value`.
fn string_literal(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// True when `text` is a KQL expression that can stand as a default value: it parses as one
/// expression that is not a bare name (defaults are constants, so a bare name can only be an
/// unquoted string).
fn is_constant_expression(text: &str) -> bool {
    let parsed = quarry_kql::parse(&format!("print {text}"));
    if !parsed.is_ok() {
        return false;
    }
    let Some(Statement::Query(query)) = parsed.query.statements.first() else {
        return false;
    };
    let ExprKind::Source { operator } = &query.kind else {
        return false;
    };
    match &operator.kind {
        OperatorKind::Print { columns } => match columns.as_slice() {
            [column] => {
                column.names.is_empty()
                    && !matches!(
                        column.expr.kind,
                        ExprKind::Name { .. }
                            | ExprKind::Pattern { .. }
                            | ExprKind::Star
                            | ExprKind::Template { .. }
                            | ExprKind::Error
                    )
            }
            _ => false,
        },
        _ => false,
    }
}

/// The declaration text `name:type = default` of `parameter`, and where the default starts in it.
fn declaration_text(parameter: &StoredParameter) -> (String, Option<usize>) {
    let ty = parameter.kusto_type.trim();
    let ty = if ty.is_empty() { "string" } else { ty };
    let mut text = format!("{}:{ty}", name_text(parameter.name.trim()));
    let mut default_at = None;
    if let Some(default) = &parameter.default {
        let default = default.trim();
        let value = if ty.eq_ignore_ascii_case("string") && !is_constant_expression(default) {
            string_literal(default)
        } else {
            default.to_string()
        };
        text.push_str(" = ");
        default_at = Some(text.len());
        text.push_str(&value);
    }
    (text, default_at)
}

fn compile_parameter(
    function: &str,
    parameter: &StoredParameter,
) -> Result<Parameter, StoredFunctionError> {
    let (declaration, _) = declaration_text(parameter);
    const PREFIX: &str = "let __stored = (";
    let text = format!("{PREFIX}{declaration}) {{ print 0 }};");
    let error = |message: String, span: Span| StoredFunctionError::Parameter {
        function: function.to_string(),
        parameter: parameter.name.clone(),
        declaration: declaration.clone(),
        message,
        span,
    };
    let parsed = quarry_kql::parse(&text);
    let to_declaration = |span: Span| {
        let start = span
            .start
            .saturating_sub(PREFIX.len())
            .min(declaration.len());
        let end = span.end.saturating_sub(PREFIX.len()).min(declaration.len());
        Span::new(start, end.max(start))
    };
    if let Some(first) = parsed.diagnostics.iter().find(|d| d.is_error()) {
        return Err(error(first.message.clone(), to_declaration(first.span)));
    }
    let parameters = match parsed.query.statements.into_iter().next() {
        Some(Statement::Let {
            value: LetValue::Function { function },
            ..
        }) => function.parameters,
        _ => Vec::new(),
    };
    match <[Parameter; 1]>::try_from(parameters) {
        Ok([parameter]) => Ok(parameter),
        Err(_) => Err(error(
            "expected one `name:type [= default]` declaration".to_string(),
            Span::new(0, declaration.len()),
        )),
    }
}

impl Session {
    /// Parses `function` and makes it callable by this session's queries, replacing a stored
    /// function of the same name. On error nothing is registered.
    pub fn register_function(&self, function: StoredFunction) -> Result<(), StoredFunctionError> {
        let compiled = CompiledFunction::compile(function)?;
        self.insert_function(Arc::new(compiled));
        Ok(())
    }

    /// Makes an already compiled function callable (sessions that share one library compile
    /// each function once, not once per session).
    pub fn register_compiled(&self, function: Arc<CompiledFunction>) {
        self.insert_function(function);
    }

    /// Registers every function of `functions` that parses; returns the errors of the others
    /// (one bad parser does not keep the rest out).
    pub fn register_functions(
        &self,
        functions: impl IntoIterator<Item = StoredFunction>,
    ) -> Vec<StoredFunctionError> {
        functions
            .into_iter()
            .filter_map(|f| self.register_function(f).err())
            .collect()
    }

    /// The stored function registered as `name`.
    pub fn stored_function(&self, name: &str) -> Option<Arc<CompiledFunction>> {
        self.functions_snapshot().get(name).cloned()
    }

    /// The names of every stored function, sorted.
    pub fn stored_function_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.functions_snapshot().keys().cloned().collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(name: &str, ty: &str, default: Option<&str>) -> StoredParameter {
        StoredParameter {
            name: name.into(),
            kusto_type: ty.into(),
            default: default.map(str::to_string),
        }
    }

    fn compile(parameters: Vec<StoredParameter>, body: &str) -> CompiledFunction {
        CompiledFunction::compile(StoredFunction {
            name: "f".into(),
            parameters,
            body: body.into(),
        })
        .unwrap()
    }

    #[test]
    fn sessions_with_stored_functions_stay_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Session>();
        shareable::<CompiledFunction>();
    }

    #[test]
    fn unquoted_string_defaults_are_strings() {
        for (default, expected) in [
            ("*", "\"*\""),
            ("lookup", "\"lookup\""),
            ("", "\"\""),
            ("'*'", "'*'"),
            ("\"x\"", "\"x\""),
            ("strcat('a', 'b')", "strcat('a', 'b')"),
        ] {
            let (text, at) = declaration_text(&parameter("p", "string", Some(default)));
            assert_eq!(&text[at.unwrap()..], expected, "{default:?}");
        }
        let (text, _) = declaration_text(&parameter("p", "bool", Some("False")));
        assert_eq!(text, "p:bool = False");
    }

    #[test]
    fn parameters_of_every_kind_compile() {
        let function = compile(
            vec![
                parameter("starttime", "datetime", Some("datetime(null)")),
                parameter("ips", "dynamic ", Some("dynamic([])")),
                parameter("eventtype", "string", Some("Query")),
                parameter("disabled", "bool", Some("false")),
                parameter("n", "int", Some("int(null)")),
                parameter("T", "(*)", None),
            ],
            "T | take 1",
        );
        let parameters = &function.definition().parameters;
        assert_eq!(parameters.len(), 6);
        assert!(matches!(
            parameters[5].ty,
            quarry_kql::ast::ParameterType::Tabular { open: true, .. }
        ));
        assert!(!function.callable_bare());
    }

    #[test]
    fn errors_name_the_function_and_the_place() {
        let error = CompiledFunction::compile(StoredFunction {
            name: "broken".into(),
            parameters: Vec::new(),
            body: "let x = 1;\nT | where x ==".into(),
        })
        .unwrap_err();
        let StoredFunctionError::Body { line, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*line, 2);
        assert!(error.to_string().contains("`broken`"), "{error}");
        let error = CompiledFunction::compile(StoredFunction {
            name: "p".into(),
            parameters: vec![parameter("x", "datetime", Some("datetime(2020-01-01"))],
            body: "print 1".into(),
        })
        .unwrap_err();
        assert!(
            matches!(&error, StoredFunctionError::Parameter { parameter, .. } if parameter == "x"),
            "{error:?}"
        );
        let error = CompiledFunction::compile(StoredFunction {
            name: "nothing".into(),
            parameters: Vec::new(),
            body: "let x = 1;".into(),
        })
        .unwrap_err();
        assert!(matches!(error, StoredFunctionError::NoResult { .. }));
        assert_eq!(error.function(), "nothing");
    }
}
