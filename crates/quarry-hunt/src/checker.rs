//! The engine-backed bind check used when rules are imported: every query is planned over empty
//! tables of the embedded schemas and the imported stored functions, so that "does it bind" does
//! not depend on data.

use crate::functions::CompiledLibrary;
use quarry_engine::{EngineError, Session, SessionConfig};
use quarry_rules::enrich::BindStatus;
use quarry_rules::import::QueryChecker;
use quarry_rules::model::FunctionLibrary;

/// Plans queries with a session that has every embedded table schema as an empty table.
pub struct EngineChecker {
    session: Session,
}

impl EngineChecker {
    /// A checker whose session knows the embedded schemas and `functions`.
    pub fn new(functions: &FunctionLibrary) -> Result<EngineChecker, EngineError> {
        let session = Session::new(SessionConfig::default())?;
        session.register_empty_schemas(quarry_schema::Catalog::embedded());
        CompiledLibrary::compile(functions).register(&session);
        Ok(EngineChecker { session })
    }
}

impl QueryChecker for EngineChecker {
    fn check(&self, query: &str) -> BindStatus {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.session.plan_only(query)
        }));
        match result {
            Ok(Ok(())) => BindStatus::Ok,
            Ok(Err(error)) => status_of(error),
            Err(_) => {
                BindStatus::Error("internal error: the planner panicked on this query".into())
            }
        }
    }
}

fn status_of(error: EngineError) -> BindStatus {
    if let Some(table) = error.missing_table() {
        return BindStatus::MissingTables(vec![table.to_string()]);
    }
    match error {
        EngineError::NotSupported { feature, .. } => BindStatus::Unsupported(feature),
        EngineError::Execution(error) => BindStatus::Error(format!("planning failed: {error}")),
        other => BindStatus::Error(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_statuses_name_what_is_wrong() {
        let checker = EngineChecker::new(&FunctionLibrary::new()).unwrap();
        assert_eq!(checker.check("SecurityEvent | take 1"), BindStatus::Ok);
        assert!(
            matches!(checker.check("NoSuchTable | take 1"), BindStatus::MissingTables(t) if t == ["NoSuchTable"])
        );
        assert!(matches!(
            checker.check("SecurityEvent | where NoColumn == 1"),
            BindStatus::Error(_)
        ));
    }
}
