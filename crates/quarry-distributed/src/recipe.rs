//! How a cluster node gets the Quarry functions a plan calls.
//!
//! DataFusion's own functions travel by name and every node has them. Quarry's are planned per
//! call site (a return type, options and a kernel chosen while planning), so a name is not
//! enough. Each one travels with a [`Recipe`]: the text, pinned `now`, parameters, stored
//! functions and workspace of the query that created it. A node that meets a function it has
//! not seen plans the recipe itself and takes the function from that plan, identified by its
//! key (its `Debug` form with addresses removed, so equal on every node running the same
//! binary). Known functions are kept in a process-wide table, so each recipe is planned at
//! most once per node.

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::SessionStateDefaults;
use datafusion::logical_expr::{
    AggregateUDF, Expr, LogicalPlan, ScalarUDF, WindowFunctionDefinition, WindowUDF,
};
use quarry_engine::{Session, SessionConfig, StoredFunction, StoredParameter};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

/// Everything a node needs to plan a query again and so recreate its functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The KQL text.
    pub text: String,
    /// The `now()` the query was planned with, in nanoseconds since the Unix epoch.
    pub now_nanos: i64,
    /// The session's query parameters.
    pub parameters: BTreeMap<String, String>,
    /// The stored functions (parsers) registered in the session.
    pub functions: Vec<RecipeFunction>,
    /// The workspace whose tables the query reads, at a path every node can read.
    pub workspace: Option<PathBuf>,
}

/// A stored function as a recipe carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipeFunction {
    /// The function's name.
    pub name: String,
    /// Parameters: name, Kusto type, default value.
    pub parameters: Vec<(String, String, Option<String>)>,
    /// The KQL body.
    pub body: String,
}

impl Recipe {
    /// The recipe of query `text` planned in `session` with `now_nanos`, reading `workspace`.
    pub fn of(session: &Session, text: &str, now_nanos: i64, workspace: Option<PathBuf>) -> Recipe {
        let functions = session
            .stored_function_names()
            .iter()
            .filter_map(|name| session.stored_function(name))
            .map(|compiled| {
                let source = compiled.source();
                RecipeFunction {
                    name: source.name.clone(),
                    parameters: source
                        .parameters
                        .iter()
                        .map(|p| (p.name.clone(), p.kusto_type.clone(), p.default.clone()))
                        .collect(),
                    body: source.body.clone(),
                }
            })
            .collect();
        Recipe {
            text: text.to_string(),
            now_nanos,
            parameters: session.config().parameters.clone(),
            functions,
            workspace,
        }
    }

    /// Plans the recipe in a fresh local session and records every function of the plan.
    pub fn replan(&self) -> Result<(), String> {
        let config = SessionConfig {
            now_nanos: Some(self.now_nanos),
            parameters: self.parameters.clone(),
            ..SessionConfig::default()
        };
        let session = Session::new(config).map_err(|e| e.to_string())?;
        if let Some(root) = &self.workspace {
            let workspace = quarry_ingest::Workspace::open(root).map_err(|e| e.to_string())?;
            workspace.register(&session).map_err(|e| e.to_string())?;
        }
        for function in &self.functions {
            session
                .register_function(StoredFunction {
                    name: function.name.clone(),
                    parameters: function
                        .parameters
                        .iter()
                        .map(|(name, kusto_type, default)| StoredParameter {
                            name: name.clone(),
                            kusto_type: kusto_type.clone(),
                            default: default.clone(),
                        })
                        .collect(),
                    body: function.body.clone(),
                })
                .map_err(|e| e.to_string())?;
        }
        let plan = session
            .logical_plan(&self.text)
            .map_err(|e| e.to_string())?;
        remember_plan(&plan, Some(&Arc::new(self.clone())));
        Ok(())
    }
}

/// A function a plan calls.
#[derive(Debug, Clone)]
pub enum Function {
    /// A scalar function.
    Scalar(Arc<ScalarUDF>),
    /// An aggregate function.
    Aggregate(Arc<AggregateUDF>),
    /// A window function.
    Window(Arc<WindowUDF>),
}

impl Function {
    /// The function's name.
    pub fn name(&self) -> &str {
        match self {
            Function::Scalar(f) => f.name(),
            Function::Aggregate(f) => f.name(),
            Function::Window(f) => f.name(),
        }
    }

    /// The key that identifies the function on every node.
    pub fn key(&self) -> String {
        match self {
            Function::Scalar(f) => key("scalar", format!("{:?}", f.inner())),
            Function::Aggregate(f) => key("aggregate", format!("{:?}", f.inner())),
            Function::Window(f) => key("window", format!("{:?}", f.inner())),
        }
    }

    /// True for DataFusion's own functions, which every node resolves by name.
    pub fn is_builtin(&self) -> bool {
        let defaults = defaults();
        match self {
            Function::Scalar(f) => defaults.scalar.get(f.name()).is_some_and(|d| **d == **f),
            Function::Aggregate(f) => defaults.aggregate.get(f.name()).is_some_and(|d| **d == **f),
            Function::Window(f) => defaults.window.get(f.name()).is_some_and(|d| **d == **f),
        }
    }
}

