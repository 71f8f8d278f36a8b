//! Ballista extension codecs that carry what Quarry plans contain and stock DataFusion cannot
//! serialize: Quarry's functions (with their [`Recipe`](crate::recipe::Recipe)), workspace
//! tables (their Parquet files, read by the executors from the shared path) and in-memory
//! tables (`datatable`, watchlists, as Arrow IPC). Everything else goes to Ballista's codecs.

use crate::recipe::{lookup, Function};
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result as DfResult, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use quarry_ingest::workspace::manifest::FileEntry;
use quarry_ingest::workspace::provider::WorkspaceTable;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const FUNCTION: &[u8] = b"QRYF";
const WORKSPACE_TABLE: &[u8] = b"QRYW";
const MEMORY_TABLE: &[u8] = b"QRYM";

static WITHOUT_FUNCTIONS: AtomicBool = AtomicBool::new(false);

/// Makes this process refuse to recreate Quarry functions, as a node without them would (for
/// tests of the "missing function" error).
pub fn disable_kql_functions() {
    WITHOUT_FUNCTIONS.store(true, Ordering::SeqCst);
}

/// What travels with a Quarry function.
#[derive(Debug, Serialize, Deserialize)]
struct FunctionPayload {
    key: String,
    recipe: Option<Arc<crate::recipe::Recipe>>,
}

fn encode_function(function: Function, buf: &mut Vec<u8>) -> DfResult<()> {
    if function.is_builtin() {
        // DataFusion's functions are resolved by name on every node.
        return Ok(());
    }
    let key = function.key();
    let recipe = lookup(&key).and_then(|known| known.recipe);
    buf.extend_from_slice(FUNCTION);
    serde_json::to_writer(buf, &FunctionPayload { key, recipe })
        .map_err(|e| DataFusionError::Internal(format!("cannot encode a KQL function: {e}")))
}

fn missing(name: &str, why: impl std::fmt::Display) -> DataFusionError {
    let message = format!(
        "KQL function `{name}` is missing on this cluster node ({why}); \
         run the scheduler and executors with `quarry scheduler` / `quarry executor` \
         of the same version as the client"
    );
    log::warn!("{message}");
    DataFusionError::Plan(message)
}

fn decode_function(name: &str, buf: &[u8]) -> DfResult<Function> {
    let Some(json) = buf.strip_prefix(FUNCTION) else {
        return Err(missing(name, "the plan does not define it"));
    };
    let payload: FunctionPayload = serde_json::from_slice(json)
        .map_err(|e| missing(name, format!("its definition does not decode: {e}")))?;
    if let Some(known) = lookup(&payload.key) {
        return Ok(known.function);
    }
    if WITHOUT_FUNCTIONS.load(Ordering::SeqCst) {
        return Err(missing(
            name,
            "this node was started without the KQL function library",
        ));
    }
    let Some(recipe) = payload.recipe else {
        return Err(missing(name, "no query to recreate it from came with it"));
    };
    recipe
        .replan()
        .map_err(|e| missing(name, format!("planning the query here failed: {e}")))?;
    lookup(&payload.key)
        .map(|known| known.function)
        .ok_or_else(|| {
            missing(
                name,
                "planning the query here did not produce it (is this node running another quarry version?)",
            )
        })
}

fn decode_scalar(name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
    match decode_function(name, buf)? {
        Function::Scalar(f) => Ok(f),
        _ => Err(missing(name, "it is not a scalar function here")),
    }
}

fn decode_aggregate(name: &str, buf: &[u8]) -> DfResult<Arc<AggregateUDF>> {
    match decode_function(name, buf)? {
        Function::Aggregate(f) => Ok(f),
        _ => Err(missing(name, "it is not an aggregate function here")),
    }
}

fn decode_window(name: &str, buf: &[u8]) -> DfResult<Arc<WindowUDF>> {
    match decode_function(name, buf)? {
        Function::Window(f) => Ok(f),
        _ => Err(missing(name, "it is not a window function here")),
    }
}

