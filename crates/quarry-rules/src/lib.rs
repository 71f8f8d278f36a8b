//! `quarry-rules`: rule sources, rule model, analysis, catalog; for now the Azure-Sentinel YAML
//! query reader.
//!
//! [`sentinel::read_rule_query`] takes the text of an Azure-Sentinel rule file and returns its
//! `query:` together with a map from offsets in the query back to offsets in the file, so that
//! diagnostics found in the query can point into the file. [`sentinel::rule_files`] lists the rule
//! files of a folder.

pub mod sentinel;
