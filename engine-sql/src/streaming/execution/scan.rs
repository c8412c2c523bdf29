//! Physical leaves of streaming plans.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use engine_core::connector::InputPartition;
use engine_core::{EngineError, Result};

use crate::expr::Expr;
use crate::logical::{StreamingRelation, TableProvider};
use crate::physical::plan::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};

/// What `StreamingRelation` plans to outside a started query: it explains, but running it
/// fails with Spark's message (batch actions are refused before they get here).
#[derive(Debug)]
pub struct StreamingRelationExec {
    relation: Arc<StreamingRelation>,
}

impl StreamingRelationExec {
    /// The leaf for `relation`.
    pub fn new(relation: Arc<StreamingRelation>) -> Self {
        StreamingRelationExec { relation }
    }
}

impl ExecutionPlan for StreamingRelationExec {
    fn name(&self) -> &'static str {
        "StreamingRelation"
    }
    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .relation
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        format!(
            "StreamingRelation {}, [{}]",
            self.relation.format_name,
            cols.join(", ")
        )
    }
    fn schema(&self) -> SchemaRef {
        self.relation.schema.clone()
    }
    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![]
    }
    fn output_partitions(&self) -> usize {
        1
    }
    fn execute(&self, _partition: usize, _ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        Err(crate::streaming::checks::batch_on_stream_error())
    }
}

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
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        Ok(Arc::new(StreamingScanExec {
            description: self.description.clone(),
            partitions: self.slot.snapshot(),
            projection: projection.map(<[usize]>::to_vec),
            schema,
            rows: self.slot.rows.clone(),
        }))
    }
}

/// Reads the [`InputPartition`]s a source planned for one batch, one task per partition,
/// keeping only the projected columns.
#[derive(Debug)]
pub struct StreamingScanExec {
    description: String,
    partitions: Vec<Arc<dyn InputPartition>>,
    projection: Option<Vec<usize>>,
    schema: SchemaRef,
    rows: Arc<AtomicU64>,
}

impl StreamingScanExec {
    /// A scan of `partitions` (whose batches have the source schema), projected.
    pub fn new(
        description: String,
        partitions: Vec<Arc<dyn InputPartition>>,
        projection: Option<Vec<usize>>,
        schema: SchemaRef,
    ) -> Self {
        StreamingScanExec {
            description,
            partitions,
            projection,
            schema,
            rows: Arc::default(),
        }
    }
}

impl ExecutionPlan for StreamingScanExec {
    fn name(&self) -> &'static str {
        "MicroBatchScan"
    }
    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        format!("MicroBatchScan[{}] {}", cols.join(", "), self.description)
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![]
    }
    fn output_partitions(&self) -> usize {
        // At least one (empty) partition, so operators above always have a task to run.
        self.partitions.len().max(1)
    }
    fn execute(&self, partition: usize, _ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let Some(part) = self.partitions.get(partition) else {
            if partition == 0 {
                return Ok(Box::new(std::iter::empty()));
            }
            return Err(EngineError::Internal(format!(
                "streaming scan partition {partition} of {}",
                self.partitions.len()
            )));
        };
        let input = part.read()?;
        let projection = self.projection.clone();
        let rows = self.rows.clone();
        let schema = self.schema.clone();
        Ok(Box::new(input.map(move |b| {
            let b = b?;
            rows.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
            let b = match &projection {
                Some(p) => b.project(p)?,
                None => b,
            };
            // Sources may hand out batches with their own field metadata or nullability;
            // downstream operators expect exactly the plan's schema.
            if b.schema().fields() != schema.fields() {
                return Ok(arrow::record_batch::RecordBatch::try_new(
                    schema.clone(),
                    b.columns().to_vec(),
                )?);
            }
            Ok(b)
        })))
    }
}
