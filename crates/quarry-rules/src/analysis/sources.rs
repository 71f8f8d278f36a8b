//! Stored functions used as tabular sources: the tables their bodies read, followed through the
//! functions they call in turn, with a guard against cycles and a memo for one analysis.

use super::walk::Walker;
use crate::model::FunctionLibrary;
use std::collections::{HashMap, HashSet};

/// How many stored functions deep the resolution goes (ASIM parsers nest three or four); a
/// longer chain is cut there.
const MAX_NESTING: usize = 24;

/// The tables of the stored functions resolved so far in one analysis.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    done: HashMap<String, Vec<String>>,
    active: HashSet<String>,
}

/// The tables `name`'s body reads, recursively, and whether a cycle (or the nesting limit) cut
/// the answer short.
pub(crate) fn stored_tables(
    name: &str,
    library: &FunctionLibrary,
    memo: &mut Memo,
    nesting: usize,
) -> (Vec<String>, bool) {
    if let Some(tables) = memo.done.get(name) {
        return (tables.clone(), false);
    }
    if memo.active.contains(name) || nesting > MAX_NESTING {
        return (Vec::new(), true);
    }
    let Some(function) = library.get(name) else {
        return (Vec::new(), false);
    };
    memo.active.insert(name.to_string());
    let parsed = quarry_kql::parse(&function.body);
    let (tables, incomplete) = {
        let mut walker = Walker::new(&function.body, library, memo);
        walker.nesting = nesting;
        walker.bind_stored_parameters(&function.parameters);
        walker.statements(&parsed.query.statements);
        let incomplete = walker.incomplete;
        let tables: Vec<String> = walker.into_facts().tables.into_iter().collect();
        (tables, incomplete)
    };
    memo.active.remove(name);
    // A result cut short by a cycle is only right for the caller that closed the cycle.
    if !incomplete {
        memo.done.insert(name.to_string(), tables.clone());
    }
    (tables, incomplete)
}

impl Walker<'_, '_> {
    /// Records a call of the stored function `name` and the tables its body reads.
    pub(super) fn stored_function(&mut self, name: &str) {
        self.facts.stored_functions.insert(name.to_string());
        let (tables, incomplete) = stored_tables(name, self.library, self.memo, self.nesting + 1);
        self.incomplete |= incomplete;
        self.facts.tables.extend(tables);
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::analyse;
    use crate::model::{FunctionLibrary, FunctionParameter, Provenance, StoredFunction};

    fn function(name: &str, parameters: &[&str], body: &str) -> StoredFunction {
        StoredFunction {
            name: name.into(),
            parameters: parameters
                .iter()
                .map(|p| FunctionParameter {
                    name: p.to_string(),
                    kusto_type: "string".into(),
                    default: None,
                })
                .collect(),
            body: body.into(),
            description: String::new(),
            provenance: Provenance::default(),
        }
    }

    fn library(functions: Vec<StoredFunction>) -> FunctionLibrary {
        let mut library = FunctionLibrary::new();
        for f in functions {
            library.insert(f);
        }
        library
    }

    #[test]
    fn stored_functions_resolve_to_the_tables_of_their_bodies() {
        let library = library(vec![
            function(
                "imProcessCreate",
                &["starttime"],
                "union isfuzzy=true vimEmpty, vimSysmon(starttime), vimSecurity(starttime)",
            ),
            function("vimEmpty", &[], "datatable(A:string)[]"),
            function(
                "vimSysmon",
                &["starttime"],
                "let S = (){ Event | where TimeGenerated > starttime }; S",
            ),
            function(
                "vimSecurity",
                &["starttime"],
                "SecurityEvent | where TimeGenerated > starttime | join (WindowsEvent) on A",
            ),
        ]);
        let analysis = analyse("imProcessCreate | where A == 'x'", &library);
        assert_eq!(
            analysis.tables,
            vec!["Event", "SecurityEvent", "WindowsEvent"]
        );
        assert_eq!(analysis.stored_functions, vec!["imProcessCreate"]);
        let called = analyse("imProcessCreate(ago(1d))", &library);
        assert_eq!(called.tables, analysis.tables);
        assert_eq!(called.stored_functions, vec!["imProcessCreate"]);
    }

    #[test]
    fn a_cycle_between_stored_functions_ends() {
        let library = library(vec![
            function("A", &[], "union B, TableA"),
            function("B", &[], "union A, TableB"),
            function("Self", &[], "Self | union TableSelf"),
        ]);
        let analysis = analyse("A", &library);
        assert_eq!(analysis.tables, vec!["TableA", "TableB"]);
        assert_eq!(analysis.stored_functions, vec!["A"]);
        let analysis = analyse("B | join (A) on X", &library);
        assert_eq!(analysis.tables, vec!["TableA", "TableB"]);
        assert_eq!(analysis.stored_functions, vec!["A", "B"]);
        assert_eq!(analyse("Self", &library).tables, vec!["TableSelf"]);
    }

    #[test]
    fn parameters_of_a_stored_function_are_not_tables() {
        let mut tabular = function("Filter", &[], "T | where A > 1");
        tabular.parameters.push(FunctionParameter {
            name: "T".into(),
            kusto_type: "(*)".into(),
            default: None,
        });
        let library = library(vec![tabular]);
        let analysis = analyse("SecurityEvent | invoke Filter()", &library);
        assert_eq!(analysis.tables, vec!["SecurityEvent"]);
        assert_eq!(analysis.stored_functions, vec!["Filter"]);
    }
}