/// `kind:debug` with pointer addresses (which differ between processes) blanked.
fn key(kind: &str, debug: String) -> String {
    static ADDRESS: OnceLock<Option<Regex>> = OnceLock::new();
    let address = ADDRESS.get_or_init(|| Regex::new("0x[0-9a-fA-F]+").ok());
    match address {
        Some(re) => format!("{kind}:{}", re.replace_all(&debug, "0x")),
        None => format!("{kind}:{debug}"),
    }
}

/// DataFusion's default functions by name.
struct Defaults {
    scalar: HashMap<String, Arc<ScalarUDF>>,
    aggregate: HashMap<String, Arc<AggregateUDF>>,
    window: HashMap<String, Arc<WindowUDF>>,
}

fn defaults() -> &'static Defaults {
    static DEFAULTS: OnceLock<Defaults> = OnceLock::new();
    DEFAULTS.get_or_init(|| Defaults {
        scalar: SessionStateDefaults::default_scalar_functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect(),
        aggregate: SessionStateDefaults::default_aggregate_functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect(),
        window: SessionStateDefaults::default_window_functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect(),
    })
}

/// A known function and the recipe that recreates it.
#[derive(Debug, Clone)]
pub struct Known {
    /// The function.
    pub function: Function,
    /// How another node gets it.
    pub recipe: Option<Arc<Recipe>>,
}

fn known() -> &'static RwLock<HashMap<String, Known>> {
    static KNOWN: OnceLock<RwLock<HashMap<String, Known>>> = OnceLock::new();
    KNOWN.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The known function with `key`.
pub fn lookup(key: &str) -> Option<Known> {
    known().read().ok()?.get(key).cloned()
}

/// Records every non-built-in function of `plan`, with `recipe` when given.
pub fn remember_plan(plan: &LogicalPlan, recipe: Option<&Arc<Recipe>>) {
    let functions = functions_in(plan);
    let Ok(mut table) = known().write() else {
        return;
    };
    for function in functions {
        if function.is_builtin() {
            continue;
        }
        let key = function.key();
        match table.get_mut(&key) {
            Some(entry) if recipe.is_none() => {
                entry.function = function;
            }
            _ => {
                table.insert(
                    key,
                    Known {
                        function,
                        recipe: recipe.cloned(),
                    },
                );
            }
        }
    }
}

/// Every function `plan` calls, subqueries included.
pub fn functions_in(plan: &LogicalPlan) -> Vec<Function> {
    let mut found = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                match e {
                    Expr::ScalarFunction(f) => found.push(Function::Scalar(Arc::clone(&f.func))),
                    Expr::AggregateFunction(f) => {
                        found.push(Function::Aggregate(Arc::clone(&f.func)))
                    }
                    Expr::WindowFunction(w) => match &w.fun {
                        WindowFunctionDefinition::AggregateUDF(f) => {
                            found.push(Function::Aggregate(Arc::clone(f)))
                        }
                        WindowFunctionDefinition::WindowUDF(f) => {
                            found.push(Function::Window(Arc::clone(f)))
                        }
                    },
                    _ => {}
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(text: &str) -> Recipe {
        Recipe {
            text: text.to_string(),
            now_nanos: 1_700_000_000_000_000_000,
            parameters: BTreeMap::new(),
            functions: Vec::new(),
            workspace: None,
        }
    }

    fn quarry_functions(text: &str) -> Vec<Function> {
        let session = Session::new(SessionConfig::default()).unwrap();
        let plan = session.logical_plan(text).unwrap();
        functions_in(&plan)
            .into_iter()
            .filter(|f| !f.is_builtin())
            .collect()
    }

    #[test]
    fn quarry_functions_are_told_from_datafusion_ones_and_keyed_without_addresses() {
        let text = "datatable(s: string, t: datetime) ['a b', datetime(2024-01-01)] \
                    | where s has 'b' | extend d = dayofweek(t), n = countof(s, 'a') \
                    | summarize c = count() by s";
        let functions = quarry_functions(text);
        let names: Vec<&str> = functions.iter().map(Function::name).collect();
        assert!(names.iter().any(|n| n.contains("has")), "{names:?}");
        assert!(!names.contains(&"count"), "{names:?}");
        let address = Regex::new("0x[0-9a-fA-F]").unwrap();
        for function in &functions {
            let key = function.key();
            assert!(!address.is_match(&key), "{key}");
        }
        // Planning the same text again gives the same keys (so another node finds them).
        let again: Vec<String> = quarry_functions(text).iter().map(Function::key).collect();
        let first: Vec<String> = functions.iter().map(Function::key).collect();
        assert_eq!(first, again);
    }

    #[test]
    fn a_recipe_recreates_the_functions_of_its_query() {
        let text = "datatable(s: string) ['x y'] | where s contains 'Y' | extend l = strlen(s)";
        let keys: Vec<String> = quarry_functions(text).iter().map(Function::key).collect();
        assert!(!keys.is_empty());
        let planned = recipe(text);
        planned.replan().unwrap();
        for key in &keys {
            let known = lookup(key).unwrap_or_else(|| panic!("{key} is not known"));
            assert_eq!(known.recipe.as_deref(), Some(&planned));
        }
        assert!(recipe("datatable(s: string) [] | where nosuchfunction(s)")
            .replan()
            .unwrap_err()
            .contains("nosuchfunction"));
    }
}