fn encode_table(provider: &dyn TableProvider, buf: &mut Vec<u8>) -> DfResult<bool> {
    let any: &dyn std::any::Any = provider;
    if let Some(table) = any.downcast_ref::<WorkspaceTable>() {
        buf.extend_from_slice(WORKSPACE_TABLE);
        serde_json::to_writer(buf, table.files()).map_err(|e| {
            DataFusionError::Internal(format!("cannot encode a workspace table: {e}"))
        })?;
        return Ok(true);
    }
    if let Some(table) = any.downcast_ref::<MemTable>() {
        buf.extend_from_slice(MEMORY_TABLE);
        let count = u32::try_from(table.batches.len())
            .map_err(|_| DataFusionError::Internal("too many partitions".to_string()))?;
        buf.extend_from_slice(&count.to_le_bytes());
        for partition in &table.batches {
            let batches = partition.try_read().map_err(|_| {
                DataFusionError::Execution(
                    "an in-memory table is being written while the plan is sent".to_string(),
                )
            })?;
            let mut ipc = Vec::new();
            {
                let mut writer = StreamWriter::try_new(&mut ipc, &table.schema())?;
                for batch in batches.iter() {
                    writer.write(batch)?;
                }
                writer.finish()?;
            }
            buf.extend_from_slice(&(ipc.len() as u64).to_le_bytes());
            buf.extend_from_slice(&ipc);
        }
        return Ok(true);
    }
    Ok(false)
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> DfResult<&'a [u8]> {
    if buf.len() < n {
        return Err(DataFusionError::Internal(
            "an in-memory table's data is cut short".to_string(),
        ));
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

fn decode_table(buf: &[u8], schema: SchemaRef) -> DfResult<Option<Arc<dyn TableProvider>>> {
    if let Some(json) = buf.strip_prefix(WORKSPACE_TABLE) {
        let files: Vec<(PathBuf, FileEntry)> = serde_json::from_slice(json).map_err(|e| {
            DataFusionError::Internal(format!("cannot decode a workspace table: {e}"))
        })?;
        return Ok(Some(Arc::new(WorkspaceTable::from_files(schema, files))));
    }
    if let Some(mut rest) = buf.strip_prefix(MEMORY_TABLE) {
        let count = u32::from_le_bytes(
            take(&mut rest, 4)?
                .try_into()
                .map_err(|_| DataFusionError::Internal("bad partition count".to_string()))?,
        );
        let mut partitions = Vec::new();
        for _ in 0..count {
            let length = u64::from_le_bytes(
                take(&mut rest, 8)?
                    .try_into()
                    .map_err(|_| DataFusionError::Internal("bad partition length".to_string()))?,
            );
            let bytes = take(&mut rest, length as usize)?;
            let reader = StreamReader::try_new(bytes, None)?;
            let batches = reader.collect::<Result<Vec<RecordBatch>, _>>()?;
            partitions.push(batches);
        }
        return Ok(Some(Arc::new(MemTable::try_new(schema, partitions)?)));
    }
    Ok(None)
}

/// The function methods both codec traits share: Quarry functions with their recipes.
macro_rules! quarry_function_methods {
    () => {
        fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
            decode_scalar(name, buf)
        }

        fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
            encode_function(Function::Scalar(Arc::new(node.clone())), buf)
        }

        fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<AggregateUDF>> {
            decode_aggregate(name, buf)
        }

        fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> DfResult<()> {
            encode_function(Function::Aggregate(Arc::new(node.clone())), buf)
        }

        fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<WindowUDF>> {
            decode_window(name, buf)
        }

        fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> DfResult<()> {
            encode_function(Function::Window(Arc::new(node.clone())), buf)
        }
    };
}

/// The logical codec: Ballista's, plus Quarry functions and tables.
#[derive(Debug, Default)]
pub struct QuarryLogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for QuarryLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> DfResult<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn TableProvider>> {
        match decode_table(buf, schema.clone())? {
            Some(table) => Ok(table),
            None => self
                .inner
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> DfResult<()> {
        if encode_table(node.as_ref(), buf)? {
            return Ok(());
        }
        self.inner
            .try_encode_table_provider(table_ref, node, buf)
            .map_err(|e| {
                DataFusionError::NotImplemented(format!(
                    "not supported on a cluster: table `{table_ref}` ({e})"
                ))
            })
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> DfResult<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    quarry_function_methods!();
}

/// The physical codec: Ballista's, plus Quarry functions.
#[derive(Debug, Default)]
pub struct QuarryPhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for QuarryPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        self.inner
            .try_encode(node.clone(), buf, proto_converter)
            .map_err(|e| {
                DataFusionError::NotImplemented(format!(
                    "not supported on a cluster: operator {} ({e})",
                    node.name()
                ))
            })
    }

    quarry_function_methods!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn roundtrip(provider: Arc<dyn TableProvider>) -> Arc<dyn TableProvider> {
        let mut buf = Vec::new();
        assert!(encode_table(provider.as_ref(), &mut buf).unwrap());
        decode_table(&buf, provider.schema()).unwrap().unwrap()
    }

    #[test]
    fn in_memory_tables_travel_with_every_partition() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = |s: &str, n: i64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(vec![Some(s), None])),
                    Arc::new(Int64Array::from(vec![Some(n), None])),
                ],
            )
            .unwrap()
        };
        let table = MemTable::try_new(
            schema.clone(),
            vec![
                vec![batch("a", 1), batch("b", 2)],
                vec![],
                vec![batch("c", 3)],
            ],
        )
        .unwrap();
        let decoded = roundtrip(Arc::new(table));
        let any: &dyn std::any::Any = decoded.as_ref();
        let decoded = any.downcast_ref::<MemTable>().unwrap();
        let rows: Vec<usize> = decoded
            .batches
            .iter()
            .map(|p| p.try_read().unwrap().iter().map(|b| b.num_rows()).sum())
            .collect();
        assert_eq!(rows, vec![4, 0, 2]);
        assert_eq!(
            decoded.batches[2].try_read().unwrap()[0],
            batch("c", 3),
            "the data must be unchanged"
        );
    }

    #[test]
    fn workspace_tables_travel_as_their_files() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        let entry = FileEntry {
            path: "tables/T/date=2024-01-01/a.parquet".to_string(),
            date: "2024-01-01".to_string(),
            rows: 10,
            bytes: 100,
            time_ranges: [("Timestamp".to_string(), (1, 2))].into_iter().collect(),
        };
        let files = vec![(PathBuf::from("/data/ws/tables/T/a.parquet"), entry)];
        let table = WorkspaceTable::from_files(schema.clone(), files.clone());
        let decoded = roundtrip(Arc::new(table));
        let any: &dyn std::any::Any = decoded.as_ref();
        let decoded = any.downcast_ref::<WorkspaceTable>().unwrap();
        assert_eq!(decoded.files(), files.as_slice());
        assert_eq!(decoded.schema(), schema);
    }

    #[test]
    fn a_function_without_a_definition_is_named_in_the_error() {
        let error = decode_scalar("kql_mystery", b"").unwrap_err().to_string();
        assert!(
            error.contains("KQL function `kql_mystery` is missing"),
            "{error}"
        );
        let bogus = [FUNCTION, &br#"{"key":"scalar:nothing","recipe":null}"#[..]].concat();
        let error = decode_scalar("kql_mystery", &bogus)
            .unwrap_err()
            .to_string();
        assert!(error.contains("kql_mystery"), "{error}");
    }
}
