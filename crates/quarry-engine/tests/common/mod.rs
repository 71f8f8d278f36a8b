//! Helpers shared by the engine's integration tests: run a query, get its rows as JSON.

#![allow(dead_code)]

use quarry_engine::format::json_rows;
use quarry_engine::{Session, SessionConfig};
use serde_json::Value;

/// A session with several partitions, so that tests see DataFusion's parallel plans.
pub fn session() -> Session {
    Session::new(SessionConfig {
        target_partitions: Some(4),
        ..SessionConfig::default()
    })
    .expect("a session")
}

/// The result rows, in the order the query gives them.
pub fn rows(query: &str) -> Vec<Vec<Value>> {
    let output = session()
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    json_rows(&output)
}

/// `values` as a string array of `string_type`: `Utf8View` as workspace tables read strings,
/// anything else as `Utf8` as `datatable` and in-memory tables hold them.
pub fn string_array<S: AsRef<str>>(
    values: &[Option<S>],
    string_type: &datafusion::arrow::datatypes::DataType,
) -> datafusion::arrow::array::ArrayRef {
    use datafusion::arrow::array::{StringArray, StringViewArray};
    let values = values.iter().map(|v| v.as_ref().map(AsRef::as_ref));
    match string_type {
        datafusion::arrow::datatypes::DataType::Utf8View => {
            std::sync::Arc::new(values.collect::<StringViewArray>())
        }
        _ => std::sync::Arc::new(values.collect::<StringArray>()),
    }
}

/// A [`session`] with one in-memory table `name` of the named `columns` (all nullable).
pub fn session_with_table(
    name: &str,
    columns: Vec<(&str, datafusion::arrow::array::ArrayRef)>,
) -> Session {
    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::datatypes::{Field, Schema};
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let schema = std::sync::Arc::new(Schema::new(fields));
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).expect("a batch of the columns");
    let session = session();
    session
        .register_batches(name, schema, vec![batch])
        .expect("register the table");
    session
}
