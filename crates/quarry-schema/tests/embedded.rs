//! Tests of the embedded catalog against the data file it is built from.

use quarry_schema::{Catalog, KustoType, SchemaError};

const DATA: &str = include_str!("../data/tables.json");

#[test]
fn embedded_catalog_loads() {
    let catalog = Catalog::embedded();
    assert_eq!(catalog.len(), 944);
    assert!(std::ptr::eq(catalog, Catalog::embedded()), "parsed once");
    for source in [
        "azure-sentinel",
        "pysigma-xdr",
        "pysigma-azuremonitor",
        "sentinelninja",
    ] {
        assert!(catalog.sources().contains_key(source), "{source}");
    }
    for table in catalog.tables() {
        assert!(!table.inferred(), "{}", table.name());
        assert!(
            catalog.sources().contains_key(table.source()),
            "{}: source {}",
            table.name(),
            table.source()
        );
    }
}

#[test]
fn tables_are_sorted_by_name() {
    let names: Vec<&str> = Catalog::embedded().tables().map(|t| t.name()).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn well_known_tables_and_time_columns() {
    let catalog = Catalog::embedded();
    let time = |table: &str| {
        let schema = catalog
            .table(table)
            .unwrap_or_else(|| panic!("{table} missing"));
        let column = schema
            .time_column()
            .unwrap_or_else(|| panic!("{table}: no time column"));
        assert_eq!(column.ty, KustoType::DateTime, "{table}");
        column.name.as_str()
    };
    assert_eq!(time("SecurityEvent"), "TimeGenerated");
    assert_eq!(time("SigninLogs"), "TimeGenerated");
    assert_eq!(time("AuditLogs"), "TimeGenerated");
    // The merged DeviceProcessEvents has both columns (Sentinel's copy adds TimeGenerated); the
    // rule "TimeGenerated, else Timestamp" picks TimeGenerated. Timestamp is still there.
    assert_eq!(time("DeviceProcessEvents"), "TimeGenerated");
    let dpe = catalog.table("DeviceProcessEvents").unwrap();
    assert_eq!(dpe.column("Timestamp").unwrap().ty, KustoType::DateTime);
    // An Advanced Hunting-only table has just Timestamp.
    assert_eq!(time("AADSignInEventsBeta"), "Timestamp");
    assert!(catalog.table("securityevent").is_none(), "case-sensitive");
    assert!(dpe.column("timestamp").is_none(), "case-sensitive");
}

#[test]
fn every_column_type_in_the_file_maps_to_a_kusto_type() {
    let value: serde_json::Value = serde_json::from_str(DATA).unwrap();
    let tables = value["tables"].as_object().unwrap();
    let mut count = 0;
    for (table, schema) in tables {
        for column in schema["columns"].as_array().unwrap() {
            let name = column["name"].as_str().unwrap();
            let ty = column["type"].as_str().unwrap();
            let parsed = KustoType::from_name(ty)
                .unwrap_or_else(|| panic!("{table}.{name}: unknown type {ty:?}"));
            let embedded = Catalog::embedded().table(table).unwrap();
            assert_eq!(embedded.column(name).unwrap().ty, parsed, "{table}.{name}");
            count += 1;
        }
        // Beyond the file's columns, only Log Analytics standard columns are added.
        let file_columns: Vec<&str> = schema["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        for column in Catalog::embedded().table(table).unwrap().columns() {
            if !file_columns.contains(&column.name.as_str()) {
                assert!(
                    STANDARD.contains(&column.name.as_str())
                        && file_columns.contains(&"TimeGenerated"),
                    "{table}.{} was added but is not a standard column",
                    column.name
                );
            }
        }
    }
    assert_eq!(count, 27022);
}

const STANDARD: &[&str] = &[
    "TenantId",
    "Type",
    "_ResourceId",
    "_ItemId",
    "_SubscriptionId",
    "_IsBillable",
    "_BilledSize",
];

#[test]
fn log_analytics_tables_have_the_standard_columns() {
    let catalog = Catalog::embedded();
    for table in ["AuditLogs", "SecurityEvent", "BehaviorAnalytics"] {
        let schema = catalog.table(table).unwrap();
        for column in STANDARD {
            assert!(schema.column(column).is_some(), "{table} lacks {column}");
        }
    }
    // An Advanced Hunting-only table gets none of them.
    assert!(catalog
        .table("AADSignInEventsBeta")
        .unwrap()
        .column("TenantId")
        .is_none());
}

#[test]
fn suggests_close_table_names() {
    let catalog = Catalog::embedded();
    assert_eq!(
        catalog.suggest("DeviceProcesEvents"),
        Some("DeviceProcessEvents")
    );
    assert_eq!(catalog.suggest("securityevent"), Some("SecurityEvent"));
    assert_eq!(catalog.suggest("SigninLog"), Some("SigninLogs"));
    assert_eq!(catalog.suggest("NoSuchThingAtAllHere"), None);
}

#[test]
fn malformed_file_names_table_and_column() {
    let json = r#"{"version": 1, "tables": {"X": {"source": "s", "columns": [
        {"name": "Y", "type": "strnig"}]}}}"#;
    let err = Catalog::from_json(json).unwrap_err();
    assert!(
        matches!(&err, SchemaError::UnknownType { table, column, ty }
            if table == "X" && column == "Y" && ty == "strnig"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "table `X`, column `Y`: unknown Kusto type `strnig`"
    );
}

#[test]
fn every_type_name_round_trips() {
    for ty in KustoType::ALL {
        assert_eq!(KustoType::from_name(ty.name()), Some(ty));
        assert_eq!(KustoType::from_name(&ty.name().to_uppercase()), Some(ty));
        assert_eq!(ty.to_string(), ty.name());
    }
}
