//! Table schemas from a [`Catalog`] as empty tables, so that queries can be bound and planned
//! (e.g. by `quarry check`) without any data.

use crate::session::Session;
use crate::types::arrow_type;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use quarry_schema::{Catalog, TableSchema};
use std::sync::Arc;

/// The Arrow schema of `table`: one nullable field per column, typed by [`arrow_type`].
pub fn arrow_schema(table: &TableSchema) -> SchemaRef {
    let fields: Vec<Field> = table
        .columns()
        .iter()
        .map(|c| Field::new(c.name.as_str(), arrow_type(c.ty), true))
        .collect();
    Arc::new(Schema::new(fields))
}

/// The schema a Parquet scan of `table` reads: [`arrow_schema`] with strings as `Utf8View`, so
/// that the scan points into the pages' dictionaries instead of copying every string, and
/// per-row functions can spot repeated values by their views (`functions::distinct_values`).
pub fn scan_schema(table: &TableSchema) -> SchemaRef {
    let fields: Vec<Field> = arrow_schema(table)
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => f.as_ref().clone().with_data_type(DataType::Utf8View),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// An empty in-memory table (one partition, no batches) with the schema of `table`.
pub fn empty_table(table: &TableSchema) -> Result<MemTable, crate::EngineError> {
    Ok(MemTable::try_new(arrow_schema(table), vec![Vec::new()])?)
}

impl Session {
    /// Registers every table of `catalog` as an empty table with its schema, replacing tables of
    /// the same name. Tables whose schema cannot become an empty table are skipped.
    pub fn register_empty_schemas(&self, catalog: &Catalog) {
        for table in catalog.tables() {
            if let Ok(provider) = empty_table(table) {
                self.register_table(table.name(), Arc::new(provider));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionConfig;

    #[test]
    fn embedded_schemas_plan_without_data() {
        let session = Session::new(SessionConfig::default()).expect("a session");
        session.register_empty_schemas(Catalog::embedded());
        assert_eq!(session.table_names().len(), Catalog::embedded().len());
        session
            .plan_only("SecurityEvent | where EventID == 4625 | summarize count() by Account")
            .expect("plans");
        let error = session
            .plan_only("SecurityEvent | project Acount")
            .expect_err("an unknown column");
        assert!(
            matches!(error, crate::EngineError::Bind { .. }),
            "{error:?}"
        );
        let error = session
            .plan_only("NoSuchTable | take 1")
            .expect_err("an unknown table");
        assert!(error.to_string().contains("unknown table"), "{error}");
    }
}
