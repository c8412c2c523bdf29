//! What a stateful operator shares with the runtime during one micro-batch: which stores
//! are its own, the batch's watermarks, and the numbers it reports in progress
//! (`stateOperators`, Spark's names).

use std::path::{Path, PathBuf};

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use engine_core::progress::StateOperatorProgress;
use engine_core::{EngineError, Result};
use engine_state::rows::StateSchema;
use engine_state::{StateStore, StateStoreId, StateStoreMetrics, StateStores};

/// The batch a stateful operator runs in (Spark's `IncrementalExecution` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchInfo {
    /// The batch id: stores are opened at version `batch_id` and commit `batch_id + 1`.
    pub batch_id: u64,
    /// The eviction watermark (this batch's), ms.
    pub eviction_watermark_ms: i64,
    /// The late-event watermark (the batch before's), ms.
    pub late_watermark_ms: i64,
}

impl BatchInfo {
    /// The eviction watermark in microseconds.
    pub fn eviction_us(&self) -> i64 {
        self.eviction_watermark_ms.saturating_mul(1000)
    }

    /// The late-event watermark in microseconds.
    pub fn late_us(&self) -> i64 {
        self.late_watermark_ms.saturating_mul(1000)
    }
}

/// One stateful operator of one batch.
pub struct StateOperator {
    /// Its id in the plan (the `state/<id>` directory).
    pub id: u64,
    /// Spark's short name (`stateStoreSave`, `dedupe`, ...).
    pub name: &'static str,
    /// The query run's stores.
    pub stores: Arc<StateStores>,
    /// `<checkpoint>/state`.
    pub state_root: PathBuf,
    /// The batch.
    pub batch: BatchInfo,
    /// State partitions.
    pub partitions: usize,
    /// What the operator computes (checked against the checkpoint on restart).
    pub properties: String,
    progress: Mutex<StateOperatorProgress>,
}

impl std::fmt::Debug for StateOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateOperator")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("batch", &self.batch)
            .finish()
    }
}

/// Time spent in the phases of one partition, ms.
#[derive(Debug, Default, Clone, Copy)]
pub struct Phases {
    /// Folding the input into state.
    pub updates_ms: i64,
    /// Evicting.
    pub removals_ms: i64,
    /// Committing.
    pub commit_ms: i64,
}

/// Runs `f` and adds its duration in ms to `slot`.
pub fn timed<T>(slot: &mut i64, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = Instant::now();
    let out = f();
    *slot += start.elapsed().as_millis() as i64;
    out
}

impl StateOperator {
    /// On the first batch of a run (`schema_check` is `Some(stateSchemaCheck)`): checks the
    /// store's schema, then what the operator computes, against what the checkpoint recorded
    /// (writing both the first time).
    pub fn check_schema(&self, schema_check: Option<bool>, schema: &StateSchema) -> Result<()> {
        let Some(check) = schema_check else {
            return Ok(());
        };
        engine_state::schema::check_state_schema(
            &self.state_root,
            self.id,
            "default",
            schema,
            check,
            false,
        )?;
        check_properties(&self.state_root, self.id, self.name, &self.properties)
    }

    /// A new operator of a batch.
    pub fn new(
        id: u64,
        name: &'static str,
        stores: Arc<StateStores>,
        state_root: PathBuf,
        batch: BatchInfo,
        partitions: usize,
        properties: String,
    ) -> Self {
        StateOperator {
            id,
            name,
            stores,
            state_root,
            batch,
            partitions,
            properties,
            progress: Mutex::new(StateOperatorProgress {
                operator_name: name.to_string(),
                num_rows_total: 0,
                num_rows_updated: 0,
                all_updates_time_ms: 0,
                num_rows_removed: 0,
                all_removals_time_ms: 0,
                commit_time_ms: 0,
                memory_used_bytes: 0,
                num_rows_dropped_by_watermark: 0,
                num_shuffle_partitions: partitions as i64,
                num_state_store_instances: partitions as i64,
                custom_metrics: Default::default(),
            }),
        }
    }

    /// The id of this operator's store of `partition`.
    pub fn store_id(&self, partition: usize) -> StateStoreId {
        StateStoreId::new(self.state_root.clone(), self.id, partition as u32)
    }

    /// The writable store of `partition` at this batch's version.
    pub fn open(&self, partition: usize) -> Result<Box<dyn StateStore>> {
        self.stores
            .get_store(&self.store_id(partition), self.batch.batch_id)
    }

    /// Commits one partition's store (between the crash points the kill tests stop at),
    /// timing it, then records the partition's numbers.
    pub fn commit(
        &self,
        store: &mut dyn StateStore,
        mut phases: Phases,
        dropped_by_watermark: u64,
        custom: &[(&str, i64)],
    ) -> Result<()> {
        crate::streaming::crash::crash_point("state.before_commit");
        timed(&mut phases.commit_ms, || store.commit())?;
        crate::streaming::crash::crash_point("state.committed");
        self.record(&store.metrics(), dropped_by_watermark, phases, custom);
        Ok(())
    }

    /// Adds one partition's numbers.
    pub fn record(
        &self,
        store: &StateStoreMetrics,
        dropped_by_watermark: u64,
        phases: Phases,
        custom: &[(&str, i64)],
    ) {
        let mut p = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        p.num_rows_total += store.num_rows_total as i64;
        p.num_rows_updated += store.num_rows_updated as i64;
        p.num_rows_removed += store.num_rows_removed as i64;
        p.memory_used_bytes += store.memory_used_bytes as i64;
        p.commit_time_ms += phases.commit_ms;
        p.all_updates_time_ms += phases.updates_ms;
        p.all_removals_time_ms += phases.removals_ms;
        p.num_rows_dropped_by_watermark += dropped_by_watermark as i64;
        for (k, v) in &store.custom {
            *p.custom_metrics.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in custom {
            *p.custom_metrics.entry((*k).to_string()).or_insert(0) += v;
        }
    }

    /// The operator's progress for the batch (sums over its partitions).
    pub fn progress(&self) -> StateOperatorProgress {
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A batch of `schema` from `columns` with `rows` rows.
pub fn batch_of(schema: &SchemaRef, columns: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch> {
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

/// `state/<op>/_metadata/properties`: what the operator computes, written by the first run
/// and compared by every restart, so a changed query (other keys or key types, another
/// window, other aggregates) fails at start instead of reading state it did not write.
fn check_properties(state_root: &Path, id: u64, name: &str, properties: &str) -> Result<()> {
    let path = engine_state::id::operator_dir(state_root, id)
        .join("_metadata")
        .join("properties");
    let current = format!("{name}: {properties}");
    match std::fs::read_to_string(&path) {
        Ok(old) if old.trim() == current => Ok(()),
        Ok(old) => Err(EngineError::analysis(
            "STREAMING_STATEFUL_OPERATOR_NOT_MATCH_IN_STATE_METADATA",
            format!(
                "Streaming stateful operator name does not match with the operator in state metadata. This likely to happen when user adds/removes/changes stateful operator of existing streaming query. Stateful operators in the metadata: [({id}, {})]; Stateful operators in current batch: [({id}, {current})]. SQLSTATE: 42K03",
                old.trim()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            engine_core::checkpoint::write_atomic(&path, current.as_bytes())
        }
        Err(e) => Err(EngineError::io(format!("reading {}", path.display()), e)),
    }
}
