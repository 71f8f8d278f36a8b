//! The catalog's stored functions (parsers) compiled for the engine once, then registered into
//! every session that needs them.

use quarry_engine::{
    CompiledFunction, Session, StoredFunction, StoredFunctionError, StoredParameter,
};
use quarry_rules::model::FunctionLibrary;
use std::sync::Arc;

/// A library compiled for the engine, with the functions that did not compile.
#[derive(Debug, Default, Clone)]
pub struct CompiledLibrary {
    functions: Vec<Arc<CompiledFunction>>,
    /// Functions whose body or parameters do not parse, with the reason.
    pub errors: Vec<String>,
}

impl CompiledLibrary {
    /// Compiles every function of `library`.
    pub fn compile(library: &FunctionLibrary) -> CompiledLibrary {
        let mut compiled = CompiledLibrary::default();
        for function in library.iter() {
            let source = StoredFunction {
                name: function.name.clone(),
                parameters: function
                    .parameters
                    .iter()
                    .map(|p| StoredParameter {
                        name: p.name.clone(),
                        kusto_type: p.kusto_type.clone(),
                        default: p.default.clone(),
                    })
                    .collect(),
                body: function.body.clone(),
            };
            match CompiledFunction::compile(source) {
                Ok(done) => compiled.functions.push(Arc::new(done)),
                Err(error) => compiled
                    .errors
                    .push(describe(&function.provenance.path, &error)),
            }
        }
        compiled
    }

    /// Makes every compiled function callable in `session`.
    pub fn register(&self, session: &Session) {
        for function in &self.functions {
            session.register_compiled(Arc::clone(function));
        }
    }

    /// How many functions compiled.
    pub fn len(&self) -> usize {
        self.functions.len()
    }

    /// True when none did.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }
}

fn describe(path: &str, error: &StoredFunctionError) -> String {
    format!("{path}: {error}")
}
