//! Errors of binding, planning and running a query.

use datafusion::error::DataFusionError;
use quarry_kql::{Diagnostic, Span};
use thiserror::Error;

/// Why a query could not be planned or run.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The text does not parse; the diagnostics say where.
    #[error("the query has {} syntax error(s)", .0.iter().filter(|d| d.is_error()).count())]
    Syntax(Vec<Diagnostic>),
    /// A name, type or arity problem found while binding the query.
    #[error("{message}")]
    Bind {
        /// What is wrong.
        message: String,
        /// Where in the query.
        span: Span,
        /// A suggestion, such as the closest existing column.
        help: Option<String>,
    },
    /// Valid KQL that Quarry does not run yet.
    #[error("not supported: {feature}")]
    NotSupported {
        /// The feature, e.g. `operator make-graph`.
        feature: String,
        /// Where in the query.
        span: Span,
    },
    /// A failure while executing the plan.
    #[error("query execution failed: {0}")]
    Execution(#[from] DataFusionError),
    /// The query ran longer than the session's time limit.
    #[error("the query exceeded its time limit of {0:?}")]
    Timeout(std::time::Duration),
    /// The query was cancelled through the session's [`crate::session::CancelHandle`].
    #[error("the query was cancelled")]
    Cancelled,
}

impl EngineError {
    /// The table a binding error says is unknown, when that is what it says: the caller can then
    /// report a missing table rather than a failure.
    pub fn missing_table(&self) -> Option<&str> {
        match self {
            EngineError::Bind { message, .. } => message
                .strip_prefix("unknown table `")
                .and_then(|rest| rest.split('`').next()),
            _ => None,
        }
    }

    /// A binding error at `span`.
    pub fn bind(message: impl Into<String>, span: Span) -> Self {
        EngineError::Bind {
            message: message.into(),
            span,
            help: None,
        }
    }

    /// A binding error with a suggestion.
    pub fn bind_with_help(message: impl Into<String>, span: Span, help: impl Into<String>) -> Self {
        EngineError::Bind {
            message: message.into(),
            span,
            help: Some(help.into()),
        }
    }

    /// A not-supported error for `feature` at `span`.
    pub fn unsupported(feature: impl Into<String>, span: Span) -> Self {
        EngineError::NotSupported {
            feature: feature.into(),
            span,
        }
    }

    /// The query span the error points at, if it has one.
    pub fn span(&self) -> Option<Span> {
        match self {
            EngineError::Bind { span, .. } | EngineError::NotSupported { span, .. } => Some(*span),
            EngineError::Syntax(diagnostics) => diagnostics.first().map(|d| d.span),
            _ => None,
        }
    }
}

impl From<datafusion::arrow::error::ArrowError> for EngineError {
    fn from(error: datafusion::arrow::error::ArrowError) -> Self {
        EngineError::Execution(DataFusionError::ArrowError(Box::new(error), None))
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_table_is_read_from_unknown_table_errors_only() {
        let span = Span { start: 0, end: 4 };
        let unknown = EngineError::bind("unknown table `ThreatIntelligenceIndicator`", span);
        assert_eq!(unknown.missing_table(), Some("ThreatIntelligenceIndicator"));
        let column = EngineError::bind("unknown column `Account`", span);
        assert_eq!(column.missing_table(), None);
        let call = EngineError::bind("unknown table or function `foo`", span);
        assert_eq!(call.missing_table(), None);
    }
}
