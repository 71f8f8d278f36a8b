//! Shared scans: a table that several rules of a hunt read is decoded from Parquet once, into
//! memory, and every rule's session reads that copy instead of scanning the files again. Only
//! tables that fit the budget are shared; the rest are scanned per rule as usual.

use datafusion::datasource::{MemTable, TableProvider};
use quarry_engine::{Session, SessionConfig};
use quarry_ingest::Workspace;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Decoded Arrow is larger than zstd Parquet; this is the factor used to guess a table's size
/// in memory from its files before decoding it.
const DECODED_PER_PARQUET_BYTE: u64 = 8;

/// Tables held in memory for the rules of one hunt.
#[derive(Default)]
pub struct SharedTables {
    tables: HashMap<String, Arc<dyn TableProvider>>,
    /// The tables shared, with the rules that read each.
    pub shared: BTreeMap<String, usize>,
    /// Bytes held in memory.
    pub bytes: usize,
}

impl std::fmt::Debug for SharedTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTables")
            .field("shared", &self.shared)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl SharedTables {
    /// Replaces the workspace's file-backed tables in `session` by the shared copies.
    pub fn register(&self, session: &Session) {
        for (name, table) in &self.tables {
            session.register_table(name, Arc::clone(table));
        }
    }
}

/// Loads into memory each table read by at least two rules (`readers`: table → rule count),
/// largest reader count first, while the estimated size stays under `budget` bytes.
pub async fn load_shared(
    workspace: &Workspace,
    readers: &BTreeMap<String, usize>,
    budget: u64,
    partitions: usize,
) -> SharedTables {
    let mut candidates: Vec<(&String, usize, u64)> = readers
        .iter()
        .filter(|(_, count)| **count >= 2)
        .filter_map(|(table, count)| {
            let entry = workspace.manifest().tables.get(table)?;
            Some((
                table,
                *count,
                entry.bytes().saturating_mul(DECODED_PER_PARQUET_BYTE),
            ))
        })
        .collect();
    // The tables that save the most decoding (rules × size) first.
    candidates.sort_by(|a, b| {
        (b.1 as u64 * b.2)
            .cmp(&(a.1 as u64 * a.2))
            .then(a.0.cmp(b.0))
    });
    let mut shared = SharedTables::default();
    let Ok(session) = Session::new(SessionConfig::default()) else {
        return shared;
    };
    if workspace.register(&session).is_err() {
        return shared;
    }
    let mut estimated_total = 0u64;
    for (table, count, estimate) in candidates {
        if estimated_total.saturating_add(estimate) > budget {
            continue;
        }
        let Some(provider) = session.table(table) else {
            continue;
        };
        let Ok(frame) = session.context().read_table(Arc::clone(&provider)) else {
            continue;
        };
        let Ok(batches) = frame.collect().await else {
            continue;
        };
        let bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
        // Spread the batches over the partitions so rules still scan in parallel.
        let partitions = partitions.max(1);
        let mut split: Vec<Vec<_>> = vec![Vec::new(); partitions];
        for (i, batch) in batches.into_iter().enumerate() {
            split[i % partitions].push(batch);
        }
        let Ok(memory) = MemTable::try_new(provider.schema(), split) else {
            continue;
        };
        estimated_total = estimated_total.saturating_add(estimate);
        shared.bytes += bytes;
        shared.shared.insert(table.clone(), count);
        shared.tables.insert(table.clone(), Arc::new(memory));
    }
    shared
}
