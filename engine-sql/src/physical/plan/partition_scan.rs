//! A leaf that reads a connector's [`InputPartition`]s: one task per partition. Batch reads of
//! registered formats (`kafka`) and the streaming runtime's per-batch scans both use it.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use engine_core::Result;
use engine_core::connector::InputPartition;

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};

/// Reads `partitions`, keeping only the `projection` columns.
#[derive(Debug)]
pub struct PartitionScanExec {
    name: String,
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    partitions: Vec<Arc<dyn InputPartition>>,
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
        })
    }
}

impl ExecutionPlan for PartitionScanExec {
    fn name(&self) -> &'static str {
        "BatchScan"
    }

    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        format!("BatchScan {}[{}]", self.name, cols.join(", "))
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
        let batches = p.read()?;
        match self.projection.clone() {
            None => Ok(batches),
            Some(cols) => Ok(Box::new(
                batches.map(move |b| b.and_then(|b| Ok(b.project(&cols)?))),
            )),
        }
    }
}
