//! Physical leaves of streaming plans.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use engine_core::Result;
use engine_core::connector::InputPartition;

use engine_core::expr::Expr;
use engine_core::physical::TableProvider;
use engine_core::physical::plan::partition_scan::PartitionScanExec;
use engine_core::physical::plan::{ExecutionPlanRef, TaskContext};

/// The partitions one source contributes to the current batch. The runtime fills it before
/// planning each batch; the optimized plan (built once) scans whatever it holds.
#[derive(Debug, Default)]
pub struct BatchSlot {
    partitions: Mutex<Vec<Arc<dyn InputPartition>>>,
    rows: Arc<AtomicU64>,
}

impl BatchSlot {
    /// Sets the partitions of the next batch and resets the row counter.
    pub fn fill(&self, partitions: Vec<Arc<dyn InputPartition>>) {
        *self
            .partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = partitions;
        self.rows.store(0, Ordering::Relaxed);
    }

    /// Rows read from this slot since the last [`Self::fill`].
    pub fn rows_read(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    fn snapshot(&self) -> Vec<Arc<dyn InputPartition>> {
        self.partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The table a streaming source becomes inside a started query (Spark's per-batch
/// `StreamingDataSourceV2ScanRelation`): a normal [`TableProvider`], so projection pushdown
/// and every batch rule apply to it.
#[derive(Debug)]
pub struct StreamingBatchTable {
    /// The source's description, for `explain`.
    pub description: String,
    /// The source's schema.
    pub schema: SchemaRef,
    /// The partitions of the current batch.
    pub slot: Arc<BatchSlot>,
}

impl TableProvider for StreamingBatchTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn scan(
        &self,
        projection: Option<&[usize]>,
        _filters: &[Expr],
        _limit: Option<usize>,
        _ctx: &Arc<TaskContext>,
    ) -> Result<ExecutionPlanRef> {
        Ok(Arc::new(
            PartitionScanExec::try_new(
                self.description.clone(),
                &self.schema,
                projection,
                self.slot.snapshot(),
            )?
            .micro_batch(self.slot.rows.clone()),
        ))
    }
}
