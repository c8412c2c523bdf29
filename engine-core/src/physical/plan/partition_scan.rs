//! A leaf that reads a connector's [`InputPartition`]s: one task per partition. Batch reads of
//! registered formats (`kafka`) and the streaming runtime's per-batch scans both use it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Result;
use crate::connector::InputPartition;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};

/// Reads `partitions`, keeping only the `projection` columns.
#[derive(Debug)]
pub struct PartitionScanExec {
    name: String,
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    partitions: Vec<Arc<dyn InputPartition>>,
    rows: Arc<AtomicU64>,
    micro_batch: bool,
}

impl PartitionScanExec {
    /// A scan of `partitions` whose batches have `full_schema`, projected to `projection`.
    /// `name` is the source's description for `explain`.
    pub fn try_new(
        name: impl Into<String>,
        full_schema: &SchemaRef,
        projection: Option<&[usize]>,
        partitions: Vec<Arc<dyn InputPartition>>,
    ) -> Result<Self> {
        let schema = match projection {
            Some(p) => Arc::new(full_schema.project(p)?),
            None => full_schema.clone(),
        };
        Ok(PartitionScanExec {
            name: name.into(),
            schema,
            projection: projection.map(<[usize]>::to_vec),
            partitions,
            rows: Arc::default(),
            micro_batch: false,
        })
    }

    /// One micro-batch of a stream (Spark's `MicroBatchScan` in `explain`), counting every
    /// row read into `rows` (the progress report's `numInputRows`).
    pub fn micro_batch(mut self, rows: Arc<AtomicU64>) -> Self {
        self.rows = rows;
        self.micro_batch = true;
        self
    }
}

impl ExecutionPlan for PartitionScanExec {
    fn name(&self) -> &'static str {
        if self.micro_batch {
            "MicroBatchScan"
        } else {
            "BatchScan"
        }
    }

    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        if self.micro_batch {
            format!("MicroBatchScan[{}] {}", cols.join(", "), self.name)
        } else {
            format!("BatchScan {}[{}]", self.name, cols.join(", "))
        }
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![]
    }

    fn output_partitions(&self) -> usize {
        // A plan needs at least one partition to run; an empty read is one empty task.
        self.partitions.len().max(1)
    }

    fn execute(&self, partition: usize, _ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let Some(p) = self.partitions.get(partition) else {
            return Ok(Box::new(std::iter::empty()));
        };
        let rows = self.rows.clone();
        let schema = self.schema.clone();
        let batches = match &self.projection {
            Some(cols) => p.read_projected(cols)?,
            None => p.read()?,
        };
        Ok(Box::new(batches.map(move |b| {
            let b = b?;
            rows.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
            // Connectors may hand out batches with their own field metadata or nullability;
            // the operators above expect exactly the plan's schema.
            if b.schema().fields() != schema.fields() {
                return Ok(RecordBatch::try_new(schema.clone(), b.columns().to_vec())?);
            }
            Ok(b)
        })))
    }
}
