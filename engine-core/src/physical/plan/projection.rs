//! `ProjectionExec`: computes expressions per batch (narrow, fused with its input).

use std::sync::Arc;

use crate::Result;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use super::{BatchIter, ExecutionPlan, ExecutionPlanRef, TaskContext};
use crate::physical::expr::PhysicalExprRef;

/// Evaluates `exprs` over every input batch.
#[derive(Debug)]
pub struct ProjectionExec {
    input: ExecutionPlanRef,
    exprs: Vec<PhysicalExprRef>,
    schema: SchemaRef,
}

impl ProjectionExec {
    /// A projection producing `schema` (one field per expression).
    pub fn new(input: ExecutionPlanRef, exprs: Vec<PhysicalExprRef>, schema: SchemaRef) -> Self {
        ProjectionExec {
            input,
            exprs,
            schema,
        }
    }
}

/// Evaluates `exprs` over `batch` into a batch of `schema`.
pub fn project_batch(
    batch: &RecordBatch,
    exprs: &[PhysicalExprRef],
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let columns = exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect::<Result<Vec<_>>>()?;
    // Arrow checks nullability; the plan's nullability is conservative so cast the schema
    // per field only when the arrays disagree in type (never expected) and keep row count
    // for zero-column projections.
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

impl ExecutionPlan for ProjectionExec {
    fn name(&self) -> &'static str {
        "Project"
    }
    fn describe(&self) -> String {
        let items: Vec<String> = self
            .exprs
            .iter()
            .zip(self.schema.fields())
            .map(|(e, f)| {
                let text = e.to_string();
                // A column keeping its name prints bare (`a#0`), as in Spark.
                let bare = text.rsplit_once('#').map_or(text.as_str(), |(n, _)| n);
                if bare == f.name() {
                    text
                } else {
                    format!("{text} AS {}", f.name())
                }
            })
            .collect();
        format!("Project [{}]", items.join(", "))
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn children(&self) -> Vec<ExecutionPlanRef> {
        vec![self.input.clone()]
    }
    fn output_partitions(&self) -> usize {
        self.input.output_partitions()
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let input = self.input.execute(partition, ctx)?;
        let exprs = self.exprs.clone();
        let schema = self.schema.clone();
        Ok(Box::new(
            input.map(move |b| project_batch(&b?, &exprs, &schema)),
        ))
    }
}
