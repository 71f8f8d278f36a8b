//! Schemas for custom tables (`*_CL` and any table without a known schema), inferred from the
//! rows themselves: per column the narrowest Kusto type every non-empty value fits — bool,
//! long, real, datetime, dynamic — else string. Inferred schemas are marked as such.

use quarry_schema::{Column, KustoType, TableSchema};
use serde_json::{Map, Value};

/// What the values of one column seen so far allow.
#[derive(Debug, Clone, Copy)]
struct Candidates {
    bool: bool,
    long: bool,
    real: bool,
    datetime: bool,
    dynamic: bool,
    seen: bool,
}

impl Default for Candidates {
    fn default() -> Self {
        Candidates {
            bool: true,
            long: true,
            real: true,
            datetime: true,
            dynamic: true,
            seen: false,
        }
    }
}

impl Candidates {
    /// Narrows the candidates by one value.
    fn observe(&mut self, value: &Value) {
        match value {
            Value::Null => return,
            Value::String(s) if s.trim().is_empty() => return,
            _ => {}
        }
        self.seen = true;
        match value {
            Value::Bool(_) => {
                self.long = false;
                self.real = false;
                self.datetime = false;
                self.dynamic = false;
            }
            Value::Number(n) => {
                self.bool = false;
                self.datetime = false;
                self.dynamic = false;
                if n.as_i64().is_none() {
                    self.long = false;
                }
            }
            Value::String(s) => {
                let s = s.trim();
                self.dynamic = false;
                if !matches!(s.to_ascii_lowercase().as_str(), "true" | "false") {
                    self.bool = false;
                }
                if s.parse::<i64>().is_err() {
                    self.long = false;
                }
                if s.parse::<f64>().is_err() {
                    self.real = false;
                }
                if !looks_like_datetime(s) {
                    self.datetime = false;
                }
            }
            Value::Array(_) | Value::Object(_) => {
                self.bool = false;
                self.long = false;
                self.real = false;
                self.datetime = false;
            }
            Value::Null => {}
        }
    }

    /// The narrowest type the observed values allow.
    fn kusto_type(&self) -> KustoType {
        if !self.seen {
            KustoType::String
        } else if self.bool {
            KustoType::Bool
        } else if self.long {
            KustoType::Long
        } else if self.real {
            KustoType::Real
        } else if self.datetime {
            KustoType::DateTime
        } else if self.dynamic {
            KustoType::Dynamic
        } else {
            KustoType::String
        }
    }
}

/// Whether text is an ISO-8601 style date or datetime (`2024-01-31`, `2024-01-31T10:00:00Z`,
/// `2024-01-31 10:00:00.123`), the shapes exports write.
fn looks_like_datetime(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && quarry_engine::values::parse_datetime(text).is_some()
}

/// The column types a stream of rows allows, folded one row at a time so that no row has to be
/// kept.
#[derive(Debug, Default)]
pub struct SchemaInference {
    /// Column names in the order they were first seen.
    order: Vec<String>,
    candidates: std::collections::HashMap<String, Candidates>,
}

impl SchemaInference {
    /// Narrows the column types by one row.
    pub fn observe(&mut self, row: &Map<String, Value>) {
        for (field, value) in row {
            match self.candidates.get_mut(field) {
                Some(candidates) => candidates.observe(value),
                None => {
                    let mut candidates = Candidates::default();
                    candidates.observe(value);
                    self.order.push(field.clone());
                    self.candidates.insert(field.clone(), candidates);
                }
            }
        }
    }

    /// The schema of table `name`: columns in the order they were first seen, after an existing
    /// schema's columns (`base`), which keep their types.
    pub fn schema(&self, name: &str, base: Option<&TableSchema>) -> Result<TableSchema, String> {
        let mut columns: Vec<Column> = base.map(|b| b.columns().to_vec()).unwrap_or_default();
        for field in &self.order {
            if columns.iter().any(|c| &c.name == field) {
                continue;
            }
            let ty = self
                .candidates
                .get(field)
                .map(Candidates::kusto_type)
                .unwrap_or(KustoType::String);
            columns.push(Column::new(field.clone(), ty));
        }
        TableSchema::new(name, columns, "inferred", true).map_err(|e| e.to_string())
    }
}

/// Each column's name and Kusto type name, for tests.
#[cfg(test)]
pub(crate) fn column_types(schema: &TableSchema) -> Vec<(&str, &str)> {
    schema
        .columns()
        .iter()
        .map(|c| (c.name.as_str(), c.ty.name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn narrowest_types_in_first_seen_order() {
        let mut inference = SchemaInference::default();
        for row in [
            json!({"TimeGenerated": "2024-01-01T00:00:00Z", "Count": 1, "Ratio": 1, "Flag": true, "Bag": {"a": 1}, "Text": "x", "Empty": ""}),
            json!({"TimeGenerated": "2024-01-02 10:00:00", "Count": "2", "Ratio": 1.5, "Flag": "false", "Bag": [1], "Text": 3}),
        ] {
            inference.observe(row.as_object().unwrap());
        }
        let schema = inference.schema("Custom_CL", None).unwrap();
        assert_eq!(
            column_types(&schema),
            [
                ("TimeGenerated", "datetime"),
                ("Count", "long"),
                ("Ratio", "real"),
                ("Flag", "bool"),
                ("Bag", "dynamic"),
                ("Text", "string"),
                ("Empty", "string"),
            ]
        );
        assert!(schema.inferred());
    }
}
