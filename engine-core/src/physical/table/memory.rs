//! In-memory tables: `create_dataframe`, test data, results of commands.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::TableProvider;
use crate::expr::Expr;
use crate::physical::plan::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};

/// Record batches held in memory, split into partitions.
#[derive(Debug, Clone)]
pub struct MemTable {
    schema: SchemaRef,
    partitions: Vec<Vec<RecordBatch>>,
}

impl MemTable {
    /// A table of `partitions`, each a list of batches with `schema`.
    pub fn try_new(schema: SchemaRef, partitions: Vec<Vec<RecordBatch>>) -> Result<Self> {
        for b in partitions.iter().flatten() {
            if b.schema().fields() != schema.fields() {
                return Err(EngineError::Internal(format!(
                    "MemTable batch schema {:?} differs from table schema {:?}",
                    b.schema(),
                    schema
                )));
            }
        }
        Ok(MemTable { schema, partitions })
    }

    /// One partition per batch; the schema is the first batch's.
    pub fn try_new_from_batches(batches: Vec<RecordBatch>) -> Result<Self> {
        let schema = batches.first().map(|b| b.schema()).ok_or_else(|| {
            EngineError::Unsupported(
                "a DataFrame from zero batches needs a schema; use MemTable::try_new".into(),
            )
        })?;
        Self::try_new(schema, batches.into_iter().map(|b| vec![b]).collect())
    }
}

impl TableProvider for MemTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn describe(&self) -> String {
        "LocalRelation".into()
    }

    fn scan(
        &self,
        projection: Option<&[usize]>,
        _filters: &[Expr],
        _limit: Option<usize>,
        _ctx: &Arc<TaskContext>,
    ) -> Result<ExecutionPlanRef> {
        let (schema, partitions) = match projection {
            None => (self.schema.clone(), self.partitions.clone()),
            Some(p) => (
                Arc::new(self.schema.project(p)?),
                self.partitions
                    .iter()
                    .map(|part| {
                        part.iter()
                            .map(|b| b.project(p))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(Arc::new(MemoryExec { schema, partitions }))
    }
}

/// Scans batches held in memory.
#[derive(Debug)]
pub struct MemoryExec {
    schema: SchemaRef,
    partitions: Vec<Vec<RecordBatch>>,
}

impl MemoryExec {
    /// An operator returning `partitions` as they are.
    pub fn new(schema: SchemaRef, partitions: Vec<Vec<RecordBatch>>) -> Self {
        MemoryExec { schema, partitions }
    }
}

impl ExecutionPlan for MemoryExec {
    fn name(&self) -> &'static str {
        "LocalTableScan"
    }

    fn describe(&self) -> String {
        let cols: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        format!("LocalTableScan [{}]", cols.join(", "))
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![]
    }

    fn output_partitions(&self) -> usize {
        self.partitions.len().max(1)
    }

    fn execute(&self, partition: usize, _ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let batches = self.partitions.get(partition).cloned().unwrap_or_default();
        Ok(Box::new(batches.into_iter().map(Ok)))
    }
}
