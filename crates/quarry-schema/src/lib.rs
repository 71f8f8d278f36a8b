//! `quarry-schema`: Kusto types and the catalog of table schemas.
//!
//! [`KustoType`] is a KQL scalar type, named as KQL names it ([`KustoType::from_name`] accepts the
//! aliases, case-insensitively). [`Catalog::embedded`] is the catalog of 944 Log Analytics /
//! Microsoft Sentinel / Defender XDR tables compiled into the binary from `data/tables.json`
//! (provenance in `data/README.md` and [`Catalog::sources`]); [`Catalog::from_json`] reads a file of
//! the same format and reports the table and column at fault when it is malformed.
//!
//! The mapping of these types onto Arrow comes with `quarry-engine`.
//!
//! ```
//! use quarry_schema::{Catalog, KustoType};
//!
//! let catalog = Catalog::embedded();
//! let table = catalog.table("SecurityEvent").unwrap();
//! assert_eq!(table.time_column().unwrap().ty, KustoType::DateTime);
//! assert_eq!(catalog.suggest("SecurityEvents"), Some("SecurityEvent"));
//! ```

pub mod catalog;
pub mod types;

pub use catalog::{Catalog, Column, SchemaError, TableSchema};
pub use types::{KustoType, UnknownKustoType};
